"""Each product's risk answers: which keys, what values (API.md, Underwriting).

Used by the services (so the API, the portal and renewals share one check) and
by the API's schema, which documents the same keys per product.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from core.exceptions import DomainError

MAX_MONEY = Decimal("1000000000")
CONSTRUCTIONS = ("masonry", "timber")
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


class RiskInvalid(DomainError):
    """Risk answers that do not fit the product: each bad key named under `risk`."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("Invalid risk answers.", field="risk")
        self.errors = errors

    def as_data(self) -> dict:
        return {"risk": {key: [message] for key, message in self.errors.items()}}


def _money(value, *, allow_zero=False) -> str:
    if isinstance(value, bool):
        raise ValueError("a number is required")
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError("a number is required") from None
    if not number.is_finite():
        raise ValueError("a number is required")
    if number != number.quantize(Decimal("0.01")):
        raise ValueError("at most 2 decimal places")
    if number < 0 or (number == 0 and not allow_zero):
        raise ValueError("must be at least 0" if allow_zero else "must be greater than 0")
    if number > MAX_MONEY:
        raise ValueError(f"must be at most {MAX_MONEY}")
    return f"{number:.2f}"


def _whole(value, *, most: int) -> int:
    if isinstance(value, bool):
        raise ValueError("a whole number is required")
    if isinstance(value, str):
        value = value.strip()
        if not value.lstrip("-").isdigit():
            raise ValueError("a whole number is required")
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise ValueError("a whole number is required")
    if value < 0 or value > most:
        raise ValueError(f"must be between 0 and {most}")
    return value


def _bool(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError("true or false is required")


def _construction(value) -> str:
    if value not in CONSTRUCTIONS:
        raise ValueError(f"one of {', '.join(CONSTRUCTIONS)}")
    return value


# key -> (parser, help text) per product, in the order forms show them.
FIELDS = {
    "auto": {
        "vehicle_value": (_money, "Value of the vehicle."),
        "annual_mileage": (lambda v: _whole(v, most=500_000), "Miles (or km) driven a year."),
        "prior_claims": (lambda v: _whole(v, most=50), "Claims in the last 5 years."),
    },
    "home": {
        "rebuild_value": (_money, "Cost to rebuild the home."),
        "construction": (_construction, "masonry or timber."),
        "flood_zone": (_bool, "Whether the home lies in a flood zone."),
    },
    "life": {
        "smoker": (_bool, "Whether the insured person smokes."),
    },
    "health": {
        "smoker": (_bool, "Whether the insured person smokes."),
        "deductible": (lambda v: _money(v, allow_zero=True), "Deductible per claim year."),
    },
}


def clean_risk(policy_type: str, risk, *, partial: bool = False) -> dict:
    """The product's risk answers, normalised (money as strings with 2 places,
    whole numbers, booleans). Unknown keys, missing keys (unless `partial`) and
    bad values are each named."""
    if not isinstance(risk, dict):
        raise RiskInvalid({"non_field_errors": "Risk answers are an object."})
    fields = FIELDS.get(policy_type, {})
    errors: dict[str, str] = {}
    clean: dict = {}
    for key in risk:
        if key not in fields:
            errors[str(key)] = (f"Not a {policy_type} risk answer; the answers are "
                                f"{', '.join(fields)}.")
    for key, (parse, _help) in fields.items():
        if key not in risk or risk[key] in (None, ""):
            if not partial:
                errors[key] = "This answer is required."
            continue
        try:
            clean[key] = parse(risk[key])
        except ValueError as exc:
            errors[key] = f"Invalid: {exc}."
    if errors:
        raise RiskInvalid(errors)
    return clean


_LABELS = {"coverage_amount": "Coverage", "end_date": "End date",
           "vehicle_value": "Vehicle value", "annual_mileage": "Annual mileage",
           "prior_claims": "Claims in the last 5 years", "rebuild_value": "Rebuild value",
           "construction": "Construction", "flood_zone": "Flood zone", "smoker": "Smoker",
           "deductible": "Deductible"}


def change_rows(changes: dict) -> list[tuple[str, object, object]]:
    """An endorsement's `changes` as (label, old, new) for people to read."""
    rows = []
    for key, (old, new) in (changes or {}).items():
        name = key.removeprefix("risk.")
        rows.append((_LABELS.get(name, name.replace("_", " ").capitalize()), old, new))
    return rows
