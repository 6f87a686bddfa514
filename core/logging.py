"""JSON log lines, one per record, carrying the request id.

Business events are logged by the services with ``extra={"event": ..., ids...}``;
requests by config.middleware (one ``http.request`` line each). Nothing personal
belongs in a log line: as a last line of defence the formatter masks anything
that looks like an email address or a phone number in messages and tracebacks
(database errors quote the offending values, e.g. a duplicate email).
"""

import json
import logging
import re
from datetime import UTC, datetime

from core.request_context import request_id_var

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
# E.164-like numbers: a plus and 8-15 digits, allowing spaces or dashes between groups.
_PHONE = re.compile(r"\+\d(?:[ \-]?\d){7,14}\b")
# Never print these keys' values, whoever passes them in `extra`.
_SECRET_KEYS = frozenset({"password", "token", "access_token", "refresh_token", "secret",
                          "authorization", "cookie", "email", "phone"})


def redact(text: str) -> str:
    return _PHONE.sub("[phone]", _EMAIL.sub("[email]", text))


def _clean(key: str, value):
    if key.lower() in _SECRET_KEYS:
        return "[redacted]"
    if isinstance(value, str):
        return redact(value)
    if hasattr(value, "META") and hasattr(value, "path"):
        # django.request passes the request: its repr holds the query string.
        return f"{getattr(value, 'method', '')} {redact(value.path)}"
    return value


def _fallback(value) -> str:
    return redact(str(value))


class RequestIDFilter(logging.Filter):
    def filter(self, record):
        if not getattr(record, "request_id", None):
            record.request_id = request_id_var.get()
        return True


class JSONFormatter(logging.Formatter):
    def format(self, record):
        payload = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = _clean(key, value)
        if record.exc_info:
            payload["exc_info"] = redact(self.formatException(record.exc_info))
        return json.dumps(payload, default=_fallback)
