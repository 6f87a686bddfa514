"""What a well-formed rating plan is, and which risk answers each product asks.

Kept apart from the pure rating function so the admin can tell staff exactly
which part of a plan they edited is wrong before anything is rated on it.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

# The answers each product's factor tables and appetite rules may read: the risk
# answers of API.md plus the derived `age` (from the customer's date of birth) and
# the `coverage_amount` itself.
RISK_ANSWERS = {
    "auto": ("vehicle_value", "annual_mileage", "prior_claims", "age"),
    "home": ("rebuild_value", "construction", "flood_zone"),
    "life": ("smoker", "age"),
    "health": ("smoker", "deductible", "age"),
}
NEEDS_AGE = {kind for kind, answers in RISK_ANSWERS.items() if "age" in answers}
TABLE_KINDS = ("bands", "choice", "bool")
RULE_OPS = ("gt", "gte", "lt", "lte", "eq", "in")


def _decimal(value, where: str, errors: list, *, positive=True) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.append(f"{where}: {value!r} is not a number.")
        return None
    if not number.is_finite() or (positive and number <= 0) or (not positive and number < 0):
        errors.append(f"{where}: {value!r} must be {'above' if positive else 'at least'} zero.")
        return None
    return number


def _check_table(table, answers, errors: list) -> None:
    if not isinstance(table, dict):
        errors.append("factors: each table is an object.")
        return
    answer = table.get("answer")
    where = f"factors[{answer}]"
    if answer not in answers:
        errors.append(f"{where}: answer must be one of {', '.join(answers)}.")
    if not table.get("label"):
        errors.append(f"{where}: a label is required.")
    kind = table.get("kind")
    if kind not in TABLE_KINDS:
        errors.append(f"{where}: kind must be one of {', '.join(TABLE_KINDS)}.")
        return
    if kind == "bands":
        bands = table.get("bands") or []
        if not bands or bands[-1].get("upto") is not None:
            errors.append(f"{where}: bands end with an open band (upto null).")
        factors, previous = [], None
        for band in bands:
            factor = _decimal(band.get("factor"), where, errors)
            factors.append(factor)
            upto = band.get("upto")
            if upto is not None:
                bound = _decimal(upto, where, errors, positive=False)
                if bound is not None and previous is not None and bound <= previous:
                    errors.append(f"{where}: band limits must increase.")
                previous = bound
        monotone = table.get("monotone")
        if monotone not in (None, "increasing", "decreasing"):
            errors.append(f"{where}: monotone is increasing, decreasing or absent.")
        elif monotone and None not in factors:
            ordered = sorted(factors, reverse=monotone == "decreasing")
            if factors != ordered:
                errors.append(f"{where}: factors must be {monotone} as the table says.")
    elif kind == "choice":
        values = table.get("values")
        if not isinstance(values, dict) or not values:
            errors.append(f"{where}: values maps each choice to a factor.")
        else:
            for factor in values.values():
                _decimal(factor, where, errors)
    else:
        for key in ("true", "false"):
            _decimal(table.get(key), f"{where}.{key}", errors)


def _check_rule(rule, answers, errors: list) -> None:
    if not isinstance(rule, dict) or not rule.get("reason"):
        errors.append("appetite: each rule is an object with a reason.")
        return
    for condition in rule.get("all") or [rule]:
        if condition.get("answer") not in (*answers, "coverage_amount"):
            errors.append(
                f"appetite[{rule['reason']}]: unknown answer {condition.get('answer')!r}.")
        if condition.get("op") not in RULE_OPS:
            errors.append(f"appetite[{rule['reason']}]: op must be one of {', '.join(RULE_OPS)}.")
        if "value" not in condition:
            errors.append(f"appetite[{rule['reason']}]: a value is required.")


def validate_plan(plan) -> None:
    """Raise a ValidationError keyed by the plan's fields when a part is malformed."""
    answers = RISK_ANSWERS.get(plan.policy_type, ())
    problems: dict[str, list] = {}
    errors: list = []
    for table in plan.factors if isinstance(plan.factors, list) else [None]:
        _check_table(table, answers, errors)
    if errors:
        problems["factors"] = errors
    errors = []
    for fee in plan.fees if isinstance(plan.fees, list) else [None]:
        if not isinstance(fee, dict) or not fee.get("code") or not fee.get("label"):
            errors.append("each fee is an object with a code, a label and an amount.")
        else:
            _decimal(fee.get("amount"), f"fee {fee['code']}", errors, positive=False)
    if errors:
        problems["fees"] = errors
    errors = []
    for tax in plan.taxes if isinstance(plan.taxes, list) else [None]:
        if not isinstance(tax, dict) or not tax.get("code") or not tax.get("label"):
            errors.append("each tax is an object with a code, a label and a rate.")
        else:
            _decimal(tax.get("rate"), f"tax {tax['code']}", errors, positive=False)
    if errors:
        problems["taxes"] = errors
    errors = []
    for rule in plan.appetite if isinstance(plan.appetite, list) else [None]:
        _check_rule(rule, answers, errors)
    if errors:
        problems["appetite"] = errors
    if problems:
        raise ValidationError(problems)
