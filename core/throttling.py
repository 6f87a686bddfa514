"""DRF throttles that know the client by core.proxy.client_ip, not by DRF's own
reading of X-Forwarded-For (which, without NUM_PROXIES, keys on whatever the client
sends and so lets it pick a fresh bucket per request).

On Redis, a throttle costs one round trip per request: a sliding-window counter (the
current window's counter incremented, the previous one read, in one pipeline; the
previous window weighted by how much of it still lies inside the last `duration`
seconds). DRF's own throttle keeps a list of timestamps under one key and so reads and
writes it (two round trips and a pickle of up to `num_requests` floats) every time.
Any other cache (local memory in development) gets DRF's own algorithm.

Redis unreachable: the request is let through (the throttle fails open; the lockouts
that guard the login live in the database and do not depend on it).
"""

from __future__ import annotations

import logging
import math

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from rest_framework import throttling

from core.proxy import client_ip

logger = logging.getLogger("insurance.cache")


_shared = (None, None)


def _process_cache():
    """The default cache backend, one per process (rebuilt if the CACHES setting is
    replaced). Django keeps a backend per context, and the ASGI handler serves each
    request in a new one, so `django.core.cache.cache` builds a new backend (options
    parsed, client made) on every request; the backends are thread-safe."""
    global _shared
    conf, backend = _shared
    if conf is not settings.CACHES:
        backend = caches.create_connection(DEFAULT_CACHE_ALIAS)
        _shared = (settings.CACHES, backend)
    return backend


def _redis_client(cache):
    """The raw redis-py client behind a django-redis cache."""
    return cache.client.get_client(write=True)


class WindowCounterMixin:
    @property
    def cache(self):
        return _process_cache()

    def get_ident(self, request):
        return client_ip(request)

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        if not hasattr(self.cache, "client"):
            return super().allow_request(request, view)
        self.now = now = self.timer()
        window = int(now // self.duration)
        current = self.cache.make_key(f"{self.key}:w{window}")
        previous = self.cache.make_key(f"{self.key}:w{window - 1}")
        try:
            pipe = _redis_client(self.cache).pipeline(transaction=False)
            pipe.incr(current)
            pipe.expire(current, 2 * self.duration)
            pipe.get(previous)
            count, _, before = pipe.execute()
        except Exception:  # noqa: BLE001 - Redis down: fail open, as the cache does
            logger.debug("throttle skipped", extra={"event": "throttle.redis_unavailable"})
            return True
        self.elapsed = (now - window * self.duration) / self.duration
        self.before = int(before or 0)
        self.estimate = self.before * (1 - self.elapsed) + count
        if self.estimate > self.num_requests:
            return self.throttle_failure()
        return True

    def wait(self):
        if not hasattr(self, "estimate"):
            return super().wait()
        # The estimate falls by `before / duration` a second until the window ends,
        # then the current count becomes the weighted previous one.
        excess = self.estimate - self.num_requests
        if self.before and excess <= self.before * (1 - self.elapsed):
            return max(1, math.ceil(excess * self.duration / self.before))
        return max(1, math.ceil((1 - self.elapsed) * self.duration))


class AnonRateThrottle(WindowCounterMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(WindowCounterMixin, throttling.UserRateThrottle):
    pass


class ScopedRateThrottle(WindowCounterMixin, throttling.ScopedRateThrottle):
    pass
