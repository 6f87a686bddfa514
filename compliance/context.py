"""Who, from where, in which request: filled into every audit entry.

AuditContextMiddleware keeps the current request in a context variable, so the
actor is read when the entry is written (after DRF has authenticated a bearer
token, which happens inside the view, not before it). The client address comes
from core.proxy.client_ip, which trusts X-Forwarded-For only behind the
configured number of proxies (TRUSTED_PROXY_COUNT). Outside a request (manage.py), auditlog's
`set_actor()` context supplies the actor, if used.
"""

from __future__ import annotations

import ipaddress
from contextvars import ContextVar

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.contrib.auth import get_user_model

from core.proxy import client_ip
from core.request_context import actor_var, request_id_var

_request: ContextVar = ContextVar("audit_request", default=None)


def current_request():
    return _request.get()


def _ip(value) -> str | None:
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        return None


def remote_addr_of(request) -> str | None:
    return (client_ip(request) or None) if request is not None else None


def _user_of(request):
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    user = getattr(user, "_wrapped", user)  # a lazy user, now resolved
    return user if isinstance(user, get_user_model()) else None


def apply(entry) -> None:
    """Fill actor, address and request id where the writer did not set them."""
    from auditlog.context import auditlog_value

    try:
        values = auditlog_value.get()
    except LookupError:
        values = {}
    request = _request.get()
    if entry.actor_id is None:
        actor = values.get("actor")
        if actor is None:
            actor = actor_var.get()
        if actor is None and request is not None:
            actor = _user_of(request)
        if isinstance(actor, get_user_model()) and actor.pk is not None:
            entry.actor = actor
    if entry.actor_id is not None:
        entry.actor_ref = str(entry.actor_id)
    if not entry.remote_addr:
        entry.remote_addr = _ip(values["remote_addr"]) if values.get("remote_addr") else None
        if entry.remote_addr is None and request is not None:
            entry.remote_addr = remote_addr_of(request)
    if entry.remote_port is None and values.get("remote_port"):
        entry.remote_port = values["remote_port"]
    if not entry.cid:
        entry.cid = request_id_var.get() or getattr(request, "request_id", "") or None
    # Who acted is the actor's id (actor_ref); no e-mail addresses in the trail.
    entry.actor_email = None


class AuditContextMiddleware:
    """Makes the current request available to audit entries written during it."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)

    async def __acall__(self, request):
        token = _request.set(request)
        try:
            return await self.get_response(request)
        finally:
            _request.reset(token)
