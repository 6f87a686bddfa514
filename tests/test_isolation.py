"""A broker sees its own agency's book only: every other row is a 404 or absent."""

import pytest

from tests.factories import ClaimFactory, CustomerFactory, PolicyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def theirs(other_agency):
    customer = CustomerFactory(broker=other_agency, first_name="Hidden", last_name="Person",
                               email="hidden@example.test")
    policy = PolicyFactory(customer=customer)
    claim = ClaimFactory(policy=policy, status="processing")
    return customer, policy, claim


@pytest.fixture
def mine(agency):
    customer = CustomerFactory(broker=agency)
    policy = PolicyFactory(customer=customer)
    claim = ClaimFactory(policy=policy)
    return customer, policy, claim


def test_lists_hold_only_own_rows(broker_client, mine, theirs):
    customer, policy, claim = mine
    for path, expected in [("/api/customers", customer), ("/api/policies", policy),
                           ("/api/claims", claim)]:
        body = broker_client.get(path).json()
        assert [row["id"] for row in body["results"]] == [str(expected.pk)], path
        assert body["count"] == 1


def test_search_and_filters_do_not_reach_other_agencies(broker_client, mine, theirs):
    customer, policy, claim = theirs
    assert broker_client.get("/api/customers", {"search": "Hidden"}).json()["count"] == 0
    assert broker_client.get("/api/customers", {"search": "hidden@"}).json()["count"] == 0
    assert broker_client.get("/api/policies", {"customer_id": customer.pk}).json()["count"] == 0
    assert broker_client.get("/api/claims", {"policy_id": policy.pk}).json()["count"] == 0


def test_every_detail_endpoint_is_404(broker_client, theirs):
    customer, policy, claim = theirs
    calls = [
        ("get", f"/api/customers/{customer.pk}", None),
        ("patch", f"/api/customers/{customer.pk}", {"first_name": "Mallory"}),
        ("get", f"/api/policies/{policy.pk}", None),
        ("post", f"/api/policies/{policy.pk}/cancel", {"reason": "hostile"}),
        ("get", f"/api/claims/{claim.pk}", None),
        ("patch", f"/api/claims/{claim.pk}", {"status": "denied"}),
        ("patch", f"/api/claims/{claim.pk}", {"status": "processing"}),
    ]
    for method, path, body in calls:
        for suffix in ("", "/"):
            r = getattr(broker_client, method)(path + suffix, body, format="json")
            assert r.status_code == 404, (method, path + suffix, r.status_code)
    customer.refresh_from_db()
    policy.refresh_from_db()
    claim.refresh_from_db()
    assert customer.first_name == "Hidden"
    assert policy.status == "active"
    assert claim.status == "processing"


def test_creating_against_other_agencys_rows_is_refused(broker_client, theirs):
    customer, policy, _ = theirs
    r = broker_client.post("/api/policies", {
        "customer_id": str(customer.pk), "policy_type": "auto", "premium_amount": "200",
        "coverage_amount": "1000", "start_date": "2026-01-01", "end_date": "2027-01-01"},
        format="json")
    assert r.status_code == 400
    r = broker_client.post("/api/claims", {
        "policy_id": str(policy.pk), "claim_type": "theft", "claim_amount": "10",
        "incident_date": str(policy.start_date)}, format="json")
    assert r.status_code == 400


def test_summary_is_scoped(broker_client, theirs):
    assert broker_client.get("/api/policies/summary").json() == []


def test_staff_sees_everything(staff_client, mine, theirs):
    for path in ("/api/customers", "/api/policies", "/api/claims"):
        assert staff_client.get(path).json()["count"] == 2
