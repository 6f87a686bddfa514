import pytest
from django.core.cache import cache
from django.test import override_settings

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

WRONG = "Wrong!Passw0rd1"


def attempt(client, email, password, ip="198.51.100.7"):
    return client.post("/api/auth/login", {"email": email, "password": password},
                       format="json", REMOTE_ADDR=ip)


def test_five_failures_for_one_email_lock_it_even_with_right_password(anon_client, broker):
    for _ in range(5):
        assert attempt(anon_client, broker.email, WRONG).status_code == 401
    r = attempt(anon_client, broker.email, PASSWORD)
    assert r.status_code == 429
    retry = int(r.headers["Retry-After"])
    assert 890 <= retry <= 900
    # from another address too: the lock is on the email
    assert attempt(anon_client, broker.email, PASSWORD, ip="203.0.113.9").status_code == 429


def test_four_failures_then_success_resets_the_email_count(anon_client, broker):
    for _ in range(4):
        assert attempt(anon_client, broker.email, WRONG).status_code == 401
    assert attempt(anon_client, broker.email, PASSWORD).status_code == 200
    for _ in range(4):
        assert attempt(anon_client, broker.email, WRONG).status_code == 401
    assert attempt(anon_client, broker.email, PASSWORD).status_code == 200


def test_lock_is_per_email(anon_client, broker, other_broker):
    for _ in range(5):
        attempt(anon_client, broker.email, WRONG, ip="192.0.2.1")
    assert attempt(anon_client, other_broker.email, PASSWORD, ip="192.0.2.2").status_code == 200


def test_lock_email_is_case_insensitive(anon_client, broker):
    for _ in range(5):
        attempt(anon_client, broker.email.upper(), WRONG)
    assert attempt(anon_client, broker.email, PASSWORD).status_code == 429


def test_fifty_failures_from_one_address_lock_that_address(anon_client, broker):
    for n in range(50):
        assert attempt(anon_client, f"nobody{n}@example.test", WRONG,
                       ip="198.51.100.50").status_code == 401
    r = attempt(anon_client, broker.email, PASSWORD, ip="198.51.100.50")
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0
    assert attempt(anon_client, broker.email, PASSWORD, ip="198.51.100.51").status_code == 200


def test_lock_expires(anon_client, broker, monkeypatch):
    import time as _time

    for _ in range(5):
        attempt(anon_client, broker.email, WRONG)
    assert attempt(anon_client, broker.email, PASSWORD).status_code == 429
    real = _time.time
    monkeypatch.setattr("accounts.lockout.time.time", lambda: real() + 901)
    # the cache entry outlives the fake clock only in locmem; the stored deadline decides
    assert attempt(anon_client, broker.email, PASSWORD).status_code == 200


def test_lock_state_lives_in_the_shared_cache(anon_client, broker):
    for _ in range(5):
        attempt(anon_client, broker.email, WRONG)
    keys = [k for k in _cache_keys() if "lockout:until:email" in k]
    assert keys, "the lock must be held in the configured cache"
    cache.clear()
    assert attempt(anon_client, broker.email, PASSWORD).status_code == 200


def _cache_keys():
    backend = cache
    if hasattr(backend, "keys"):  # django-redis
        return [str(k) for k in backend.keys("*")]
    return [str(k) for k in backend._cache.keys()]  # locmem


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_client_address_from_trusted_proxy(anon_client, broker):
    for n in range(50):
        anon_client.post("/api/auth/login", {"email": f"x{n}@example.test", "password": WRONG},
                         format="json", REMOTE_ADDR="10.0.0.1",
                         HTTP_X_FORWARDED_FOR="203.0.113.77")
    r = anon_client.post("/api/auth/login", {"email": broker.email, "password": PASSWORD},
                         format="json", REMOTE_ADDR="10.0.0.1",
                         HTTP_X_FORWARDED_FOR="203.0.113.78")
    assert r.status_code == 200  # a different client behind the same proxy


def test_lockout_does_not_reveal_whether_the_user_exists(anon_client, db):
    UserFactory(email="real@example.test")
    for _ in range(5):
        attempt(anon_client, "ghost@example.test", WRONG)
    assert attempt(anon_client, "ghost@example.test", WRONG).status_code == 429
