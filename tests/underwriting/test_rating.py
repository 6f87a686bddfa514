"""The rating function: pure, exact to the cent, never below the minimum, monotone
where the plan says so. Property tests run over the default plans the migration
makes (frozen here as rules so they need no database) and over generated plans."""

import datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies import rating
from policies.rating import PlanRules, RatingInputs, rate

START = datetime.date(2026, 3, 1)
END = rating.one_year_end(START)


def _default_plans():
    import importlib

    migration = importlib.import_module("policies.migrations.0004_default_rating_plans")
    return {
        kind: PlanRules(policy_type=kind, base_rate=Decimal(p["base_rate"]),
                        minimum_premium=Decimal(p["minimum_premium"]),
                        factors=tuple(p["factors"]), fees=tuple(p["fees"]),
                        taxes=tuple(p["taxes"]), appetite=tuple(p["appetite"]))
        for kind, p in migration.PLANS.items()
    }


PLANS = _default_plans()
money = st.decimals(min_value=Decimal("1.00"), max_value=Decimal("5000000"), places=2)
ages = st.integers(min_value=18, max_value=69)


def answers_for(kind):
    if kind == "auto":
        return st.fixed_dictionaries({
            "vehicle_value": st.decimals(min_value=1, max_value=250000, places=2).map(str),
            "annual_mileage": st.integers(0, 500000), "prior_claims": st.integers(0, 3),
            "age": st.integers(17, 99)})
    if kind == "home":
        return st.fixed_dictionaries({
            "rebuild_value": st.decimals(min_value=1, max_value=5000000, places=2).map(str),
            "construction": st.just("masonry"), "flood_zone": st.booleans()})
    if kind == "life":
        return st.fixed_dictionaries({"smoker": st.booleans(), "age": st.integers(18, 75)})
    return st.fixed_dictionaries({
        "smoker": st.booleans(), "age": st.integers(0, 70),
        "deductible": st.decimals(min_value=0, max_value=10000, places=2).map(str)})


def risks():
    return st.sampled_from(sorted(PLANS)).flatmap(
        lambda kind: st.tuples(st.just(kind), answers_for(kind), money,
                               st.integers(min_value=1, max_value=365)))


def _inputs(coverage, answers, days=365):
    return RatingInputs(coverage_amount=coverage, start_date=START,
                        end_date=START + datetime.timedelta(days=days - 1), answers=answers)


@settings(max_examples=300, deadline=None)
@given(risks())
def test_lines_sum_exactly_to_the_premium_and_it_is_at_least_the_minimum(case):
    kind, answers, coverage, days = case
    result = rate(PLANS[kind], _inputs(coverage, answers, days))
    assert not result.declined
    assert sum(line.amount for line in result.lines) == result.premium
    assert result.premium >= PLANS[kind].minimum_premium
    for line in result.lines:
        assert line.amount == line.amount.quantize(Decimal("0.01"))
    codes = [line.code for line in result.lines]
    assert len(codes) == len(set(codes))


@settings(max_examples=200, deadline=None)
@given(risks())
def test_same_inputs_same_answer(case):
    kind, answers, coverage, days = case
    first = rate(PLANS[kind], _inputs(coverage, answers, days))
    again = rate(PLANS[kind], _inputs(Decimal(str(coverage)), dict(answers), days))
    assert first == again


@settings(max_examples=300, deadline=None)
@given(risks(), money)
def test_more_cover_never_costs_less(case, more):
    kind, answers, coverage, days = case
    low, high = sorted([coverage, more])
    assert (rate(PLANS[kind], _inputs(low, answers, days)).premium
            <= rate(PLANS[kind], _inputs(high, answers, days)).premium)


def _monotone_tables():
    return [(kind, table) for kind, plan in PLANS.items() for table in plan.factors
            if table.get("monotone")]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_monotone_tables()), st.data())
def test_monotone_tables_are_monotone_in_the_premium(pick, data):
    kind, table = pick
    answers = data.draw(answers_for(kind))
    coverage = data.draw(money)
    key = table["answer"]
    top = {"age": 69 if kind != "health" else 70, "prior_claims": 3}.get(key, 250000)
    a, b = sorted(data.draw(st.lists(st.integers(0, top), min_size=2, max_size=2)))
    cheap, dear = (a, b) if table["monotone"] == "increasing" else (b, a)
    low = rate(PLANS[kind], _inputs(coverage, {**answers, key: cheap}))
    high = rate(PLANS[kind], _inputs(coverage, {**answers, key: dear}))
    if low.declined or high.declined:
        return
    assert low.premium <= high.premium


@settings(max_examples=200, deadline=None)
@given(base=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("500"), places=4),
       minimum=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2),
       factor=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9"), places=3),
       fee=st.decimals(min_value=0, max_value=Decimal("100"), places=2),
       tax=st.decimals(min_value=0, max_value=Decimal("0.5"), places=4),
       coverage=money)
def test_any_plan_lines_sum_to_premium(base, minimum, factor, fee, tax, coverage):
    plan = PlanRules(
        policy_type="life", base_rate=base, minimum_premium=minimum,
        factors=({"answer": "smoker", "label": "Smoker", "kind": "bool",
                  "true": str(factor), "false": "1"},),
        fees=({"code": "f", "label": "Fee", "amount": str(fee)},),
        taxes=({"code": "t", "label": "Tax", "rate": str(tax)},))
    result = rate(plan, _inputs(coverage, {"smoker": True}))
    assert sum(line.amount for line in result.lines) == result.premium
    assert result.premium >= minimum


