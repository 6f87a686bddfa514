import datetime
import uuid

from django.conf import settings
from django.db import models

from core.db import tallies
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


class PlanInUse(Exception):
    """An attempt to change a rating plan that has already rated a quote."""


class RatingPlan(models.Model):
    """A versioned rating plan for one product: data, not code (see policies.rating).

    A plan that has rated a quote is never changed in place: a change is a new
    version (`policies.services.rating_plan_new_version`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    policy_type = models.CharField(max_length=10, choices=PolicyType.choices)
    version = models.PositiveIntegerField()
    effective_from = models.DateField(help_text="Rates quotes whose start date is on or after it.")
    base_rate = models.DecimalField(max_digits=12, decimal_places=4,
                                    help_text="Premium per 1,000 of coverage.")
    minimum_premium = models.DecimalField(max_digits=12, decimal_places=2)
    factors = models.JSONField(default=list, blank=True)
    fees = models.JSONField(default=list, blank=True)
    taxes = models.JSONField(default=list, blank=True)
    appetite = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["policy_type", "-effective_from", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["policy_type", "version"],
                                    name="rating_plan_type_version_unique"),
            models.CheckConstraint(condition=models.Q(base_rate__gt=0),
                                   name="rating_plan_base_rate_positive"),
            models.CheckConstraint(condition=models.Q(minimum_premium__gt=0),
                                   name="rating_plan_minimum_positive"),
            models.CheckConstraint(condition=models.Q(policy_type__in=PolicyType.values),
                                   name="rating_plan_type_valid"),
        ]
        indexes = [models.Index(fields=["policy_type", "effective_from"],
                                name="rating_plan_in_force")]

    def __str__(self):
        return f"{self.get_policy_type_display()} plan v{self.version} from {self.effective_from}"

    def save(self, *args, **kwargs):
        # A plan that has rated anything is never changed in place: what it
        # rated must stay explainable. A change is a new version.
        if not self._state.adding and self.is_used:
            raise PlanInUse(f"{self} has rated quotes; make a new version instead.")
        super().save(*args, **kwargs)

    def clean(self):
        from policies.plan_rules import validate_plan

        validate_plan(self)

    def rules(self):
        from policies.rating import PlanRules

        return PlanRules(
            policy_type=self.policy_type, base_rate=self.base_rate,
            minimum_premium=self.minimum_premium, factors=tuple(self.factors or ()),
            fees=tuple(self.fees or ()), taxes=tuple(self.taxes or ()),
            appetite=tuple(self.appetite or ()),
        )

    @property
    def is_used(self) -> bool:
        return self.quotes.exists() or self.policies.exists()


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
    cancellation_effective_date = models.DateField(null=True, blank=True)
    refund_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    reinstated_at = models.DateTimeField(null=True, blank=True)
    reinstatement_reason = models.TextField(blank=True, default="")
    # Underwriting: null for policies entered directly (never rated).
    quote = models.OneToOneField("policies.Quote", null=True, blank=True, editable=False,
                                 on_delete=models.PROTECT, related_name="bound_policy")
    renewal_of = models.ForeignKey("self", null=True, blank=True, editable=False,
                                   on_delete=models.PROTECT, related_name="renewals")
    rating_plan = models.ForeignKey(RatingPlan, null=True, blank=True, editable=False,
                                    on_delete=models.PROTECT, related_name="policies")
    risk = models.JSONField(default=dict, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
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


class QuoteStatus(models.TextChoices):
    OPEN = "open", "Open"
    DECLINED = "declined", "Declined"
    BOUND = "bound", "Bound"
    EXPIRED = "expired", "Expired"


class Quote(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    quote_number = models.CharField(max_length=20, unique=True, editable=False)
    agency = models.ForeignKey("accounts.Agency", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", db_index=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="quotes")
    policy_type = models.CharField(max_length=10, choices=PolicyType.choices)
    coverage_amount = models.DecimalField(max_digits=14, decimal_places=2)
    start_date = models.DateField()
    end_date = models.DateField()
    risk = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=QuoteStatus.choices, default=QuoteStatus.OPEN)
    premium_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    breakdown = models.JSONField(default=list, blank=True)
    decline_reasons = models.JSONField(default=list, blank=True)
    rating_plan = models.ForeignKey(RatingPlan, on_delete=models.PROTECT, related_name="quotes")
    valid_until = models.DateField()
    renewal_of = models.ForeignKey(Policy, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="renewal_quotes")
    # Users who acted on the book are deactivated, never deleted.
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    bound_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end_date__gt=models.F("start_date")),
                                   name="quote_end_after_start"),
            models.CheckConstraint(condition=models.Q(coverage_amount__gt=0),
                                   name="quote_coverage_positive"),
            models.CheckConstraint(condition=models.Q(status__in=QuoteStatus.values),
                                   name="quote_status_valid"),
            models.CheckConstraint(
                condition=models.Q(status="declined", premium_amount__isnull=True)
                | (~models.Q(status="declined") & models.Q(premium_amount__gt=0)),
                name="quote_premium_unless_declined",
            ),
            # One renewal quote per expiring policy: renew_policies is idempotent
            # even when two runs overlap.
            models.UniqueConstraint(fields=["renewal_of"], condition=models.Q(
                renewal_of__isnull=False), name="quote_one_renewal_per_policy"),
        ]
        indexes = [
            models.Index(fields=["status", "valid_until"], name="quote_status_valid_until"),
            models.Index(fields=["-created_at", "-id"], name="quote_created"),
            models.Index(fields=["customer", "status"], name="quote_customer_status"),
        ]

    def __str__(self):
        return self.quote_number


class Endorsement(models.Model):
    """A mid-term change of a rated policy; the terms it makes are in PolicyTerms."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="endorsements")
    agency = models.ForeignKey("accounts.Agency", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", db_index=True)
    sequence = models.PositiveIntegerField()
    effective_date = models.DateField()
    reason = models.TextField()
    changes = models.JSONField(default=dict)
    premium_before = models.DecimalField(max_digits=12, decimal_places=2)
    premium_after = models.DecimalField(max_digits=12, decimal_places=2)
    premium_delta = models.DecimalField(max_digits=12, decimal_places=2)
    breakdown = models.JSONField(default=list, blank=True)
    # Users who acted on the book are deactivated, never deleted.
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["policy", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "sequence"],
                                    name="endorsement_policy_sequence_unique"),
        ]

    def __str__(self):
        return f"{self.policy_id} endorsement {self.sequence}"

    def change_rows(self):
        from policies.risk import change_rows

        return change_rows(self.changes)


