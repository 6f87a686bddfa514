"""Endorsements, terms history, cancellation refunds, reinstatement, renewals."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from compliance.models import AuditEntry
from policies import services
from policies.models import Endorsement, PolicyTerms, Quote, RatingPlan
from tests.factories import ClaimFactory, PolicyFactory
from tests.underwriting.conftest import DAY, TODAY, make_policy, make_quote

pytestmark = pytest.mark.django_db


def _rated(broker, customer, start=None, **kwargs):
    """A bound auto policy (728.00 on the default plan)."""
    return make_policy(broker, customer, start=start or TODAY, **kwargs)


def _back_date(policy, start):
    """Move a rated policy's term to begin on `start` (one year), as if bound then."""
    end = start + datetime.timedelta(days=364)
    policy.start_date, policy.end_date = start, end
    policy.status = "active"
    policy.save()
    terms = policy.terms.get(version=1)
    terms.effective_from, terms.end_date = start, end
    terms.save()
    return policy


# --- endorsements --------------------------------------------------------------------

def test_endorsement_pro_rata_delta_and_version(broker, customer):
    policy = _back_date(_rated(broker, customer), TODAY - 100 * DAY)  # 365-day term
    endorsement = services.endorsement_create(
        actor=broker, policy=policy, effective_date=TODAY, reason="New car",
        risk={"vehicle_value": "50000"})
    # vehicle 50,000 → ×1.15: 500 → 575 + 125 claim loading ×1.25 → 718.75 + 25 fee
    # = 743.75; tax 12% = 89.25 → 833.00.
    assert endorsement.premium_before == Decimal("728.00")
    assert endorsement.premium_after == Decimal("833.00")
    days = (policy.end_date - TODAY).days + 1  # 265 of 365
    assert days == 265
    expected = (Decimal("105.00") * days / 365).quantize(Decimal("0.01"))
    assert endorsement.premium_delta == expected == Decimal("76.23")
    assert endorsement.changes == {"risk.vehicle_value": ["25000.00", "50000.00"]}
    assert endorsement.sequence == 1 and endorsement.agency_id == customer.broker_id
    policy.refresh_from_db()
    assert (policy.version, policy.premium_amount) == (2, Decimal("833.00"))
    assert policy.risk["vehicle_value"] == "50000.00" and policy.risk["prior_claims"] == 1


def test_return_premium_is_negative(broker, customer):
    policy = _rated(broker, customer)
    endorsement = services.endorsement_create(
        actor=broker, policy=policy, effective_date=TODAY, reason="Less cover",
        coverage_amount=Decimal("10000"))
    assert endorsement.premium_after < endorsement.premium_before
    assert endorsement.premium_delta == endorsement.premium_after - endorsement.premium_before
    assert endorsement.changes == {"coverage_amount": ["20000.00", "10000.00"]}


def test_extending_the_end_date_charges_the_added_days(broker, customer):
    quote = make_quote(broker, customer, end_date=TODAY + 99 * DAY)  # 100-day term
    policy = services.quote_bind(actor=broker, quote=quote)
    new_end = TODAY + 199 * DAY
    endorsement = services.endorsement_create(
        actor=broker, policy=policy, effective_date=TODAY, reason="Longer", end_date=new_end)
    # From the start the whole new premium replaces the whole old one.
    assert endorsement.premium_delta == endorsement.premium_after - endorsement.premium_before
    assert endorsement.changes["end_date"] == [policy.end_date.isoformat(), new_end.isoformat()]


