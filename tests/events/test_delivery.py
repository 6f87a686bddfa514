"""Webhook delivery to a real HTTP receiver on 127.0.0.1: signatures, retries, the
delivery log, giving up, disabling an endpoint, and the SSRF rules."""

import datetime
import json
import time

import pytest
from django.core import mail
from django.utils import timezone
from standardwebhooks import Webhook

from claims import services as claim_services
from events import services, tasks
from events.models import (
    DeliveryAttempt,
    EmailNotification,
    OutboxEvent,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.events.workers import wait_until
from tests.factories import ClaimFactory

pytestmark = pytest.mark.django_db


def register(owner, url, events=("claim.status_changed",)):
    endpoint, secret = services.webhook_endpoint_create(actor=owner, url=url, events=list(events))
    return endpoint, secret


def change_a_claim(staff, agency, capture, to="processing"):
    claim = ClaimFactory(policy__customer__broker=agency)
    with capture(execute=True):
        claim_services.claim_transition(claim_id=claim.pk, to=to, actor=staff)
    return claim


def test_delivery_is_signed_per_standard_webhooks(private_urls, staff, agency, receiver,
                                                  django_capture_on_commit_callbacks):
    endpoint, secret = register(staff, receiver.url)
    claim = change_a_claim(staff, agency, django_capture_on_commit_callbacks)
    (request,) = receiver.wait_for(1)
    headers = request["headers"]
    payload = Webhook(secret).verify(request["body"], headers)  # raises when forged
    event = OutboxEvent.objects.get()
    assert payload == {"id": str(event.pk), "type": "claim.status_changed",
                       "created_at": event.body()["created_at"], "data": event.data}
    assert payload["data"]["id"] == str(claim.pk) and payload["data"]["status"] == "processing"
    assert headers["webhook-id"] == f"msg_{event.pk.hex}"
    assert headers["webhook-signature"].startswith("v1,")
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    assert headers["content-type"] == "application/json"
    with pytest.raises(Exception):  # noqa: B017 - another secret does not verify
        Webhook("whsec_" + "B" * 32).verify(request["body"], headers)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        "delivered", 1, 200)
    assert delivery.endpoint_id == endpoint.pk


def test_a_failure_is_retried_with_growing_delays_then_delivered(
        private_urls, staff, agency, make_receiver, django_capture_on_commit_callbacks):
    private_urls.WEBHOOK_RETRY_DELAYS = [30, 120]
    private_urls.EVENTS_SWEEP_GRACE_SECONDS = 0
    receiver = make_receiver(statuses=[500, 503, 200])
    register(staff, receiver.url)
    change_a_claim(staff, agency, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()

    def waited(delivery) -> float:
        last = delivery.attempt_log.order_by("-attempted_at").first()
        return (delivery.next_attempt_at - last.attempted_at).total_seconds()

    def make_due(delivery):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))

    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        "pending", 1, 500)
    assert 30 <= waited(delivery) < 35
    assert tasks.sweep() == {"fanout": 0, "deliver": 0, "send_email": 0}  # not due yet
    make_due(delivery)
    assert tasks.sweep() == {"fanout": 0, "deliver": 1, "send_email": 0}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        "pending", 2, 503)
    assert 120 <= waited(delivery) < 125  # growing
    make_due(delivery)
    tasks.sweep()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        "delivered", 3, 200)
    assert delivery.next_attempt_at is None
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 503, 200]
    # One event, one webhook-id on every attempt: receivers dedupe on it.
    assert len({r["headers"]["webhook-id"] for r in receiver.requests}) == 1
    assert WebhookEndpoint.objects.get().failing_since is None


def test_retry_delays_grow_and_the_last_repeats(settings):
    settings.WEBHOOK_RETRY_DELAYS = [5, 30, 120]
    assert [services.retry_delay(n) for n in range(1, 6)] == [5, 30, 120, 120, 120]


