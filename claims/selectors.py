import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import User
from claims.models import (
    HANDLING_STATUSES,
    ZERO,
    ApprovalStatus,
    Claim,
    ClaimApproval,
    ClaimNote,
    ClaimPayment,
    ClaimStatus,
    ClaimStatusChange,
    NoteVisibility,
    ReserveChange,
)
from core.formatting import money
from core.lean import rows_of
from customers.selectors import customers_visible_to
from policies.selectors import policies_visible_to

# Who sees which claim, stated once: a broker the claims of their agency, staff and
# integrators every claim, an anonymous or inactive user none. claims_visible_to
# applies it as a query; claim_in_view to a claim whose agency is already known (the
# live socket's events), claims_visible_among to many users and claims in one read.


def _claims_scope(user: User) -> tuple[bool, int | None] | None:
    """(True, None): every claim; (False, agency_id): that agency's claims; None: none."""
    if not (user and user.is_authenticated and user.is_active):
        return None
    if user.is_broker:
        return False, user.agency_id
    return True, None


def claims_visible_to(user: User) -> QuerySet[Claim]:
    qs = Claim.objects.select_related("policy")
    scope = _claims_scope(user)
    if scope is None:
        return qs.none()
    every, agency_id = scope
    return qs if every else qs.filter(agency_id=agency_id)


def claim_in_view(user: User, *, agency_id: int | None) -> bool:
    """Whether claims_visible_to(user) shows a claim of this agency, without a query."""
    scope = _claims_scope(user)
    return scope is not None and (scope[0] or scope[1] == agency_id)


def claims_visible_among(users, claim_ids) -> set[tuple]:
    """claims_visible_to for many users and claims at once, in one query whatever their
    number: the (user pk, claim pk) pairs where the user sees that existing claim."""
    agencies = list(Claim.objects.filter(pk__in=list(claim_ids)).values_list("pk", "agency_id"))
    return {(user.pk, claim_id) for user in users for claim_id, agency_id in agencies
            if claim_in_view(user, agency_id=agency_id)}


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


# --- Claims handling --------------------------------------------------------------

def _sees_internal(user: User) -> bool:
    return bool(user and user.is_authenticated and user.is_active and (
        user.is_staff_role or (user.is_integrator and user.has_perm("claims.view_claimnote"))))


def claim_notes_visible_to(user: User, *, claim: Claim) -> QuerySet[ClaimNote]:
    """A claim's notes as the user may read them: brokers (and integrators without
    the permission) never see internal notes."""
    qs = (ClaimNote.objects.filter(claim=claim).select_related("author")
          .order_by("created_at", "id"))
    if not _sees_internal(user):
        qs = qs.filter(visibility=NoteVisibility.SHARED)
    return qs


def approvals_visible_to(user: User) -> QuerySet[ClaimApproval]:
    """The approvals queue is for staff."""
    qs = ClaimApproval.objects.select_related("claim", "requested_by", "decided_by")
    if not (user and user.is_authenticated and user.is_active and user.is_staff_role):
        return qs.none()
    return qs


@dataclass
class Financials:
    claim: Claim
    reserve_changes: list = field(default_factory=list)
    payments: list = field(default_factory=list)

    @property
    def reserve(self) -> Decimal:
        return self.claim.reserve

    @property
    def paid(self) -> Decimal:
        return self.claim.paid

    @property
    def incurred(self) -> Decimal:
        return self.claim.incurred


def claim_financials(*, claim: Claim) -> Financials:
    return Financials(
        claim=claim,
        reserve_changes=list(ReserveChange.objects.filter(claim=claim)
                             .select_related("actor").order_by("created_at", "id")),
        payments=list(ClaimPayment.objects.filter(claim=claim)
                      .select_related("actor", "approved_by").order_by("created_at", "id")),
    )


def claims_filter_assignee(qs: QuerySet[Claim], *, user: User, assignee: str) -> QuerySet[Claim]:
    """`me`, `none` or a user id (already validated)."""
    if assignee == "me":
        return qs.filter(assignee_id=user.pk)
    if assignee == "none":
        return qs.filter(assignee__isnull=True)
    return qs.filter(assignee_id=assignee)


def claims_overdue(qs: QuerySet[Claim], *, overdue: bool = True) -> QuerySet[Claim]:
    now = timezone.now()
    if overdue:
        return qs.filter(sla_due_at__lt=now)
    return qs.filter(Q(sla_due_at__isnull=True) | Q(sla_due_at__gte=now))


def _name(user) -> str:
    return user.display_name if user is not None else "the system"


@dataclass
class TimelineItem:
    when: datetime.datetime
    kind: str
    who: str
    text: str
    internal: bool = False


