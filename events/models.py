"""The transactional outbox, webhook endpoints and their delivery log, and the
email notifications sent to people.

An ``OutboxEvent`` row is written in the transaction of the change it describes.
Fan-out turns it into one ``WebhookDelivery`` per subscribed endpoint and one
``EmailNotification`` per recipient; workers deliver those, and a periodic sweep
re-dispatches whatever a lost message or a killed worker left pending.
"""

import secrets
import uuid

from django.conf import settings
from django.db import models

from customers.fields import EncryptedTextField


class EventType(models.TextChoices):
    CLAIM_CREATED = "claim.created", "Claim created"
    CLAIM_STATUS_CHANGED = "claim.status_changed", "Claim status changed"
    CLAIM_PAYMENT_MADE = "claim.payment_made", "Claim payment made"
    POLICY_BOUND = "policy.bound", "Policy bound"
    POLICY_ENDORSED = "policy.endorsed", "Policy endorsed"
    POLICY_CANCELLED = "policy.cancelled", "Policy cancelled"
    POLICY_RENEWED = "policy.renewed", "Policy renewed"


class OutboxEvent(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=40, choices=EventType.choices)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    data = models.JSONField(help_text="The resource as the API shows it.")
    resource_type = models.CharField(max_length=20)
    resource_id = models.UUIDField()
    # Whose personal data the payload may carry (GDPR erasure scrubs it).
    customer_id = models.UUIDField(null=True, blank=True, db_index=True)
    dispatched_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When it was fanned out into deliveries and emails; empty = pending.")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["created_at"], condition=models.Q(dispatched_at__isnull=True),
                         name="outbox_undispatched_idx"),
        ]

    def __str__(self):
        return f"{self.type} {self.id}"

    def body(self) -> dict:
        return {"id": str(self.id), "type": self.type,
                "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
                "data": self.data}


def webhook_secret_new() -> str:
    """A Standard Webhooks secret: ``whsec_`` and base64 of 24 random bytes."""
    import base64

    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class WebhookEndpoint(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DISABLED = "disabled", "Disabled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list, help_text="Event types delivered here.")
    description = models.CharField(max_length=500, blank=True)
    secret = EncryptedTextField(editable=False, help_text="Signs deliveries; encrypted.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    disabled_reason = models.CharField(max_length=200, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.url


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE,
                                 related_name="deliveries")
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Retries run for WEBHOOK_RETRY_WINDOW from here (reset by a manual redelivery).
    window_started_at = models.DateTimeField()
    # A worker holds the delivery until then; a killed worker's lease simply runs out.
    leased_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="delivery_once_per_event"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="pending"),
                         name="delivery_pending_idx"),
        ]

    def __str__(self):
        return f"{self.event.type} → {self.endpoint.url}"


class DeliveryAttempt(models.Model):
    """One HTTP attempt: when, the status code (or the error class), how long.
    Response bodies are never stored."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE,
                                 related_name="attempt_log")
    attempted_at = models.DateTimeField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["attempted_at", "id"]

    def __str__(self):
        return f"{self.status_code or self.error} at {self.attempted_at:%Y-%m-%d %H:%M:%S}"


class EmailNotification(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    class Kind(models.TextChoices):
        CLAIM_DECISION = "claim_decision", "Claim decided or paid"
        ENDPOINT_DISABLED = "endpoint_disabled", "Webhook endpoint disabled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CLAIM_DECISION)
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="emails",
                              null=True, blank=True)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, null=True,
                                 blank=True, related_name="owner_emails")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="event_emails")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["event", "recipient"], name="email_once_per_event"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="pending"),
                         name="email_pending_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} to {self.recipient_id}"


class NotificationPreference(models.Model):
    """A person's choice of emails (no row = the defaults)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                primary_key=True, related_name="notification_preference")
    claim_decision_emails = models.BooleanField(
        default=True, help_text="Email me when a claim of my agency is approved, denied or paid.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"notification settings of {self.user_id}"