def test_endorsement_rules(broker, customer):
    policy = _back_date(_rated(broker, customer), TODAY - 10 * DAY)

    def endorse(**kwargs):
        return services.endorsement_create(actor=broker, policy=policy,
                                           reason=kwargs.pop("reason", "r"), **kwargs)

    for effective, field in [(TODAY - DAY, "effective_date"),
                             (policy.end_date + DAY, "effective_date")]:
        with pytest.raises(services.PolicyInvalid) as exc:
            endorse(effective_date=effective, coverage_amount=Decimal("1000"))
        assert exc.value.field == field
    with pytest.raises(services.PolicyInvalid):
        endorse(effective_date=TODAY)  # changes nothing
    with pytest.raises(services.PolicyInvalid) as exc:
        endorse(effective_date=TODAY, reason=" ", coverage_amount=Decimal("1000"))
    assert exc.value.field == "reason"
    with pytest.raises(services.RiskInvalid):
        endorse(effective_date=TODAY, risk={"wheels": 4})
    with pytest.raises(services.PolicyInvalid) as exc:
        endorse(effective_date=TODAY, risk={"prior_claims": 7})  # outside appetite
    assert exc.value.field == "risk"
    endorse(effective_date=TODAY + 5 * DAY, coverage_amount=Decimal("30000"))
    with pytest.raises(services.PolicyInvalid, match="last endorsement"):
        endorse(effective_date=TODAY + 4 * DAY, coverage_amount=Decimal("40000"))
    endorse(effective_date=TODAY + 5 * DAY, coverage_amount=Decimal("40000"))
    assert list(policy.endorsements.values_list("sequence", flat=True)) == [1, 2]
    assert Endorsement.objects.count() == 2


def test_direct_cancelled_expired_policies_cannot_be_endorsed(broker, customer):
    direct = PolicyFactory(customer=customer)
    with pytest.raises(services.Conflict, match="re|quote"):
        services.endorsement_create(actor=broker, policy=direct, effective_date=TODAY,
                                    reason="x", coverage_amount=Decimal("1"))
    policy = _rated(broker, customer)
    services.policy_cancel(actor=broker, policy=policy, reason="gone")
    policy.refresh_from_db()
    with pytest.raises(services.Conflict):
        services.endorsement_create(actor=broker, policy=policy, effective_date=TODAY,
                                    reason="x", coverage_amount=Decimal("1000"))


def test_terms_history_answers_any_date(broker, customer):
    policy = _back_date(_rated(broker, customer), TODAY - 10 * DAY)
    services.endorsement_create(actor=broker, policy=policy, effective_date=TODAY + 3 * DAY,
                                reason="more", coverage_amount=Decimal("30000"))
    services.endorsement_create(actor=broker, policy=policy, effective_date=TODAY + 3 * DAY,
                                reason="even more", coverage_amount=Decimal("35000"))
    policy.refresh_from_db()
    assert services.terms_in_force(policy, TODAY - 20 * DAY).version == 1
    assert services.terms_in_force(policy, TODAY).coverage_amount == Decimal("20000.00")
    assert services.terms_in_force(policy, TODAY + 3 * DAY).coverage_amount == Decimal("35000")
    assert services.terms_in_force(policy, TODAY + 3 * DAY).version == 3
    assert PolicyTerms.objects.filter(policy=policy).count() == 3


