"""How fast underwriting prices and renews.

Usage (PostgreSQL; makes and drops its own database):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ibo_bench .venv/bin/python \
        bench/underwriting.py [--policies 10000] [--rate-runs 20000] [--quotes 200]

Prints:
- the pure rating function alone (default auto plan), microseconds per rating;
- POST /api/quotes end to end in-process (Django test client, a broker's token):
  p50 / p95 milliseconds;
- one `renew_policies` run over N rated policies all ending within 30 days
  (every one gets a renewal quote, audited), then the idempotent second run.
"""

import argparse
import datetime
import os
import statistics
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ["SECURE_SSL_REDIRECT"] = "false"
if "FIELD_ENCRYPTION_KEYS" not in os.environ:
    from cryptography.fernet import Fernet

    os.environ["FIELD_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()

RISK = {"vehicle_value": "24000.00", "annual_mileage": 9000, "prior_claims": 1}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--policies", type=int, default=10000)
    parser.add_argument("--rate-runs", type=int, default=20000)
    parser.add_argument("--quotes", type=int, default=200)
    args = parser.parse_args()

    import django
    from django.conf import settings

    django.setup()
    from django.test.utils import setup_databases, teardown_databases

    if not settings.IS_POSTGRES:
        sys.exit("bench/underwriting.py needs DATABASE_URL pointing at PostgreSQL")
    old = setup_databases(verbosity=0, interactive=False)
    try:
        _rating_alone(args.rate_runs)
        broker, customers = _people()
        _quote_requests(broker, customers, args.quotes)
        _renewals(broker, args.policies)
    finally:
        teardown_databases(old, verbosity=0)


def _rating_alone(runs):
    from policies import rating
    from policies.models import RatingPlan

    rules = RatingPlan.objects.get(policy_type="auto", version=1).rules()
    start = datetime.date(2026, 1, 1)
    inputs = rating.RatingInputs(coverage_amount=Decimal("20000"), start_date=start,
                                 end_date=rating.one_year_end(start),
                                 answers={**RISK, "age": 45})
    rating.rate(rules, inputs)
    t = time.perf_counter()
    for _ in range(runs):
        rating.rate(rules, inputs)
    each = (time.perf_counter() - t) / runs * 1e6
    print(f"rating alone (auto, 4 factor tables, fee, tax): {each:.1f} µs per rating "
          f"({runs} runs)")


def _people():
    from django.utils import timezone

    from accounts.models import Agency, Role, User
    from customers.models import Customer

    agency = Agency.objects.create(name="Bench Agency")
    broker = User.objects.create_user("bench-broker@example.test", "Bench!Passw0rd1",
                                      role=Role.BROKER, agency=agency)
    customers = [Customer.objects.create(
        email=f"q{i}@example.test", first_name="Q", last_name=f"Bench{i}",
        date_of_birth=datetime.date(1980, 1, 1), gdpr_consent=True,
        gdpr_consent_date=timezone.now(), broker=agency) for i in range(20)]
    return broker, customers


def _quote_requests(broker, customers, n):
    from django.utils import timezone
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(broker).access_token}")
    body = {"policy_type": "auto", "coverage_amount": "20000.00",
            "start_date": timezone.localdate().isoformat(), "risk": RISK}
    times = []
    for i in range(n + 5):
        t = time.perf_counter()
        r = client.post("/api/quotes", {**body, "customer_id": str(customers[i % 20].pk)},
                        format="json")
        if i >= 5:  # warm-up left out
            times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 201, r.content
    times.sort()
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    print(f"POST /api/quotes (whole request, audited): p50 {statistics.median(times):.1f} ms, "
          f"p95 {p95:.1f} ms ({n} requests)")


def _renewals(broker, n):
    from auditlog.context import disable_auditlog
    from django.db import connection
    from django.utils import timezone

    from customers.models import Customer
    from policies import services
    from policies.models import Policy, Quote, RatingPlan

    today = timezone.localdate()
    plan = RatingPlan.objects.get(policy_type="auto", version=1)
    t = time.perf_counter()
    with disable_auditlog():  # synthetic book: no audit entry per row
        for begin in range(0, n, 2000):
            size = min(2000, n - begin)
            customers = Customer.objects.bulk_create([
                Customer(id=uuid.uuid4(), email=f"r{i}@example.test", first_name="R",
                         last_name=f"Renew{i}", date_of_birth=datetime.date(1975, 6, 1),
                         gdpr_consent=True, gdpr_consent_date=timezone.now(),
                         broker_id=broker.agency_id)
                for i in range(begin, begin + size)])
            Policy.objects.bulk_create([
                Policy(id=uuid.uuid4(), policy_number=f"POL-R{i:07X}", customer=c,
                       policy_type="auto", premium_amount=Decimal("728.00"),
                       coverage_amount=Decimal("20000"),
                       start_date=today - datetime.timedelta(days=350 - i % 20),
                       end_date=today + datetime.timedelta(days=14 + i % 16),
                       status="active", rating_plan=plan, risk=RISK)
                for i, c in zip(range(begin, begin + size), customers)])
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    print(f"filled {n} rated policies ending within 30 days in {time.perf_counter() - t:.1f}s")
    t = time.perf_counter()
    counts = services.renew_policies(actor=None, days=30, today=today)
    first = time.perf_counter() - t
    print(f"renew_policies over {n} policies: {first:.1f} s ({first / n * 1000:.2f} ms per "
          f"renewal quote, audited), {counts}")
    t = time.perf_counter()
    again = services.renew_policies(actor=None, days=30, today=today)
    print(f"second run (idempotent): {time.perf_counter() - t:.2f} s, {again}")
    assert Quote.objects.filter(renewal_of__isnull=False).count() == n


if __name__ == "__main__":
    main()
