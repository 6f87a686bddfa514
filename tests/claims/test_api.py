import datetime

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from claims.models import Claim, ClaimStatusChange
from tests.conftest import client_for
from tests.factories import ClaimFactory, CustomerFactory, PolicyFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
FIELDS = {"id", "claim_number", "policy_id", "claim_type", "claim_amount", "description",
          "incident_date", "status", "reported_date", "processed_date", "documents",
          "assignee_id", "status_since", "sla_due_at", "overdue", "reserve", "paid", "incurred",
          "created_at", "updated_at"}


@pytest.fixture
def policy(broker):
    return PolicyFactory(customer=CustomerFactory(broker=broker.agency),
                         start_date=TODAY - 100 * DAY, end_date=TODAY + 265 * DAY,
                         coverage_amount="5000.00")


def payload(policy, **over):
    data = {"policy_id": str(policy.pk), "claim_type": "theft", "claim_amount": 1200.5,
            "description": "Bike stolen from the garage.", "incident_date": str(TODAY - 2 * DAY)}
    data.update(over)
    return data


@pytest.mark.parametrize("path", ["/api/claims", "/api/claims/"])
def test_create(broker_client, policy, path):
    r = broker_client.post(path, payload(policy), format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert set(body) == FIELDS
    assert body["status"] == "pending"
    assert body["claim_amount"] == "1200.50"
    assert body["processed_date"] is None
    assert body["reported_date"] == str(TODAY)
    assert body["documents"] == []
    assert body["claim_number"].startswith("CLM-")


def test_amount_equal_to_coverage_is_fine(broker_client, policy):
    r = broker_client.post("/api/claims", payload(policy, claim_amount="5000.00"), format="json")
    assert r.status_code == 201


@pytest.mark.parametrize("over,field", [
    ({"incident_date": str(TODAY + DAY)}, "incident_date"),
    ({"incident_date": str(TODAY - 101 * DAY)}, "incident_date"),
    ({"claim_amount": 0}, "claim_amount"),
    ({"claim_amount": "-10"}, "claim_amount"),
    ({"claim_amount": "5000.01"}, "claim_amount"),
    ({"claim_type": "alien"}, "claim_type"),
    ({"policy_id": "00000000-0000-0000-0000-000000000000"}, "policy_id"),
    ({"incident_date": "not a date"}, "incident_date"),
])
def test_invalid_is_400(broker_client, policy, over, field):
    r = broker_client.post("/api/claims", payload(policy, **over), format="json")
    assert r.status_code == 400, r.json()
    assert field in r.json()
    assert not Claim.objects.exists()


def test_incident_after_policy_end_is_400(broker_client, broker):
    ended = PolicyFactory(customer=CustomerFactory(broker=broker.agency), status="expired",
                          start_date=TODAY - 400 * DAY, end_date=TODAY - 40 * DAY)
    r = broker_client.post("/api/claims", payload(ended, incident_date=str(TODAY - 39 * DAY)),
                           format="json")
    assert r.status_code == 400 and "incident_date" in r.json()
    r = broker_client.post("/api/claims", payload(ended, incident_date=str(TODAY - 40 * DAY)),
                           format="json")
    assert r.status_code == 201  # last day of cover still counts


def test_incident_after_cancellation_is_400(broker_client, policy):
    broker_client.post(f"/api/policies/{policy.pk}/cancel", {"reason": "moved"}, format="json")
    r = broker_client.post("/api/claims", payload(policy, incident_date=str(TODAY)),
                           format="json")
    assert r.status_code == 400 and "incident_date" in r.json()
    r = broker_client.post("/api/claims", payload(policy, incident_date=str(TODAY - DAY)),
                           format="json")
    assert r.status_code == 201  # before the cancellation it was covered


def test_other_agencys_policy_is_400(other_broker_client, policy):
    r = other_broker_client.post("/api/claims", payload(policy), format="json")
    assert r.status_code == 400 and "policy_id" in r.json()


def test_filters(broker_client, policy):
    a = ClaimFactory(policy=policy, status="pending")
    b = ClaimFactory(policy=policy, status="processing")
    other_policy = PolicyFactory(customer=policy.customer)
    c = ClaimFactory(policy=other_policy, status="pending")

    def ids(query):
        r = broker_client.get("/api/claims", query)
        assert r.status_code == 200
        return {x["id"] for x in r.json()["results"]}

    assert ids({}) == {str(a.pk), str(b.pk), str(c.pk)}
    assert ids({"status": "pending"}) == {str(a.pk), str(c.pk)}
    assert ids({"policy_id": str(policy.pk)}) == {str(a.pk), str(b.pk)}
    assert ids({"policy_id": str(policy.pk), "status": "processing"}) == {str(b.pk)}
    assert broker_client.get("/api/claims", {"status": "lost"}).status_code == 400
    assert broker_client.get("/api/claims", {"policy_id": "x"}).status_code == 400


@pytest.mark.parametrize("start,to,code", [
    ("pending", "processing", 200), ("pending", "denied", 200),
    ("processing", "approved", 200), ("processing", "denied", 200),
    ("pending", "approved", 409), ("pending", "pending", 409),
    ("processing", "pending", 409), ("processing", "processing", 409),
    ("approved", "denied", 409), ("approved", "pending", 409),
    ("denied", "approved", 409), ("denied", "processing", 409),
])
def test_transition_table_for_staff(staff_client, policy, start, to, code):
    decided = start in ("approved", "denied")
    claim = ClaimFactory(policy=policy, status=start,
                         processed_date=timezone.now() if decided else None)
    r = staff_client.patch(f"/api/claims/{claim.pk}", {"status": to}, format="json")
    assert r.status_code == code, r.json()
    claim.refresh_from_db()
    if code == 200:
        assert r.json()["status"] == to == claim.status
        assert (r.json()["processed_date"] is not None) == (to in ("approved", "denied"))
        assert ClaimStatusChange.objects.filter(claim=claim, from_status=start,
                                                to_status=to).count() == 1
    else:
        assert claim.status == start
        body = r.json()
        assert body["status"] == start
        assert set(body["allowed"]) == {
            "pending": {"processing", "denied"}, "processing": {"approved", "denied"},
        }.get(start, set())
        for allowed in body["allowed"]:
            assert allowed in body["detail"]


def test_broker_may_start_processing_but_not_decide(broker_client, policy):
    claim = ClaimFactory(policy=policy)
    r = broker_client.patch(f"/api/claims/{claim.pk}", {"status": "denied"}, format="json")
    assert r.status_code == 403
    r = broker_client.patch(f"/api/claims/{claim.pk}/", {"status": "processing"}, format="json")
    assert r.status_code == 200
    r = broker_client.patch(f"/api/claims/{claim.pk}", {"status": "approved"}, format="json")
    assert r.status_code == 403
    claim.refresh_from_db()
    assert claim.status == "processing" and claim.processed_date is None


def test_integrator_decides_only_with_permission(integrator, policy):
    claim = ClaimFactory(policy=policy, status="processing")
    integrator.user_permissions.add(*Permission.objects.filter(
        codename__in=["view_claim", "change_claim"]))
    r = client_for(integrator).patch(f"/api/claims/{claim.pk}", {"status": "approved"},
                                     format="json")
    assert r.status_code == 403
    integrator.user_permissions.add(Permission.objects.get(codename="decide_claim"))
    r = client_for(integrator).patch(f"/api/claims/{claim.pk}", {"status": "approved"},
                                     format="json")
    assert r.status_code == 200


def test_patch_validation(staff_client, policy):
    claim = ClaimFactory(policy=policy)
    for body in ({}, {"status": "lost"}, {"status": None}):
        r = staff_client.patch(f"/api/claims/{claim.pk}", body, format="json")
        assert r.status_code == 400 and "status" in r.json()


def test_not_found(staff_client):
    missing = "00000000-0000-0000-0000-000000000000"
    assert staff_client.get(f"/api/claims/{missing}").status_code == 404
    assert staff_client.patch(f"/api/claims/{missing}", {"status": "processing"},
                              format="json").status_code == 404
