"""The one rating function: risk inputs + a rating plan -> premium and breakdown.

Pure and deterministic: no database, no clock, no settings. Quotes, endorsements
and renewals all price through `rate()`.

A plan (see `PlanRules`) holds:

- `base_rate`: premium per 1,000 of coverage;
- `factors`: tables that multiply the running premium, one per risk answer
  (`bands` for numbers, `choice` for enumerations, `bool` for yes/no answers),
  each shown as its own breakdown line (a loading or a discount);
- `minimum_premium`: the risk premium (after factors and the short-period
  adjustment) is raised to it, as its own `minimum_premium` line;
- `fees`: fixed amounts added after the minimum;
- `taxes`: rates applied to the premium plus fees;
- `appetite`: rules that decline a risk, each with its reason.

Money: every amount is computed exactly in `Decimal`; each line is the rounded
(half up, to the cent) running total after it minus the rounded running total
before it. So each line is rounded once, the lines sum exactly to the premium,
and the premium is the exact figure rounded once: more cover (or any answer a
monotone table loads) never costs less, not even by a cent.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
THOUSAND = Decimal(1000)


def round_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def prorate(amount: Decimal, days: int, term_days: int) -> Decimal:
    """`amount × days / term_days`, rounded half up to the cent."""
    return round_money(Decimal(amount) * Decimal(days) / Decimal(term_days))


def term_days(start: datetime.date, end: datetime.date) -> int:
    """Cover runs from start to end inclusive."""
    return (end - start).days + 1


def one_year_end(start: datetime.date) -> datetime.date:
    """The last day of a one-year term starting on `start` (29 Feb -> 28 Feb)."""
    try:
        anniversary = start.replace(year=start.year + 1)
    except ValueError:
        anniversary = start.replace(year=start.year + 1, day=28) + datetime.timedelta(days=1)
    return anniversary - datetime.timedelta(days=1)


@dataclass(frozen=True)
class PlanRules:
    policy_type: str
    base_rate: Decimal
    minimum_premium: Decimal
    factors: tuple = ()
    fees: tuple = ()
    taxes: tuple = ()
    appetite: tuple = ()


@dataclass(frozen=True)
class Line:
    code: str
    label: str
    amount: Decimal

    def as_dict(self) -> dict:
        return {"code": self.code, "label": self.label, "amount": f"{self.amount:.2f}"}


@dataclass(frozen=True)
class Rating:
    premium: Decimal | None
    lines: tuple[Line, ...] = ()
    decline_reasons: tuple[str, ...] = ()

    @property
    def declined(self) -> bool:
        return bool(self.decline_reasons)

    def breakdown(self) -> list[dict]:
        return [line.as_dict() for line in self.lines]


@dataclass(frozen=True)
class RatingInputs:
    """What a risk is rated on: coverage, the term, and the answers (the product's
    risk answers plus derived ones such as `age`)."""

    coverage_amount: Decimal
    start_date: datetime.date
    end_date: datetime.date
    answers: dict = field(default_factory=dict)


def _number(value) -> Decimal:
    if isinstance(value, bool):
        return Decimal(int(value))
    return Decimal(str(value))


def factor_for(table: dict, value) -> Decimal:
    """The factor a table gives an answer (1 when the table does not speak to it)."""
    kind = table["kind"]
    if kind == "bands":
        number = _number(value)
        for band in table["bands"]:
            upto = band.get("upto")
            if upto is None or number <= _number(upto):
                return Decimal(str(band["factor"]))
        return Decimal(1)
    if kind == "choice":
        return Decimal(str(table["values"].get(str(value), "1")))
    if kind == "bool":
        return Decimal(str(table["true" if value else "false"]))
    raise ValueError(f"unknown factor table kind {kind!r}")


_OPS = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def _rule_matches(rule: dict, value) -> bool:
    op = rule["op"]
    if op == "eq":
        return value == rule["value"]
    if op == "in":
        return value in rule["value"]
    return _OPS[op](_number(value), _number(rule["value"]))


def _answer(inputs: RatingInputs, name: str):
    if name == "coverage_amount":
        return inputs.coverage_amount
    return inputs.answers.get(name)


def declines(plan: PlanRules, inputs: RatingInputs) -> tuple[str, ...]:
    """The reasons of every appetite rule the risk falls foul of, in plan order.
    A rule `all` of conditions matches when each of them does."""
    reasons = []
    for rule in plan.appetite:
        conditions = rule.get("all") or [rule]
        hit = True
        for condition in conditions:
            value = _answer(inputs, condition["answer"])
            if value is None or not _rule_matches(condition, value):
                hit = False
                break
        if hit:
            reasons.append(rule["reason"])
    return tuple(reasons)


class _Lines:
    """Running exact total; each line is the rounded total after it minus the
    rounded total before it."""

    def __init__(self):
        self.exact = Decimal(0)
        self.lines: list[Line] = []

    def add(self, code: str, label: str, exact_amount: Decimal) -> None:
        before = round_money(self.exact)
        self.exact += exact_amount
        self.lines.append(Line(code, label, round_money(self.exact) - before))

    @property
    def total(self) -> Decimal:
        return round_money(self.exact)


def _factor_label(table: dict, value, factor: Decimal) -> str:
    shown = "yes" if value is True else "no" if value is False else value
    return f"{table['label']} ({shown}): ×{factor.normalize():f}"


def rate(plan: PlanRules, inputs: RatingInputs) -> Rating:
    """Price a risk on a plan. Declined risks have no premium and no lines."""
    reasons = declines(plan, inputs)
    if reasons:
        return Rating(premium=None, decline_reasons=reasons)
    lines = _Lines()
    coverage = Decimal(inputs.coverage_amount)
    lines.add("base", f"Base premium ({plan.base_rate.normalize():f} per 1,000 of cover)",
              coverage * Decimal(plan.base_rate) / THOUSAND)
    for table in plan.factors:
        value = _answer(inputs, table["answer"])
        if value is None:
            continue
        factor = factor_for(table, value)
        if factor != 1:
            lines.add(f"factor.{table['answer']}", _factor_label(table, value, factor),
                      lines.exact * (factor - 1))
    days = term_days(inputs.start_date, inputs.end_date)
    year = term_days(inputs.start_date, one_year_end(inputs.start_date))
    if days != year:
        lines.add("short_period", f"Term of {days} days (of {year})",
                  lines.exact * (Decimal(days) / Decimal(year) - 1))
    minimum = Decimal(plan.minimum_premium)
    if lines.total < minimum:
        lines.add("minimum_premium", f"Uplift to the minimum premium of {minimum:.2f}",
                  minimum - lines.exact)
    for fee in plan.fees:
        lines.add(f"fee.{fee['code']}", fee["label"], Decimal(str(fee["amount"])))
    taxable = lines.exact
    for tax in plan.taxes:
        rate_ = Decimal(str(tax["rate"]))
        lines.add(f"tax.{tax['code']}", f"{tax['label']} ({rate_ * 100:.2f}%)",
                  taxable * rate_)
    return Rating(premium=lines.total, lines=tuple(lines.lines))
