"""GET /api/audit-logs: staff only, filters, pagination, constant queries; the
admin view is read-only."""

import pytest
from django.test import Client

from compliance.models import AuditEntry
from tests.conftest import client_for
from tests.factories import ClaimFactory, CustomerFactory, PolicyFactory

pytestmark = pytest.mark.django_db

FIELDS = {"id", "timestamp", "actor", "action", "resource_type", "resource_id", "changes",
          "remote_addr", "request_id", "seq"}


def test_staff_only(anon_client, broker_client, integrator, staff_client):
    CustomerFactory()
    response = anon_client.get("/api/audit-logs")
    assert response.status_code == 401 and response.has_header("WWW-Authenticate")
    assert broker_client.get("/api/audit-logs").status_code == 403
    assert client_for(integrator).get("/api/audit-logs/").status_code == 403
    response = staff_client.get("/api/audit-logs/")
    assert response.status_code == 200
    assert set(response.json()["results"][0]) == FIELDS


def test_entries_cannot_be_written_through_the_api(staff_client):
    CustomerFactory()
    entry = AuditEntry.objects.first()
    assert staff_client.post("/api/audit-logs", {}).status_code == 405
    assert staff_client.patch(f"/api/audit-logs/{entry.pk}", {}).status_code == 405
    assert staff_client.delete(f"/api/audit-logs/{entry.pk}").status_code == 405
    assert staff_client.get(f"/api/audit-logs/{entry.pk}").json()["seq"] == entry.seq


def test_filters(staff, staff_client):
    customer = CustomerFactory()
    policy = PolicyFactory(customer=customer)
    claim = ClaimFactory(policy=policy)
    staff_client.patch(f"/api/claims/{claim.pk}", {"status": "processing"})

    def ids(query):
        response = staff_client.get(f"/api/audit-logs?{query}")
        assert response.status_code == 200, response.content
        return [(r["resource_type"], r["action"], r["resource_id"])
                for r in response.json()["results"]]

    assert ids(f"resource_type=customer&resource_id={customer.pk}") == [
        ("customer", "create", str(customer.pk))]
    assert ids("resource_type=claim") == [("claim", "transition", str(claim.pk)),
                                          ("claim", "create", str(claim.pk))]
    assert ids(f"resource_id={policy.pk}") == [("policy", "create", str(policy.pk))]
    assert ids(f"actor={staff.pk}") == [("claim", "transition", str(claim.pk))]
    assert ids(f"actor={staff.email.upper()}") == [("claim", "transition", str(claim.pk))]
    assert ids("actor=nobody@example.test") == []
    bad = staff_client.get("/api/audit-logs?resource_type=planet")
    assert bad.status_code == 400 and "resource_type" in bad.json()


def test_pagination_sees_every_entry_once(staff_client):
    for _ in range(5):
        CustomerFactory()
    seen, url = [], "/api/audit-logs?page_size=2"
    while url:
        body = staff_client.get(url).json()
        seen += [r["id"] for r in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(AuditEntry.objects.values_list("id", flat=True))
    assert len(seen) == len(set(seen)) == 5


@pytest.mark.parametrize("rows", [3, 12])
def test_list_queries_do_not_grow_with_rows(rows, staff_client, django_assert_num_queries):
    for _ in range(rows):
        ClaimFactory()
    # user (token), count, page
    with django_assert_num_queries(3):
        response = staff_client.get("/api/audit-logs?page_size=100")
    assert len(response.json()["results"]) == AuditEntry.objects.count()


def test_admin_is_read_only(staff):
    CustomerFactory()
    entry = AuditEntry.objects.first()
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/compliance/auditentry/").status_code == 200
    assert client.get(f"/admin/compliance/auditentry/{entry.pk}/change/").status_code == 200
    assert client.get("/admin/compliance/auditentry/add/").status_code == 403
    assert client.post(f"/admin/compliance/auditentry/{entry.pk}/change/",
                       {"object_repr": "x"}).status_code == 403
    assert client.post(f"/admin/compliance/auditentry/{entry.pk}/delete/",
                       {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.get(pk=entry.pk).object_repr == entry.object_repr
