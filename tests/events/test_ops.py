"""Operators see the outbox: /health/ready detail, /metrics, the admin; and the
layering stays one-way (no domain app imports events)."""

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from events import services
from events.models import EmailNotification, OutboxEvent, WebhookDelivery, WebhookEndpoint
from tests.factories import ClaimFactory
from tests.test_layering import DOMAIN, imported_top_packages

pytestmark = pytest.mark.django_db


def metric(text: str, name: str) -> float | None:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", text, re.M)
    return float(match.group(1)) if match else None


def backlog(staff, agency):
    WebhookEndpoint.objects.create(owner=staff, url="https://93.184.215.14/h",
                                   events=["claim.created"], secret="whsec_" + "A" * 32)
    old = services.event_record(type="claim.created",
                                claim=ClaimFactory(policy__customer__broker=agency))
    OutboxEvent.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(seconds=120))
    fresh = services.event_record(type="claim.created",
                                  claim=ClaimFactory(policy__customer__broker=agency))
    done = services.event_record(type="claim.created",
                                 claim=ClaimFactory(policy__customer__broker=agency))
    services.event_fanout(event_id=fresh.pk)
    services.event_fanout(event_id=done.pk)
    WebhookDelivery.objects.filter(event=done).update(status="delivered")
    # An email still pending on an event with a pending delivery counts it once.
    EmailNotification.objects.create(event=fresh, recipient=staff)
    EmailNotification.objects.create(event=done, recipient=staff, status="sent")
    return old, fresh, done


def test_ready_reports_the_outbox_without_failing_on_a_backlog(staff, agency):
    backlog(staff, agency)
    response = Client().get("/health/ready")
    assert response.status_code == 200
    outbox = response.json()["checks"]["outbox"]
    assert outbox["status"] == "ok" and outbox["pending"] == 2
    assert 119 <= outbox["oldest_pending_seconds"] < 200


def test_metrics_report_pending_events_their_age_and_deliveries(staff, agency):
    backlog(staff, agency)
    text = Client().get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert metric(text, "insurance_outbox_pending") == 2
    assert 119 <= metric(text, "insurance_outbox_oldest_pending_seconds") < 200
    assert metric(text, 'insurance_webhook_deliveries_total{status="pending"}') == 1
    assert metric(text, 'insurance_webhook_deliveries_total{status="delivered"}') == 1
    assert metric(text, 'insurance_webhook_deliveries_total{status="failed"}') == 0


def test_an_empty_outbox_reads_zero(db):
    text = Client().get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert metric(text, "insurance_outbox_pending") == 0
    assert metric(text, "insurance_outbox_oldest_pending_seconds") == 0


def test_admin_pages_and_stuck_events(staff, agency, client):
    staff.is_superuser = True
    staff.save()
    old, fresh, _ = backlog(staff, agency)
    client.force_login(staff)
    page = client.get("/admin/events/outboxevent/?state=stuck")
    assert page.status_code == 200
    body = page.content.decode()
    assert str(old.resource_id) in body and "stuck" in body
    assert str(fresh.resource_id) not in body  # dispatched
    assert client.get("/admin/events/webhookdelivery/?status__exact=pending").status_code == 200
    assert client.get("/admin/events/webhookendpoint/").status_code == 200
    delivery = WebhookDelivery.objects.get(event=fresh)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed")
    response = client.post("/admin/events/webhookdelivery/", {
        "action": "redeliver", "_selected_action": [str(delivery.pk)]})
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "pending"


def test_no_domain_app_imports_events():
    offenders = {app: files for app in DOMAIN
                 for name, files in imported_top_packages(app).items() if name == "events"}
    assert offenders == {}


def test_events_imports_neither_the_roof_nor_demo():
    offenders = {name: files for name, files in imported_top_packages("events").items()
                 if name in ("config", "demo")}
    assert offenders == {}
