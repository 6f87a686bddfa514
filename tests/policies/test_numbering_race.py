"""Policy numbers stay unique when concurrent creations draw the same number."""

import datetime
import secrets
import threading

import pytest
from django.db import connections
from django.utils import timezone

from policies import services
from policies.models import Policy
from tests.conftest import client_for, requires_postgres
from tests.factories import CustomerFactory, UserFactory

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_concurrent_creations_with_clashing_numbers(monkeypatch):
    staff = UserFactory(staff=True)
    customer = CustomerFactory()
    local = threading.local()

    def clashing_number():
        # every thread's first draw is the same number; later draws are fresh
        if not getattr(local, "drawn", False):
            local.drawn = True
            return "POL-00000001"
        return f"POL-{secrets.token_hex(4).upper()}"

    monkeypatch.setattr(services, "policy_number_new", clashing_number)
    today = timezone.localdate()
    body = {"customer_id": str(customer.pk), "policy_type": "auto", "premium_amount": "300",
            "coverage_amount": "9000", "start_date": str(today),
            "end_date": str(today + datetime.timedelta(days=365))}
    clients = [client_for(staff) for _ in range(20)]
    connections.close_all()
    barrier = threading.Barrier(20, timeout=30)
    codes = []

    def worker(client):
        try:
            barrier.wait()
            codes.append(client.post("/api/policies", body, format="json").status_code)
        except Exception as exc:  # noqa: BLE001
            codes.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert codes == [201] * 20
    numbers = list(Policy.objects.values_list("policy_number", flat=True))
    assert len(numbers) == len(set(numbers)) == 20
    assert "POL-00000001" in numbers
