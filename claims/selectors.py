from django.db.models import Count, QuerySet

from accounts.models import User
from claims.models import Claim, ClaimStatusChange
from customers.selectors import customers_visible_to
from policies.selectors import policies_visible_to


def claims_visible_to(user: User) -> QuerySet[Claim]:
    qs = Claim.objects.select_related("policy")
    if not (user and user.is_authenticated and user.is_active):
        return qs.none()
    if user.is_broker:
        return qs.filter(agency_id=user.agency_id)
    return qs


def claim_history(*, claim: Claim) -> QuerySet[ClaimStatusChange]:
    return claim.status_changes.select_related("actor").order_by("changed_at", "id")


def claim_status_counts(user: User) -> dict[str, int]:
    """How many of the caller's visible claims are in each status."""
    return dict(claims_visible_to(user).order_by().values_list("status")
                .annotate(n=Count("id")))


def recent_activity(user: User, *, limit: int = 5) -> list[tuple[str, object]]:
    """The newest customers, policies, claims and status changes the caller may see,
    newest first, as (kind, row) pairs: at most `limit` of each kind, 2 x limit in all."""
    claims = claims_visible_to(user)
    rows: list[tuple[object, str, object]] = []
    for customer in customers_visible_to(user).order_by("-created_at")[:limit]:
        rows.append((customer.created_at, "customer", customer))
    for policy in policies_visible_to(user).order_by("-created_at")[:limit]:
        rows.append((policy.created_at, "policy", policy))
    for claim in claims.order_by("-created_at")[:limit]:
        rows.append((claim.created_at, "claim", claim))
    changes = (ClaimStatusChange.objects.filter(claim__in=claims.values("pk"))
               .select_related("claim", "actor").order_by("-changed_at", "-id")[:limit])
    for change in changes:
        rows.append((change.changed_at, "status_change", change))
    rows.sort(key=lambda row: row[0], reverse=True)
    return [(kind, obj) for _, kind, obj in rows[: limit * 2]]


def claim_documents_values(*, claim_ids, columns) -> list[dict]:
    """The documents of these claims as `.values()` rows, in the documents' own order
    (the same rows and order as a prefetch of `claim.documents`)."""
    document = Claim._meta.get_field("documents").related_model
    return list(document._default_manager.filter(claim_id__in=claim_ids).values(*columns))
