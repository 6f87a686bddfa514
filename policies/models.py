import datetime
import uuid

from django.db import models

from customers.models import Customer


class PolicyType(models.TextChoices):
    AUTO = "auto", "Auto"
    HOME = "home", "Home"
    LIFE = "life", "Life"
    HEALTH = "health", "Health"


class PolicyStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"


def status_for_dates(start: datetime.date, end: datetime.date, today: datetime.date) -> str:
    """Status a live policy has on `today`: before start pending, past end expired."""
    if today < start:
        return PolicyStatus.PENDING
    if today > end:
        return PolicyStatus.EXPIRED
    return PolicyStatus.ACTIVE


class Policy(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    policy_number = models.CharField(max_length=20, unique=True, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="policies")
    # The customer's agency, kept on the row (set by the services, followed when the
    # customer moves): a broker's lists and counts are index scans of its own rows.
    agency = models.ForeignKey("accounts.Agency", null=True, blank=True, editable=False,
                               on_delete=models.PROTECT, related_name="+", db_index=False)
    policy_type = models.CharField(max_length=10, choices=PolicyType.choices)
    premium_amount = models.DecimalField(max_digits=12, decimal_places=2)
    coverage_amount = models.DecimalField(max_digits=14, decimal_places=2)
    start_date = models.DateField()
    end_date = models.DateField()
    status = models.CharField(max_length=10, choices=PolicyStatus.choices,
                              default=PolicyStatus.PENDING)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancellation_reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "policies"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end_date__gt=models.F("start_date")),
                                   name="policy_end_after_start"),
            models.CheckConstraint(condition=models.Q(premium_amount__gt=0),
                                   name="policy_premium_positive"),
            models.CheckConstraint(condition=models.Q(coverage_amount__gt=0),
                                   name="policy_coverage_positive"),
            models.CheckConstraint(condition=models.Q(status__in=PolicyStatus.values),
                                   name="policy_status_valid"),
            models.CheckConstraint(condition=models.Q(policy_type__in=PolicyType.values),
                                   name="policy_type_valid"),
            models.CheckConstraint(
                condition=~models.Q(status="cancelled") | models.Q(cancelled_at__isnull=False),
                name="policy_cancelled_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "status"], name="policy_customer_status"),
            models.Index(fields=["status", "end_date"], name="policy_status_end"),
            models.Index(fields=["status", "start_date"], name="policy_status_start"),
            models.Index(fields=["-created_at", "-id"], name="policy_created"),
            models.Index(fields=["agency", "-created_at", "-id"], name="policy_agency_created"),
        ]

    def __str__(self):
        return self.policy_number

    def save(self, *args, **kwargs):
        if self._state.adding and self.agency_id is None:
            # Every insert path (services, admin, fixtures) lands in the right agency.
            self.agency_id = self.customer.broker_id
        super().save(*args, **kwargs)
