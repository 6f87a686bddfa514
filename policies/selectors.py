from django.db.models import Avg, Count, QuerySet, Sum

from accounts.models import User
from core.db import tallies
from policies.models import Endorsement, Policy, PolicyStatus, PolicyTotal, Quote


def _policies_scope(user: User) -> tuple[bool, int | None] | None:
    """(True, None): every policy; (False, agency_id): that agency's; None: none."""
    if not (user and user.is_authenticated and user.is_active):
        return None
    if user.is_broker:
        return False, user.agency_id
    return True, None


def policies_visible_to(user: User) -> QuerySet[Policy]:
    qs = Policy.objects.select_related("customer", "rating_plan")
    scope = _policies_scope(user)
    if scope is None:
        return qs.none()
    every, agency_id = scope
    return qs if every else qs.filter(agency_id=agency_id)


def policy_summary(*, user: User) -> list[dict]:
    """Count, total and average premium of the caller's active policies, by type: from
    the totals the database keeps (a few rows whatever the book's size), else grouped
    from the policies."""
    if not tallies.kept(PolicyTotal):
        return list(
            policies_visible_to(user).filter(status=PolicyStatus.ACTIVE).order_by()
            .values("policy_type")
            .annotate(count=Count("id"), total_premium=Sum("premium_amount"),
                      avg_premium=Avg("premium_amount"))
            .order_by("policy_type"))
    scope = _policies_scope(user)
    if scope is None:
        return []
    every, agency_id = scope
    rows = (PolicyTotal.objects.filter(status=PolicyStatus.ACTIVE).order_by("policy_type")
            .values("policy_type")
            .annotate(count=Sum("policies"), total_premium=Sum("premium")))
    if not every:
        rows = rows.filter(agency_id=agency_id)
    # (SUM of a bigint is a numeric: the count is made an int again.)
    return [{**row, "count": int(row["count"]), "avg_premium": row["total_premium"] / row["count"]}
            for row in rows if row["count"]]


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
