"""Liveness and readiness probes (no auth, no session, no database for /live).

Readiness fails (503) only when this process cannot serve: the database does not
answer. Redis is shared by every instance, so an unreachable Redis leaves the
probes at 200 with `"status": "degraded"` and the failing check named; failing
readiness on it would take the whole service out while it can still serve.
"""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


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
            settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5
        )
        try:
            client.ping()
        finally:
            client.close()
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


def _check_audit_chain() -> dict:
    """Entries committed but not yet sealed into the hash chain: normally none, or a
    few for milliseconds. Reported (and an alert past AUDIT_UNSEALED_ALERT_SECONDS),
    never a reason to take the instance out of rotation."""
    try:
        from compliance.chain import unsealed_status

        state = unsealed_status()
        return {"status": "alert" if state.alert else "ok", "unsealed": state.count,
                "oldest_unsealed_seconds": round(state.oldest_seconds, 3)}
    except Exception as exc:  # noqa: BLE001
        return {"status": "error", "error": exc.__class__.__name__}


def _checks() -> dict:
    checks = {"database": _check_database()}
    redis_check = _check_redis()
    if redis_check is not None:
        checks["redis"] = redis_check
    return checks


def _status(checks: dict, ok_word: str) -> tuple[str, int]:
    if checks["database"]["status"] != "ok":
        return "unavailable", 503
    if any(check["status"] != "ok" for check in checks.values()):
        return "degraded", 200
    return ok_word, 200


@never_cache
@require_safe
def health(request):
    checks = _checks()
    word, _ = _status(checks, "healthy")
    # /health describes; only /health/ready decides whether to route traffic here.
    word = "degraded" if word == "unavailable" else word
    return JsonResponse({"status": word, "version": settings.APP_VERSION, "checks": checks})


@never_cache
@require_safe
def live(request):
    return JsonResponse({"status": "alive"})


@never_cache
@require_safe
def ready(request):
    checks = _checks()
    word, status = _status(checks, "ready")
    if checks["database"]["status"] == "ok":  # detail only: a backlog never fails readiness
        checks["outbox"] = _outbox_detail()
        checks["audit_chain"] = _check_audit_chain()
    return JsonResponse({"status": word, "checks": checks}, status=status)
