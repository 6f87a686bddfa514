"""Compliance officers search the trail by a resource's id, a request id or an actor's
id; each search, and a filter by a rare action, reads an index of its own."""

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test import Client, RequestFactory

from compliance import audit
from compliance.models import AuditEntry
from tests.conftest import requires_postgres
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def entries(staff):
    customer = CustomerFactory()
    created = AuditEntry.objects.get(object_pk=str(customer.pk))
    request = RequestFactory().get("/")
    request.request_id = "9f1c0a7e5b3d4c2a8e6f0b1d2c3a4e5f"
    export = audit.record(instance=customer, action=AuditEntry.Action.EXPORT, actor=staff,
                          request=request)
    return customer, created, export


def _search(staff, term) -> str:
    client = Client()
    client.force_login(staff)
    response = client.get("/admin/compliance/auditentry/", {"q": term})
    assert response.status_code == 200
    return response.content.decode()


def _row(entry) -> str:
    return f'href="/admin/compliance/auditentry/{entry.pk}/change/'


def test_search_by_resource_request_or_actor_finds_exactly_those(staff, entries):
    customer, created, export = entries
    by_resource = _search(staff, str(customer.pk))
    assert _row(created) in by_resource and _row(export) in by_resource
    by_request = _search(staff, "9f1c0a7e5b3d4c2a8e6f0b1d2c3a4e5f")
    assert _row(export) in by_request and _row(created) not in by_request
    by_actor = _search(staff, str(staff.pk))
    assert _row(export) in by_actor and _row(created) not in by_actor
    # Whole values only: a prefix is not an id.
    assert _row(created) not in _search(staff, str(customer.pk)[:8])


def _explain(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE compliance_auditentry")
        cursor.execute("SET LOCAL enable_seqscan = off")  # a test trail is tiny
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = on")
    return plan


@requires_postgres
def test_each_search_and_a_rare_action_read_their_index(staff, entries):
    admin = site._registry[AuditEntry]
    request = RequestFactory().get("/admin/compliance/auditentry/")
    request.user = staff
    found, _ = admin.get_search_results(request, AuditEntry.objects.all(), "x")
    # Without the list order: whether each term of the OR can be looked up in an
    # index (at scale the few matches are then sorted), not how a tiny table is walked.
    plan = _explain(found.order_by())
    for index in ("audit_object_pk", "audit_cid", "audit_actor"):
        assert index in plan, plan
    assert "Seq Scan" not in plan, plan
    erasures = _explain(AuditEntry.objects.filter(action=AuditEntry.Action.ERASE)
                        .order_by("-seq")[:100])
    assert "audit_rare_action" in erasures, erasures


@requires_postgres
def test_the_indexes_nothing_queries_are_gone():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s",
                       ["compliance_auditentry"])
        names = {row[0] for row in cursor.fetchall()}
    assert names == {
        "compliance_auditentry_pkey", "compliance_auditentry_seq_key", "audit_object",
        "audit_actor", "audit_unsealed", "audit_object_pk", "audit_cid", "audit_rare_action",
        "compliance_auditentry_actor_id_5385ef1c", "compliance_auditentry_timestamp_310568d0",
    }
