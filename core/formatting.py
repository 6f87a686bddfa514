"""How the product writes amounts, dates and counted nouns for people: one helper
each, used by the portal, the admin and the messages services raise.

    money(Decimal("1998.48"))      -> "£1,998.48"   (settings.CURRENCY, default GBP)
    day(date(2026, 11, 29))        -> "29 Nov 2026" (as every page shows dates)
    with_article("auto policy")    -> "an auto policy"
    counted(1, "claim")            -> "1 claim"; counted(3, "claim") -> "3 claims"
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings

CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "JPY": "¥", "INR": "₹",
                    "CHF": "CHF ", "AUD": "A$", "CAD": "C$", "NZD": "NZ$"}
NO_MINOR_UNITS = {"JPY", "KRW", "ISK"}
DAY_FORMAT = "%-d %b %Y"
EMPTY = "–"


def currency_symbol(code: str | None = None) -> str:
    code = (code or settings.CURRENCY).upper()
    return CURRENCY_SYMBOLS.get(code, f"{code} ")


def money(value, currency: str | None = None) -> str:
    """An amount with its currency, thousands separators and its minor units."""
    if value is None or value == "":
        return EMPTY
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not amount.is_finite():
        return str(value)
    code = (currency or settings.CURRENCY).upper()
    places = 0 if code in NO_MINOR_UNITS else 2
    amount = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}{currency_symbol(code)}{abs(amount):,.{places}f}"


def number(value) -> str:
    """A whole number with thousands separators, as a count on a page: 12,345."""
    if isinstance(value, bool) or not isinstance(value, int):
        return str(value)
    return f"{value:,}"


def day(value) -> str:
    """A date (or the local date of a date-time) as the pages show it: 29 Nov 2026."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, datetime.datetime):
        from django.utils import timezone

        if timezone.is_aware(value):
            value = timezone.localtime(value)
        value = value.date()
    return f"{value.day} {value:%b %Y}"


_AN_EXCEPTIONS = ("uni", "use", "usu", "eu", "one", "once")
_A_EXCEPTIONS = ("hour", "honest", "honour", "heir")


def article(word: str) -> str:
    """'a' or 'an' for the word as it is said (an auto, an approved, a user, an hour)."""
    w = (word or "").strip().lower()
    if not w:
        return "a"
    if w.startswith(_A_EXCEPTIONS):
        return "an"
    if w.startswith(_AN_EXCEPTIONS):
        return "a"
    return "an" if w[0] in "aeiou" else "a"


def with_article(phrase: str, *, capital: bool = False) -> str:
    art = article(phrase)
    if capital:
        art = art.capitalize()
    return f"{art} {phrase}"


def counted(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"
