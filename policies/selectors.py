from django.db.models import Avg, Count, QuerySet, Sum

from accounts.models import User
from core.db import tallies
from policies.models import Endorsement, Policy, PolicyStatus, Quote


def policies_visible_to(user: User) -> QuerySet[Policy]:
    qs = Policy.objects.select_related("customer", "rating_plan")
    if not (user and user.is_authenticated and user.is_active):
        return qs.none()
    if user.is_broker:
        return qs.filter(agency_id=user.agency_id)
    return qs


def policy_summary(*, user: User) -> list[dict]:
    """Count, total and average premium of the caller's active policies, by type: from
    the totals the database keeps (a few rows whatever the book's size), else grouped
    from the policies."""
    active = policies_visible_to(user).filter(status=PolicyStatus.ACTIVE)
    rows = tallies.grouped(active, by="policy_type")
    if rows is None:
        return list(active.order_by().values("policy_type")
                    .annotate(count=Count("id"), total_premium=Sum("premium_amount"),
                              avg_premium=Avg("premium_amount"))
                    .order_by("policy_type"))
    return [{"policy_type": row["policy_type"], "count": row["count"],
             "total_premium": row["premium_amount"],
             "avg_premium": row["premium_amount"] / row["count"]} for row in rows]


def quotes_visible_to(user: User) -> QuerySet[Quote]:
    """Staff and integrators see every quote; a broker its agency's only."""
    qs = Quote.objects.select_related("customer", "rating_plan", "bound_policy")
    if not (user and user.is_authenticated and user.is_active):
        return qs.none()
    if user.is_broker:
        return qs.filter(agency_id=user.agency_id)
    return qs


def endorsements_of(policy: Policy) -> QuerySet[Endorsement]:
    """A policy's endorsements, oldest first (the policy's visibility decides)."""
    return Endorsement.objects.filter(policy=policy).order_by("sequence")


def renewals_due(user: User, *, today, days: int) -> QuerySet[Policy]:
    """Live policies the caller sees ending within `days` of `today`."""
    import datetime

    return (policies_visible_to(user)
            .filter(status__in=[PolicyStatus.ACTIVE, PolicyStatus.PENDING],
                    end_date__gte=today, end_date__lte=today + datetime.timedelta(days=days))
            .order_by("end_date", "id"))
