"""Outside a web request (manage.py, background work) an entry still names the user
the service acted for: its `actor=` argument."""

import datetime

import pytest
from django.utils import timezone

from claims import services as claim_services
from customers import services as customer_services
from policies import services as policy_services
from tests.compliance.helpers import entries_for
from tests.factories import ClaimFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_service_writes_name_their_actor_without_a_request(broker):
    staff = UserFactory(staff=True)
    customer = customer_services.customer_create(
        actor=broker, email="svc@example.test", first_name="S", last_name="V",
        gdpr_consent=True)
    today = timezone.localdate()
    policy = policy_services.policy_create(
        actor=broker, customer_id=customer.pk, policy_type="auto", premium_amount=200,
        coverage_amount=5000, start_date=today, end_date=today + datetime.timedelta(days=30))
    policy_services.policy_cancel(actor=staff, policy=policy, reason="Duplicate")
    claim = ClaimFactory()
    claim_services.claim_transition(claim_id=claim.pk, to="processing", actor=staff)

    assert [e.actor_id for e in entries_for(customer)] == [broker.pk]
    assert [e.actor_id for e in entries_for(policy)] == [broker.pk, staff.pk]
    assert entries_for(claim)[-1].actor_id == staff.pk


def test_the_actor_does_not_leak_past_the_service(broker):
    customer_services.customer_create(
        actor=broker, email="first@example.test", first_name="F", last_name="L",
        gdpr_consent=True)
    claim = ClaimFactory()  # written by no service, no request: no actor
    assert entries_for(claim)[0].actor_id is None
