"""Concurrent decisions on one claim, on PostgreSQL: exactly one wins."""

import threading
from collections import Counter

import pytest
from django.db import connections

from claims.models import ClaimStatusChange
from tests.conftest import client_for, requires_postgres
from tests.factories import ClaimFactory, UserFactory

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def _race(claim_id, bodies, users):
    barrier = threading.Barrier(len(bodies), timeout=30)
    results = []
    lock = threading.Lock()
    # Tokens are made up front: a thread must not hold a pooled connection at the barrier.
    clients = [client_for(user) for user in users]
    connections.close_all()

    def worker(body, client):
        try:
            barrier.wait()
            response = client.patch(f"/api/claims/{claim_id}", body, format="json")
            code = response.status_code
        except Exception as exc:  # noqa: BLE001 - a crash counts as a 5xx
            code = f"crash:{exc!r}"
        finally:
            connections.close_all()
        with lock:
            results.append(code)

    threads = [threading.Thread(target=worker, args=(b, c)) for b, c in zip(bodies, clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return Counter(results)


def test_twenty_concurrent_decisions_one_wins():
    staff = [UserFactory(staff=True) for _ in range(4)]
    claim = ClaimFactory(status="processing")
    bodies = [{"status": "approved" if n % 2 else "denied"} for n in range(20)]
    users = [staff[n % 4] for n in range(20)]
    counts = _race(claim.pk, bodies, users)
    assert counts == Counter({200: 1, 409: 19}), counts
    claim.refresh_from_db()
    assert claim.status in ("approved", "denied")
    assert ClaimStatusChange.objects.filter(claim=claim).count() == 1


def test_twenty_concurrent_identical_transitions_one_wins():
    staff = UserFactory(staff=True)
    claim = ClaimFactory(status="pending")
    counts = _race(claim.pk, [{"status": "processing"}] * 20, [staff] * 20)
    assert counts == Counter({200: 1, 409: 19}), counts


def _race_posts(path, calls):
    """calls: [(client, body, idempotency key)] all sent at once; returns status codes."""
    barrier = threading.Barrier(len(calls), timeout=30)
    results = []
    lock = threading.Lock()
    connections.close_all()

    def worker(client, body, key):
        try:
            barrier.wait()
            code = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key).status_code
        except Exception as exc:  # noqa: BLE001 - a crash counts as a 5xx
            code = f"crash:{exc!r}"
        finally:
            connections.close_all()
        with lock:
            results.append(code)

    threads = [threading.Thread(target=worker, args=c) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return Counter(results)


def _approved_claim(amount):
    from decimal import Decimal

    from django.utils import timezone

    return ClaimFactory(status="approved", processed_date=timezone.now(),
                        claim_amount=Decimal(amount))


def test_concurrent_payments_cannot_overpay():
    """Ten handlers pay 300.00 each on a 1000.00 claim at once: three succeed."""
    from decimal import Decimal

    from claims.models import Claim, ClaimPayment

    claim = _approved_claim("1000.00")
    users = [UserFactory(staff=True) for _ in range(10)]
    calls = [(client_for(u), {"amount": "300.00", "payee": "Garage"}, f"k-{n}")
             for n, u in enumerate(users)]
    counts = _race_posts(f"/api/claims/{claim.pk}/payments", calls)
    assert counts == Counter({201: 3, 400: 7}), counts
    claim = Claim.objects.get(pk=claim.pk)
    assert claim.paid == Decimal("900.00")
    assert sum(p.amount for p in ClaimPayment.objects.filter(claim=claim)) == claim.paid


def test_concurrent_duplicates_pay_once():
    """The same key and body sent eight times at once: one payment, every answer the first."""
    from claims.models import ClaimPayment

    claim = _approved_claim("1000.00")
    user = UserFactory(staff=True)
    calls = [(client_for(user), {"amount": "100.00", "payee": "Garage"}, "same-key")
             for _ in range(8)]
    counts = _race_posts(f"/api/claims/{claim.pk}/payments", calls)
    assert set(counts) <= {201, 409} and counts[201] >= 1, counts
    assert ClaimPayment.objects.filter(claim=claim).count() == 1
