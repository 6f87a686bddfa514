"""Per-request context (request id) that log records and audit entries can read."""

import functools
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="")

# The user a service acts for (its `actor=` argument), for audit entries written
# while it runs, in a request or not (manage.py, background work).
actor_var: ContextVar = ContextVar("actor", default=None)


def acting_for_actor(func):
    """Service decorator: audit entries written inside name the service's `actor`."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        token = actor_var.set(kwargs.get("actor"))
        try:
            return func(*args, **kwargs)
        finally:
            actor_var.reset(token)

    return wrapper