def claim_timeline(*, claim: Claim, user: User) -> list[TimelineItem]:
    """Everything that happened to a claim, oldest first, with people's names: its
    report, status changes, notes (internal ones only for staff), reserve changes,
    payments, approvals and documents. One query per kind, whatever the rows."""
    items = [TimelineItem(claim.created_at, "reported", _name(claim.reported_by),
                          f"Reported ({ClaimStatus.PENDING.label.lower()}), "
                          f"claimed {money(claim.claim_amount)}")]
    for c in claim_history(claim=claim):
        items.append(TimelineItem(c.changed_at, "status", _name(c.actor),
                                  f"{c.get_from_status_display()} → {c.get_to_status_display()}"))
    for n in claim_notes_visible_to(user, claim=claim):
        internal = n.visibility == NoteVisibility.INTERNAL
        items.append(TimelineItem(n.created_at, "note", _name(n.author), n.text,
                                  internal=internal))
    for r in ReserveChange.objects.filter(claim=claim).select_related("actor"):
        items.append(TimelineItem(r.created_at, "reserve", _name(r.actor),
                                  f"Reserve {money(r.previous)} → {money(r.amount)}: {r.reason}"))
    for p in ClaimPayment.objects.filter(claim=claim).select_related("actor", "approved_by"):
        text = f"{'Final payment' if p.final else 'Payment'} of {money(p.amount)} to {p.payee}"
        if p.approved_by_id:
            text += f" (approved by {_name(p.approved_by)})"
        items.append(TimelineItem(p.created_at, "payment", _name(p.actor), text))
    if user.is_staff_role:
        for a in ClaimApproval.objects.filter(claim=claim).select_related(
                "requested_by", "decided_by"):
            items.append(TimelineItem(a.created_at, "approval", _name(a.requested_by),
                                      f"Asked for approval: {a.get_kind_display().lower()} "
                                      f"of {money(a.amount)}"))
            if a.decided_at:
                items.append(TimelineItem(a.decided_at, "approval", _name(a.decided_by),
                                          f"{a.get_status_display()} the "
                                          f"{a.get_kind_display().lower()} of {money(a.amount)}"))
    for d in claim.documents.select_related("uploaded_by").order_by("uploaded_at"):
        items.append(TimelineItem(d.uploaded_at, "document", _name(d.uploaded_by),
                                  f"Uploaded {d.get_document_type_display().lower()} "
                                  f"{d.filename}"))
    items.sort(key=lambda i: i.when)
    return items


# --- The staff dashboard -----------------------------------------------------------

def handling_dashboard(user: User) -> dict:
    """Figures for the admin index: open claims by status, overdue, pending approvals,
    this month's paid, reserves outstanding, and loss ratio by product."""
    from policies.models import Policy, PolicyType

    claims = claims_visible_to(user)
    by_status = dict(claims.filter(status__in=HANDLING_STATUSES).order_by()
                     .values_list("status").annotate(n=Count("id")))
    now = timezone.now()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    totals = claims.aggregate(
        overdue=Count("id", filter=Q(sla_due_at__lt=now)),
        reserves=Sum("reserve", filter=Q(status__in=HANDLING_STATUSES)),
    )
    paid_month = (ClaimPayment.objects.filter(claim__in=claims.values("pk"),
                                              created_at__gte=month_start)
                  .aggregate(total=Sum("amount"))["total"]) or ZERO
    pending = approvals_visible_to(user).filter(status=ApprovalStatus.PENDING).count()
    losses = dict((row[0], row[1:]) for row in claims.order_by().values_list(
        "policy__policy_type").annotate(paid=Sum("paid"), reserve=Sum("reserve")))
    earned = _earned_premium_by_type(Policy.objects.filter(
        pk__in=claims.values("policy_id")) if user.is_broker else Policy.objects.all(), now.date())
    ratios = []
    for value, label in PolicyType.choices:
        paid, reserve = losses.get(value, (ZERO, ZERO))
        incurred = (paid or ZERO) + (reserve or ZERO)
        prem = earned.get(value, ZERO)
        ratios.append({"policy_type": value, "label": label, "incurred": incurred,
                       "earned": prem,
                       "ratio": (incurred / prem * 100).quantize(Decimal("0.1")) if prem else None})
    return {
        "by_status": [(s, ClaimStatus(s).label, by_status.get(s, 0)) for s in HANDLING_STATUSES],
        "open_total": sum(by_status.values()),
        "overdue": totals["overdue"],
        "pending_approvals": pending,
        "paid_this_month": paid_month,
        "reserves_outstanding": totals["reserves"] or ZERO,
        "loss_ratios": ratios,
    }


def _earned_premium_by_type(policies, today: datetime.date) -> dict[str, Decimal]:
    """Premium earned to date: each policy's premium pro-rated by the days of its term
    that have passed (cancelled policies earn up to their cancellation)."""
    out: dict[str, Decimal] = {}
    for ptype, premium, start, end, status, cancelled_at in policies.values_list(
            "policy_type", "premium_amount", "start_date", "end_date", "status",
            "cancelled_at").iterator():
        stop = min(today, end)
        if status == "cancelled" and cancelled_at is not None:
            stop = min(stop, timezone.localdate(cancelled_at))
        days = (end - start).days + 1
        elapsed = max(0, (stop - start).days + 1)
        share = Decimal(min(elapsed, days)) / Decimal(days) if days > 0 else Decimal(0)
        out[ptype] = out.get(ptype, ZERO) + (premium * share).quantize(Decimal("0.01"))
    return out


def claim_documents_values(*, claim_ids, columns) -> list[dict]:
    """The documents of these claims as `.values()` rows, in the documents' own order
    (the same rows and order as a prefetch of `claim.documents`)."""
    document = Claim._meta.get_field("documents").related_model
    return rows_of(document, key="claim_id", values=claim_ids, columns=columns)
