"""Erasure scrubs the person from stored event payloads and the delivery log."""

import pytest

from claims import services as claim_services
from compliance.services import customer_erase
from documents.services import document_create
from events import services
from events.models import OutboxEvent, WebhookDelivery
from tests.compliance.canary import CANARY, canary_pdf, found_in_database
from tests.factories import ClaimFactory, CustomerFactory, PolicyFactory

pytestmark = pytest.mark.django_db


def test_erasure_leaves_no_canary_in_events_or_deliveries(
        private_urls, staff, agency, make_receiver, django_capture_on_commit_callbacks):
    receiver = make_receiver(statuses=[500, 200])
    services.webhook_endpoint_create(actor=staff, url=receiver.url,
                                     events=["claim.status_changed", "policy.cancelled"])
    customer = CustomerFactory(broker=agency, **CANARY)
    policy = PolicyFactory(customer=customer)
    claim = ClaimFactory(policy=policy,
                         description="Zebulon Quixoticus slipped at 42 Canarywharf Lane.")
    other_claim = ClaimFactory(policy__customer__broker=agency,
                               description="Someone else's kitchen flooded.")
    with django_capture_on_commit_callbacks(execute=True):
        document_create(actor=staff, claim=claim, uploaded_file=canary_pdf(),
                        document_type="invoice")
    with django_capture_on_commit_callbacks(execute=True):
        claim_services.claim_transition(claim_id=claim.pk, to="processing", actor=staff)
        claim_services.claim_transition(claim_id=other_claim.pk, to="processing", actor=staff)
    from policies.services import policy_cancel

    with django_capture_on_commit_callbacks(execute=True):
        policy_cancel(actor=staff, policy=PolicyFactory(customer=customer),
                      reason="Zebulon moved abroad")
    event = OutboxEvent.objects.get(resource_id=claim.pk)
    assert event.data["documents"][0]["filename"] == "Quixoticus-invoice.pdf"
    assert {t for t, _ in found_in_database()} >= {"events_outboxevent"}
    assert WebhookDelivery.objects.filter(attempts__gte=1).count() == 3
    with django_capture_on_commit_callbacks(execute=True):
        customer_erase(actor=staff, customer=customer)
    assert [t for t, _ in found_in_database() if t.startswith("events_")] == []
    event.refresh_from_db()
    assert event.data["description"] == "[erased]"
    assert event.data["documents"][0]["filename"] == "[erased]"
    assert event.data["claim_number"] == claim.claim_number  # the claim's own facts stay
    cancelled = OutboxEvent.objects.get(type="policy.cancelled")
    assert cancelled.data["cancellation_reason"] == "[erased]"
    # Someone else's events are untouched.
    other = OutboxEvent.objects.get(resource_id=other_claim.pk)
    assert other.data["description"] == "Someone else's kitchen flooded."
