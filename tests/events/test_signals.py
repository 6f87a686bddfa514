"""Every event type is one domain signal away: what other services will send
(policy.bound, policy.endorsed, policy.renewed, claim.payment_made) records today."""

import pytest
from django.core import mail
from django.db import transaction

from claims import signals as claim_signals
from claims.models import Claim
from events.models import EmailNotification, OutboxEvent
from events.receivers import RECEIVERS
from policies import signals as policy_signals
from policies.models import Policy
from tests.factories import ClaimFactory, PolicyFactory

pytestmark = pytest.mark.django_db


def test_every_event_type_has_a_receiver():
    from events.models import EventType

    assert sorted(t for _, t in RECEIVERS) == sorted(EventType.values)


@pytest.mark.parametrize("signal, event_type", [
    (policy_signals.policy_bound, "policy.bound"),
    (policy_signals.policy_endorsed, "policy.endorsed"),
    (policy_signals.policy_renewed, "policy.renewed"),
    (policy_signals.policy_cancelled, "policy.cancelled"),
])
def test_policy_signals_record_the_policy(agency, signal, event_type):
    policy = PolicyFactory(customer__broker=agency)
    with transaction.atomic():
        signal.send(sender=Policy, policy=policy)
    event = OutboxEvent.objects.get()
    assert event.type == event_type and event.resource_type == "policy"
    assert event.data["policy_number"] == policy.policy_number
    assert event.customer_id == policy.customer_id


def test_a_sender_may_give_the_resource_itself(agency):
    claim = ClaimFactory(policy__customer__broker=agency)
    payment = {"id": "5a0c6f64-0000-4000-8000-000000000001", "claim_id": str(claim.pk),
               "amount": "800.00"}
    with transaction.atomic():
        claim_signals.claim_payment_made.send(sender=Claim, claim=claim, data=payment)
    event = OutboxEvent.objects.get()
    assert event.type == "claim.payment_made" and event.data == payment
    assert event.resource_id == claim.pk


def test_a_payment_emails_the_agency_brokers(staff, broker, agency,
                                             django_capture_on_commit_callbacks):
    claim = ClaimFactory(policy__customer__broker=agency)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        claim_signals.claim_payment_made.send(sender=Claim, claim=claim)
    (message,) = mail.outbox
    assert message.to == [broker.email]
    assert message.subject == f"Claim {claim.claim_number} paid"
    assert EmailNotification.objects.get().status == "sent"
