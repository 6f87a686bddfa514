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


def test_the_in_memory_rule_and_the_batch_read_agree_with_the_selector(agency, other_agency):
    """claim_in_view (the live socket's check, from an event's agency) and
    claims_visible_among (many users at once) are claims_visible_to, pair for pair."""
    from django.contrib.auth.models import AnonymousUser
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from claims.models import Claim
    from claims.selectors import claim_in_view, claims_visible_among, claims_visible_to

    own = ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=agency)))
    foreign = ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=other_agency)))
    orphan = ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=agency)))
    orphan.agency = None  # a row without its agency key
    orphan.save(update_fields=["agency"])
    claims = Claim.objects.filter(pk__in=[own.pk, foreign.pk, orphan.pk])
    users = [UserFactory(agency=agency), UserFactory(agency=other_agency),
             UserFactory(staff=True), UserFactory(integrator=True),
             UserFactory(agency=agency, is_active=False), UserFactory(staff=True, is_active=False)]

    expected = {(user.pk, claim.pk) for user in users for claim in claims
                if claims_visible_to(user).filter(pk=claim.pk).exists()}
    assert (users[0].pk, own.pk) in expected and (users[0].pk, foreign.pk) not in expected
    assert {(user.pk, claim.pk) for user in users for claim in claims
            if claim_in_view(user, agency_id=claim.agency_id)} == expected
    with CaptureQueriesContext(connection) as queries:
        assert claims_visible_among(users, [c.pk for c in claims]) == expected
    assert len(queries) == 1
    assert not claim_in_view(AnonymousUser(), agency_id=agency.pk)
    assert not claim_in_view(None, agency_id=None)
    assert claims_visible_among(users, []) == set()
