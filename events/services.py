"""Writes of the events app: recording events in the outbox, fanning them out into
webhook deliveries and emails, attempting those, endpoint management, the sweep
and GDPR scrubbing.

Every function that talks to the network (``delivery_attempt``, ``email_send``)
holds a short lease on its row instead of a transaction, so no database
transaction is open during an HTTP call or an SMTP conversation.
"""

from __future__ import annotations

import datetime
import json
import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from standardwebhooks import Webhook

from accounts.models import Role, User
from core.exceptions import DomainError, Forbidden
from events import dispatch, net
from events.models import (
    DeliveryAttempt,
    EmailNotification,
    EventType,
    NotificationPreference,
    OutboxEvent,
    WebhookDelivery,
    WebhookEndpoint,
    webhook_secret_new,
)

logger = logging.getLogger("insurance.events")

ERASED = "[erased]"
# Free-text fields of API resources that may hold a person's data.
_PERSONAL_KEYS = {"description", "cancellation_reason", "filename", "notes", "note"}
# A payment is announced by claim.payment_made, so a "paid" status adds no second email.
DECISION_STATUSES = {"approved", "denied"}


class WebhookInvalid(DomainError):
    pass


# --- Recording ------------------------------------------------------------------------

def _api_data(serializer_class, instance) -> dict:
    """The resource exactly as the API renders it (decimals as strings, ISO dates)."""
    return json.loads(JSONRenderer().render(serializer_class(instance).data))


def _claim_facts(claim) -> dict:
    from claims.api import ClaimOutput

    return {"resource_type": "claim", "resource_id": claim.pk,
            "customer_id": claim.policy.customer_id, "data": _api_data(ClaimOutput, claim)}


def _policy_facts(policy) -> dict:
    from policies.api import PolicyOutput

    return {"resource_type": "policy", "resource_id": policy.pk,
            "customer_id": policy.customer_id, "data": _api_data(PolicyOutput, policy)}


def event_record(*, type: str, claim=None, policy=None, data: dict | None = None) -> OutboxEvent:
    """Write one event to the outbox, in the caller's transaction; it is dispatched
    once (and only if) that transaction commits."""
    if type not in EventType.values:
        raise ValueError(f"Unknown event type {type!r}.")
    facts = _claim_facts(claim) if claim is not None else _policy_facts(policy)
    if data is not None:
        facts["data"] = json.loads(JSONRenderer().render(data))
    event = OutboxEvent.objects.create(type=type, **facts)
    event_id = event.pk
    transaction.on_commit(lambda: dispatch.enqueue("fanout", event_id))
    return event


# --- Fan-out --------------------------------------------------------------------------

def _owner_sees(owner: User, event: OutboxEvent) -> bool:
    if not owner.is_active:
        return False
    if event.resource_type == "claim":
        from claims.selectors import claims_visible_to

        return (owner.has_perm("claims.view_claim")
                and claims_visible_to(owner).filter(pk=event.resource_id).exists())
    from policies.selectors import policies_visible_to

    return (owner.has_perm("policies.view_policy")
            and policies_visible_to(owner).filter(pk=event.resource_id).exists())


def _wants_decision_email(event: OutboxEvent) -> bool:
    if event.type == EventType.CLAIM_PAYMENT_MADE:
        return True
    return (event.type == EventType.CLAIM_STATUS_CHANGED
            and event.data.get("status") in DECISION_STATUSES)


def decision_email_recipients(event: OutboxEvent):
    from claims.models import Claim

    agency_id = (Claim.objects.filter(pk=event.resource_id)
                 .values_list("policy__customer__broker_id", flat=True).first())
    if agency_id is None:
        return User.objects.none()
    return (User.objects.filter(role=Role.BROKER, agency_id=agency_id, is_active=True)
            .exclude(notification_preference__claim_decision_emails=False))


def event_fanout(*, event_id) -> tuple[list, list]:
    """Turn a committed event into its webhook deliveries and emails (once: a second
    call finds it dispatched). Returns the new delivery and email ids."""
    with transaction.atomic():
        event = (OutboxEvent.objects.select_for_update(skip_locked=True)
                 .filter(pk=event_id, dispatched_at__isnull=True).first())
        if event is None:
            return [], []
        now = timezone.now()
        deliveries = [
            WebhookDelivery(endpoint=endpoint, event=event, next_attempt_at=now,
                            window_started_at=now)
            for endpoint in WebhookEndpoint.objects.filter(
                status=WebhookEndpoint.Status.ACTIVE).select_related("owner")
            if event.type in endpoint.events and _owner_sees(endpoint.owner, event)
        ]
        WebhookDelivery.objects.bulk_create(deliveries)
        emails = []
        if _wants_decision_email(event):
            emails = [EmailNotification(event=event, recipient=user, next_attempt_at=now)
                      for user in decision_email_recipients(event)]
            EmailNotification.objects.bulk_create(emails)
        event.dispatched_at = now
        event.save(update_fields=["dispatched_at"])
    return [d.pk for d in deliveries], [e.pk for e in emails]


