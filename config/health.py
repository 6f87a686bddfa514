"""Liveness and readiness probes (no auth, no session, no database for /live)."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def health(request):
    return JsonResponse({"status": "healthy", "version": settings.APP_VERSION})


@never_cache
@require_safe
def live(request):
    return JsonResponse({"status": "alive"})


def _check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"status": "ok"}
    except Exception as exc:  # noqa: BLE001 - a probe reports, it never raises
        return {"status": "error", "error": exc.__class__.__name__}


def _check_redis() -> dict | None:
    if not settings.REDIS_URL:
        return None
    try:
        import redis

        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
        client.ping()
        return {"status": "ok"}
    except Exception as exc:  # noqa: BLE001
        return {"status": "error", "error": exc.__class__.__name__}


def _outbox_detail() -> dict:
    """Events not yet delivered to every webhook and recipient, and the oldest one's age."""
    try:
        from events.selectors import outbox_stats

        return {"status": "ok", **outbox_stats()}
    except Exception as exc:  # noqa: BLE001
        return {"status": "error", "error": exc.__class__.__name__}


@never_cache
@require_safe
def ready(request):
    checks = {"database": _check_database()}
    redis_check = _check_redis()
    if redis_check is not None:
        checks["redis"] = redis_check
    ok = all(c["status"] == "ok" for c in checks.values())
    checks["outbox"] = _outbox_detail()  # detail only: a backlog never fails readiness
    return JsonResponse(
        {"status": "ready" if ok else "unavailable", "checks": checks},
        status=200 if ok else 503,
    )
