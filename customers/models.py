import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from accounts.models import Agency
from core.db import tallies
from customers.fields import EncryptedDateField, EncryptedTextField


class Customer(models.Model):
    """A policyholder. Phone, date of birth and address are encrypted at rest."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254)
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150)
    phone = EncryptedTextField(null=True, blank=True)
    date_of_birth = EncryptedDateField(null=True, blank=True)
    address = EncryptedTextField(null=True, blank=True)
    gdpr_consent = models.BooleanField(default=False)
    gdpr_consent_date = models.DateTimeField(null=True, blank=True)
    # Indexed by customer_broker_created (broker, -created_at, -id): the agency's
    # pages in list order, and its counts.
    broker = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="customers",
        db_index=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    erased_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Unique within an agency, case-insensitive; one person may be a customer of
            # several agencies. Customers held by no agency are unique among themselves.
            models.UniqueConstraint(
                Lower("email"), models.F("broker"), name="customer_email_ci_unique_per_agency",
                condition=models.Q(broker__isnull=False),
            ),
            models.UniqueConstraint(
                Lower("email"), name="customer_email_ci_unique_no_agency",
                condition=models.Q(broker__isnull=True),
            ),
            models.CheckConstraint(
                condition=models.Q(gdpr_consent=False) | models.Q(gdpr_consent_date__isnull=False),
                name="customer_consent_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["broker", "-created_at", "-id"], name="customer_broker_created"),
            models.Index(fields=["-created_at", "-id"], name="customer_created"),
            models.Index(fields=["last_name", "first_name"], name="customer_name"),
            # the portal's list: a broker's customers by name, a page at a time
            models.Index(fields=["broker", "last_name", "first_name", "id"],
                         name="customer_broker_name"),
        ]

    def __str__(self):
        return self.display_name(self.pk, self.first_name, self.last_name, self.erased_at)

    @staticmethod
    def display_name(pk, first_name: str, last_name: str, erased_at) -> str:
        """How a customer is named on every page (an erased one has no name left)."""
        if erased_at:
            return f"Erased customer {str(pk)[:8]}"
        return f"{first_name} {last_name}"

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None


class CustomerTally(models.Model):
    """Customers by agency, kept by the database as customers change (core.db.tallies;
    the trigger is in the migration): the count of a broker's customer list."""

    broker = models.ForeignKey("accounts.Agency", null=True, on_delete=models.DO_NOTHING,
                               db_constraint=False, db_index=False, related_name="+")
    slot = models.SmallIntegerField()
    customers = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["broker", "slot"], nulls_distinct=False,
                                               name="customertally_key")]

    def __str__(self):
        return f"{self.broker_id}: {self.customers}"


tallies.counts(Customer, CustomerTally, keys=("broker_id",), count="customers")
