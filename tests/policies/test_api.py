import datetime
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from policies.models import Policy
from tests.factories import CustomerFactory, PolicyFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
FIELDS = {"id", "policy_number", "customer_id", "policy_type", "premium_amount",
          "coverage_amount", "start_date", "end_date", "status", "created_at", "updated_at"}


@pytest.fixture
def customer(broker):
    return CustomerFactory(broker=broker.agency)


def payload(customer, **over):
    data = {"customer_id": str(customer.pk), "policy_type": "home", "premium_amount": "250.00",
            "coverage_amount": 300000, "start_date": str(TODAY - 10 * DAY),
            "end_date": str(TODAY + 355 * DAY)}
    data.update(over)
    return data


@pytest.mark.parametrize("path", ["/api/policies", "/api/policies/"])
def test_create(broker_client, customer, path):
    r = broker_client.post(path, payload(customer), format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert FIELDS <= set(body)
    assert body["policy_number"].startswith("POL-") and len(body["policy_number"]) == 12
    assert body["premium_amount"] == "250.00"
    assert body["coverage_amount"] == "300000.00"
    assert body["status"] == "active"
    assert body["customer_id"] == str(customer.pk)


@pytest.mark.parametrize("start,end,status", [
    (TODAY + 5 * DAY, TODAY + 370 * DAY, "pending"),
    (TODAY, TODAY + 365 * DAY, "active"),
    (TODAY - 365 * DAY, TODAY, "active"),
    (TODAY - 400 * DAY, TODAY - 35 * DAY, "expired"),
])
def test_status_follows_dates(broker_client, customer, start, end, status):
    r = broker_client.post("/api/policies", payload(customer, start_date=str(start),
                                                    end_date=str(end)), format="json")
    assert r.status_code == 201
    assert r.json()["status"] == status


@pytest.mark.parametrize("over,field", [
    ({"premium_amount": "99.99"}, "premium_amount"),
    ({"premium_amount": 0}, "premium_amount"),
    ({"premium_amount": "-5"}, "premium_amount"),
    ({"premium_amount": "abc"}, "premium_amount"),
    ({"premium_amount": "100.001"}, "premium_amount"),
    ({"coverage_amount": 0}, "coverage_amount"),
    ({"coverage_amount": "-1.00"}, "coverage_amount"),
    ({"end_date": str(TODAY - 10 * DAY)}, "end_date"),
    ({"end_date": str(TODAY - 11 * DAY)}, "end_date"),
    ({"policy_type": "boat"}, "policy_type"),
    ({"customer_id": "00000000-0000-0000-0000-000000000000"}, "customer_id"),
    ({"customer_id": "nope"}, "customer_id"),
    ({"start_date": "01/02/2026"}, "start_date"),
])
def test_invalid_is_400_naming_field(broker_client, customer, over, field):
    r = broker_client.post("/api/policies", payload(customer, **over), format="json")
    assert r.status_code == 400, r.json()
    assert field in r.json()
    assert not Policy.objects.exists()


def test_minimum_premium_exactly_is_fine(broker_client, customer):
    r = broker_client.post("/api/policies", payload(customer, premium_amount=100), format="json")
    assert r.status_code == 201 and r.json()["premium_amount"] == "100.00"


@override_settings(MIN_PREMIUM={"auto": Decimal("300"), "home": Decimal("100"),
                                "life": Decimal("100"), "health": Decimal("100")})
def test_minimum_premium_per_type_setting(broker_client, customer):
    r = broker_client.post("/api/policies", payload(customer, policy_type="auto",
                                                    premium_amount="299.99"), format="json")
    assert r.status_code == 400 and "premium_amount" in r.json()
    r = broker_client.post("/api/policies", payload(customer, policy_type="home",
                                                    premium_amount="150"), format="json")
    assert r.status_code == 201


def test_erased_customer_is_400(broker_client, customer):
    customer.erased_at = timezone.now()
    customer.save()
    r = broker_client.post("/api/policies", payload(customer), format="json")
    assert r.status_code == 400 and "customer_id" in r.json()


def test_other_agencys_customer_is_400(other_broker_client, customer):
    r = other_broker_client.post("/api/policies", payload(customer), format="json")
    assert r.status_code == 400 and "customer_id" in r.json()


def test_get_and_filters(broker_client, customer):
    a = PolicyFactory(customer=customer, policy_type="auto", status="active")
    b = PolicyFactory(customer=customer, policy_type="life", status="pending")
    c = PolicyFactory(customer=CustomerFactory(broker=customer.broker), policy_type="auto",
                      status="cancelled", cancelled_at=timezone.now())
    assert broker_client.get(f"/api/policies/{a.pk}").json()["id"] == str(a.pk)

    def ids(query):
        r = broker_client.get("/api/policies", query)
        assert r.status_code == 200
        return {p["id"] for p in r.json()["results"]}

    assert ids({}) == {str(a.pk), str(b.pk), str(c.pk)}
    assert ids({"customer_id": str(customer.pk)}) == {str(a.pk), str(b.pk)}
    assert ids({"status": "active"}) == {str(a.pk)}
    assert ids({"policy_type": "auto"}) == {str(a.pk), str(c.pk)}
    assert ids({"policy_type": "auto", "status": "cancelled"}) == {str(c.pk)}


@pytest.mark.parametrize("query", [{"status": "bogus"}, {"policy_type": "boat"},
                                   {"customer_id": "not-a-uuid"}])
def test_bad_filter_is_400(broker_client, query):
    r = broker_client.get("/api/policies", query)
    assert r.status_code == 400
    assert set(query) <= set(r.json())


def test_cancel_then_again_409(broker_client, customer):
    policy = PolicyFactory(customer=customer)
    r = broker_client.post(f"/api/policies/{policy.pk}/cancel", {"reason": "Sold the car"},
                           format="json")
    assert r.status_code == 200
    assert r.json()["status"] == "cancelled"
    r = broker_client.post(f"/api/policies/{policy.pk}/cancel/", {"reason": "again"},
                           format="json")
    assert r.status_code == 409
    assert "cancelled" in r.json()["detail"]


def test_cancel_needs_reason(broker_client, customer):
    policy = PolicyFactory(customer=customer)
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        r = broker_client.post(f"/api/policies/{policy.pk}/cancel", body, format="json")
        assert r.status_code == 400 and "reason" in r.json()
    policy.refresh_from_db()
    assert policy.status == "active"


def test_cancel_expired_is_409(broker_client, customer):
    policy = PolicyFactory(customer=customer, status="expired",
                           start_date=TODAY - 400 * DAY, end_date=TODAY - 35 * DAY)
    r = broker_client.post(f"/api/policies/{policy.pk}/cancel", {"reason": "x"}, format="json")
    assert r.status_code == 409


def test_summary_over_callers_active_policies(broker_client, other_broker_client, customer,
                                              other_agency):
    PolicyFactory(customer=customer, policy_type="auto", premium_amount=Decimal("100.00"))
    PolicyFactory(customer=customer, policy_type="auto", premium_amount=Decimal("201.00"))
    PolicyFactory(customer=customer, policy_type="home", premium_amount=Decimal("500.00"))
    PolicyFactory(customer=customer, policy_type="life", status="pending")
    PolicyFactory(customer=CustomerFactory(broker=other_agency), policy_type="auto",
                  premium_amount=Decimal("999.00"))
    for path in ("/api/policies/summary", "/api/policies/summary/"):
        r = broker_client.get(path)
        assert r.status_code == 200
        assert r.json() == [
            {"policy_type": "auto", "count": 2, "total_premium": "301.00",
             "avg_premium": "150.50"},
            {"policy_type": "home", "count": 1, "total_premium": "500.00",
             "avg_premium": "500.00"},
        ]
    assert other_broker_client.get("/api/policies/summary").json() == [
        {"policy_type": "auto", "count": 1, "total_premium": "999.00", "avg_premium": "999.00"}
    ]


def test_summary_empty(broker_client):
    assert broker_client.get("/api/policies/summary").json() == []


def test_not_found(broker_client):
    assert broker_client.get("/api/policies/00000000-0000-0000-0000-000000000000"
                             ).status_code == 404
    r = broker_client.post("/api/policies/00000000-0000-0000-0000-000000000000/cancel",
                           {"reason": "x"}, format="json")
    assert r.status_code == 404
