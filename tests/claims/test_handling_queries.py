"""Query counts of the claims lists (API, admin) and the admin claim page: exact, and
the same whatever the number of claims, notes, payments and history rows."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from claims import services
from tests.factories import ClaimFactory, CustomerFactory, PolicyFactory, UserFactory

pytestmark = pytest.mark.django_db

CLAIM_PAGE = 13
ADMIN_LIST = 5  # the queues counted in one query, no date hierarchy
API_LIST = 4


def _busy_claim(agency, staff, *, rows: int):
    claim = ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=agency),
                                              coverage_amount=Decimal("50000")),
                         claim_amount=Decimal("30000.00"), status="processing")
    senior = UserFactory(staff=True, authority_limit=Decimal("100000"))
    for n in range(rows):
        services.note_create(claim_id=claim.pk, actor=staff, text=f"note {n}",
                             visibility="internal" if n % 2 else "shared")
        services.reserve_set(claim_id=claim.pk, actor=staff, amount=Decimal(100 + n),
                             reason=f"r{n}")
    services.claim_transition(claim_id=claim.pk, to="approved", actor=senior)
    for n in range(rows):
        services.payment_make(claim_id=claim.pk, actor=staff, amount=Decimal("10"),
                              payee=f"P{n}")
    # Above the staff user's 10,000.00: one approval waits, one is decided.
    for decide in (True, False):
        pending = services.payment_make(claim_id=claim.pk, actor=staff,
                                        amount=Decimal("12000"), payee="X")
        if decide:
            services.approval_decide(approval_id=pending.pk, actor=senior, approve=True)
    return claim


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("rows", [1, 12])
def test_admin_claim_page(client, agency, staff, rows):
    claim = _busy_claim(agency, staff, rows=rows)
    client.force_login(staff)
    url = reverse("admin:claims_claim_change", args=[claim.pk])
    client.get(url)  # sessions, content types: warm
    assert _count(client, url) == CLAIM_PAGE


@pytest.mark.parametrize("claims", [1, 30])
def test_admin_claim_list(client, agency, staff, claims):
    for _ in range(claims):
        _busy_claim(agency, staff, rows=2)
    client.force_login(staff)
    client.get("/admin/claims/claim/")
    assert _count(client, "/admin/claims/claim/?queue=open") == ADMIN_LIST
    # Unfiltered, the count is read from the claims' tally (core.db.tallies), as the
    # queue's (capped) count is read from the claims.
    assert _count(client, "/admin/claims/claim/") == ADMIN_LIST


@pytest.mark.parametrize("claims", [1, 30])
def test_api_claim_list_with_handling_fields(staff_client, agency, staff, claims):
    for _ in range(claims):
        claim = _busy_claim(agency, staff, rows=2)
    services.claim_assign(claim_id=claim.pk, assignee_id=staff.pk, actor=staff)
    with CaptureQueriesContext(connection) as ctx:
        r = staff_client.get("/api/claims", {"page_size": 100, "assignee": "me"})
    assert r.status_code == 200 and r.json()["results"][0]["assignee_id"] == str(staff.pk)
    assert len(ctx.captured_queries) == API_LIST
    with CaptureQueriesContext(connection) as ctx:
        staff_client.get("/api/claims", {"page_size": 100, "overdue": "false"})
    assert len(ctx.captured_queries) == API_LIST
    assert timezone.now()
