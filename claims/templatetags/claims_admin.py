"""The staff dashboard on the admin index: figures from claims.selectors, each with
the link to the filtered list behind it."""

from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils import timezone

from claims.selectors import handling_dashboard

register = template.Library()


@register.simple_tag(takes_context=True)
def claims_dashboard(context):
    request = context["request"]
    user = request.user
    if not (user.is_active and user.is_staff_role):
        return None
    data = handling_dashboard(user)
    claims = reverse("admin:claims_claim_changelist")
    month_start = timezone.localdate().replace(day=1)

    def link(base, **params):
        return f"{base}?{urlencode(params)}" if params else base

    data["status_links"] = [
        {"label": label, "count": n, "more": status in data["by_status_more"],
         "url": link(claims, status__exact=status)}
        for status, label, n in data["by_status"]]
    data["open_url"] = link(claims, queue="open")
    data["overdue_url"] = link(claims, queue="overdue")
    data["approvals_url"] = link(reverse("admin:claims_claimapproval_changelist"),
                                 status__exact="pending")
    data["paid_url"] = link(reverse("admin:claims_claimpayment_changelist"),
                            created_at__gte=month_start.isoformat())
    data["reserves_url"] = link(claims, reserve__gt="0")
    for row in data["loss_ratios"]:
        row["url"] = link(claims, policy__policy_type__exact=row["policy_type"])
    return data
