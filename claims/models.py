import datetime
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Agency
from core.db import tallies
from policies.models import Policy


class ClaimType(models.TextChoices):
    ACCIDENT = "accident", "Accident"
    THEFT = "theft", "Theft"
    DAMAGE = "damage", "Damage"
    MEDICAL = "medical", "Medical"
    FIRE = "fire", "Fire"
    FLOOD = "flood", "Flood"


class ClaimStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSING = "processing", "Processing"
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Denied"
    CLOSED = "closed", "Closed"


# The claim lifecycle as data: from a status, the statuses it may move to.
TRANSITIONS: dict[str, frozenset[str]] = {
    ClaimStatus.PENDING: frozenset({ClaimStatus.PROCESSING, ClaimStatus.DENIED}),
    ClaimStatus.PROCESSING: frozenset({ClaimStatus.APPROVED, ClaimStatus.DENIED}),
    ClaimStatus.APPROVED: frozenset({ClaimStatus.CLOSED}),
    ClaimStatus.DENIED: frozenset(),
    ClaimStatus.CLOSED: frozenset(),
}
# Reached only by a service (a final payment closes a claim), never asked for directly.
BY_PAYMENT_ONLY = frozenset({ClaimStatus.CLOSED})
DECISIONS = frozenset({ClaimStatus.APPROVED, ClaimStatus.DENIED})
OPEN_STATUSES = (ClaimStatus.PENDING, ClaimStatus.PROCESSING)
# Statuses a handler still works on (an approved claim waits for its payment).
HANDLING_STATUSES = (ClaimStatus.PENDING, ClaimStatus.PROCESSING, ClaimStatus.APPROVED)
PROCESSED_STATUSES = ("approved", "denied", "closed")


def allowed_next(status: str) -> list[str]:
    """The statuses a person may ask for next (a final payment's `closed` is not one)."""
    return sorted(TRANSITIONS.get(status, frozenset()) - BY_PAYMENT_ONLY)


def sla_due(status: str, since: datetime.datetime) -> datetime.datetime | None:
    """When a claim that entered `status` at `since` should have moved on: wall-clock
    hours from CLAIM_SLA_HOURS (business hours are not modelled); None when final."""
    hours = settings.CLAIM_SLA_HOURS.get(status)
    if hours is None or status not in HANDLING_STATUSES:
        return None
    return since + datetime.timedelta(hours=hours)


ZERO = Decimal("0.00")


def is_overdue(sla_due_at, now) -> bool:
    """Past its SLA target (denied and closed claims have none)."""
    return sla_due_at is not None and sla_due_at < now


class Claim(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    claim_number = models.CharField(max_length=20, unique=True, editable=False)
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="claims")
    # The customer's agency, kept on the row (set by the services, followed when the
    # customer moves): a broker's lists and counts are index scans of its own rows.
    agency = models.ForeignKey("accounts.Agency", null=True, blank=True, editable=False,
                               on_delete=models.PROTECT, related_name="+", db_index=False)
    claim_type = models.CharField(max_length=10, choices=ClaimType.choices)
    claim_amount = models.DecimalField(max_digits=14, decimal_places=2)
    description = models.TextField(blank=True, default="")
    incident_date = models.DateField()
    status = models.CharField(max_length=12, choices=ClaimStatus.choices,
                              default=ClaimStatus.PENDING)
    reported_date = models.DateField(default=timezone.localdate)
    processed_date = models.DateTimeField(null=True, blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="assigned_claims",
                                 limit_choices_to={"role": "staff", "is_active": True})
    status_since = models.DateTimeField(default=timezone.now)
    sla_due_at = models.DateTimeField(null=True, blank=True)
    # Kept by the services under the claim's row lock, from the reserve changes and
    # payments below (the ledger); stored so lists and queues need no aggregates.
    reserve = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    paid = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("decide_claim", "Can approve or deny claims")]
        constraints = [
            models.CheckConstraint(condition=models.Q(claim_amount__gt=0),
                                   name="claim_amount_positive"),
            models.CheckConstraint(condition=models.Q(status__in=ClaimStatus.values),
                                   name="claim_status_valid"),
            models.CheckConstraint(condition=models.Q(claim_type__in=ClaimType.values),
                                   name="claim_type_valid"),
            models.CheckConstraint(
                condition=(
                    models.Q(status__in=PROCESSED_STATUSES, processed_date__isnull=False)
                    | models.Q(status__in=["pending", "processing"], processed_date__isnull=True)
                ),
                name="claim_processed_date_iff_decided",
            ),
            models.CheckConstraint(condition=models.Q(reserve__gte=0),
                                   name="claim_reserve_not_negative"),
            models.CheckConstraint(
                condition=models.Q(paid__gte=0, paid__lte=models.F("claim_amount")),
                name="claim_paid_within_amount"),
        ]
        indexes = [
            models.Index(fields=["assignee", "status"], name="claim_assignee_status"),
            models.Index(fields=["status", "sla_due_at"], name="claim_status_sla"),
            models.Index(fields=["policy", "status"], name="claim_policy_status"),
            models.Index(fields=["status", "-created_at", "-id"], name="claim_status_created"),
            models.Index(fields=["-created_at", "-id"], name="claim_created"),
            models.Index(fields=["agency", "-created_at", "-id"], name="claim_agency_created"),
            # The overdue queue (whatever the status) in due order, and its capped count.
            models.Index(fields=["sla_due_at"], name="claim_sla_due"),
            # The overdue list newest first (the API's `?overdue=true`): the open claims
            # in list order, each one's due time read from the index, so the newest
            # claims still within their SLA are skipped without a visit to the table.
            models.Index(fields=["-created_at", "-id", "sla_due_at"], name="claim_open_created",
                         condition=models.Q(sla_due_at__isnull=False)),
            # Reserves outstanding: only claims being handled hold one, so the dashboard's
            # sum reads these few rows, not the book.
            models.Index(fields=["status"], name="claim_reserved",
                         condition=~models.Q(reserve=0)),
        ]

    def __str__(self):
        return self.claim_number

    def save(self, *args, **kwargs):
        if self._state.adding and self.agency_id is None:
            # Every insert path (services, admin, fixtures) lands in the right agency.
            self.agency_id = self.policy.agency_id
        super().save(*args, **kwargs)

    @property
    def incurred(self) -> Decimal:
        return (self.reserve or ZERO) + (self.paid or ZERO)

    @property
    def overdue(self) -> bool:
        return is_overdue(self.sla_due_at, timezone.now())