def test_api_endorsements_and_as_of(broker, broker_client, other_broker_client, customer):
    policy = _rated(broker, customer)
    url = f"/api/policies/{policy.pk}/endorsements"
    response = broker_client.post(url, {"effective_date": (TODAY + 2 * DAY).isoformat(),
                                        "reason": "Upgrade", "coverage_amount": 25000,
                                        "risk": {"annual_mileage": 20000}}, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert set(data) == {"id", "policy_id", "sequence", "effective_date", "reason", "changes",
                         "premium_before", "premium_after", "premium_delta", "created_at"}
    assert data["changes"]["risk.annual_mileage"] == [8000, 20000]
    assert data["changes"]["coverage_amount"] == ["20000.00", "25000.00"]
    listed = broker_client.get(url + "/").json()
    assert [e["sequence"] for e in listed["results"]] == [1]
    today = broker_client.get(f"/api/policies/{policy.pk}").json()
    assert (today["version"], today["coverage_amount"]) == (1, "20000.00")
    later = broker_client.get(f"/api/policies/{policy.pk}?as_of={TODAY + 2 * DAY}").json()
    assert (later["version"], later["coverage_amount"]) == (2, "25000.00")
    assert later["premium_amount"] == data["premium_after"]
    assert broker_client.get(f"/api/policies/{policy.pk}?as_of=soon").status_code == 400
    assert other_broker_client.post(url, {"effective_date": TODAY.isoformat(), "reason": "x",
                                          "coverage_amount": 1}, format="json").status_code == 404
    bad = broker_client.post(url, {"effective_date": (TODAY - DAY).isoformat(), "reason": "x",
                                   "coverage_amount": 1}, format="json")
    assert bad.status_code == 400 and "effective_date" in bad.json()
    direct = PolicyFactory(customer=customer)
    response = broker_client.post(f"/api/policies/{direct.pk}/endorsements",
                                  {"effective_date": TODAY.isoformat(), "reason": "x",
                                   "coverage_amount": 1}, format="json")
    assert response.status_code == 409


# --- cancellation and reinstatement ------------------------------------------------

def test_refund_is_the_unearned_premium(broker, customer):
    policy = _back_date(_rated(broker, customer), TODAY - 100 * DAY)
    cancelled = services.policy_cancel(actor=broker, policy=policy, reason="sold the car",
                                       effective_date=TODAY - 65 * DAY)
    # 365-day term ending today + 264; cover ends at the start of C:
    # end − C + 1 = 264 + 65 + 1 = 330 days unearned.
    assert cancelled.refund_amount == (Decimal("728.00") * 330 / 365).quantize(Decimal("0.01"))
    assert cancelled.refund_amount == Decimal("658.19")
    assert cancelled.cancellation_effective_date == TODAY - 65 * DAY


def test_refund_follows_the_terms_history(broker, customer):
    policy = _back_date(_rated(broker, customer), TODAY - 100 * DAY)
    endorsement = services.endorsement_create(
        actor=broker, policy=policy, effective_date=TODAY, reason="New car",
        risk={"vehicle_value": "50000"})
    policy.refresh_from_db()
    refund = services.policy_cancel(actor=broker, policy=policy, reason="x").refund_amount
    # From today the 833.00 terms run: 265 days of 365; the delta was exactly that share.
    assert refund == (Decimal("833.00") * 265 / 365).quantize(Decimal("0.01"))
    assert abs(refund - (Decimal("728.00") * 265 / 365) - endorsement.premium_delta) <= Decimal(
        "0.01")


def test_no_refund_with_an_approved_or_closed_claim(broker, customer):
    policy = _rated(broker, customer)
    ClaimFactory(policy=policy, status="approved", incident_date=TODAY,
                 processed_date=timezone.now())
    assert services.policy_cancel(actor=broker, policy=policy,
                                  reason="x").refund_amount == Decimal("0.00")


def test_pending_claims_do_not_block_the_refund(broker, customer):
    policy = _rated(broker, customer)
    ClaimFactory(policy=policy, status="pending", incident_date=TODAY)
    assert services.policy_cancel(actor=broker, policy=policy,
                                  reason="x").refund_amount == Decimal("728.00")


def test_direct_policy_cancel_keeps_working(broker, customer):
    policy = PolicyFactory(customer=customer, start_date=TODAY - 9 * DAY,
                           end_date=TODAY + 10 * DAY, premium_amount=Decimal("200.00"))
    cancelled = services.policy_cancel(actor=broker, policy=policy, reason="x")
    assert cancelled.refund_amount == (Decimal("200") * 11 / 20).quantize(Decimal("0.01"))


def test_cancel_date_rules(broker, customer):
    policy = _back_date(_rated(broker, customer), TODAY - 10 * DAY)
    for when in (TODAY - 11 * DAY, TODAY + DAY):
        with pytest.raises(services.PolicyInvalid) as exc:
            services.policy_cancel(actor=broker, policy=policy, reason="x", effective_date=when)
        assert exc.value.field == "effective_date"
    pending = _rated(broker, customer, start=TODAY + 5 * DAY)
    cancelled = services.policy_cancel(actor=broker, policy=pending, reason="changed mind")
    assert cancelled.cancellation_effective_date == pending.start_date
    assert cancelled.refund_amount == pending.premium_amount


def test_reinstate(staff, broker, customer):
    policy = _rated(broker, customer)
    with pytest.raises(services.Conflict):
        services.policy_reinstate(actor=staff, policy=policy, reason="x")
    services.policy_cancel(actor=broker, policy=policy, reason="x")
    with pytest.raises(services.Forbidden):
        services.policy_reinstate(actor=broker, policy=policy, reason="paid")
    with pytest.raises(services.Conflict, match="30 days"):
        services.policy_reinstate(actor=staff, policy=policy, reason="paid",
                                  today=TODAY + 31 * DAY)
    reinstated = services.policy_reinstate(actor=staff, policy=policy, reason="paid",
                                           today=TODAY + 30 * DAY)
    assert reinstated.status == "active" and reinstated.cancelled_at is None
    assert reinstated.refund_amount is None and reinstated.reinstatement_reason == "paid"


def test_api_cancel_and_reinstate(broker, broker_client, staff_client, customer):
    policy = _rated(broker, customer)
    response = broker_client.post(f"/api/policies/{policy.pk}/cancel",
                                  {"reason": "x", "effective_date": TODAY.isoformat()},
                                  format="json")
    assert response.status_code == 200
    assert response.json()["refund_amount"] == "728.00"
    assert response.json()["cancellation_effective_date"] == TODAY.isoformat()
    url = f"/api/policies/{policy.pk}/reinstate"
    assert broker_client.post(url, {"reason": "y"}, format="json").status_code == 403
    assert staff_client.post(url, {"reason": "y"}, format="json").status_code == 200
    assert staff_client.post(url, {"reason": "y"}, format="json").status_code == 409


# --- renewals --------------------------------------------------------------------------

def test_renew_policies_is_idempotent_and_rerates(broker, customer, capsys):
    policy = _back_date(_rated(broker, customer), TODAY - 350 * DAY)  # ends in 14 days
    late = _back_date(_rated(broker, customer), TODAY - 300 * DAY)  # ends in 64 days
    direct = PolicyFactory(customer=customer, start_date=TODAY - 350 * DAY,
                           end_date=TODAY + 14 * DAY)
    new_start = policy.end_date + DAY
    RatingPlan.objects.create(policy_type="auto", version=2, effective_from=new_start,
                              base_rate=Decimal("30"), minimum_premium=Decimal("150"))
    call_command("renew_policies")
    assert "1 open" in capsys.readouterr().out
    quote = Quote.objects.get(renewal_of=policy)
    assert (quote.start_date, quote.end_date) == (new_start, new_start + 364 * DAY) or \
        quote.end_date.year == new_start.year + 1
    assert quote.rating_plan.version == 2 and quote.premium_amount == Decimal("600.00")
    assert quote.risk == policy.risk and quote.coverage_amount == policy.coverage_amount
    assert not Quote.objects.filter(renewal_of__in=[late, direct]).exists()
    call_command("renew_policies")
    assert "0 open, 0 declined" in capsys.readouterr().out
    assert Quote.objects.filter(renewal_of__isnull=False).count() == 1
    entry = AuditEntry.objects.filter(object_pk=str(quote.pk)).get()
    assert entry.actor is None
    call_command("renew_policies", "--days", "90", "--today", str(TODAY))
    assert Quote.objects.filter(renewal_of=late).count() == 1
    renewed = services.quote_bind(actor=broker, quote=quote)
    assert renewed.renewal_of == policy and renewed.status == "pending"


# --- audit ---------------------------------------------------------------------------------

def test_quote_bind_endorse_cancel_reinstate_are_audited(staff, broker, customer):
    quote = make_quote(broker, customer)
    policy = services.quote_bind(actor=broker, quote=quote)
    endorsement = services.endorsement_create(actor=broker, policy=policy, effective_date=TODAY,
                                              reason="r", coverage_amount=Decimal("1000"))
    services.policy_cancel(actor=broker, policy=policy, reason="x")
    services.policy_reinstate(actor=staff, policy=policy, reason="y")
    entries = AuditEntry.objects.order_by("seq")
    about_quote = entries.filter(object_pk=str(quote.pk))
    assert [e.action for e in about_quote] == [AuditEntry.Action.CREATE, AuditEntry.Action.UPDATE]
    assert about_quote.last().changes["status"] == ["open", "bound"]
    assert about_quote.first().actor == broker
    assert entries.filter(object_pk=str(endorsement.pk)).count() == 1
    statuses = [e.changes.get("status") for e in entries.filter(object_pk=str(policy.pk))
                if e.changes and "status" in e.changes]
    assert statuses[-2:] == [["active", "cancelled"], ["cancelled", "active"]]
    assert AuditEntry.objects.filter(object_pk=str(policy.pk)).order_by("seq").last().actor == staff


def test_audit_api_knows_quotes_and_endorsements(broker, staff_client, customer):
    quote = make_quote(broker, customer)
    rows = staff_client.get(f"/api/audit-logs?resource_type=quote&resource_id={quote.pk}").json()
    assert rows["results"][0]["resource_type"] == "quote"
    assert staff_client.get("/api/audit-logs?resource_type=endorsement").status_code == 200


def test_timestamps_are_aware():
    assert timezone.is_aware(timezone.now())


def test_no_claim_for_an_incident_on_or_after_a_back_dated_cancellation(broker, customer):
    from claims.services import ClaimInvalid, claim_create

    policy = _back_date(_rated(broker, customer), TODAY - 100 * DAY)
    services.policy_cancel(actor=broker, policy=policy, reason="x",
                           effective_date=TODAY - 10 * DAY)
    args = {"actor": broker, "policy_id": policy.pk, "claim_type": "accident",
            "claim_amount": Decimal("100"), "description": "Bumped"}
    with pytest.raises(ClaimInvalid):
        claim_create(**args, incident_date=TODAY - 10 * DAY)
    assert claim_create(**args, incident_date=TODAY - 11 * DAY).status == "pending"


def test_integrator_endorses_only_with_the_permission(broker, integrator, customer):
    from django.contrib.auth.models import Permission

    from tests.conftest import client_for

    policy = _rated(broker, customer)
    client = client_for(integrator)
    url = f"/api/policies/{policy.pk}/endorsements"
    body = {"effective_date": TODAY.isoformat(), "reason": "x", "coverage_amount": 30000}
    assert client.get(url).status_code == 403
    integrator.user_permissions.add(*Permission.objects.filter(
        codename__in=["view_endorsement", "view_policy"]))
    client = client_for(integrator)
    assert client.get(url).status_code == 200
    assert client.post(url, body, format="json").status_code == 403
    integrator.user_permissions.add(Permission.objects.get(codename="add_endorsement"))
    assert client_for(integrator).post(url, body, format="json").status_code == 201


def test_bind_renewal_and_endorsement_are_announced_as_events(broker, customer):
    from events.models import OutboxEvent

    policy = _back_date(_rated(broker, customer), TODAY - 350 * DAY)
    services.endorsement_create(actor=broker, policy=policy, effective_date=TODAY,
                                reason="r", coverage_amount=Decimal("21000"))
    services.renew_policies(actor=None, days=30, today=TODAY)
    renewed = services.quote_bind(actor=broker, quote=Quote.objects.get(renewal_of=policy))
    types = list(OutboxEvent.objects.order_by("created_at").values_list("type", "resource_id"))
    assert ("policy.bound", policy.pk) in types
    assert ("policy.endorsed", policy.pk) in types
    assert ("policy.renewed", renewed.pk) in types
    assert ("policy.bound", renewed.pk) not in types
