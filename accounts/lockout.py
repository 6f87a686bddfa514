"""Login lockout, held in the database.

After LOCKOUT_EMAIL_LIMIT failures for one email within LOCKOUT_SECONDS, or
LOCKOUT_IP_LIMIT from one client address, every further attempt is refused for
LOCKOUT_SECONDS, even with the right password. Rows carry a hash of the email or
address, never the value itself.

The state lives in PostgreSQL rather than the shared cache: a sign-in already needs
the database (the user row), so this adds no dependency, and a lock survives a Redis
outage, restart or flush. Counting is a row lock per (kind, key), so concurrent
failures from several server processes are all counted.
"""

import hashlib
import math
import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from accounts.models import LoginAttemptCounter

Kind = LoginAttemptCounter.Kind


def _h(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _now() -> datetime:
    return datetime.fromtimestamp(time.time(), tz=UTC)


def _keys(email: str, ip: str) -> list[tuple[str, str, int]]:
    out = [(Kind.EMAIL, _h(email.strip().lower()), settings.LOCKOUT_EMAIL_LIMIT)]
    if ip:
        out.append((Kind.IP, _h(ip), settings.LOCKOUT_IP_LIMIT))
    return out


def _matching(keys) -> Q:
    query = Q(pk__in=[])
    for kind, digest, _ in keys:
        query |= Q(kind=kind, key=digest)
    return query


def seconds_locked(email: str, ip: str) -> int:
    """Seconds left on a lock for this email or address; 0 when none. One query."""
    now = _now()
    until = (LoginAttemptCounter.objects
             .filter(_matching(_keys(email, ip)), locked_until__gt=now)
             .values_list("locked_until", flat=True))
    remaining = max(((u - now).total_seconds() for u in until), default=0)
    return max(math.ceil(remaining), 0)


def _forget_stale(now: datetime) -> None:
    """Rows whose window and lock are both over count for nothing: delete them when a
    new row is made, so the table holds only live state (an index range delete)."""
    LoginAttemptCounter.objects.filter(
        Q(locked_until__isnull=True) | Q(locked_until__lte=now),
        window_started_at__lte=now - timedelta(seconds=settings.LOCKOUT_SECONDS),
    ).delete()


def _counter(kind: str, digest: str, now: datetime) -> LoginAttemptCounter:
    """The row for (kind, key), locked for update; created on first failure."""
    counter = (LoginAttemptCounter.objects.select_for_update()
               .filter(kind=kind, key=digest).first())
    if counter is not None:
        return counter
    _forget_stale(now)
    try:
        with transaction.atomic():
            return LoginAttemptCounter.objects.create(
                kind=kind, key=digest, failures=0, window_started_at=now)
    except IntegrityError:  # another process created it first
        return LoginAttemptCounter.objects.select_for_update().get(kind=kind, key=digest)


@transaction.atomic
def record_failure(email: str, ip: str) -> None:
    now = _now()
    window = timedelta(seconds=settings.LOCKOUT_SECONDS)
    for kind, digest, limit in _keys(email, ip):
        counter = _counter(kind, digest, now)
        if counter.window_started_at <= now - window:
            counter.failures, counter.window_started_at = 0, now
        counter.failures += 1
        if counter.failures >= limit:
            counter.locked_until = now + window
            counter.failures, counter.window_started_at = 0, now
        counter.save(update_fields=["failures", "window_started_at", "locked_until"])


def clear_email(email: str) -> None:
    """A successful sign-in forgets that email's failures (a lock, if any, was checked)."""
    LoginAttemptCounter.objects.filter(
        Q(locked_until__isnull=True) | Q(locked_until__lte=_now()),
        kind=Kind.EMAIL, key=_h(email.strip().lower()),
    ).delete()

