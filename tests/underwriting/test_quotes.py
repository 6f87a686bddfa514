import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from policies import services
from policies.models import PlanInUse, Policy, PolicyTerms, Quote, RatingPlan
from tests.conftest import client_for
from tests.factories import CustomerFactory, PolicyFactory
from tests.underwriting.conftest import AUTO_RISK, DAY, RISKS, TODAY, make_quote

pytestmark = pytest.mark.django_db


# --- services ----------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(RISKS))
def test_quote_rates_each_product_on_the_plan_in_force(broker, customer, default_plans, kind):
    quote = make_quote(broker, customer, policy_type=kind)
    assert quote.status == "open"
    assert quote.rating_plan == default_plans[kind]
    assert sum(Decimal(line["amount"]) for line in quote.breakdown) == quote.premium_amount
    assert quote.valid_until == TODAY + 30 * DAY
    assert quote.end_date == datetime.date(TODAY.year + 1, TODAY.month, TODAY.day) - DAY \
        if not (TODAY.month == 2 and TODAY.day == 29) else True
    assert quote.agency_id == customer.broker_id
    assert quote.quote_number.startswith("QUO-")


def test_auto_premium_worked_through(broker, customer):
    # age 45 or so: ×1.00; 1 prior claim ×1.25 → 500 + 125 + fee 25 + 12% tax 78
    quote = make_quote(broker, customer)
    assert quote.premium_amount == Decimal("728.00")
    assert [line["code"] for line in quote.breakdown] == [
        "base", "factor.prior_claims", "fee.policy_fee", "tax.ipt"]


def test_the_plan_in_force_on_the_start_date_rates(broker, customer, default_plans):
    newer = RatingPlan.objects.create(
        policy_type="auto", version=2, effective_from=TODAY + 10 * DAY,
        base_rate=Decimal("50"), minimum_premium=Decimal("150"))
    assert make_quote(broker, customer, start=TODAY + 9 * DAY).rating_plan == default_plans["auto"]
    later = make_quote(broker, customer, start=TODAY + 10 * DAY)
    assert later.rating_plan == newer and later.premium_amount == Decimal("1000.00")


def test_no_plan_in_force_is_refused(broker, customer):
    RatingPlan.objects.filter(policy_type="life").delete()
    with pytest.raises(services.PolicyInvalid) as exc:
        make_quote(broker, customer, policy_type="life")
    assert exc.value.field == "start_date"


def test_a_used_plan_is_never_changed_in_place(staff, broker, customer, default_plans):
    plan = default_plans["auto"]
    plan.notes = "unused plans may be edited"
    plan.save()
    quote = make_quote(broker, customer)
    plan.base_rate = Decimal("99")
    with pytest.raises(PlanInUse):
        plan.save()
    copy = services.rating_plan_new_version(actor=staff, plan=plan)
    assert (copy.version, copy.effective_from) == (2, TODAY + DAY)
    assert copy.base_rate == Decimal("99") and copy.factors == plan.factors
    copy.base_rate = Decimal("30")
    copy.save()  # unused: editable
    quote.refresh_from_db()
    assert quote.premium_amount == Decimal("728.00") and quote.rating_plan_id == plan.pk
    assert make_quote(broker, customer, start=TODAY + DAY).rating_plan == copy
    with pytest.raises(services.Forbidden):
        services.rating_plan_new_version(actor=broker, plan=plan)


def test_declined_quote_has_reasons_and_no_premium(broker, customer):
    quote = make_quote(broker, customer, risk={**AUTO_RISK, "prior_claims": 5})
    assert quote.status == "declined" and quote.premium_amount is None
    assert quote.breakdown == [] and "More than 3 claims" in quote.decline_reasons[0]


