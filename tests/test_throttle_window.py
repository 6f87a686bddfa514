"""The API throttles' sliding-window counter on Redis (core.throttling): one round
trip a request, the previous window weighted by how much of it is still recent."""

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from rest_framework.request import Request

from core import throttling
from tests.conftest import requires_redis
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, requires_redis]


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def _throttle(clock, rate="4/minute"):
    class Throttle(throttling.UserRateThrottle):
        THROTTLE_RATES = {"user": rate}
        timer = clock

    return Throttle()


def _request(user):
    request = Request(RequestFactory().get("/api/customers", REMOTE_ADDR="10.0.0.9"))
    request.user = user
    return request


@pytest.fixture
def user():
    cache.clear()
    return UserFactory()


def test_the_limit_holds_within_a_window_and_says_how_long_to_wait(user):
    clock = Clock(600 * 60 + 15.0)  # 15 s into a minute
    allowed = []
    for _ in range(6):
        throttle = _throttle(clock)
        allowed.append(throttle.allow_request(_request(user), None))
    assert allowed == [True, True, True, True, False, False]
    assert throttle.wait() == 45  # nothing before: until the window ends


def test_the_previous_window_counts_for_what_is_left_of_it(user):
    clock = Clock(600 * 60 + 50.0)
    for _ in range(4):
        assert _throttle(clock).allow_request(_request(user), None)
    # 15 s into the next minute: the 4 of the last one weigh 4 * 45/60 = 3
    clock.now = 601 * 60 + 15.0
    assert _throttle(clock).allow_request(_request(user), None)  # 3 + 1 = 4
    refused = _throttle(clock)
    assert not refused.allow_request(_request(user), None)  # 3 + 2 = 5
    # one over: the previous window's weight falls by 4/60 a second, 15 s to lose one
    assert refused.wait() == 15
    # a whole window later the old minute no longer counts
    clock.now = 603 * 60 + 1.0
    assert _throttle(clock).allow_request(_request(user), None)


def test_each_user_has_a_bucket_of_their_own(user):
    clock = Clock(600 * 60 + 1.0)
    for _ in range(4):
        assert _throttle(clock).allow_request(_request(user), None)
    assert not _throttle(clock).allow_request(_request(user), None)
    assert _throttle(clock).allow_request(_request(UserFactory()), None)


def test_redis_unreachable_lets_the_request_through(user, monkeypatch):
    import redis

    class Down:
        def pipeline(self, **kwargs):
            raise redis.ConnectionError("Redis unavailable; retrying shortly")

    clock = Clock(600 * 60 + 1.0)
    assert _throttle(clock, rate="1/minute").allow_request(_request(user), None)
    assert not _throttle(clock, rate="1/minute").allow_request(_request(user), None)
    monkeypatch.setattr(throttling, "_redis_client", lambda cache: Down())
    assert _throttle(clock, rate="1/minute").allow_request(_request(user), None)


def test_the_throttles_backend_is_built_once_per_process_not_per_request(settings):
    import contextvars

    first = throttling._process_cache()
    # a new context, as the ASGI handler gives each request, gets the same backend
    assert contextvars.Context().run(throttling._process_cache) is first
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    assert type(throttling._process_cache()).__name__ == "DummyCache"
