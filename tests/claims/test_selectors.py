import pytest

from claims import services
from claims.selectors import claim_status_counts, recent_activity
from tests.factories import ClaimFactory, CustomerFactory, PolicyFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_status_counts_are_scoped(broker, other_agency):
    mine = PolicyFactory(customer=CustomerFactory(broker=broker.agency))
    ClaimFactory(policy=mine)
    ClaimFactory(policy=mine, status="processing")
    ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=other_agency)))
    assert claim_status_counts(broker) == {"pending": 1, "processing": 1}


def test_recent_activity_newest_first_and_scoped(broker, other_agency):
    staff = UserFactory(staff=True)
    customer = CustomerFactory(broker=broker.agency)
    policy = PolicyFactory(customer=customer)
    claim = ClaimFactory(policy=policy)
    services.claim_transition(claim_id=claim.pk, to="processing", actor=staff)
    foreign = ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=other_agency)))
    services.claim_transition(claim_id=foreign.pk, to="processing", actor=staff)

    feed = recent_activity(broker, limit=5)
    assert [kind for kind, _ in feed] == ["status_change", "claim", "policy", "customer"]
    assert feed[0][1].claim_id == claim.pk
    objects = [obj for _, obj in feed]
    assert foreign not in objects and foreign.policy not in objects


def test_recent_activity_is_bounded(broker):
    for _ in range(4):
        ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=broker.agency)))
    feed = recent_activity(broker, limit=2)
    assert len(feed) == 4