# --- Webhook delivery -----------------------------------------------------------------

def retry_delay(attempts: int) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones (growing)."""
    delays = settings.WEBHOOK_RETRY_DELAYS
    return float(delays[min(attempts, len(delays)) - 1])


def _lease(model, pk, now) -> bool:
    until = now + datetime.timedelta(seconds=settings.EVENTS_LEASE_SECONDS)
    return bool(model.objects.filter(pk=pk, status="pending", next_attempt_at__lte=now)
                .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
                .update(leased_until=until))


def signed_request(*, endpoint: WebhookEndpoint, event: OutboxEvent,
                   at: datetime.datetime) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event.body(), separators=(",", ":"))
    msg_id = f"msg_{event.pk.hex}"
    signature = Webhook(endpoint.secret).sign(msg_id, at, body)
    return body.encode(), {"webhook-id": msg_id,
                           "webhook-timestamp": str(int(at.timestamp())),
                           "webhook-signature": signature}


def delivery_attempt(*, delivery_id) -> float | None:
    """Make one attempt if the delivery is due and no one else holds it. Returns the
    delay before the next attempt when one is scheduled, else None."""
    now = timezone.now()
    if not _lease(WebhookDelivery, delivery_id, now):
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint", "event").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if endpoint.status != WebhookEndpoint.Status.ACTIVE:
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            status=WebhookDelivery.Status.FAILED, last_error="endpoint disabled",
            next_attempt_at=None, leased_until=None)
        return None
    body, headers = signed_request(endpoint=endpoint, event=delivery.event, at=now)
    outcome = net.post(endpoint.url, body=body, headers=headers)
    return _delivery_record(delivery_id=delivery_id, endpoint_id=endpoint.pk,
                            outcome=outcome, at=now)


@transaction.atomic
def _delivery_record(*, delivery_id, endpoint_id, outcome: net.Outcome, at) -> float | None:
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
    DeliveryAttempt.objects.create(delivery=delivery, attempted_at=at,
                                   status_code=outcome.status_code, error=outcome.error,
                                   duration_ms=outcome.duration_ms)
    delivery.attempts += 1
    delivery.last_status_code = outcome.status_code
    delivery.last_error = outcome.error
    delivery.leased_until = None
    delay = None
    now = timezone.now()
    if outcome.ok:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        WebhookEndpoint.objects.filter(pk=endpoint_id, failing_since__isnull=False).update(
            failing_since=None)
    else:
        # Growing delays; the last attempt falls at the end of the window, then: failed.
        end = delivery.window_started_at + datetime.timedelta(
            seconds=settings.WEBHOOK_RETRY_WINDOW_SECONDS)
        following = min(now + datetime.timedelta(seconds=retry_delay(delivery.attempts)), end)
        disabled = _endpoint_failed(endpoint_id=endpoint_id, now=now)
        if disabled or now >= end:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = following
            delay = (following - now).total_seconds()
    delivery.save()
    logger.info("webhook.attempt", extra={
        "event": "webhook.attempt", "delivery_id": str(delivery.pk),
        "status_code": outcome.status_code, "outcome": delivery.status,
        "attempts": delivery.attempts, "error": outcome.error})
    return delay


def _endpoint_failed(*, endpoint_id, now) -> bool:
    """Remember since when an endpoint fails; after WEBHOOK_DISABLE_AFTER_SECONDS of
    failures only, disable it and tell its owner. True when it is disabled."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
    if endpoint.status != WebhookEndpoint.Status.ACTIVE:
        return True
    if endpoint.failing_since is None:
        endpoint.failing_since = now
        endpoint.save(update_fields=["failing_since", "updated_at"])
        return False
    limit = datetime.timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS)
    if now - endpoint.failing_since < limit:
        return False
    endpoint.status = WebhookEndpoint.Status.DISABLED
    endpoint.disabled_reason = "Every delivery failed for a day."
    endpoint.save(update_fields=["status", "disabled_reason", "updated_at"])
    WebhookDelivery.objects.filter(endpoint=endpoint, status=WebhookDelivery.Status.PENDING,
                                   leased_until__isnull=True).update(
        status=WebhookDelivery.Status.FAILED, next_attempt_at=None,
        last_error="endpoint disabled")
    email = EmailNotification.objects.create(
        kind=EmailNotification.Kind.ENDPOINT_DISABLED, endpoint=endpoint,
        recipient=endpoint.owner, next_attempt_at=now)
    transaction.on_commit(lambda: dispatch.enqueue("send_email", email.pk))
    logger.warning("webhook.endpoint_disabled", extra={
        "event": "webhook.endpoint_disabled", "endpoint_id": str(endpoint.pk)})
    return True


