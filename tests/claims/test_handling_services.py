"""Claims handling rules, tested on the services: assignment, SLA, notes, reserves,
payments, authority limits and four eyes."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from claims import selectors, services
from claims.models import (
    ApprovalStatus,
    ClaimApproval,
    ClaimNote,
    ClaimPayment,
    ClaimStatus,
    ClaimStatusChange,
    ReserveChange,
    allowed_next,
    sla_due,
)
from core.exceptions import Conflict, DomainError, Forbidden
from tests.factories import ClaimFactory, CustomerFactory, PolicyFactory, UserFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def handler(db):
    return UserFactory(staff=True, first_name="Hana", last_name="Handler",
                       authority_limit=D("5000.00"))


@pytest.fixture
def senior(db):
    return UserFactory(staff=True, first_name="Sam", last_name="Senior",
                       authority_limit=D("50000.00"))


@pytest.fixture
def claim(agency):
    policy = PolicyFactory(customer=CustomerFactory(broker=agency),
                           coverage_amount=D("20000.00"))
    return ClaimFactory(policy=policy, claim_amount=D("8000.00"), status="processing")


def approved(claim, actor):
    claim.refresh_from_db()
    claim.status = ClaimStatus.APPROVED
    claim.processed_date = timezone.now()
    claim.save()
    return claim


# --- transitions, SLA ---------------------------------------------------------------

def test_closed_is_in_the_table_but_never_asked_for(handler):
    assert allowed_next("approved") == []
    claim = approved(ClaimFactory(claim_amount=D("100.00"), status="processing"), handler)
    with pytest.raises(Conflict, match="final payment"):
        services.claim_transition(claim_id=claim.pk, to="closed", actor=handler)


def test_transition_moves_status_since_and_sla(handler, settings, claim):
    settings.CLAIM_SLA_HOURS = {"pending": 1, "processing": 2, "approved": 3}
    before = timezone.now()
    out = services.claim_transition(claim_id=claim.pk, to="denied", actor=handler)
    assert out.status_since >= before and out.sla_due_at is None
    fresh = ClaimFactory(claim_amount=D("10.00"))
    out = services.claim_transition(claim_id=fresh.pk, to="processing", actor=handler)
    assert out.sla_due_at == out.status_since + datetime.timedelta(hours=2)
    assert out.overdue is False


def test_sla_due_is_wall_clock_hours(settings):
    settings.CLAIM_SLA_HOURS = {"pending": 48, "processing": 240, "approved": 120}
    at = timezone.now()
    assert sla_due("pending", at) == at + datetime.timedelta(hours=48)
    assert sla_due("approved", at) == at + datetime.timedelta(hours=120)
    assert sla_due("denied", at) is None and sla_due("closed", at) is None


def test_overdue_selector(claim):
    claim.sla_due_at = timezone.now() - datetime.timedelta(minutes=1)
    claim.save()
    late = ClaimFactory(sla_due_at=timezone.now() + datetime.timedelta(hours=1))
    qs = selectors.claims_overdue(ClaimFactory._meta.model.objects.all())
    assert list(qs) == [claim]
    assert late in selectors.claims_overdue(late.__class__.objects.all(), overdue=False)
    assert claim.overdue and not late.overdue


def test_deny_releases_the_reserve(claim, handler):
    services.reserve_set(claim_id=claim.pk, actor=handler, amount="900", reason="estimate")
    out = services.claim_transition(claim_id=claim.pk, to="denied", actor=handler)
    assert out.reserve == 0
    assert list(ReserveChange.objects.filter(claim=claim).values_list("amount", flat=True)) == \
        [D("900.00"), D("0.00")]


# --- assignment --------------------------------------------------------------------

def test_assign_and_unassign(claim, handler, senior):
    assert services.claim_assign(claim_id=claim.pk, assignee_id=senior.pk,
                                 actor=handler).assignee == senior
    assert services.claim_assign(claim_id=claim.pk, assignee_id=None,
                                 actor=handler).assignee is None


@pytest.mark.parametrize("who", ["broker", "inactive", "missing"])
def test_assignee_must_be_active_staff(claim, handler, broker, who):
    target = {"broker": broker.pk,
              "inactive": UserFactory(staff=True, is_active=False).pk,
              "missing": "00000000-0000-0000-0000-000000000000"}[who]
    with pytest.raises(DomainError) as exc:
        services.claim_assign(claim_id=claim.pk, assignee_id=target, actor=handler)
    assert exc.value.field == "assignee_id" and exc.value.status_code == 400


def test_brokers_cannot_assign(claim, broker, handler):
    with pytest.raises(Forbidden):
        services.claim_assign(claim_id=claim.pk, assignee_id=handler.pk, actor=broker)


# --- notes --------------------------------------------------------------------------

def test_notes_visibility(claim, handler, broker):
    services.note_create(claim_id=claim.pk, actor=handler, text="Fraud check",
                         visibility="internal")
    services.note_create(claim_id=claim.pk, actor=broker, text="Photos sent", visibility="shared")
    assert [n.text for n in selectors.claim_notes_visible_to(broker, claim=claim)] == \
        ["Photos sent"]
    assert len(selectors.claim_notes_visible_to(handler, claim=claim)) == 2
    note = ClaimNote.objects.get(text="Photos sent")
    assert note.agency_id == claim.policy.customer.broker_id


def test_broker_cannot_write_internal_or_blank(claim, broker):
    with pytest.raises(Forbidden):
        services.note_create(claim_id=claim.pk, actor=broker, text="x", visibility="internal")
    with pytest.raises(DomainError) as exc:
        services.note_create(claim_id=claim.pk, actor=broker, text="  ", visibility="shared")
    assert exc.value.field == "text"
    with pytest.raises(DomainError):
        services.note_create(claim_id=claim.pk, actor=broker, text="x" * 10_001,
                             visibility="shared")


def test_other_agency_broker_cannot_note(claim, other_broker):
    with pytest.raises(claim.__class__.DoesNotExist):
        services.note_create(claim_id=claim.pk, actor=other_broker, text="x", visibility="shared")


# --- reserves -----------------------------------------------------------------------

def test_reserve_is_the_new_amount_not_a_delta(claim, handler):
    services.reserve_set(claim_id=claim.pk, actor=handler, amount="1000.00", reason="first")
    change = services.reserve_set(claim_id=claim.pk, actor=handler, amount="400", reason="less")
    claim.refresh_from_db()
    assert claim.reserve == D("400.00") and change.previous == D("1000.00")
    assert change.agency_id == claim.policy.customer.broker_id


def test_reserve_rules(claim, handler, broker):
    with pytest.raises(DomainError, match="negative"):
        services.reserve_set(claim_id=claim.pk, actor=handler, amount="-1", reason="x")
    services.reserve_set(claim_id=claim.pk, actor=handler, amount="20000.00", reason="max")
    with pytest.raises(DomainError, match="coverage"):
        services.reserve_set(claim_id=claim.pk, actor=handler, amount="20000.01", reason="x")
    with pytest.raises(DomainError, match="why"):
        services.reserve_set(claim_id=claim.pk, actor=handler, amount="1", reason=" ")
    with pytest.raises(Forbidden):
        services.reserve_set(claim_id=claim.pk, actor=broker, amount="1", reason="x")


def test_reserve_plus_paid_within_coverage(claim, handler):
    approved(claim, handler)
    services.payment_make(claim_id=claim.pk, actor=handler, amount="3000", payee="Garage")
    with pytest.raises(DomainError, match="coverage"):
        services.reserve_set(claim_id=claim.pk, actor=handler, amount="17000.01", reason="x")
    services.reserve_set(claim_id=claim.pk, actor=handler, amount="17000.00", reason="x")


def test_reserve_on_closed_claim_conflicts(claim, handler):
    approved(claim, handler)
    services.payment_make(claim_id=claim.pk, actor=handler, amount="10", payee="P", final=True)
    with pytest.raises(Conflict):
        services.reserve_set(claim_id=claim.pk, actor=handler, amount="1", reason="x")


# --- payments -----------------------------------------------------------------------

def test_payment_only_on_approved(claim, handler):
    with pytest.raises(Conflict, match="approved claims only"):
        services.payment_make(claim_id=claim.pk, actor=handler, amount="10", payee="P")


def test_payment_lowers_reserve_not_below_zero(claim, handler):
    services.reserve_set(claim_id=claim.pk, actor=handler, amount="1000", reason="estimate")
    approved(claim, handler)
    services.payment_make(claim_id=claim.pk, actor=handler, amount="600", payee="Garage")
    claim.refresh_from_db()
    assert (claim.reserve, claim.paid, claim.incurred) == (D("400.00"), D("600.00"),
                                                           D("1000.00"))
    services.payment_make(claim_id=claim.pk, actor=handler, amount="500", payee="Garage")
    claim.refresh_from_db()
    assert (claim.reserve, claim.paid) == (D("0.00"), D("1100.00"))
    assert claim.status == "approved"


def test_payment_cannot_exceed_claim_amount(claim, handler, senior):
    approved(claim, handler)
    services.payment_make(claim_id=claim.pk, actor=senior, amount="7999.99", payee="P")
    with pytest.raises(DomainError, match="exceed the claim amount") as exc:
        services.payment_make(claim_id=claim.pk, actor=handler, amount="0.02", payee="P")
    assert exc.value.status_code == 400
    services.payment_make(claim_id=claim.pk, actor=handler, amount="0.01", payee="P")


@pytest.mark.parametrize("amount,payee,field", [("0", "P", "amount"), ("-5", "P", "amount"),
                                                ("1.001", "P", "amount"), ("5", " ", "payee")])
def test_payment_input_rules(claim, handler, amount, payee, field):
    approved(claim, handler)
    with pytest.raises(DomainError) as exc:
        services.payment_make(claim_id=claim.pk, actor=handler, amount=amount, payee=payee)
    assert exc.value.field == field


def test_final_payment_closes_the_claim(claim, handler):
    services.reserve_set(claim_id=claim.pk, actor=handler, amount="5000", reason="estimate")
    approved(claim, handler)
    services.payment_make(claim_id=claim.pk, actor=handler, amount="1000", payee="P", final=True)
    claim.refresh_from_db()
    assert claim.status == "closed" and claim.reserve == 0 and claim.paid == D("1000.00")
    assert claim.sla_due_at is None
    change = ClaimStatusChange.objects.get(claim=claim)
    assert (change.from_status, change.to_status, change.actor) == ("approved", "closed", handler)
    with pytest.raises(Conflict):
        services.payment_make(claim_id=claim.pk, actor=handler, amount="1", payee="P")


def test_brokers_cannot_pay(claim, broker, handler):
    approved(claim, handler)
    with pytest.raises(Forbidden):
        services.payment_make(claim_id=claim.pk, actor=broker, amount="1", payee="P")


# --- idempotency ----------------------------------------------------------------------

def _pay(claim, actor, key, fingerprint="f1", amount="100"):
    def perform():
        p = services.payment_make(claim_id=claim.pk, actor=actor, amount=amount, payee="P")
        return 201, {"id": str(p.pk)}
    return services.idempotent(actor=actor, key=key, fingerprint=fingerprint,
                               claim_id=claim.pk, perform=perform)


def test_idempotent_replay_pays_once(claim, handler):
    approved(claim, handler)
    first = _pay(claim, handler, "k-1")
    again = _pay(claim, handler, "k-1")
    assert again[:2] == first[:2] and (first[2], again[2]) == (False, True)
    assert ClaimPayment.objects.filter(claim=claim).count() == 1
    with pytest.raises(Conflict, match="different request"):
        _pay(claim, handler, "k-1", fingerprint="f2")
    _pay(claim, handler, "k-2")
    assert ClaimPayment.objects.filter(claim=claim).count() == 2


@pytest.mark.parametrize("key", [None, "", "x" * 256, "has space", "é"])
def test_idempotency_key_required_and_sane(key):
    with pytest.raises(DomainError) as exc:
        services.idempotency_key_check(key)
    assert exc.value.status_code == 400


def test_failed_payment_stores_no_key(claim, handler):
    with pytest.raises(Conflict):
        _pay(claim, handler, "k-9")
    approved(claim, handler)
    assert _pay(claim, handler, "k-9")[2] is False


# --- authority limits and four eyes --------------------------------------------------------

def test_approval_above_limit_waits(claim, handler, senior):
    result = services.claim_transition(claim_id=claim.pk, to="approved", actor=handler)
    assert isinstance(result, ClaimApproval) and result.status == "pending"
    assert result.kind == "claim_approval" and result.amount == D("8000.00")
    claim.refresh_from_db()
    assert claim.status == "processing"
    again = services.claim_transition(claim_id=claim.pk, to="approved", actor=handler)
    assert again.pk == result.pk
    with pytest.raises(Forbidden, match="second person"):
        services.approval_decide(approval_id=result.pk, actor=handler, approve=True)
    low = UserFactory(staff=True, authority_limit=D("7999.99"))
    with pytest.raises(Forbidden, match="authority limit"):
        services.approval_decide(approval_id=result.pk, actor=low, approve=True)
    done = services.approval_decide(approval_id=result.pk, actor=senior, approve=True)
    assert done.status == ApprovalStatus.APPROVED and done.decided_by == senior
    claim.refresh_from_db()
    assert claim.status == "approved"
    with pytest.raises(Conflict, match="already approved"):
        services.approval_decide(approval_id=result.pk, actor=senior, approve=False)


def test_limit_equal_to_amount_is_within_authority(claim):
    exact = UserFactory(staff=True, authority_limit=D("8000.00"))
    assert services.claim_transition(claim_id=claim.pk, to="approved", actor=exact).status == \
        "approved"


def test_payment_above_limit_needs_approval_and_rejection_pays_nothing(claim, handler, senior):
    approved(claim, handler)
    pending = services.payment_make(claim_id=claim.pk, actor=handler, amount="6000", payee="P")
    assert isinstance(pending, ClaimApproval) and pending.kind == "payment"
    claim.refresh_from_db()
    assert claim.paid == 0
    rejected = services.approval_decide(approval_id=pending.pk, actor=senior, approve=False)
    assert rejected.status == "rejected" and rejected.payment is None
    claim.refresh_from_db()
    assert claim.paid == 0


def test_approved_payment_is_made_with_rules_rechecked(claim, handler, senior):
    approved(claim, handler)
    pending = services.payment_make(claim_id=claim.pk, actor=handler, amount="6000", payee="P",
                                    final=True)
    other = services.payment_make(claim_id=claim.pk, actor=handler, amount="7000", payee="P")
    done = services.approval_decide(approval_id=pending.pk, actor=senior, approve=True)
    claim.refresh_from_db()
    assert claim.paid == D("6000.00") and claim.status == "closed"
    assert done.payment.approved_by == senior and done.payment.actor == handler
    with pytest.raises(Conflict):  # the claim is closed now
        services.approval_decide(approval_id=other.pk, actor=senior, approve=True)
    assert ClaimApproval.objects.get(pk=other.pk).status == "pending"


def test_default_authority_limit(settings):
    settings.DEFAULT_AUTHORITY_LIMIT = D("12345.00")
    assert UserFactory(staff=True).authority_limit == D("12345.00")


# --- timeline ----------------------------------------------------------------------------

def test_timeline_names_people_and_starts_with_the_report(claim, handler, senior, broker):
    claim.reported_by = broker
    claim.save()
    services.note_create(claim_id=claim.pk, actor=handler, text="internal", visibility="internal")
    services.reserve_set(claim_id=claim.pk, actor=handler, amount="100", reason="estimate")
    services.claim_transition(claim_id=claim.pk, to="approved", actor=handler)
    items = selectors.claim_timeline(claim=claim, user=handler)
    kinds = [i.kind for i in items]
    assert kinds[0] == "reported" and items[0].who == broker.email
    assert {"note", "reserve", "approval"} <= set(kinds)
    assert any(i.who == "Hana Handler" for i in items)
    broker_view = selectors.claim_timeline(claim=claim, user=broker)
    assert "note" not in [i.kind for i in broker_view]
    assert "approval" not in [i.kind for i in broker_view]
