import pytest
from django.core.cache import cache
from django.test import override_settings

from tests.conftest import requires_postgres
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


def test_lock_state_lives_in_the_database_not_the_cache(anon_client, broker):
    from accounts.models import LoginAttemptCounter

    for _ in range(5):
        attempt(anon_client, broker.email, WRONG)
    row = LoginAttemptCounter.objects.get(kind="email")
    assert broker.email not in row.key  # a hash, never the address itself
    assert row.locked_until is not None
    cache.clear()  # a Redis flush or restart forgets nothing
    assert attempt(anon_client, broker.email, PASSWORD).status_code == 429


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


# --- the lockout service itself ---------------------------------------------------------


def _shift_clock(monkeypatch, seconds):
    import time as _time

    real = _time.time
    monkeypatch.setattr("accounts.lockout.time.time", lambda: real() + seconds)


def test_service_locks_on_the_fifth_failure_not_before(db):
    from accounts import lockout

    for _ in range(4):
        lockout.record_failure("a@example.test", "192.0.2.10")
    assert lockout.seconds_locked("a@example.test", "192.0.2.10") == 0
    lockout.record_failure("A@Example.test ", "192.0.2.10")
    assert 899 <= lockout.seconds_locked("a@example.test", "") <= 900
    assert lockout.seconds_locked("b@example.test", "192.0.2.10") == 0  # address: 5 of 50


def test_service_forgets_failures_older_than_the_window(db, monkeypatch):
    from accounts import lockout

    for _ in range(4):
        lockout.record_failure("a@example.test", "")
    _shift_clock(monkeypatch, 901)
    lockout.record_failure("a@example.test", "")
    assert lockout.seconds_locked("a@example.test", "") == 0


@override_settings(LOCKOUT_IP_LIMIT=3, LOCKOUT_EMAIL_LIMIT=100)
def test_service_counts_an_address_across_emails(db):
    from accounts import lockout

    for n in range(2):
        lockout.record_failure(f"u{n}@example.test", "192.0.2.20")
    assert lockout.seconds_locked("other@example.test", "192.0.2.20") == 0
    lockout.record_failure("u2@example.test", "192.0.2.20")
    assert lockout.seconds_locked("other@example.test", "192.0.2.20") > 0
    assert lockout.seconds_locked("other@example.test", "192.0.2.21") == 0


def test_service_clear_forgets_failures_but_never_a_running_lock(db, monkeypatch):
    from accounts import lockout
    from accounts.models import LoginAttemptCounter

    for _ in range(3):
        lockout.record_failure("a@example.test", "")
    lockout.clear_email("a@example.test")
    assert not LoginAttemptCounter.objects.exists()
    for _ in range(5):
        lockout.record_failure("a@example.test", "")
    lockout.clear_email("a@example.test")
    assert lockout.seconds_locked("a@example.test", "") > 0
    _shift_clock(monkeypatch, 901)
    lockout.clear_email("a@example.test")
    assert not LoginAttemptCounter.objects.exists()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_failures_are_all_counted():
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from accounts import lockout
    from accounts.models import LoginAttemptCounter

    def fail(_):
        try:
            lockout.record_failure("race@example.test", "192.0.2.30")
        finally:
            connection.close()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(fail, range(8)))
    ip_row = LoginAttemptCounter.objects.get(kind="ip")
    assert ip_row.failures == 8
    assert lockout.seconds_locked("race@example.test", "") > 0


def test_stale_rows_are_forgotten_when_new_ones_are_made(db, monkeypatch):
    from accounts import lockout
    from accounts.models import LoginAttemptCounter

    for n in range(3):
        lockout.record_failure(f"old{n}@example.test", "")
    for _ in range(5):
        lockout.record_failure("locked@example.test", "")
    _shift_clock(monkeypatch, 901)
    lockout.record_failure("new@example.test", "")
    # the three old windows are over; the lock ran out too; only the new row is left
    assert LoginAttemptCounter.objects.count() == 1
    assert lockout.seconds_locked("locked@example.test", "") == 0


def test_a_running_lock_survives_the_cleanup(db, monkeypatch):
    from accounts import lockout
    from accounts.models import LoginAttemptCounter

    for _ in range(4):
        lockout.record_failure("a@example.test", "")
    _shift_clock(monkeypatch, 600)
    lockout.record_failure("a@example.test", "")  # 5th within the window: locked now
    _shift_clock(monkeypatch, 400)  # t+1000: the first failures are 1000 s old, the lock 400 s
    lockout.record_failure("b@example.test", "")
    assert LoginAttemptCounter.objects.filter(kind="email").count() == 2
    assert lockout.seconds_locked("a@example.test", "") > 0
