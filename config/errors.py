"""Error pages Django itself answers (outside DRF views), and the one place a
database outage becomes a 503.

Under /api/ they are JSON in the API's error shape (oversized or malformed bodies,
refusals, server errors), never HTML; Django's own pages everywhere else.

While PostgreSQL restarts (or the pool cannot hand out a connection in time) a
request fails with OperationalError / InterfaceError from Django or psycopg, or
PoolTimeout from psycopg's pool, wherever it first touches the database: a view, a
serializer, the session, a middleware. Django routes every such uncaught exception
to `handler500`, with the exception still current, in sync and async requests
alike. Here a database outage is answered `503` with `Retry-After` (JSON for the
API, a plain page elsewhere, built without touching the database or templates);
anything else stays Django's 500.
"""

import logging
import sys

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import InterfaceError as DjangoInterfaceError
from django.db import OperationalError as DjangoOperationalError
from django.http import HttpResponse, JsonResponse
from django.views import defaults
from django.views.defaults import server_error as django_server_error

from core.exceptions import TOO_LARGE_MESSAGE

logger = logging.getLogger("insurance.errors")

RETRY_AFTER_SECONDS = 5

_UNAVAILABLE: tuple[type[BaseException], ...] = (DjangoOperationalError, DjangoInterfaceError)
try:
    import psycopg
    import psycopg_pool

    _UNAVAILABLE += (psycopg.OperationalError, psycopg.InterfaceError, psycopg_pool.PoolTimeout)
except ImportError:  # pragma: no cover - SQLite-only installs
    pass

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Temporarily unavailable</title></head>
<body><h1>Temporarily unavailable</h1>
<p>The back-office cannot reach its database just now. Please try again in a few
seconds; nothing you have already saved is lost.</p></body></html>
"""


def database_unavailable(exc: BaseException | None) -> bool:
    """Whether `exc`, or an exception it was raised from, means the database is away."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, _UNAVAILABLE):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def unavailable_response(request) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        response = JsonResponse(
            {"detail": "The service is temporarily unavailable; retry shortly.",
             "code": "service_unavailable"},
            status=503)
    else:
        response = HttpResponse(_PAGE, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request, *args, **kwargs):
    exc = sys.exc_info()[1]
    if database_unavailable(exc):
        logger.warning("database unavailable", extra={
            "event": "db.unavailable", "error": type(exc).__name__})
        return unavailable_response(request)
    if _is_api(request):
        return _json("Server error.", 500)
    return django_server_error(request, *args, **kwargs)


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def _json(detail: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


def bad_request(request, exception=None):
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return _json(TOO_LARGE_MESSAGE(), 413)
    if isinstance(exception, (TooManyFieldsSent, TooManyFilesSent)):
        return _json("The request has too many fields or files.", 400)
    return _json("Bad request.", 400)


def permission_denied(request, exception=None):
    if not _is_api(request):
        return defaults.permission_denied(request, exception)
    return _json("You do not have permission to perform this action.", 403)


def page_not_found(request, exception=None):
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return _json("Not found.", 404)
