"""Request id, one structured log line per request, and the platform's health probes.

RequestIDMiddleware echoes a sane incoming X-Request-ID (or X-Correlation-ID), else
makes one, puts it on every log record of the request (core.request_context) and
on the response, and logs one ``http.request`` line: method, path (never the query
string), status, duration, request id and user id.

HealthProbeMiddleware answers /health, /health/live and /health/ready before host
validation: a platform probes over plain HTTP with an internal host name (an IP
address and port, a service name) that is not, and should not be, in ALLOWED_HOSTS.

SecurityHeadersMiddleware sits outside both and everything else, so every response
carries the security headers: probes answered early, a 400 for a disallowed host,
a 404, a 500 or a 503 included. Headers already set inside (SecurityMiddleware,
XFrameOptionsMiddleware, django-csp with its nonce) are left as they are.
"""

import logging
import re
import time
import uuid

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.utils.functional import empty

from core.logging import redact
from core.request_context import request_id_var

_SANE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

access_logger = logging.getLogger("insurance.request")


def request_id_from(meta) -> str:
    for header in ("HTTP_X_REQUEST_ID", "HTTP_X_CORRELATION_ID"):
        value = meta.get(header, "")
        if value and _SANE.match(value):
            return value
    return uuid.uuid4().hex


def _user_id(request) -> str | None:
    """The authenticated user's id, only if something already resolved the user
    (never costs a query of its own). DRF puts its JWT user on the request too."""
    user = request.__dict__.get("user")
    if user is None:
        return None
    wrapped = getattr(user, "_wrapped", user)
    if wrapped is empty or not getattr(wrapped, "is_authenticated", False):
        return None
    return str(wrapped.pk)


class _DualMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)


class RequestIDMiddleware(_DualMiddleware):
    def _before(self, request):
        request.request_id = request_id_from(request.META)
        request._started = time.perf_counter()
        return request_id_var.set(request.request_id)

    def _after(self, request, response, token):
        response["X-Request-ID"] = request.request_id
        try:
            self._log(request, response)
        finally:
            request_id_var.reset(token)
        return response

    def _log(self, request, response):
        duration_ms = round((time.perf_counter() - request._started) * 1000, 2)
        status = response.status_code
        level = logging.ERROR if status >= 500 else logging.INFO
        access_logger.log(level, "http.request", extra={
            "event": "http.request",
            "method": request.method,
            "path": redact(request.path),
            "status": status,
            "duration_ms": duration_ms,
            "user_id": _user_id(request),
        })

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        token = self._before(request)
        response = self.get_response(request)
        return self._after(request, response, token)

    async def __acall__(self, request):
        token = self._before(request)
        response = await self.get_response(request)
        return self._after(request, response, token)


_PROBE = re.compile(r"^/health(?:/(live|ready))?/?$")


def _probe_view(request):
    from config import health

    if request.method not in ("GET", "HEAD"):
        return None
    match = _PROBE.match(request.path_info)
    if match is None:
        return None
    return {None: health.health, "live": health.live, "ready": health.ready}[match.group(1)]


def _probe_response(view, request):
    return view(request)  # security headers: SecurityHeadersMiddleware, outside this one


class HealthProbeMiddleware(_DualMiddleware):
    """Answers the probes directly: no host check, no session, no SSL redirect."""

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        view = _probe_view(request)
        if view is not None:
            return _probe_response(view, request)
        return self.get_response(request)

    async def __acall__(self, request):
        view = _probe_view(request)
        if view is not None:
            return await sync_to_async(_probe_response)(view, request)
        return await self.get_response(request)


def _csp_header(directives: dict) -> str:
    return "; ".join(f"{name} {' '.join(values)}".strip() for name, values in directives.items())


def _secure(response):
    if "X-Content-Type-Options" not in response:
        response["X-Content-Type-Options"] = "nosniff"
    if "X-Frame-Options" not in response:
        response["X-Frame-Options"] = settings.X_FRAME_OPTIONS
    if "Referrer-Policy" not in response:
        response["Referrer-Policy"] = settings.SECURE_REFERRER_POLICY
    if ("Content-Security-Policy" not in response
            and response.get("Content-Type", "").startswith("text/html")):
        # a page that did not pass django-csp (an error answered outside it)
        response["Content-Security-Policy"] = _csp_header(
            settings.CONTENT_SECURITY_POLICY["DIRECTIVES"])
    return response


class SecurityHeadersMiddleware(_DualMiddleware):
    """X-Content-Type-Options, X-Frame-Options, Referrer-Policy on every response;
    a Content-Security-Policy on every HTML page."""

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        return _secure(self.get_response(request))

    async def __acall__(self, request):
        return _secure(await self.get_response(request))


class ApiNoStoreMiddleware(_DualMiddleware):
    """API responses carry personal data (and tokens): no cache, shared or private,
    may keep them. One place for every /api/ response, errors included."""

    @staticmethod
    def _after(request, response):
        if request.path_info.startswith("/api/"):
            response["Cache-Control"] = "no-store, private"
        return response

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        return self._after(request, self.get_response(request))

    async def __acall__(self, request):
        return self._after(request, await self.get_response(request))
