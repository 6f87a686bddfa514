from django.db.models import Prefetch, QuerySet

from accounts.models import User
from claims.models import Claim, ClaimStatusChange


def claims_visible_to(user: User) -> QuerySet[Claim]:
    qs = Claim.objects.select_related("policy")
    if not (user and user.is_authenticated and user.is_active):
        return qs.none()
    if user.is_broker:
        return qs.filter(policy__customer__broker_id=user.agency_id)
    return qs


def claim_get(*, user: User, pk) -> Claim:
    return claims_visible_to(user).get(pk=pk)


def claim_history(*, claim: Claim) -> QuerySet[ClaimStatusChange]:
    return claim.status_changes.select_related("actor").order_by("changed_at", "id")


def with_history(qs: QuerySet[Claim]) -> QuerySet[Claim]:
    return qs.prefetch_related(
        Prefetch("status_changes", queryset=ClaimStatusChange.objects.order_by("changed_at", "id"))
    )
