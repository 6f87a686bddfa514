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
from core.db import tallies
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
    """How many of the caller's visible claims are in each status: from the tally the
    database keeps (a few rows whatever the book's size), else grouped from the claims."""
    claims = claims_visible_to(user)
    rows = tallies.grouped(claims, by="status")
    if rows is None:
        return dict(claims.order_by().values_list("status").annotate(n=Count("id")))
    return {row["status"]: row["count"] for row in rows}


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

# A count above this shows as "1000+": the dashboard's counts read at most this many
# index entries each, however big the book.
DASHBOARD_COUNT_CAP = 1000
# The loss ratios are figures of the whole book (every claim's payments, every policy's
# earned premium): computed at most once in this many seconds, not on every view.
BOOK_FIGURES_SECONDS = 600


def capped_counts(querysets: dict[str, QuerySet], cap: int) -> dict[str, int]:
    """Each queryset's row count up to ``cap`` + 1 (more than ``cap`` counts as cap + 1),
    all in one query: each count stops after cap + 1 rows of its index."""
    from django.db import connections

    if not querysets:
        return {}
    parts, params, db = [], [], None
    for n, qs in enumerate(querysets.values()):
        sql, p = qs.order_by().values("pk")[:cap + 1].query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS capped_{n})")
        params += p
        db = qs.db
    with connections[db].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        return dict(zip(querysets, cursor.fetchone(), strict=True))


def handling_dashboard(user: User) -> dict:
    """Figures for the admin index: open claims by status, overdue, pending approvals,
    this month's paid, reserves outstanding, and loss ratio by product.

    Counts stop at DASHBOARD_COUNT_CAP ("1000+"); sums read only the rows they add up
    (this month's payments, claims holding a reserve); the loss ratios, being figures
    of the whole book, come from a cache refreshed every BOOK_FIGURES_SECONDS."""
    claims = claims_visible_to(user).order_by()
    now = timezone.now()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    counted = {s: claims.filter(status=s) for s in HANDLING_STATUSES}
    counted["overdue"] = claims.filter(sla_due_at__lt=now)
    counts = capped_counts(counted, DASHBOARD_COUNT_CAP)
    by_status = {s: counts[s] for s in HANDLING_STATUSES}
    # A reserve is only ever held by a claim still being handled: the partial index
    # claim_reserved holds just those rows.
    reserves = claims.filter(~Q(reserve=0), status__in=HANDLING_STATUSES).aggregate(
        total=Sum("reserve"))["total"]
    payments = ClaimPayment.objects.filter(created_at__gte=month_start)
    if claims.query.where:  # not everyone's claims: only those the user may see
        payments = payments.filter(claim__in=claims.values("pk"))
    paid_month = payments.aggregate(total=Sum("amount"))["total"] or ZERO
    pending = approvals_visible_to(user).filter(status=ApprovalStatus.PENDING).count()
    book = _book_figures(user, claims, now.date())
    return {
        "by_status": [(s, ClaimStatus(s).label, min(by_status[s], DASHBOARD_COUNT_CAP))
                      for s in HANDLING_STATUSES],
        "by_status_more": {s for s in HANDLING_STATUSES if by_status[s] > DASHBOARD_COUNT_CAP},
        "open_total": sum(min(n, DASHBOARD_COUNT_CAP) for n in by_status.values()),
        "open_more": any(n > DASHBOARD_COUNT_CAP for n in by_status.values()),
        "overdue": min(counts["overdue"], DASHBOARD_COUNT_CAP),
        "overdue_more": counts["overdue"] > DASHBOARD_COUNT_CAP,
        "pending_approvals": pending,
        "paid_this_month": paid_month,
        "reserves_outstanding": reserves or ZERO,
        "loss_ratios": book["loss_ratios"],
        "loss_ratios_as_of": book["as_of"],
    }


def _book_figures(user: User, claims: QuerySet[Claim], today: datetime.date) -> dict:
    """Loss ratio by product over the claims the user sees (staff: the whole book),
    from the cache when computed less than BOOK_FIGURES_SECONDS ago."""
    from django.core.cache import cache

    from policies.models import Policy, PolicyType

    scope = f"agency:{user.agency_id}" if claims.query.where else "all"
    key = f"claims:book-figures:{scope}:{today.isoformat()}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    losses = dict((row[0], row[1:]) for row in claims.order_by().values_list(
        "policy__policy_type").annotate(paid=Sum("paid"), reserve=Sum("reserve")))
    policies = (Policy.objects.filter(pk__in=claims.values("policy_id"))
                if claims.query.where else Policy.objects.all())
    earned = _earned_premium_by_type(policies, today)
    ratios = []
    for value, label in PolicyType.choices:
        paid, reserve = losses.get(value, (ZERO, ZERO))
        incurred = (paid or ZERO) + (reserve or ZERO)
        prem = earned.get(value, ZERO)
        ratios.append({"policy_type": value, "label": label, "incurred": incurred,
                       "earned": prem,
                       "ratio": (incurred / prem * 100).quantize(Decimal("0.1")) if prem else None})
    figures = {"loss_ratios": ratios, "as_of": timezone.now()}
    cache.set(key, figures, BOOK_FIGURES_SECONDS)
    return figures


def _earned_premium_by_type(policies, today: datetime.date) -> dict[str, Decimal]:
    """Premium earned to date: each policy's premium pro-rated by the days of its term
    that have passed (cancelled policies earn up to their cancellation), each share
    rounded to the cent. On PostgreSQL the database adds it up (no row leaves it)."""
    from django.db import connections

    connection = connections[policies.db]
    if connection.vendor == "postgresql":
        inner, params = policies.order_by().values(
            "policy_type", "premium_amount", "start_date", "end_date", "status",
            "cancelled_at").query.sql_with_params()
        sql = f"""
            SELECT policy_type, SUM(ROUND(premium_amount
                   * LEAST(GREATEST(0, stop - start_date + 1), end_date - start_date + 1)
                   / NULLIF(end_date - start_date + 1, 0), 2))
            FROM (SELECT t.*, LEAST(%s::date, end_date, CASE
                      WHEN status = 'cancelled' AND cancelled_at IS NOT NULL
                      THEN (cancelled_at AT TIME ZONE %s)::date END) AS stop
                  FROM ({inner}) AS t) AS terms
            GROUP BY policy_type"""
        with connection.cursor() as cursor:
            cursor.execute(sql, [today, timezone.get_current_timezone_name(), *params])
            return {ptype: (total or ZERO) for ptype, total in cursor.fetchall()}
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