class PolicyTerms(models.Model):
    """The terms of a rated policy from `effective_from` on: version 1 when bound,
    one more per endorsement. The terms in force on a day are the highest version
    effective on or before it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="terms")
    version = models.PositiveIntegerField()
    effective_from = models.DateField()
    coverage_amount = models.DecimalField(max_digits=14, decimal_places=2)
    end_date = models.DateField()
    premium_amount = models.DecimalField(max_digits=12, decimal_places=2)
    risk = models.JSONField(default=dict, blank=True)
    breakdown = models.JSONField(default=list, blank=True)
    endorsement = models.OneToOneField(Endorsement, null=True, blank=True,
                                       on_delete=models.CASCADE, related_name="terms")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["policy", "version"]
        verbose_name_plural = "policy terms"
        constraints = [
            models.UniqueConstraint(fields=["policy", "version"],
                                    name="policy_terms_version_unique"),
        ]

    def __str__(self):
        return f"{self.policy_id} v{self.version}"


class PolicyTotal(models.Model):
    """Policies by agency, type and status: their number and premium, kept by the
    database as policies change (core.db.tallies; the trigger is in the migration).
    Read summed over the slots: `policies.selectors.policy_summary`, and the count of a
    list filtered by these columns alone (core.db.tallies.count)."""

    agency = models.ForeignKey("accounts.Agency", null=True, on_delete=models.DO_NOTHING,
                               db_constraint=False, db_index=False, related_name="+")
    policy_type = models.CharField(max_length=10, choices=PolicyType.choices)
    status = models.CharField(max_length=10, choices=PolicyStatus.choices)
    slot = models.SmallIntegerField()
    policies = models.BigIntegerField()
    premium = models.DecimalField(max_digits=18, decimal_places=2)

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["agency", "policy_type", "status", "slot"], nulls_distinct=False,
            name="policytotal_key")]

    def __str__(self):
        return f"{self.agency_id} {self.policy_type} {self.status}: {self.policies}"


tallies.counts(Policy, PolicyTotal, keys=("agency_id", "policy_type", "status"),
               count="policies", sums={"premium_amount": "premium"})
