"""Request parsers with bounds: body size, nesting depth, number length (Python's own), and
error messages in the API's own words (never Python's)."""

from __future__ import annotations

import json
import re
import sys

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Deepest nesting of arrays and objects a JSON body may have.
MAX_JSON_DEPTH = 32


class _InvalidNumber(Exception):
    pass


def _parse_constant(name: str):
    raise _InvalidNumber(f"Invalid number: {name} is not valid JSON.")


_ESCAPES = re.compile(rb"\\.", re.S)
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b'[]{}"')
_STRINGS = re.compile(rb'"[^"]*"')
_INNERMOST = re.compile(rb"\[\]|\{\}")


def too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays and objects nest deeper than `limit`, read from the text
    before parsing it (so the parser never recurses that far). On the UTF-8 bytes:
    escape pairs are dropped, then every byte but brackets and quotes, then the
    strings (with any brackets they held); each regex pass then removes one level
    of empty pairs: at most `limit` passes, all at C speed."""
    if text.count("[") + text.count("{") <= limit:
        return False
    raw = _ESCAPES.sub(b"", text.encode("utf-8", "surrogatepass"))
    skeleton = _STRINGS.sub(b"", raw.translate(None, _NOT_BRACKETS))
    for _ in range(limit):
        skeleton, removed = _INNERMOST.subn(b"", skeleton)
        if not skeleton or not removed:  # done, or unbalanced: the parser will say
            return False
    return bool(skeleton)


def _declared_length(parser_context) -> int | None:
    request = (parser_context or {}).get("request")
    meta = getattr(request, "META", None) or {}
    try:
        return int(meta.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


def read_bounded(stream, parser_context=None) -> bytes:
    """The whole body, refusing (413) one past DATA_UPLOAD_MAX_MEMORY_SIZE before
    reading it when its length is announced, and as soon as it is passed otherwise."""
    from core.exceptions import PayloadTooLarge  # core.exceptions loads DRF's views

    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None:
        return stream.read()
    declared = _declared_length(parser_context)
    if declared is not None and declared > limit:
        raise PayloadTooLarge()
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge()
    return data


def loads(raw: bytes, encoding: str = "utf-8"):
    """Parse a JSON body under the API's bounds; ParseError (400) with a clean message."""
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        raise ParseError(f"Malformed JSON: the body is not valid {encoding.upper()} text.") \
            from None
    if too_deep(text):
        raise ParseError(f"JSON nested too deeply: at most {MAX_JSON_DEPTH} levels of "
                         "arrays and objects.")
    try:
        value = json.loads(text, parse_constant=_parse_constant)
    except _InvalidNumber as exc:
        raise ParseError(str(exc)) from None
    except RecursionError:
        raise ParseError(f"JSON nested too deeply: at most {MAX_JSON_DEPTH} levels of "
                         "arrays and objects.") from None
    except json.JSONDecodeError as exc:
        raise ParseError(f"Malformed JSON: {exc.msg} at line {exc.lineno}, "
                         f"column {exc.colno}.") from None
    except ValueError as exc:
        if "integer string conversion" in str(exc):  # past sys.get_int_max_str_digits()
            raise ParseError(f"Invalid number: integers may have at most "
                             f"{sys.get_int_max_str_digits()} digits.") from None
        raise ParseError("Malformed JSON.") from None
    return value


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        return loads(read_bounded(stream, parser_context), encoding)
