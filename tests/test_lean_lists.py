"""The lean lists (core.lean) answer exactly what the DRF serializers would: same JSON,
byte for byte, for the customers, policies and claims lists, with every kind of value
the rows hold (None, encrypted fields, decimals, dates, nested documents)."""

import datetime
from decimal import Decimal

import pytest
from rest_framework.renderers import JSONRenderer

from claims.api import ClaimOutput, ClaimViewSet
from claims.selectors import claims_visible_to
from core.lean import LeanRows
from customers.api import CustomerOutput, CustomerViewSet
from customers.selectors import customers_visible_to
from documents.models import Document
from policies.api import PolicyOutput, PolicyViewSet
from policies.selectors import policies_visible_to
from tests.factories import ClaimFactory, CustomerFactory, PolicyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(agency):
    full = CustomerFactory(broker=agency, phone="+14155550123", address="1 Main St\nÅrhus",
                           date_of_birth=datetime.date(1980, 2, 29))
    bare = CustomerFactory(broker=agency, phone=None, address=None, date_of_birth=None)
    policy = PolicyFactory(customer=full, premium_amount=Decimal("1234.50"))
    PolicyFactory(customer=bare)
    claim = ClaimFactory(policy=policy, description="Ünïcode — \u2028 line")
    ClaimFactory(policy=policy)
    for n in range(3):
        Document.objects.create(claim=claim, file=f"x/{n}.pdf", filename=f"scan {n}.pdf",
                                mime_type="application/pdf", size=10 + n,
                                document_type="invoice", sha256="0" * 64)
    return agency


def _serializer_json(serializer_class, queryset):
    return JSONRenderer().render(serializer_class(queryset, many=True).data)


@pytest.mark.parametrize("path,serializer,selector,extra", [
    ("/api/customers", CustomerOutput, customers_visible_to, ()),
    ("/api/policies", PolicyOutput, policies_visible_to, ()),
    ("/api/claims", ClaimOutput, claims_visible_to, ("documents",)),
])
def test_lean_list_is_the_serializer_output_byte_for_byte(
        broker_client, broker, book, path, serializer, selector, extra):
    r = broker_client.get(path)
    assert r.status_code == 200
    body = r.content
    qs = selector(broker).order_by("-created_at", "-id")
    if extra:
        qs = qs.prefetch_related(*extra)
    expected = _serializer_json(serializer, qs)
    start = body.index(b'"results":') + len(b'"results":')
    assert body[start:-1] == expected
    assert r.json()["count"] == qs.count()


def test_claim_documents_are_in_their_own_order(broker_client, book):
    docs = broker_client.get("/api/claims").json()["results"]
    listed = [d for c in docs for d in c["documents"]]
    assert [d["filename"] for d in listed] == ["scan 2.pdf", "scan 1.pdf", "scan 0.pdf"]
    assert listed[0]["download_url"] == f"/api/documents/{listed[0]['id']}/download"


@pytest.mark.parametrize("viewset", [CustomerViewSet, PolicyViewSet, ClaimViewSet])
def test_every_list_field_is_read_from_a_column(viewset):
    """A field the plan cannot read would silently send the list back to the slow
    path: every field of the three list serializers is planned."""
    plan = viewset.lean_rows
    assert plan.supported
    names = [name for name, _, _ in plan.plan]
    assert names == list(plan.serializer_class().fields)


def test_a_field_without_a_column_falls_back_to_the_serializer():
    from rest_framework import serializers

    class Nested(serializers.Serializer):
        inner = PolicyOutput()

    assert not LeanRows(Nested).supported


@pytest.mark.parametrize("value", [Decimal("1234.50"), Decimal("0.00"), Decimal("5"),
                                   Decimal("1.005"), Decimal("-12.30"), Decimal("1E+3")])
def test_decimal_text_is_drfs_decimal_output(value):
    from rest_framework import serializers

    from core.lean import decimal_text

    field = serializers.DecimalField(max_digits=14, decimal_places=2)
    assert decimal_text(field)(value) == field.to_representation(value)
    as_number = serializers.DecimalField(max_digits=14, decimal_places=2,
                                         coerce_to_string=False)
    assert decimal_text(as_number)(value) == as_number.to_representation(value)


def test_rows_of_reads_what_the_orm_reads_in_the_models_order(book):
    from core.lean import _rows_of_sql, rows_of

    claim_ids = list(Document.objects.values_list("claim_id", flat=True).distinct())
    columns = ("claim_id", "id", "filename", "size", "uploaded_at")
    assert _rows_of_sql(Document, "claim_id", columns) is not None
    assert rows_of(Document, key="claim_id", values=claim_ids, columns=columns) == list(
        Document.objects.filter(claim_id__in=claim_ids).values(*columns))
    assert rows_of(Document, key="claim_id", values=[], columns=columns) == []


def test_rows_of_leaves_to_the_orm_what_it_cannot_write():
    from core.lean import _rows_of_sql
    from customers.models import Customer

    assert _rows_of_sql(Document, "claim_id", ("claim__status",)) is None  # a join
    assert _rows_of_sql(Document, "claim_id", ("nope",)) is None
    encrypted = [f.name for f in Customer._meta.concrete_fields if hasattr(f, "from_db_value")]
    assert encrypted and _rows_of_sql(Customer, "broker_id", (encrypted[0],)) is None


@pytest.mark.parametrize("viewname", ["portal:claim-detail", "portal:customer-detail",
                                      "document-download"])
def test_url_for_pk_is_reverse_for_each_row(viewname):
    import uuid

    from django.urls import reverse

    from core.lean import url_for_pk

    url = url_for_pk(viewname)
    for pk in (uuid.uuid4(), uuid.uuid4()):
        assert url(pk) == reverse(viewname, kwargs={"pk": pk})
        assert url(str(pk)) == reverse(viewname, kwargs={"pk": pk})