class ClaimStatusChange(models.Model):
    """One row per transition: the claim's history, shown to staff and brokers."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=12, choices=ClaimStatus.choices)
    to_status = models.CharField(max_length=12, choices=ClaimStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [
            models.Index(fields=["claim", "changed_at"], name="claimchange_claim_at"),
            # An agency's latest changes (the portal's dashboard): walked newest first
            # until enough of the agency's are found, not all changes sorted.
            models.Index(fields=["-changed_at", "-id"], name="claimchange_at"),
        ]

    def __str__(self):
        return f"{self.claim_id}: {self.from_status} → {self.to_status}"


class NoteVisibility(models.TextChoices):
    INTERNAL = "internal", "Internal (staff only)"
    SHARED = "shared", "Shared with the broker"


class ClaimNote(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="notes")
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", db_index=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    visibility = models.CharField(max_length=10, choices=NoteVisibility.choices)
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(visibility__in=NoteVisibility.values),
                                   name="claimnote_visibility_valid"),
        ]
        indexes = [models.Index(fields=["claim", "created_at"], name="claimnote_claim_at")]

    def __str__(self):
        return f"note {str(self.pk)[:8]}"


class ReserveChange(models.Model):
    """One setting of a claim's outstanding reserve (`amount` is the new reserve)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="reserve_changes")
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", db_index=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    previous = models.DecimalField(max_digits=14, decimal_places=2)
    reason = models.CharField(max_length=500)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0),
                                   name="reservechange_amount_not_negative"),
        ]
        indexes = [models.Index(fields=["claim", "created_at"], name="reservechange_claim_at")]

    def __str__(self):
        return f"reserve {self.amount}"


class ClaimPayment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="payments")
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", db_index=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    payee = models.CharField(max_length=200)
    final = models.BooleanField(default=False)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0),
                                   name="claimpayment_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["claim", "created_at"], name="claimpayment_claim_at"),
            models.Index(fields=["created_at"], name="claimpayment_at"),
        ]

    def __str__(self):
        return f"payment {self.amount}"


class ApprovalKind(models.TextChoices):
    CLAIM_APPROVAL = "claim_approval", "Claim approval"
    PAYMENT = "payment", "Payment"


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class ClaimApproval(models.Model):
    """An action above its requester's authority limit, waiting for a second person."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="approvals")
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", db_index=True)
    kind = models.CharField(max_length=20, choices=ApprovalKind.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    payee = models.CharField(max_length=200, blank=True, default="")
    final = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=ApprovalStatus.choices,
                              default=ApprovalStatus.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    payment = models.OneToOneField(ClaimPayment, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="approval")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=ApprovalKind.values),
                                   name="claimapproval_kind_valid"),
            models.CheckConstraint(condition=models.Q(status__in=ApprovalStatus.values),
                                   name="claimapproval_status_valid"),
            models.CheckConstraint(
                condition=(models.Q(status="pending", decided_at__isnull=True)
                           | (~models.Q(status="pending") & models.Q(decided_at__isnull=False))),
                name="claimapproval_decided_iff_not_pending"),
            models.UniqueConstraint(
                fields=["claim"], condition=models.Q(status="pending", kind="claim_approval"),
                name="claimapproval_one_pending_claim_approval"),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="claimapproval_status_at"),
            models.Index(fields=["claim", "created_at"], name="claimapproval_claim_at"),
        ]

    def __str__(self):
        return f"{self.get_kind_display().lower()} {self.amount}"


class IdempotencyKey(models.Model):
    """A request made once: a retry with the same key gets the first answer back."""

    key = models.CharField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotencykey_user_key"),
        ]

    def __str__(self):
        return self.key


class ClaimTally(models.Model):
    """Claims by agency and status, kept by the database as claims change
    (core.db.tallies; the trigger is in the migration). Read summed over the slots:
    `claims.selectors.claim_status_counts`, and the count of a list filtered by these
    columns alone (core.db.tallies.count)."""

    agency = models.ForeignKey(Agency, null=True, on_delete=models.DO_NOTHING,
                               db_constraint=False, db_index=False, related_name="+")
    status = models.CharField(max_length=12, choices=ClaimStatus.choices)
    slot = models.SmallIntegerField()
    claims = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency", "status", "slot"],
                                               nulls_distinct=False, name="claimtally_key")]

    def __str__(self):
        return f"{self.agency_id} {self.status}: {self.claims}"


tallies.counts(Claim, ClaimTally, keys=("agency_id", "status"), count="claims")
