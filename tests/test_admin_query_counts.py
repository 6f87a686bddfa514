"""Every admin changelist staff can open costs the same exact number of queries for 1,
25 or 100 rows a page (list_select_related, no per-row query, no full-table COUNT:
show_full_result_count off), and none reads its whole table to draw its filters."""

import datetime
from decimal import Decimal

import pytest
from auditlog.context import disable_auditlog
from django.contrib import admin
from django.contrib.admin.filters import AllValuesFieldListFilter, RelatedFieldListFilter
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Agency, User
from claims.models import Claim, ClaimApproval, ClaimPayment
from compliance import audit
from compliance.models import AuditEntry
from core.pagination import EstimatedCountPaginator
from customers.models import Customer
from documents.models import Document
from events.models import EmailNotification, OutboxEvent, WebhookDelivery, WebhookEndpoint
from policies.models import Policy, Quote, RatingPlan
from tests.factories import (
    AgencyFactory,
    ClaimFactory,
    CustomerFactory,
    PolicyFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# Queries of a changelist page, whatever its size: the session, the user, the table's
# size estimate (core.pagination) where the table grows with the book (not for
# claims, customers and policies: their tally counts them, core.db.tallies), the
# page's count and the page with its joins, plus what each list adds: customers and users
# their agency filter's choices (the agencies, not the book); claims their saved
# queues' capped counts (one query); policies the page's renewal quotes (one query);
# approvals the user's permission check; rating plans whether each is in use (in the
# page's query, not two queries per row).
EXPECTED = {
    "accounts/agency": 5,
    "accounts/user": 6,
    "claims/claim": 5,
    "claims/claimapproval": 5,
    "claims/claimpayment": 4,
    "compliance/auditentry": 4,
    "customers/customer": 5,
    "documents/document": 4,
    "events/emailnotification": 5,
    "events/outboxevent": 5,
    "events/webhookdelivery": 5,
    "events/webhookendpoint": 5,
    "policies/policy": 5,
    "policies/quote": 5,
    "policies/ratingplan": 5,
}
# Superusers' framework tables (groups, the JWT blacklist): not staff's lists.
SUPERUSERS_ONLY = {"auth/group", "token_blacklist/blacklistedtoken",
                   "token_blacklist/outstandingtoken"}
# Tables that grow with the book or its activity: never counted whole on a page.
BIG = {"claims/claim", "claims/claimapproval", "claims/claimpayment",
       "compliance/auditentry", "customers/customer", "documents/document",
       "events/emailnotification", "events/outboxevent", "events/webhookdelivery",
       "policies/policy", "policies/quote"}
# The only tables a list filter may read its choices from: small ones.
SMALL_CHOICES = {Agency, User}


def _key(model) -> str:
    return f"{model._meta.app_label}/{model._meta.model_name}"


@pytest.fixture
def book(agency, staff, broker, integrator):
    """100 rows in every list, written in bulk (the lists read them; how they were
    written does not matter here), then the audit entries of 100 documents."""
    with disable_auditlog():
        _bulk_book(agency, staff, broker, integrator)
    for n, claim in enumerate(Claim.objects.all()):
        Document.objects.create(claim=claim, file=f"x/{n}.pdf", filename=f"{n}.pdf",
                                mime_type="application/pdf", size=1, document_type="invoice",
                                sha256="0" * 64)
        # an entry naming its actor, as the list shows them
        audit.record(instance=claim, action=AuditEntry.Action.UPDATE, actor=staff)
    assert AuditEntry.objects.filter(actor=staff).count() >= 100


def _bulk_book(agency, staff, broker, integrator):
    now = timezone.now()
    today = timezone.localdate()
    plan = RatingPlan.objects.filter(policy_type="auto").order_by("-version").first()
    agencies = Agency.objects.bulk_create(AgencyFactory.build_batch(100))
    User.objects.bulk_create([UserFactory.build(agency=a, email=f"broker@{a.pk}.test")
                              for a in agencies])
    customers = Customer.objects.bulk_create(CustomerFactory.build_batch(100, broker=agency))
    policies = Policy.objects.bulk_create([PolicyFactory.build(customer=c, agency=agency)
                                           for c in customers])
    claims = Claim.objects.bulk_create([ClaimFactory.build(policy=p, agency=agency)
                                        for p in policies])
    events = OutboxEvent.objects.bulk_create([
        OutboxEvent(type="claim.created", data={}, resource_type="claim", resource_id=c.pk)
        for c in claims])
    endpoints = WebhookEndpoint.objects.bulk_create([
        WebhookEndpoint(owner=integrator, url=f"https://hooks.example.test/{n}")
        for n in range(100)])
    WebhookDelivery.objects.bulk_create([
        WebhookDelivery(endpoint=endpoint, event=event, window_started_at=now)
        for endpoint, event in zip(endpoints, events, strict=True)])
    EmailNotification.objects.bulk_create([EmailNotification(event=e, recipient=broker)
                                           for e in events])
    RatingPlan.objects.bulk_create([
        RatingPlan(policy_type="home", version=100 + n, effective_from=today,
                   base_rate=plan.base_rate, minimum_premium=plan.minimum_premium)
        for n in range(100)])
    ClaimPayment.objects.bulk_create([
        ClaimPayment(claim=c, amount=Decimal("10.00"), payee="Payee", actor=staff)
        for c in claims])
    ClaimApproval.objects.bulk_create([
        ClaimApproval(claim=c, kind="payment", amount=Decimal("10.00"), requested_by=staff)
        for c in claims])
    Quote.objects.bulk_create([
        Quote(quote_number=f"QTE-T{n:06d}", agency=agency, customer=claim.policy.customer,
              policy_type="auto", coverage_amount=Decimal("20000"), start_date=today,
              end_date=today + datetime.timedelta(days=365), premium_amount=Decimal("500.00"),
              rating_plan=plan, valid_until=today + datetime.timedelta(days=30),
              renewal_of=claim.policy if n % 2 else None)
        for n, claim in enumerate(claims)])


def _staff_lists():
    return sorted(_key(m) for m in admin.site._registry if _key(m) not in SUPERUSERS_ONLY)


def test_every_staff_changelist_is_counted_here():
    assert _staff_lists() == sorted(EXPECTED)


@pytest.mark.parametrize("model", sorted(EXPECTED))
def test_changelist_queries_are_constant_and_never_read_the_whole_table(client, staff, book,
                                                                       model, monkeypatch):
    client.force_login(staff)
    model_admin = next(a for m, a in admin.site._registry.items() if _key(m) == model)
    counts = {}
    for per_page in (1, 25, 100):
        monkeypatch.setattr(model_admin, "list_per_page", per_page)
        client.get(f"/admin/{model}/")  # warm the content-type and permission caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/admin/{model}/")
        assert response.status_code == 200
        assert len(response.context["cl"].result_list) == per_page
        counts[per_page] = len(queries)
    assert counts == {1: EXPECTED[model], 25: EXPECTED[model], 100: EXPECTED[model]}
    # Never the whole table: no date hierarchy (MIN/MAX and DISTINCT dates of the
    # table), no filter whose choices are the distinct values of a big table, no full
    # count.
    assert not model_admin.date_hierarchy
    cl = response.context["cl"]
    for spec in cl.filter_specs:
        assert not isinstance(spec, AllValuesFieldListFilter), (model, spec.title)
        if isinstance(spec, RelatedFieldListFilter):
            assert spec.field.related_model in SMALL_CHOICES, (model, spec.title)
    if model in BIG:
        assert model_admin.show_full_result_count is False
        assert issubclass(model_admin.paginator, EstimatedCountPaginator)
