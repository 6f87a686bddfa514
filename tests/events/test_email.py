"""Claim decisions reach the agency's brokers by email (Django's locmem backend)."""

import pytest
from django.core import mail
from django.utils import timezone

from claims import services as claim_services
from events import services
from events.models import EmailNotification
from tests.conftest import client_for
from tests.factories import ClaimFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim(agency):
    return ClaimFactory(
        policy__customer__broker=agency, policy__customer__first_name="Philippa",
        policy__customer__last_name="Canarysmith", claim_amount="2345.00",
        description="Internal: Philippa's neighbour saw the crash.", status="processing")


def decide(staff, claim, to, capture):
    with capture(execute=True):
        claim_services.claim_transition(claim_id=claim.pk, to=to, actor=staff)


@pytest.mark.parametrize("to", ["approved", "denied"])
def test_the_agency_brokers_get_a_text_and_html_email(to, staff, broker, claim, other_broker,
                                                       django_capture_on_commit_callbacks):
    colleague = UserFactory(agency=broker.agency, email="colleague@northwind.test")
    UserFactory(agency=broker.agency, email="gone@northwind.test", is_active=False)
    decide(staff, claim, to, django_capture_on_commit_callbacks)
    assert sorted(m.to[0] for m in mail.outbox) == [broker.email, colleague.email]
    message = next(m for m in mail.outbox if m.to == [broker.email])
    assert message.subject == f"Claim {claim.claim_number} {to}"
    (html, mime), = message.alternatives
    assert mime == "text/html"
    for text in (message.body, html):
        assert claim.claim_number in text and "2345.00" in text
        assert f"/portal/claims/{claim.pk}/" in text
        assert "/portal/settings/notifications/" in text
        assert "Broker portal" in text
        # Nothing about the person, nothing internal.
        assert "Philippa" not in text and "Canarysmith" not in text
        assert "neighbour" not in text
    assert "#1f4e8c" in html  # the portal's brand colour
    assert set(EmailNotification.objects.values_list("status", flat=True)) == {"sent"}


def test_no_email_for_other_statuses(staff, broker, claim, django_capture_on_commit_callbacks):
    ClaimFactory(policy__customer__broker=broker.agency)
    decide(staff, ClaimFactory(policy__customer__broker=broker.agency), "processing",
           django_capture_on_commit_callbacks)
    assert mail.outbox == [] and not EmailNotification.objects.exists()


def test_a_broker_can_switch_the_emails_off_in_the_portal(client, staff, broker, claim,
                                                           django_capture_on_commit_callbacks):
    client.force_login(broker)
    page = client.get("/portal/settings/notifications/")
    assert page.status_code == 200 and b'name="claim_decision_emails"' in page.content
    assert b"checked" in page.content
    response = client.post("/portal/settings/notifications/", {})
    assert response.status_code == 302
    assert services.claim_emails_wanted(broker) is False
    assert b"checked" not in client.get("/portal/settings/notifications/").content
    decide(staff, claim, "approved", django_capture_on_commit_callbacks)
    assert mail.outbox == []
    client.post("/portal/settings/notifications/", {"claim_decision_emails": "on"})
    assert services.claim_emails_wanted(broker) is True


def test_opting_out_after_the_fanout_still_stops_the_email(staff, broker, claim,
                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        claim_services.claim_transition(claim_id=claim.pk, to="approved", actor=staff)
    from events.models import OutboxEvent

    services.event_fanout(event_id=OutboxEvent.objects.get().pk)
    services.notification_preference_set(user=broker, claim_decision_emails=False)
    notification = EmailNotification.objects.get()
    assert services.email_send(notification_id=notification.pk) is None
    notification.refresh_from_db()
    assert notification.status == "failed" and notification.last_error == "opted out"
    assert mail.outbox == []


def test_a_mail_server_failure_never_fails_the_decision_and_is_retried(
        settings, staff, broker, claim, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    settings.EMAIL_RETRY_DELAYS = [60]
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(staff).patch(f"/api/claims/{claim.pk}", {"status": "approved"})
    assert response.status_code == 200
    claim.refresh_from_db()
    assert claim.status == "approved"
    notification = EmailNotification.objects.get()
    assert notification.status == "pending" and notification.attempts == 1
    assert notification.last_error and notification.next_attempt_at > timezone.now()
    # Last try fails too: given up, marked failed.
    EmailNotification.objects.filter(pk=notification.pk).update(next_attempt_at=timezone.now())
    assert services.email_send(notification_id=notification.pk) is None
    notification.refresh_from_db()
    assert notification.status == "failed" and notification.attempts == 2
    # Once the server answers, a redelivery of the outbox row is what sends it.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    EmailNotification.objects.filter(pk=notification.pk).update(
        status="pending", next_attempt_at=timezone.now())
    services.email_send(notification_id=notification.pk)
    assert [m.to for m in mail.outbox] == [[broker.email]]


def test_staff_sees_the_settings_page_but_cannot_save(client, staff):
    client.force_login(staff)
    assert client.get("/portal/settings/notifications/").status_code == 200
    assert client.post("/portal/settings/notifications/", {}).status_code == 403
