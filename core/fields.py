"""Serializer fields for what every API input shares: dates and money.

Clients send dates as `YYYY-MM-DD` or as a full ISO 8601 date-time (the seed's clients
send `2024-12-31T23:59:59Z`); a date-time counts as the calendar date written in it,
never shifted to another time zone. Money arrives as a JSON number (`150.00`) or a
string (`"150.00"`) and leaves as a string with two places. Every serializer of the
API uses these two fields (tests/test_api_fields.py checks the schema for strays), and
core/schema.py describes them in the OpenAPI schema exactly as they parse.
"""

import datetime
import math
import re
from decimal import Decimal, InvalidOperation

from rest_framework import serializers

DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
# Date, then a time of day, optional fraction, optional offset (Z or +hh:mm / -hh:mm).
DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d{1,9})?)?"
    r"(?:[Zz]|[+-](\d{2}):?(\d{2}))?$"
)
MONEY_RE = re.compile(r"^-?\d+(?:\.\d{1,2})?$")


def parse_api_date(value: str) -> datetime.date | None:
    """The calendar date written in `value` (a date or an ISO 8601 date-time), or None
    when it is neither. The time and offset of a date-time are checked, then dropped."""
    match = DATE_RE.match(value)
    if match is None:
        match = DATETIME_RE.match(value)
        if match is None:
            return None
        hour, minute = int(match.group(4)), int(match.group(5))
        second = int(match.group(6) or 0)
        off_h, off_m = int(match.group(7) or 0), int(match.group(8) or 0)
        if hour > 23 or minute > 59 or second > 60 or off_h > 23 or off_m > 59:
            return None
    try:
        return datetime.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


class DateField(serializers.DateField):
    """A date: `YYYY-MM-DD`, or an ISO 8601 date-time whose calendar date is taken as
    written (`2024-12-31T23:59:59Z` is 31 December 2024). Answers `YYYY-MM-DD`."""

    default_error_messages = {
        "invalid": "Enter a date as YYYY-MM-DD or an ISO 8601 date-time "
                   "(e.g. 2024-12-31 or 2024-12-31T23:59:59Z).",
    }

    def __init__(self, **kwargs):
        kwargs.pop("input_formats", None)
        kwargs.pop("format", None)
        super().__init__(format="%Y-%m-%d", **kwargs)

    def to_internal_value(self, value):
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        if not isinstance(value, str):
            self.fail("invalid")
        parsed = parse_api_date(value)
        if parsed is None:
            self.fail("invalid")
        return parsed


class MoneyField(serializers.DecimalField):
    """An amount with at most two decimal places, from a JSON number or a string
    (`150`, `150.5`, `"150.00"`); answered as a string with two places. NaN, infinities,
    booleans, exponents and a third decimal place are refused, naming the field."""

    default_error_messages = {
        "invalid": "Enter an amount as a number or a string with at most 2 decimal places, "
                   "e.g. 150.00.",
    }

    def __init__(self, *, max_digits: int = 14, decimal_places: int = 2, **kwargs):
        super().__init__(max_digits=max_digits, decimal_places=decimal_places,
                         coerce_to_string=True, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, float):
            if not math.isfinite(data):
                self.fail("invalid")
            # repr is the shortest text that reads back as the same float: 150.0, 0.1.
            text = repr(data)
            if "e" in text or "E" in text:
                self.fail("invalid")
            if text.endswith(".0"):
                text = text[:-2]
        elif isinstance(data, int):
            text = str(data)
        elif isinstance(data, str):
            text = data
            if len(text) > self.MAX_STRING_LENGTH:
                self.fail("max_string_length")
        elif isinstance(data, Decimal):
            text = format(data, "f")
        else:
            self.fail("invalid")
        if MONEY_RE.match(text) is None:
            if re.match(r"^-?\d+\.\d{3,}$", text):
                self.fail("max_decimal_places", max_decimal_places=self.decimal_places)
            self.fail("invalid")
        try:
            value = Decimal(text)
        except InvalidOperation:
            self.fail("invalid")
        return self.quantize(self.validate_precision(value))
