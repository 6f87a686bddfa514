import uuid

from django.conf import settings
from django.core.files.storage import storages
from django.db import models

from claims.models import Claim


def document_storage():
    return storages["documents"]


class DocumentType(models.TextChoices):
    PHOTO = "photo", "Photo"
    INVOICE = "invoice", "Invoice"
    POLICE_REPORT = "police_report", "Police report"
    MEDICAL_REPORT = "medical_report", "Medical report"
    ESTIMATE = "estimate", "Estimate"
    OTHER = "other", "Other"


class Document(models.Model):
    """A file attached to a claim. The stored name is generated; the client's
    file name is kept, sanitized, as metadata only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="documents")
    # The customer's agency, kept on the row (set by the services, followed when the
    # customer moves): a broker's lists and counts are index scans of its own rows.
    agency = models.ForeignKey("accounts.Agency", null=True, blank=True, editable=False,
                               on_delete=models.PROTECT, related_name="+", db_index=False)
    file = models.FileField(storage=document_storage, max_length=255)
    filename = models.CharField(max_length=255)
    mime_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    document_type = models.CharField(max_length=20, choices=DocumentType.choices)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(document_type__in=DocumentType.values),
                                   name="document_type_valid"),
        ]
        indexes = [
            models.Index(fields=["claim", "-uploaded_at"], name="document_claim_uploaded"),
            models.Index(fields=["agency", "-uploaded_at", "-id"], name="document_agency_uploaded"),
            # Staff's list of every document, newest first: read from the index, not
            # a sort of the whole table.
            models.Index(fields=["-uploaded_at", "-id"], name="document_uploaded"),
        ]

    def __str__(self):
        return self.filename

    def save(self, *args, **kwargs):
        if self._state.adding and self.agency_id is None:
            # Every insert path (services, admin, fixtures) lands in the right agency.
            self.agency_id = self.claim.agency_id
        super().save(*args, **kwargs)
