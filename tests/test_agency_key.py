"""The agency key on policies, claims and documents: set from the customer's agency by
the services, followed when the customer moves, and what a broker's lists and counts
read (an index scan of the agency's own rows, no join through the book)."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from claims.selectors import claims_visible_to
from claims.services import claim_create
from customers.selectors import customers_visible_to
from customers.services import customer_update
from documents.models import Document
from documents.selectors import documents_visible_to
from policies.models import Policy
from policies.selectors import policies_visible_to
from policies.services import policy_create
from tests.conftest import requires_postgres
from tests.factories import AgencyFactory, ClaimFactory, CustomerFactory, PolicyFactory

pytestmark = pytest.mark.django_db


def _document(claim):
    return Document.objects.create(claim=claim, file="x/a.pdf", filename="a.pdf",
                                   mime_type="application/pdf", size=1,
                                   document_type="invoice", sha256="0" * 64)


def test_services_set_the_agency_from_the_customer(broker, agency):
    customer = CustomerFactory(broker=agency)
    today = timezone.localdate()
    policy = policy_create(actor=broker, customer_id=customer.pk, policy_type="auto",
                           premium_amount=Decimal("500.00"), coverage_amount=Decimal("9000"),
                           start_date=today - datetime.timedelta(days=30),
                           end_date=today + datetime.timedelta(days=300))
    assert policy.agency_id == agency.pk
    claim = claim_create(actor=broker, policy_id=policy.pk, claim_type="accident",
                         claim_amount=Decimal("100.00"),
                         incident_date=today - datetime.timedelta(days=2))
    assert claim.agency_id == agency.pk
    assert _document(claim).agency_id == agency.pk


def test_a_moved_customer_takes_its_book_along(staff, agency, other_agency):
    customer = CustomerFactory(broker=agency)
    claim = ClaimFactory(policy=PolicyFactory(customer=customer))
    document = _document(claim)
    customer_update(actor=staff, customer=customer, data={"broker": other_agency})
    for row in (claim.policy, claim, document):
        row.refresh_from_db()
        assert row.agency_id == other_agency.pk


def test_a_brokers_scopes_read_the_key_without_joining_the_book(broker, other_broker, agency):
    claim = ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=agency)))
    _document(claim)
    for selector in (policies_visible_to, claims_visible_to, documents_visible_to):
        where = str(selector(broker).order_by().query).split("WHERE", 1)[1]
        assert "customers_customer" not in where and '"agency_id" =' in where
        assert selector(broker).count() == 1
        assert selector(other_broker).count() == 0


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # Statistics of this test's rows, not of whatever an earlier test left behind.
        for table in ("customers_customer", "policies_policy", "claims_claim",
                      "documents_document"):
            cursor.execute(f"ANALYZE {table}")
        # A test book is tiny: a sequential scan would always win. What is asserted is
        # that the intended index exists and fits the query's filter and order.
        # Statistics of a tiny table swing with what ran before; with the scans that
        # read it whole, and sorting, priced out, what is left says whether an index
        # both filters by the key and gives the list order.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = on")
        cursor.execute("SET LOCAL enable_bitmapscan = on")
        cursor.execute("SET LOCAL enable_sort = on")
    return plan


@requires_postgres
@pytest.mark.parametrize("selector,index", [
    (claims_visible_to, "claim_agency_created"),
    (policies_visible_to, "policy_agency_created"),
    (customers_visible_to, "customer_broker_created"),
])
def test_a_brokers_page_is_an_index_scan_in_list_order(broker, agency, selector, index):
    ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=agency)))
    for _ in range(5):  # other agencies' rows: the agency key is selective, as in a real book
        ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=AgencyFactory())))
    page = selector(broker).order_by("-created_at", "-id")[:25]
    plan = _plan(page)
    assert index in plan, plan
    assert "Sort" not in plan, plan  # the index gives the order: no sort of the agency's rows


@requires_postgres
@pytest.mark.parametrize("selector,index", [
    (claims_visible_to, "claim_agency_created"),
    (policies_visible_to, "policy_agency_created"),
])
def test_a_brokers_count_touches_only_its_own_rows(broker, agency, selector, index):
    PolicyFactory(customer=CustomerFactory(broker=agency))
    qs = selector(broker).order_by()
    plan = _plan(qs.values("pk"))
    assert index in plan, plan
    assert "customers_customer" not in plan


def test_policy_rows_of_a_customer_without_an_agency_have_none(staff):
    policy = PolicyFactory(customer=CustomerFactory(broker=None))
    assert Policy.objects.get(pk=policy.pk).agency_id is None


@requires_postgres
def test_an_unfiltered_big_list_is_counted_from_statistics(monkeypatch, staff_client, agency):
    from core import pagination

    for _ in range(3):
        CustomerFactory(broker=agency)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE pg_class SET reltuples = 5000000 "
                       "WHERE oid = 'customers_customer'::regclass")
    monkeypatch.setattr(pagination, "ESTIMATE_ABOVE", 1000)
    # A table with a tally (core.db.tallies) is counted exactly from it, statistics or not.
    assert staff_client.get("/api/customers").json()["count"] == 3
    # One without: from the statistics.
    from accounts.models import Agency

    with connection.cursor() as cursor:
        cursor.execute("UPDATE pg_class SET reltuples = 5000000 "
                       "WHERE oid = 'accounts_agency'::regclass")
    assert pagination.EstimatedCountPaginator(Agency.objects.order_by("pk"), 25).count \
        == 5_000_000
    # Filtered lists (a search, a broker's agency) are always counted exactly.
    assert staff_client.get("/api/customers", {"search": "zzz-none"}).json()["count"] == 0
    paginator = pagination.EstimatedCountPaginator(
        customers_visible_to(None).model.objects.filter(broker=agency), 25)
    assert paginator.count == 3


@requires_postgres
def test_the_portal_customer_page_reads_names_in_order_and_counts_policies_per_row(
        broker, agency):
    from customers.selectors import policy_count_subquery

    for _ in range(3):
        PolicyFactory(customer=CustomerFactory(broker=agency))
    for _ in range(5):
        PolicyFactory(customer=CustomerFactory(broker=AgencyFactory()))
    page = (customers_visible_to(broker).annotate(policy_count=policy_count_subquery())
            .order_by("last_name", "first_name", "id").values("id", "policy_count")[:25])
    plan = _plan(page)
    assert "customer_broker_name" in plan, plan
    assert "Sort" not in plan and "HashAggregate" not in plan, plan  # no grouping of the book
    assert "SubPlan" in plan, plan  # the count: per row shown
    assert sorted(row["policy_count"] for row in page) == [1, 1, 1]
