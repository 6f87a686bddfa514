"""A Redis connection pool that stops trying for a moment once Redis has failed.

django-redis (with IGNORE_EXCEPTIONS) already turns a failed connection into a cache
miss; this pool makes the failure cheap. After a connect fails, every request for a
connection fails at once, without touching the network, for RETRY_SECONDS; then one
try goes through again. So a Redis that is down, unroutable (each try would wait
for the connect timeout) or not Redis at all (answers garbage) costs each request
microseconds instead of a connect timeout per cache call, and it is used again
within seconds of coming back.
"""

import logging
import threading
import time

import redis

logger = logging.getLogger("insurance.cache")

RETRY_SECONDS = 2.0


class CircuitBreakerConnectionPool(redis.ConnectionPool):
    retry_seconds = RETRY_SECONDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._open_until = 0.0
        self._breaker_lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    def get_connection(self, *args, **kwargs):
        if self.is_open:
            raise redis.ConnectionError("Redis unavailable; retrying shortly")
        try:
            return super().get_connection(*args, **kwargs)
        except (redis.RedisError, OSError) as exc:
            with self._breaker_lock:
                if not self.is_open:
                    logger.warning("redis unavailable", extra={
                        "event": "cache.redis_unavailable", "error": type(exc).__name__})
                self._open_until = time.monotonic() + self.retry_seconds
            if isinstance(exc, redis.ConnectionError):
                raise
            raise redis.ConnectionError(f"Redis connection failed: {type(exc).__name__}") from exc