@pytest.mark.parametrize(("risk", "key"), [
    ({"annual_mileage": 1, "prior_claims": 0}, "vehicle_value"),
    ({**AUTO_RISK, "vehicle_value": "-1"}, "vehicle_value"),
    ({**AUTO_RISK, "prior_claims": "two"}, "prior_claims"),
    ({**AUTO_RISK, "prior_claims": True}, "prior_claims"),
    ({**AUTO_RISK, "colour": "red"}, "colour"),
])
def test_bad_risk_answers_are_named(broker, customer, risk, key):
    with pytest.raises(services.RiskInvalid) as exc:
        make_quote(broker, customer, risk=risk)
    assert key in exc.value.as_data()["risk"]


def test_age_needs_a_date_of_birth(broker, agency):
    customer = CustomerFactory(broker=agency, date_of_birth=None)
    with pytest.raises(services.PolicyInvalid) as exc:
        make_quote(broker, customer, policy_type="life")
    assert exc.value.field == "date_of_birth"
    assert make_quote(broker, customer, policy_type="home").status == "open"


@pytest.mark.parametrize(("start", "end", "field"), [
    (TODAY - DAY, None, "start_date"),
    (TODAY, TODAY, "end_date"),
    (TODAY, TODAY + 366 * DAY, "end_date"),
])
def test_bad_dates(broker, customer, start, end, field):
    with pytest.raises(services.PolicyInvalid) as exc:
        make_quote(broker, customer, start=start, end_date=end)
    assert exc.value.field == field


def test_other_agency_customer_is_unknown(other_broker, customer):
    with pytest.raises(services.PolicyInvalid) as exc:
        make_quote(other_broker, customer)
    assert exc.value.field == "customer_id"


def test_bind_makes_the_policy_from_the_quote(broker, customer):
    quote = make_quote(broker, customer)
    policy = services.quote_bind(actor=broker, quote=quote)
    quote.refresh_from_db()
    assert quote.status == "bound" and quote.bound_policy == policy
    assert policy.premium_amount == quote.premium_amount == Decimal("728.00")
    assert (policy.rating_plan_id, policy.risk, policy.version) == (
        quote.rating_plan_id, quote.risk, 1)
    assert policy.status == "active" and policy.renewal_of is None
    terms = PolicyTerms.objects.get(policy=policy)
    assert (terms.version, terms.effective_from, terms.premium_amount) == (
        1, policy.start_date, policy.premium_amount)


def test_bind_future_start_is_pending(broker, customer):
    policy = services.quote_bind(actor=broker, quote=make_quote(broker, customer,
                                                                start=TODAY + 5 * DAY))
    assert policy.status == "pending"


def test_bind_conflicts(broker, customer):
    quote = make_quote(broker, customer)
    services.quote_bind(actor=broker, quote=quote)
    with pytest.raises(services.Conflict):
        services.quote_bind(actor=broker, quote=quote)
    declined = make_quote(broker, customer, risk={**AUTO_RISK, "prior_claims": 9})
    with pytest.raises(services.Conflict):
        services.quote_bind(actor=broker, quote=declined)
    stale = make_quote(broker, customer, start=TODAY + 40 * DAY)
    with pytest.raises(services.Conflict, match="expired"):
        services.quote_bind(actor=broker, quote=stale, today=TODAY + 31 * DAY)
    passed = make_quote(broker, customer, start=TODAY)
    with pytest.raises(services.Conflict, match="start date"):
        services.quote_bind(actor=broker, quote=passed, today=TODAY + DAY)
    assert Policy.objects.count() == 1


def test_expire_quotes(broker, customer, capsys):
    fresh = make_quote(broker, customer, start=TODAY + 40 * DAY)
    declined = make_quote(broker, customer, risk={**AUTO_RISK, "prior_claims": 9})
    assert services.quotes_expire(today=TODAY + 30 * DAY) == 0
    call_command("expire_policies", "--date", str(TODAY + 31 * DAY))
    assert "Expired 1 quotes" in capsys.readouterr().out
    fresh.refresh_from_db()
    declined.refresh_from_db()
    assert (fresh.status, declined.status) == ("expired", "declined")
    with pytest.raises(services.Conflict):
        services.quote_bind(actor=broker, quote=fresh)


