"""How fast the API's list, search and detail endpoints answer as the book grows.

Usage (PostgreSQL; makes and drops its own database):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ibo_bench .venv/bin/python bench/api_lists.py \
        [--customers 20000] [--repeat 30]

Prints p50 / p95 milliseconds per request, in-process through Django's test client
(no network), for a broker whose agency holds a fifth of the book and for staff.
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    import django
    from django.conf import settings

    django.setup()
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    if not settings.IS_POSTGRES:
        sys.exit("bench/api_lists.py needs DATABASE_URL pointing at PostgreSQL")
    old = setup_databases(verbosity=0, interactive=False)
    try:
        t0 = time.perf_counter()
        from auditlog.context import disable_auditlog

        with disable_auditlog():  # synthetic rows: no audit entry each
            broker, staff = _fill(args.customers)
        print(f"filled {args.customers} customers (+ policies, claims) in "
              f"{time.perf_counter() - t0:.1f}s")
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
        _measure(broker, staff, args.repeat)
    finally:
        teardown_databases(old, verbosity=0)


def _fill(n):
    from django.utils import timezone

    from accounts.models import Agency, Role, User
    from claims.models import Claim
    from customers.models import Customer
    from policies.models import Policy

    agencies = Agency.objects.bulk_create([Agency(name=f"Bench Agency {i}") for i in range(5)])
    broker = User.objects.create_user("bench-broker@example.test", "Bench!Passw0rd1",
                                      role=Role.BROKER, agency=agencies[0])
    staff = User.objects.create_user("bench-staff@example.test", "Bench!Passw0rd1",
                                     role=Role.STAFF, is_staff=True)
    now = timezone.now()
    today = timezone.localdate()
    batch = 2000
    for start in range(0, n, batch):
        customers = [
            Customer(id=uuid.uuid4(), email=f"c{i}@example.test", first_name=f"First{i}",
                     last_name=f"Last{i % 997}", phone="+14155550100",
                     gdpr_consent=True, gdpr_consent_date=now, broker=agencies[i % 5])
            for i in range(start, min(n, start + batch))
        ]
        Customer.objects.bulk_create(customers)
        policies = [
            Policy(id=uuid.uuid4(), policy_number=f"POL-{i:08X}", customer=c,
                   policy_type=("auto", "home", "life", "health")[i % 4],
                   premium_amount=Decimal(100 + i % 900), coverage_amount=Decimal(50000),
                   start_date=today - datetime.timedelta(days=30),
                   end_date=today + datetime.timedelta(days=335), status="active")
            for i, c in zip(range(start, start + len(customers)), customers)
        ]
        Policy.objects.bulk_create(policies)
        Claim.objects.bulk_create([
            Claim(id=uuid.uuid4(), claim_number=f"CLM-B-{i:08d}", policy=p,
                  claim_type="theft", claim_amount=Decimal(500),
                  incident_date=today - datetime.timedelta(days=3), status="pending")
            for i, p in zip(range(start, start + len(policies)), policies)
        ])
    return broker, staff


def _measure(broker, staff, repeat):
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    def client(user):
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
        return c

    cases = [
        ("broker", "/api/customers?page_size=25"),
        ("broker", "/api/customers?page_size=100"),
        ("broker", "/api/customers?search=last42"),
        ("broker", "/api/policies?page_size=100&status=active"),
        ("broker", "/api/claims?page_size=100"),
        ("broker", "/api/policies/summary"),
        ("staff", "/api/claims?page_size=100&status=pending"),
        ("staff", "/api/customers?search=c1234@"),
    ]
    clients = {"broker": client(broker), "staff": client(staff)}
    print(f"{'who':7} {'request':48} {'p50 ms':>8} {'p95 ms':>8}")
    for who, path in cases:
        c = clients[who]
        c.get(path)  # warm
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            r = c.get(path)
            times.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, (path, r.status_code)
        times.sort()
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        print(f"{who:7} {path:48} {statistics.median(times):8.1f} {p95:8.1f}")


if __name__ == "__main__":
    main()
