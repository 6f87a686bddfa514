"""Staff's lists and counts over the whole book read an index, not the table: the
documents list in its order, the overdue queue and its capped count, the dashboard's
reserves outstanding (PostgreSQL EXPLAIN; the planner is told to price out whole-table
scans and sorts, as in tests/test_agency_key.py, since a test book is tiny)."""

import datetime
from decimal import Decimal

import pytest
from auditlog.context import disable_auditlog
from django.db.models import Q
from django.utils import timezone

from claims.admin import queue_filter
from claims.models import HANDLING_STATUSES, Claim
from claims.selectors import claims_visible_to
from documents.models import Document
from documents.selectors import documents_visible_to
from tests.conftest import requires_postgres
from tests.factories import ClaimFactory
from tests.test_agency_key import _plan

pytestmark = [pytest.mark.django_db, requires_postgres]


def test_staffs_document_list_is_read_in_order_from_its_index(staff):
    Document.objects.create(claim=ClaimFactory(), file="x/a.pdf", filename="a.pdf",
                            mime_type="application/pdf", size=1, document_type="invoice",
                            sha256="0" * 64)
    plan = _plan(documents_visible_to(staff).order_by("-uploaded_at", "-id")[:100])
    assert "document_uploaded" in plan, plan
    assert "Sort" not in plan, plan


def test_the_overdue_queue_reads_the_due_index(staff):
    ClaimFactory(sla_due_at=timezone.now() - datetime.timedelta(hours=2))
    claims = claims_visible_to(staff)
    page = _plan(queue_filter(claims, "overdue", staff)[:100])
    assert "claim_sla_due" in page, page
    assert "Sort" not in page, page
    capped = _plan(queue_filter(claims, "overdue", staff).order_by().values("pk")[:1001])
    # Either index of the due times (both hold only open claims' due times in order).
    assert "claim_sla_due" in capped or "claim_open_created" in capped, capped
    assert "Seq Scan" not in capped, capped


def test_reserves_outstanding_reads_only_the_claims_holding_one(staff):
    claim = ClaimFactory()
    with disable_auditlog():
        Claim.objects.filter(pk=claim.pk).update(reserve=Decimal("100.00"))
    # The rows handling_dashboard sums.
    qs = claims_visible_to(staff).order_by().filter(~Q(reserve=0),
                                                    status__in=HANDLING_STATUSES)
    plan = _plan(qs.values("reserve"))
    assert "claim_reserved" in plan, plan


def test_the_overdue_list_newest_first_skips_claims_within_their_sla_in_the_index(staff):
    """`/api/claims?overdue=true`: in list order, each claim's due time read from the
    index (claim_open_created), so the newest claims, not yet due, cost no table visit."""
    from claims.selectors import claims_overdue

    ClaimFactory(sla_due_at=timezone.now() - datetime.timedelta(hours=2))
    plan = _plan(claims_overdue(claims_visible_to(staff)).order_by("-created_at")[:25])
    assert "claim_open_created" in plan, plan
    assert "Index Cond: (sla_due_at <" in plan, plan
    assert "Sort" not in plan, plan


def test_a_list_by_status_is_read_in_list_order_from_its_index(staff):
    """`/api/claims?status=pending` (newest first, then id): no sort, even where many
    claims share a created_at (a bulk load), which a sort would have to read whole."""
    ClaimFactory()
    plan = _plan(claims_visible_to(staff).filter(status="pending")
                 .order_by("-created_at", "-id")[:25])
    assert "claim_status_created" in plan, plan
    assert "Sort" not in plan, plan