def test_worked_example_auto():
    # 20,000 cover × 25 per 1,000 = 500.00; vehicle 25,000 ×1.00; mileage 8,000 ×1.00;
    # 1 prior claim ×1.25 → +125.00; age 45 ×1.00; fee 25.00; tax 12% of 650.00 = 78.00.
    result = rate(PLANS["auto"], _inputs(Decimal("20000"), {
        "vehicle_value": "25000.00", "annual_mileage": 8000, "prior_claims": 1, "age": 45}))
    assert [(line.code, line.amount) for line in result.lines] == [
        ("base", Decimal("500.00")), ("factor.prior_claims", Decimal("125.00")),
        ("fee.policy_fee", Decimal("25.00")), ("tax.ipt", Decimal("78.00"))]
    assert result.premium == Decimal("728.00")


def test_minimum_premium_uplift_is_its_own_line():
    result = rate(PLANS["life"], _inputs(Decimal("1000"), {"smoker": False, "age": 30}))
    assert [(line.code, line.amount) for line in result.lines] == [
        ("base", Decimal("2.00")), ("minimum_premium", Decimal("98.00"))]
    assert result.premium == Decimal("100.00")


def test_rounding_is_half_up_per_line():
    plan = PlanRules(policy_type="life", base_rate=Decimal("1"), minimum_premium=Decimal("0.01"))
    # 2,005 × 1 / 1,000 = 2.005 → 2.01 (half up, not banker's 2.00)
    assert rate(plan, _inputs(Decimal("2005"), {})).premium == Decimal("2.01")


def test_short_term_is_pro_rated():
    plan = PlanRules(policy_type="life", base_rate=Decimal("10"), minimum_premium=Decimal("1"))
    result = rate(plan, _inputs(Decimal("36500"), {}, days=73))  # 365.00 for a fifth of a year
    assert result.premium == Decimal("73.00")
    assert result.lines[-1].code == "short_period"


@pytest.mark.parametrize(("kind", "answers", "reason"), [
    ("auto", {"vehicle_value": "1000", "annual_mileage": 1, "prior_claims": 4, "age": 40},
     "More than 3 claims"),
    ("auto", {"vehicle_value": "1000", "annual_mileage": 1, "prior_claims": 0, "age": 16},
     "under 17"),
    ("home", {"rebuild_value": "1000", "construction": "timber", "flood_zone": True},
     "Timber buildings"),
    ("life", {"smoker": False, "age": 76}, "past age 75"),
])
def test_appetite_declines_with_reasons(kind, answers, reason):
    result = rate(PLANS[kind], _inputs(Decimal("1000"), answers))
    assert result.declined and result.premium is None and result.lines == ()
    assert any(reason in text for text in result.decline_reasons)


def test_timber_outside_a_flood_zone_is_written():
    result = rate(PLANS["home"], _inputs(Decimal("100000"), {
        "rebuild_value": "100000", "construction": "timber", "flood_zone": False}))
    assert not result.declined
    assert "factor.construction" in [line.code for line in result.lines]


def test_prorate_and_terms():
    assert rating.term_days(START, START) == 1
    assert rating.one_year_end(datetime.date(2024, 2, 29)) == datetime.date(2025, 2, 28)
    assert rating.one_year_end(datetime.date(2025, 1, 1)) == datetime.date(2025, 12, 31)
    assert rating.prorate(Decimal("100"), 1, 8) == Decimal("12.50")
    assert rating.prorate(Decimal("0.05"), 1, 2) == Decimal("0.03")


# --- pro-rating of refunds and endorsement deltas (no database) ---------------------

@settings(max_examples=200, deadline=None)
@given(premium=st.decimals(min_value=Decimal("1.00"), max_value=Decimal("99999"), places=2),
       days=st.integers(min_value=1, max_value=366), data=st.data())
def test_unearned_premium_is_pro_rata_and_falls_day_by_day(premium, days, data):
    from policies.models import Policy
    from policies.services import unearned_premium

    end = START + datetime.timedelta(days=days - 1)
    policy = Policy(start_date=START, end_date=end, premium_amount=premium,
                    coverage_amount=Decimal(1))
    first, second = sorted(data.draw(st.lists(st.integers(0, days - 1), min_size=2,
                                              max_size=2)))
    early = unearned_premium(policy, START + datetime.timedelta(days=first), rows=[])
    late = unearned_premium(policy, START + datetime.timedelta(days=second), rows=[])
    assert unearned_premium(policy, START, rows=[]) == premium
    assert early == rating.prorate(premium, days - first, days)
    assert Decimal(0) < late <= early <= premium


@settings(max_examples=200, deadline=None)
@given(before=st.decimals(min_value=1, max_value=99999, places=2),
       after=st.decimals(min_value=1, max_value=99999, places=2),
       days=st.integers(min_value=2, max_value=366), data=st.data())
def test_endorsement_delta_matches_the_contract_formula(before, after, days, data):
    from policies.services import endorsement_delta

    end = START + datetime.timedelta(days=days - 1)
    offset = data.draw(st.integers(0, days - 1))
    effective = START + datetime.timedelta(days=offset)
    delta = endorsement_delta(start=START, effective=effective, before=before, old_end=end,
                              after=after, new_end=end)
    assert delta == rating.prorate(after - before, days - offset, days)
    if after == before:
        assert delta == 0
