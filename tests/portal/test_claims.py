import datetime

import pytest
from django.utils import timezone

from claims.models import Claim, ClaimStatus
from claims.services import claim_transition
from tests.factories import ClaimFactory, CustomerFactory, PolicyFactory

HTMX = {"HX-Request": "true"}
TODAY = timezone.localdate()


def test_report_a_claim(portal, policy, broker):
    response = portal.post(f"/portal/policies/{policy.pk}/claims/new/", {
        "claim_type": "theft", "incident_date": (TODAY - datetime.timedelta(days=1)).isoformat(),
        "claim_amount": "1200.50", "description": "Bike stolen from the garage."})
    claim = Claim.objects.get()
    assert response.status_code == 302
    assert response.headers["Location"] == f"/portal/claims/{claim.pk}/"
    assert claim.status == ClaimStatus.PENDING and claim.reported_by == broker
    body = portal.get(response.headers["Location"]).content.decode()
    assert claim.claim_number in body and "Bike stolen" in body


@pytest.mark.parametrize(("field", "value", "message"), [
    ("incident_date", (TODAY + datetime.timedelta(days=2)).isoformat(),
     "The incident date cannot be in the future."),
    ("claim_amount", "999999", "The claim amount exceeds the policy&#x27;s coverage"),
    ("claim_amount", "0", "The claim amount must be greater than zero."),
])
def test_report_errors_are_beside_their_field(portal, policy, field, value, message):
    data = {"claim_type": "theft", "incident_date": TODAY.isoformat(), "claim_amount": "100"}
    data[field] = value
    response = portal.post(f"/portal/policies/{policy.pk}/claims/new/", data)
    assert response.status_code == 400
    assert f'id="id_{field}_error_1">{message}' in response.content.decode()
    assert not Claim.objects.exists()


def test_list_filters_by_status(portal, policy):
    pending = ClaimFactory(policy=policy)
    denied = ClaimFactory(policy=policy, status=ClaimStatus.DENIED, processed_date=timezone.now())
    body = portal.get("/portal/claims/", {"status": "denied"}).content.decode()
    assert denied.claim_number in body and pending.claim_number not in body
    body = portal.get("/portal/claims/").content.decode()
    assert denied.claim_number in body and pending.claim_number in body
    partial = portal.get("/portal/claims/", {"status": "pending"}, headers=HTMX)
    text = partial.content.decode()
    assert text.lstrip().startswith('<section id="claim-results"')
    assert pending.claim_number in text and denied.claim_number not in text
    assert f'data-live-claim="{pending.pk}"' in text


def test_unknown_status_filter_is_400_beside_the_filter(portal, claim):
    response = portal.get("/portal/claims/", {"status": "bogus"})
    assert response.status_code == 400
    assert 'id="id_status_error_1">Select a valid choice.' in response.content.decode()


@pytest.mark.parametrize("rows", [1, 12])
def test_list_query_count_does_not_grow_with_rows(portal, agency, other_agency, rows,
                                                  django_assert_num_queries):
    for _ in range(rows):
        ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=agency)))
    ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=other_agency)))
    # session, user, agency (page header), count, one page of claims with policy and
    # customer joined
    with django_assert_num_queries(5):
        response = portal.get("/portal/claims/")
    assert response.content.decode().count("data-live-claim=") == rows


def test_detail_shows_history_and_the_htmx_panel_reloads_alone(portal, claim, staff):
    claim_transition(claim_id=claim.pk, to=ClaimStatus.PROCESSING, actor=staff)
    claim_transition(claim_id=claim.pk, to=ClaimStatus.APPROVED, actor=staff)
    body = portal.get(f"/portal/claims/{claim.pk}/").content.decode()
    assert "Pending → <strong>Processing</strong>" in body
    assert "Processing → <strong>Approved</strong>" in body
    assert 'hx-trigger="claim-status-changed from:body"' in body
    panel = portal.get(f"/portal/claims/{claim.pk}/",
                       headers={**HTMX, "HX-Target": "claim-history"}).content.decode()
    assert panel.lstrip().startswith('<section class="card" aria-labelledby="history-heading"')
    assert "Approved" in panel and "Documents" not in panel
    details = portal.get(f"/portal/claims/{claim.pk}/",
                         headers={**HTMX, "HX-Target": "claim-details"}).content.decode()
    assert details.lstrip().startswith('<section class="card" aria-labelledby="claim-heading"')
    assert "<dt>Decided</dt>" in details and "Status history" not in details


@pytest.mark.parametrize("rows", [1, 6])
def test_dashboard_query_count_is_constant(portal, agency, staff, rows,
                                           django_assert_num_queries):
    for _ in range(rows):
        claim = ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=agency)))
        claim_transition(claim_id=claim.pk, to=ClaimStatus.PROCESSING, actor=staff)
    # session, user, agency, claim counts, policy summary, then customers, policies,
    # claims, changes
    with django_assert_num_queries(9):
        response = portal.get("/portal/")
    body = response.content.decode()
    assert f'<span class="stat" data-status-count="processing">{rows}</span>' in body
    assert "moved to processing by claims staff" in body


def test_dashboard_counts_only_the_agencys_claims(portal, claim, foreign_claim):
    body = portal.get("/portal/").content.decode()
    assert '<span class="stat" data-status-count="pending">1</span>' in body
    assert foreign_claim.claim_number not in body
    assert "1</strong> open claim" in body