# --- Email ----------------------------------------------------------------------------

def _email_context(notification: EmailNotification) -> tuple[str, dict]:
    base = settings.PORTAL_URL.rstrip("/")
    if notification.kind == EmailNotification.Kind.ENDPOINT_DISABLED:
        endpoint = notification.endpoint
        return "endpoint_disabled", {"endpoint": endpoint, "recipient": notification.recipient,
                                     "admin_url": f"{base}/api/webhooks/{endpoint.pk}"}
    event = notification.event
    claim = event.data
    outcome = "paid" if event.type == EventType.CLAIM_PAYMENT_MADE else claim.get("status")
    return "claim_decision", {
        "claim": {k: claim.get(k) for k in ("claim_number", "claim_type", "claim_amount",
                                            "incident_date", "status")},
        "outcome": outcome, "recipient": notification.recipient,
        "claim_url": f"{base}/portal/claims/{event.resource_id}/",
        "settings_url": f"{base}/portal/settings/notifications/",
    }


def email_render(notification: EmailNotification) -> EmailMultiAlternatives:
    name, context = _email_context(notification)
    subject = render_to_string(f"events/email/{name}_subject.txt", context).strip()
    text = render_to_string(f"events/email/{name}.txt", context)
    html = render_to_string(f"events/email/{name}.html", context)
    message = EmailMultiAlternatives(subject=" ".join(subject.split()), body=text,
                                     from_email=settings.DEFAULT_FROM_EMAIL,
                                     to=[notification.recipient.email])
    message.attach_alternative(html, "text/html")
    return message


def email_send(*, notification_id) -> float | None:
    """Send one email if due and not held elsewhere; on an error schedule a retry
    (EMAIL_RETRY_DELAYS), then give up as failed."""
    now = timezone.now()
    if not _lease(EmailNotification, notification_id, now):
        return None
    notification = (EmailNotification.objects
                    .select_related("event", "endpoint", "recipient").get(pk=notification_id))
    if (notification.kind == EmailNotification.Kind.CLAIM_DECISION
            and not claim_emails_wanted(notification.recipient)):
        EmailNotification.objects.filter(pk=notification_id).update(
            status=EmailNotification.Status.FAILED, last_error="opted out", leased_until=None,
            next_attempt_at=None)
        return None
    error = ""
    try:
        email_render(notification).send()
    except Exception as exc:  # noqa: BLE001 - a mail server's trouble is retried
        error = exc.__class__.__name__
    delays = settings.EMAIL_RETRY_DELAYS
    attempts = notification.attempts + 1
    update = {"attempts": attempts, "leased_until": None, "last_error": error[:200]}
    delay = None
    if not error:
        update.update(status=EmailNotification.Status.SENT, sent_at=timezone.now(),
                      next_attempt_at=None)
    elif attempts > len(delays):
        update.update(status=EmailNotification.Status.FAILED, next_attempt_at=None)
    else:
        delay = float(delays[attempts - 1])
        update["next_attempt_at"] = timezone.now() + datetime.timedelta(seconds=delay)
    EmailNotification.objects.filter(pk=notification_id).update(**update)
    logger.info("email.attempt", extra={"event": "email.attempt",
                                        "notification_id": str(notification_id),
                                        "error": error, "attempts": attempts})
    return delay


def claim_emails_wanted(user: User) -> bool:
    pref = NotificationPreference.objects.filter(user=user).first()
    return pref is None or pref.claim_decision_emails


def notification_preference_set(*, user: User, claim_decision_emails: bool):
    pref, _ = NotificationPreference.objects.update_or_create(
        user=user, defaults={"claim_decision_emails": claim_decision_emails})
    return pref


# --- Endpoints ------------------------------------------------------------------------

def user_may_manage_webhooks(user, verb: str = "view") -> bool:
    if not (user and user.is_authenticated and user.is_active):
        return False
    if user.is_staff_role:
        return True
    return user.is_integrator and user.has_perm(f"events.{verb}_webhookendpoint")