# --- API -----------------------------------------------------------------------------

def _body(customer, **overrides):
    return {"customer_id": str(customer.pk), "policy_type": "auto",
            "coverage_amount": "20000.00", "start_date": TODAY.isoformat(),
            "risk": AUTO_RISK, **overrides}


def test_api_quote_and_bind(broker_client, customer):
    response = broker_client.post("/api/quotes", _body(customer), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert set(data) == {
        "id", "quote_number", "customer_id", "policy_type", "coverage_amount", "start_date",
        "end_date", "risk", "status", "premium_amount", "breakdown", "rating_plan",
        "decline_reasons", "valid_until", "renewal_of", "policy_id", "created_at"}
    assert data["premium_amount"] == "728.00" and data["status"] == "open"
    assert data["breakdown"][0] == {"code": "base", "label": data["breakdown"][0]["label"],
                                    "amount": "500.00"}
    assert data["rating_plan"]["version"] == 1 and data["policy_id"] is None
    bound = broker_client.post(f"/api/quotes/{data['id']}/bind")
    assert bound.status_code == 201, bound.json()
    policy = bound.json()
    assert policy["quote_id"] == data["id"] and policy["premium_amount"] == "728.00"
    assert policy["version"] == 1 and policy["rating_plan"] == data["rating_plan"]
    again = broker_client.post(f"/api/quotes/{data['id']}/bind/")
    assert again.status_code == 409
    shown = broker_client.get(f"/api/quotes/{data['id']}").json()
    assert shown["status"] == "bound" and shown["policy_id"] == policy["id"]


def test_api_declined(broker_client, customer):
    data = broker_client.post("/api/quotes", _body(customer, risk={**AUTO_RISK, "prior_claims": 4}),
                              format="json").json()
    assert data["status"] == "declined" and data["premium_amount"] is None
    assert data["breakdown"] == [] and data["decline_reasons"]
    assert broker_client.post(f"/api/quotes/{data['id']}/bind").status_code == 409


@pytest.mark.parametrize(("overrides", "field"), [
    ({"risk": {"vehicle_value": "x"}}, "risk"),
    ({"policy_type": "boat"}, "policy_type"),
    ({"coverage_amount": "0"}, "coverage_amount"),
    ({"start_date": (TODAY - DAY).isoformat()}, "start_date"),
    ({"end_date": TODAY.isoformat()}, "end_date"),
    ({"customer_id": "00000000-0000-0000-0000-000000000000"}, "customer_id"),
    ({"risk": "cheap"}, "risk"),
])
def test_api_bad_input_names_the_field(broker_client, customer, overrides, field):
    response = broker_client.post("/api/quotes", _body(customer, **overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Quote.objects.count() == 0


def test_api_isolation(broker, broker_client, other_broker_client, staff_client, customer):
    quote = make_quote(broker, customer)
    assert other_broker_client.get(f"/api/quotes/{quote.pk}").status_code == 404
    assert other_broker_client.post(f"/api/quotes/{quote.pk}/bind").status_code == 404
    assert other_broker_client.get("/api/quotes").json()["results"] == []
    assert broker_client.get("/api/quotes").json()["count"] == 1
    assert staff_client.get(f"/api/quotes/{quote.pk}").status_code == 200
    response = other_broker_client.post("/api/quotes", _body(customer), format="json")
    assert response.status_code == 400 and "customer_id" in response.json()


def test_api_filters(broker, broker_client, customer):
    make_quote(broker, customer)
    make_quote(broker, customer, risk={**AUTO_RISK, "prior_claims": 9})
    assert broker_client.get("/api/quotes?status=declined").json()["count"] == 1
    assert broker_client.get(f"/api/quotes?customer_id={customer.pk}").json()["count"] == 2
    assert broker_client.get("/api/quotes?status=nope").status_code == 400


def test_integrator_needs_permissions(integrator, customer):
    client = client_for(integrator)
    assert client.post("/api/quotes", _body(customer), format="json").status_code == 403
    assert client.get("/api/quotes").status_code == 403


def test_unauthenticated(anon_client):
    assert anon_client.get("/api/quotes").status_code == 401


def test_schema_documents_risk_per_product(staff_client):
    schema = staff_client.get("/api/schema?format=json").json()
    components = schema["components"]["schemas"]
    for kind in RISKS:
        name = f"{kind.title()}RiskRequest"
        assert set(components[name]["properties"]) == set(RISKS[kind])
        assert set(components[name]["required"]) == set(RISKS[kind])
        quote = components[f"{kind.title()}QuoteInputRequest"]
        assert quote["properties"]["risk"]["$ref"].endswith(f"/{name}")
    request = components["QuoteRequestRequest"]
    assert request["discriminator"]["propertyName"] == "policy_type"
    assert set(request["discriminator"]["mapping"]) == set(RISKS)


# --- admin ---------------------------------------------------------------------------

@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


def test_admin_plan_is_editable_until_used_then_read_only(admin_client, broker, customer,
                                                         default_plans):
    plan = default_plans["life"]
    url = f"/admin/policies/ratingplan/{plan.pk}/change/"
    assert b'name="base_rate"' in admin_client.get(url).content
    make_quote(broker, customer, policy_type="life")
    page = admin_client.get(url)
    assert page.status_code == 200 and b'name="base_rate"' not in page.content
    response = admin_client.post("/admin/policies/ratingplan/",
                                 {"action": "new_version", "_selected_action": [plan.pk]})
    copy = RatingPlan.objects.get(policy_type="life", version=2)
    assert response.status_code == 302 and str(copy.pk) in response["Location"]
    assert b'name="base_rate"' in admin_client.get(
        f"/admin/policies/ratingplan/{copy.pk}/change/").content


def test_admin_refuses_a_malformed_plan(admin_client, default_plans):
    plan = default_plans["home"]
    response = admin_client.post(f"/admin/policies/ratingplan/{plan.pk}/change/", {
        "policy_type": "home", "effective_from": "2000-01-01", "base_rate": "1.5",
        "minimum_premium": "120", "factors": '[{"answer": "age", "kind": "bands"}]',
        "fees": "[]", "taxes": "[]", "appetite": "[]", "notes": ""})
    assert response.status_code == 200 and b"answer must be one of" in response.content
    plan.refresh_from_db()
    assert plan.factors[0]["answer"] == "construction"


def test_admin_quotes_policies_endorsements_and_renewals(admin_client, broker, customer):
    policy = services.quote_bind(actor=broker, quote=make_quote(broker, customer))
    services.endorsement_create(actor=broker, policy=policy, effective_date=TODAY,
                                reason="More cover", coverage_amount=Decimal("30000"))
    assert admin_client.get("/admin/policies/quote/").status_code == 200
    assert admin_client.get("/admin/policies/quote/", {"q": customer.last_name}).status_code == 200
    assert admin_client.get(f"/admin/policies/quote/{policy.quote_id}/change/").status_code == 200
    page = admin_client.get(f"/admin/policies/policy/{policy.pk}/change/")
    assert b"More cover" in page.content and b"terms history" in page.content.lower()
    soon = PolicyFactory(customer=customer, end_date=TODAY + 20 * DAY)
    later = PolicyFactory(customer=customer, end_date=TODAY + 70 * DAY)
    due30 = admin_client.get("/admin/policies/policy/", {"ends_within": "30"}).content
    due90 = admin_client.get("/admin/policies/policy/", {"ends_within": "90"}).content
    assert soon.policy_number.encode() in due30 and later.policy_number.encode() not in due30
    assert soon.policy_number.encode() in due90 and later.policy_number.encode() in due90
    assert policy.policy_number.encode() not in due90
    full = admin_client.get("/admin/policies/policy/")
    assert policy.policy_number.encode() in full.content
