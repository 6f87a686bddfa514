"""Per-request context (request id) that log records and audit entries can read."""

from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