def test_timeout_is_recorded_and_the_body_never_kept(private_urls, staff, agency,
                                                     make_receiver,
                                                     django_capture_on_commit_callbacks):
    private_urls.WEBHOOK_TIMEOUT_SECONDS = 0.3
    receiver = make_receiver(statuses=[200], delays=[1.5])
    register(staff, receiver.url)
    change_a_claim(staff, agency, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.last_status_code is None
    assert delivery.last_error == "timeout"
    assert DeliveryAttempt.objects.get().error == "timeout"


def test_a_large_response_is_read_only_in_part(private_urls, staff, agency, make_receiver,
                                               django_capture_on_commit_callbacks):
    # 64 MiB: more than any socket buffer holds, so the receiver's write fails unless
    # the whole body is read (the client stops after 64 KiB and closes).
    receiver = make_receiver(statuses=[200], body=b"x" * (64 * 1024 * 1024))
    register(staff, receiver.url)
    change_a_claim(staff, agency, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivered" and delivery.last_status_code == 200
    wait_until(lambda: receiver.unsent_bodies == 1, timeout=10)
    attempt = DeliveryAttempt.objects.get()
    assert "x" * 10 not in json.dumps([attempt.error, delivery.last_error])


def test_the_last_attempt_is_at_the_end_of_the_window_then_it_fails(
        private_urls, staff, agency, make_receiver, django_capture_on_commit_callbacks):
    private_urls.WEBHOOK_RETRY_DELAYS = [3600]
    private_urls.WEBHOOK_RETRY_WINDOW_SECONDS = 1800
    private_urls.EVENTS_SWEEP_GRACE_SECONDS = 0
    receiver = make_receiver(statuses=[500])
    register(staff, receiver.url)
    change_a_claim(staff, agency, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending"
    assert delivery.next_attempt_at == delivery.window_started_at + datetime.timedelta(
        seconds=1800)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        window_started_at=timezone.now() - datetime.timedelta(seconds=1801),
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))
    tasks.sweep()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 2, None)
    assert len(receiver.requests) == 2


def test_a_day_of_failures_disables_the_endpoint_and_emails_its_owner(
        private_urls, staff, agency, make_receiver, django_capture_on_commit_callbacks):
    private_urls.WEBHOOK_DISABLE_AFTER_SECONDS = 3600
    receiver = make_receiver(statuses=[500])
    endpoint, _ = register(staff, receiver.url)
    change_a_claim(staff, agency, django_capture_on_commit_callbacks)
    endpoint.refresh_from_db()
    assert endpoint.status == "active" and endpoint.failing_since is not None
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - datetime.timedelta(seconds=3601))
    with django_capture_on_commit_callbacks(execute=True):
        claim_services.claim_transition(
            claim_id=ClaimFactory(policy__customer__broker=agency).pk, to="processing",
            actor=staff)
    endpoint.refresh_from_db()
    assert endpoint.status == "disabled" and endpoint.disabled_reason
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"failed"}
    (message,) = mail.outbox
    assert message.to == [staff.email]
    assert "disabled" in message.subject and receiver.url in message.body
    assert EmailNotification.objects.get().status == "sent"
    # A disabled endpoint gets nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        claim_services.claim_transition(
            claim_id=ClaimFactory(policy__customer__broker=agency).pk, to="processing",
            actor=staff)
    assert WebhookDelivery.objects.count() == 2


# --- SSRF ----------------------------------------------------------------------------

@pytest.mark.parametrize("url, message", [
    ("http://hooks.example.com/in", "https"),
    ("https://127.0.0.1/in", "private"),
    ("https://localhost:8443/in", "private"),
    ("https://10.1.2.3/in", "private"),
    ("https://169.254.169.254/latest/meta-data", "private"),
    ("https://[::1]/in", "private"),
    ("https://192.168.0.10/in", "private"),
    ("ftp://hooks.example.com/in", "http"),
    ("https://user:pw@93.184.215.14/in", "credentials"),
    ("https://no-such-host.invalid/in", "resolve"),
])
def test_production_refuses_unsafe_urls_at_registration(settings, staff, url, message):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    with pytest.raises(services.WebhookInvalid) as caught:
        register(staff, url)
    assert caught.value.field == "url" and message in caught.value.message
    assert not WebhookEndpoint.objects.exists()


def test_a_public_https_address_is_accepted(settings, staff):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    endpoint, _ = register(staff, "https://93.184.215.14/in")
    assert endpoint.url == "https://93.184.215.14/in"


def test_delivery_checks_the_address_again(settings, staff, agency, receiver,
                                           django_capture_on_commit_callbacks):
    """A target that turned private after registration (DNS rebinding) gets nothing."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    register(staff, receiver.url)
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    change_a_claim(staff, agency, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.last_status_code is None
    assert delivery.last_error.startswith("refused:")
    time.sleep(0.2)
    assert receiver.requests == []
