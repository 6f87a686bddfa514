"""Find one person's data in free text and replace it with a neutral marker.

Erasure must leave no trace of a person in what people typed: claim descriptions,
cancellation reasons, document names, change records. People write a name, a
phone number or a date of birth in many ways, so a `Redactor` is built from the
person's data and matches, case-insensitively:

- each name and the e-mail address (and its local part), as whole words;
- the phone number with or without its country code or trunk 0, in any grouping
  of spaces, dots, dashes and brackets (``+44 7700 900123``, ``07700-900-123``);
- the date of birth as ISO, day-first and month-first numbers (``19/07/1971``,
  ``7.19.71``), and with the month's name (``19th July 1971``, ``Jul 19, 1971``);
- the address as a whole and line by line (street, town, postcode).

`Redactor.for_person(..., distinctive=True)` keeps only what names that person
and nobody else (the full name, e-mail, phone, full address and its first line):
it is safe to run over other people's records, where a bare first name, a town
or a date would scrub too much.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers

MARKER = "[erased]"

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
_SEP = r"[\s./\-]{1,3}"
_PHONE_SEP = r"[\s.\-()]{0,3}"


@dataclass(frozen=True)
class PersonalData:
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    date_of_birth: datetime.date | None = None
    address: str = ""


def _word(text: str) -> str:
    """A literal as a whole word (or words: joined by any run of spaces, commas,
    dots, dashes or underscores, as in a file name)."""
    parts = [re.escape(p) for p in re.split(r"\s+", text.strip()) if p]
    return r"(?<![^\W_])" + r"[\s,._\-]+".join(parts) + r"(?![^\W_])"


def _digits(digits: str) -> str:
    return _PHONE_SEP.join(re.escape(d) for d in digits)


def phone_patterns(phone: str, *, region: str | None = None) -> list[str]:
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) < 6:
        return []
    try:
        parsed = phonenumbers.parse(phone, region)
        national = phonenumbers.national_significant_number(parsed)
        code = str(parsed.country_code)
    except phonenumbers.NumberParseException:
        national, code = digits, ""
    prefix = r"\(?(?:(?:\+|00)\s*" + re.escape(code) + _PHONE_SEP + r"(?:\(0\)\s*)?|0)?" \
        if code else r"\(?0?"
    patterns = [r"(?<![\w+])" + prefix + _digits(national) + r"(?!\d)"]
    if national != digits:
        patterns.append(r"(?<!\d)\+?" + _digits(digits) + r"(?!\d)")
    return patterns


def phone_db_pattern(phone: str, *, region: str | None = None) -> str:
    """The phone's national digits, any few non-digits between them (POSIX regex)."""
    try:
        national = phonenumbers.national_significant_number(phonenumbers.parse(phone, region))
    except phonenumbers.NumberParseException:
        national = re.sub(r"\D", "", phone or "")
    if len(national) < 6:
        return ""
    return "[^0-9]{0,3}".join(national)


def date_patterns(day: datetime.date) -> list[str]:
    d, m = day.day, day.month
    y4, y2 = f"{day.year:04d}", f"{day.year % 100:02d}"
    dd = rf"0?{d}" if d < 10 else str(d)
    mm = rf"0?{m}" if m < 10 else str(m)
    year = rf"(?:{y4}|{y2})"
    ordinal = rf"{dd}(?:st|nd|rd|th)?"
    name = MONTHS[m - 1]
    month = rf"(?:{name}|{name[:3]}\.?{'|Sept' if m == 9 else ''})"
    out = [
        rf"{y4}{_SEP}{mm}{_SEP}{dd}",
        rf"{dd}{_SEP}{mm}{_SEP}{year}",
        rf"{mm}{_SEP}{dd}{_SEP}{year}",
        rf"{ordinal}[\s\-]+(?:of\s+)?{month}[\s,\-]+{y4}",
        rf"{month}[\s\-]+{ordinal},?[\s\-]+{y4}",
        rf"{y4}{m:02d}{d:02d}",
        rf"{d:02d}{m:02d}{y4}",
    ]
    return [rf"(?<![\w]){p}(?!\d)" for p in out]


def _address_parts(address: str) -> list[str]:
    return [p.strip() for p in re.split(r"[,\n;]+", address or "") if p.strip()]


class Redactor:
    """Replaces every match of one person's data by `MARKER`."""

    def __init__(self, patterns: Iterable[str], needles: Iterable[str] = (),
                 db_patterns: Iterable[str] = ()):
        unique = sorted(set(patterns), key=len, reverse=True)
        self.pattern = re.compile("|".join(unique), re.IGNORECASE) if unique else None
        # A cheap database filter for rows that may hold the person's data (the exact
        # match runs on those only): literal strings, and POSIX regular expressions.
        self.needles = sorted({n.lower() for n in needles if n})
        self.db_patterns = sorted(set(db_patterns))

    @classmethod
    def for_person(cls, person: PersonalData, *, distinctive: bool = False,
                   region: str | None = None) -> Redactor:
        patterns: list[str] = []
        needles: list[str] = []
        db_patterns: list[str] = []
        first, last = (person.first_name or "").strip(), (person.last_name or "").strip()
        if first and last:
            patterns += [_word(f"{first} {last}"), _word(f"{last} {first}")]
        names = [n for n in (first, last) if len(n) >= 2]
        needles += [last] if last else names
        if not distinctive:
            patterns += [_word(n) for n in names]
        email = (person.email or "").strip()
        if email:
            patterns.append(r"(?<![\w.+-])" + re.escape(email) + r"(?![\w-])")
            needles.append(email)
            local = email.split("@")[0]
            if not distinctive and len(local) >= 3:
                patterns.append(_word(local))
        if person.phone:
            patterns += phone_patterns(person.phone, region=region)
            db_patterns.append(phone_db_pattern(person.phone, region=region))
        if person.date_of_birth and not distinctive:
            patterns += date_patterns(person.date_of_birth)
        parts = _address_parts(person.address)
        if parts:
            patterns.append(_word(" ".join(parts)))
            patterns.append(_word(parts[0]))
            needles.append(max(parts[0].split(), key=len))
            if not distinctive:
                patterns += [_word(p) for p in parts[1:] if len(p) >= 3]
        return cls(patterns, needles, [p for p in db_patterns if p])

    def __bool__(self) -> bool:
        return self.pattern is not None

    def text(self, value: str) -> str:
        if not value or self.pattern is None:
            return value
        return self.pattern.sub(MARKER, value)

    def value(self, value):
        """A JSON-like value with every string in it scrubbed (keys kept)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.value(v) for v in value)
        return value

    def filename(self, name: str) -> str:
        """A file name scrubbed, with `_`, `-` and `.` read as spaces between words."""
        if not name or self.pattern is None:
            return name
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        spaced = re.sub(r"[_.]", " ", stem)
        scrubbed = self.text(spaced)
        if scrubbed == spaced:
            return name
        scrubbed = re.sub(r"\s+", "-", scrubbed.replace(MARKER, "erased")).strip("-") or "erased"
        return f"{scrubbed}.{ext}" if dot else scrubbed
