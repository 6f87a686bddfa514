"""Admin changelists cost the same exact number of queries for 1, 25 or 100 rows a page
(list_select_related, no full-table COUNT: show_full_result_count off)."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims.models import Claim
from compliance.models import AuditEntry
from customers.models import Customer
from documents.models import Document
from policies.models import Policy
from tests.factories import ClaimFactory, CustomerFactory, PolicyFactory

pytestmark = pytest.mark.django_db

# session, user, the table's size estimate (core.pagination), the count, the page with
# its joins, the sidebar's log and one more of the admin's own; customers add their
# agency filter's choices; claims add the counts of their saved queues (one aggregate);
# policies the page's renewal quotes (one query).
EXPECTED = {
    "customers/customer": 8,
    "policies/policy": 8,
    "claims/claim": 8,
    "documents/document": 7,
    "compliance/auditentry": 7,
}
MODELS = {"customers/customer": Customer, "policies/policy": Policy, "claims/claim": Claim,
          "documents/document": Document, "compliance/auditentry": AuditEntry}


@pytest.fixture
def book(agency):
    for n in range(100):
        claim = ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=agency)))
        Document.objects.create(claim=claim, file=f"x/{n}.pdf", filename=f"{n}.pdf",
                                mime_type="application/pdf", size=1, document_type="invoice",
                                sha256="0" * 64)


@pytest.mark.parametrize("model", sorted(MODELS))
def test_changelist_queries_do_not_grow_with_the_page(client, staff, book, model, monkeypatch):
    client.force_login(staff)
    model_admin = admin.site._registry[MODELS[model]]
    counts = {}
    for per_page in (1, 25, 100):
        monkeypatch.setattr(model_admin, "list_per_page", per_page)
        client.get(f"/admin/{model}/")  # warm the content-type and permission caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/admin/{model}/")
        assert response.status_code == 200
        counts[per_page] = len(queries)
    assert counts == {1: EXPECTED[model], 25: EXPECTED[model], 100: EXPECTED[model]}
