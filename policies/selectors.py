from django.db.models import Avg, Count, QuerySet, Sum

from accounts.models import User
from policies.models import Policy, PolicyStatus


def policies_visible_to(user: User) -> QuerySet[Policy]:
    qs = Policy.objects.select_related("customer")
    if not (user and user.is_authenticated and user.is_active):
        return qs.none()
    if user.is_broker:
        return qs.filter(agency_id=user.agency_id)
    return qs


def policy_summary(*, user: User) -> list[dict]:
    """Count, total and average premium of the caller's active policies, by type."""
    rows = (
        policies_visible_to(user)
        .filter(status=PolicyStatus.ACTIVE)
        .order_by()
        .values("policy_type")
        .annotate(count=Count("id"), total_premium=Sum("premium_amount"),
                  avg_premium=Avg("premium_amount"))
        .order_by("policy_type")
    )
    return list(rows)