def _clean_events(events) -> list[str]:
    if not isinstance(events, list | tuple) or not events:
        raise WebhookInvalid("Name at least one event type.", field="events")
    unknown = [e for e in events if e not in EventType.values]
    if unknown:
        raise WebhookInvalid(f"Unknown event type {unknown[0]!r}; use any of "
                             f"{', '.join(EventType.values)}.", field="events")
    return sorted(set(events))


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    if len(url) > 2000:
        raise WebhookInvalid("The URL is too long (2000 characters at most).", field="url")
    try:
        net.target_for(url)
    except net.UnsafeURL as exc:
        raise WebhookInvalid(str(exc), field="url") from exc
    return url


@transaction.atomic
def webhook_endpoint_create(*, actor: User, url: str, events, description: str = ""
                            ) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it and its signing secret (shown only now)."""
    if not user_may_manage_webhooks(actor, "add"):
        raise Forbidden("Only staff or an integrator with the permission may add webhooks.")
    secret = webhook_secret_new()
    endpoint = WebhookEndpoint.objects.create(
        owner=actor, url=_clean_url(url), events=_clean_events(events),
        description=(description or "").strip()[:500], secret=secret)
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_update(*, actor: User, endpoint: WebhookEndpoint, **changes
                            ) -> WebhookEndpoint:
    if not user_may_manage_webhooks(actor, "change"):
        raise Forbidden("Only staff or an integrator with the permission may change webhooks.")
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if "url" in changes:
        endpoint.url = _clean_url(changes["url"])
    if "events" in changes:
        endpoint.events = _clean_events(changes["events"])
    if "description" in changes:
        endpoint.description = (changes["description"] or "").strip()[:500]
    if "status" in changes:
        status = changes["status"]
        if status not in WebhookEndpoint.Status.values:
            raise WebhookInvalid("Status is active or disabled.", field="status")
        if status == WebhookEndpoint.Status.ACTIVE:
            endpoint.failing_since = None
            endpoint.disabled_reason = ""
        elif endpoint.status == WebhookEndpoint.Status.ACTIVE:
            endpoint.disabled_reason = "Disabled by its owner."
        endpoint.status = status
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, actor: User, endpoint: WebhookEndpoint) -> None:
    if not user_may_manage_webhooks(actor, "delete"):
        raise Forbidden("Only staff or an integrator with the permission may delete webhooks.")
    endpoint.delete()


@transaction.atomic
def delivery_redeliver(*, actor: User, delivery: WebhookDelivery) -> WebhookDelivery:
    """Queue one more round of attempts now (a fresh retry window)."""
    if not user_may_manage_webhooks(actor, "change"):
        raise Forbidden("Only staff or an integrator with the permission may redeliver.")
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.endpoint.status != WebhookEndpoint.Status.ACTIVE:
        raise WebhookInvalid("The endpoint is disabled; enable it first.", field="endpoint")
    now = timezone.now()
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.next_attempt_at = now
    delivery.window_started_at = now
    delivery.leased_until = None
    delivery.save(update_fields=["status", "next_attempt_at", "window_started_at",
                                 "leased_until"])
    delivery_id = delivery.pk
    transaction.on_commit(lambda: dispatch.enqueue("deliver", delivery_id))
    return delivery


# --- Sweep ----------------------------------------------------------------------------

def outbox_sweep(*, limit: int = 500) -> dict[str, list]:
    """What a lost message or a killed worker left behind: events committed but never
    fanned out, and due deliveries and emails no one holds."""
    now = timezone.now()
    settled = now - datetime.timedelta(seconds=settings.EVENTS_SWEEP_GRACE_SECONDS)
    free = Q(leased_until__isnull=True) | Q(leased_until__lt=now)
    return {
        "fanout": list(OutboxEvent.objects.filter(dispatched_at__isnull=True,
                                                  created_at__lte=settled)
                       .order_by("created_at").values_list("pk", flat=True)[:limit]),
        "deliver": list(WebhookDelivery.objects.filter(
            free, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=settled)
            .order_by("next_attempt_at").values_list("pk", flat=True)[:limit]),
        "send_email": list(EmailNotification.objects.filter(
            free, status=EmailNotification.Status.PENDING, next_attempt_at__lte=settled)
            .order_by("next_attempt_at").values_list("pk", flat=True)[:limit]),
    }


# --- GDPR -----------------------------------------------------------------------------

def _scrub(value):
    if isinstance(value, dict):
        return {k: (ERASED if k in _PERSONAL_KEYS and isinstance(v, str) and v
                    else _scrub(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def customer_scrub(*, customer_id) -> int:
    """Erase a person's free text from stored event payloads (the delivery log keeps
    status codes and error classes only, never a payload or a response)."""
    count = 0
    for event in OutboxEvent.objects.select_for_update().filter(customer_id=customer_id):
        scrubbed = _scrub(event.data)
        if scrubbed != event.data:
            event.data = scrubbed
            event.save(update_fields=["data"])
            count += 1
    return count
