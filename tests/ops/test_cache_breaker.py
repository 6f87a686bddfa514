"""core.cache.CircuitBreakerConnectionPool: a failed Redis is skipped for a moment,
then tried again; whatever the failure, callers see a redis.ConnectionError."""

import socket
import threading

import pytest
import redis
from django.conf import settings

from core import cache as breaker
from tests.ops.outage import free_port


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(breaker.time, "monotonic", lambda: now[0])
    return now


@pytest.fixture
def connects(monkeypatch):
    calls = []
    real = redis.Connection.connect

    def counting(self, *args, **kwargs):
        calls.append(self.port)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(redis.Connection, "connect", counting)
    return calls


def _pool(url):
    return breaker.CircuitBreakerConnectionPool.from_url(url, socket_connect_timeout=0.25)


def test_a_refused_connection_opens_the_breaker_for_a_while(clock, connects):
    pool = _pool(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(redis.ConnectionError):
        pool.get_connection()
    assert len(connects) == 1 and pool.is_open
    with pytest.raises(redis.ConnectionError, match="retrying shortly"):
        pool.get_connection()
    assert len(connects) == 1  # no network while open
    clock[0] += breaker.RETRY_SECONDS - 0.01
    with pytest.raises(redis.ConnectionError):
        pool.get_connection()
    assert len(connects) == 1
    clock[0] += 0.02
    with pytest.raises(redis.ConnectionError):
        pool.get_connection()
    assert len(connects) == 2  # tried again after the pause


@pytest.fixture
def not_redis():
    """A TCP server that answers like a web server, not like Redis."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def serve():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.recv(1024)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join()
    server.close()


def test_a_server_that_is_not_redis_counts_as_down(not_redis, clock):
    pool = _pool(not_redis)
    with pytest.raises(redis.ConnectionError) as info:
        pool.get_connection()
    assert isinstance(info.value.__cause__, redis.RedisError)
    assert pool.is_open


def test_the_cache_misses_quietly_through_the_breaker(not_redis):
    from django_redis.cache import RedisCache

    cache = RedisCache(not_redis, {"OPTIONS": {
        "IGNORE_EXCEPTIONS": True,
        "CONNECTION_POOL_CLASS": "core.cache.CircuitBreakerConnectionPool",
    }})
    assert cache.get("k", "fallback") == "fallback"
    assert cache.set("k", 1) is None
    assert cache.get("k") is None


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (REDIS_URL)")
def test_a_working_redis_is_used(clock):
    client = redis.Redis(connection_pool=_pool(settings.REDIS_URL))
    assert client.ping() is True
    assert not client.connection_pool.is_open
