import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

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


# The claim lifecycle as data: from a status, the statuses it may move to.
TRANSITIONS: dict[str, frozenset[str]] = {
    ClaimStatus.PENDING: frozenset({ClaimStatus.PROCESSING, ClaimStatus.DENIED}),
    ClaimStatus.PROCESSING: frozenset({ClaimStatus.APPROVED, ClaimStatus.DENIED}),
    ClaimStatus.APPROVED: frozenset(),
    ClaimStatus.DENIED: frozenset(),
}
DECISIONS = frozenset({ClaimStatus.APPROVED, ClaimStatus.DENIED})
OPEN_STATUSES = (ClaimStatus.PENDING, ClaimStatus.PROCESSING)


def allowed_next(status: str) -> list[str]:
    return sorted(TRANSITIONS.get(status, ()))


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
                    models.Q(status__in=["approved", "denied"], processed_date__isnull=False)
                    | models.Q(status__in=["pending", "processing"], processed_date__isnull=True)
                ),
                name="claim_processed_date_iff_decided",
            ),
        ]
        indexes = [
            models.Index(fields=["policy", "status"], name="claim_policy_status"),
            models.Index(fields=["status", "-created_at"], name="claim_status_created"),
            models.Index(fields=["-created_at", "-id"], name="claim_created"),
            models.Index(fields=["agency", "-created_at", "-id"], name="claim_agency_created"),
        ]

    def __str__(self):
        return self.claim_number

    def save(self, *args, **kwargs):
        if self._state.adding and self.agency_id is None:
            # Every insert path (services, admin, fixtures) lands in the right agency.
            self.agency_id = self.policy.agency_id
        super().save(*args, **kwargs)


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
        indexes = [models.Index(fields=["claim", "changed_at"], name="claimchange_claim_at")]

    def __str__(self):
        return f"{self.claim_id}: {self.from_status} → {self.to_status}"
