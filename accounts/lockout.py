"""Login lockout held in the shared cache (Redis in production).

After LOCKOUT_EMAIL_LIMIT failures for one email, or LOCKOUT_IP_LIMIT from one
client address, every further attempt is refused for LOCKOUT_SECONDS, even with
the right password. Keys carry a hash of the email, never the email itself.
"""

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache


def _h(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _keys(email: str, ip: str) -> list[tuple[str, str, int]]:
    out = [("email", _h(email.strip().lower()), settings.LOCKOUT_EMAIL_LIMIT)]
    if ip:
        out.append(("ip", _h(ip), settings.LOCKOUT_IP_LIMIT))
    return out


def _fail_key(kind, digest):
    return f"lockout:fail:{kind}:{digest}"


def _lock_key(kind, digest):
    return f"lockout:until:{kind}:{digest}"


def seconds_locked(email: str, ip: str) -> int:
    """Seconds left on a lock for this email or address; 0 when none."""
    now = time.time()
    keys = [_lock_key(kind, digest) for kind, digest, _ in _keys(email, ip)]
    remaining = 0
    for until in cache.get_many(keys).values():
        remaining = max(remaining, math.ceil(float(until) - now))
    return max(remaining, 0)


def record_failure(email: str, ip: str) -> None:
    window = settings.LOCKOUT_SECONDS
    for kind, digest, limit in _keys(email, ip):
        key = _fail_key(kind, digest)
        cache.add(key, 0, timeout=window)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)
            count = 1
        if count >= limit:
            cache.set(_lock_key(kind, digest), time.time() + window, timeout=window)
            cache.delete(key)


def clear_email(email: str) -> None:
    digest = _h(email.strip().lower())
    cache.delete(_fail_key("email", digest))


def client_ip(request) -> str:
    """REMOTE_ADDR, or the address a trusted proxy put into X-Forwarded-For."""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "") or ""
