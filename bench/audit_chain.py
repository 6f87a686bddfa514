"""What the audit trail costs: audited writes, chain verification, erasure.

Usage (PostgreSQL; makes and drops its own database):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ibo_bench .venv/bin/python \
        bench/audit_chain.py [--writes 2000] [--entries 50000]

Prints milliseconds per audited save (auditlog entry + hash-chain append) against
the same save with auditlog switched off, entries verified per second by
`verify_audit_chain`, and the time of one erasure.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)
os.environ["SECURE_SSL_REDIRECT"] = "false"
if "FIELD_ENCRYPTION_KEYS" not in os.environ:
    from cryptography.fernet import Fernet

    os.environ["FIELD_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--entries", type=int, default=50000)
    args = parser.parse_args()

    import django
    from django.conf import settings

    django.setup()
    from django.test.utils import setup_databases, teardown_databases

    if not settings.IS_POSTGRES:
        sys.exit("bench/audit_chain.py needs DATABASE_URL pointing at PostgreSQL")
    old = setup_databases(verbosity=0, interactive=False)
    try:
        _run(args)
    finally:
        teardown_databases(old, verbosity=0)


def _run(args):
    from auditlog.context import disable_auditlog

    from accounts.models import Agency
    from compliance import chain, services
    from compliance.models import AuditEntry
    from customers.models import Customer

    agency = Agency.objects.create(name="Bench")

    def saves(n, tag):
        t0 = time.perf_counter()
        for i in range(n):
            customer = Customer(email=f"{tag}{i}@example.test", first_name="F", last_name="L",
                                phone="+14155550100", broker=agency)
            customer.save()
            customer.first_name = "G"
            customer.save()
        return (time.perf_counter() - t0) * 1000 / (2 * n)

    with disable_auditlog():
        plain = saves(args.writes, "plain")
    audited = saves(args.writes, "audited")
    print(f"save without audit: {plain:.2f} ms; audited save (entry + chain): {audited:.2f} ms")

    missing = args.entries - AuditEntry.objects.count()
    if missing > 0:
        saves(missing // 2 + 1, "fill")
    total = AuditEntry.objects.count()
    t0 = time.perf_counter()
    report = chain.verify()
    elapsed = time.perf_counter() - t0
    print(f"verify_audit_chain: {report.checked} entries in {elapsed:.2f}s "
          f"({report.checked / elapsed:,.0f} entries/s); ok={report.ok}; total {total}")

    target = Customer.objects.filter(email__startswith="audited").first()
    for n in range(20):
        target.last_name = f"L{n}"
        target.save()
    t0 = time.perf_counter()
    result = services.customer_erase(actor=None, customer=target)
    print(f"erasure of one customer ({result.entries_scrubbed} entries scrubbed): "
          f"{(time.perf_counter() - t0) * 1000:.1f} ms")
    t0 = time.perf_counter()
    assert chain.verify().ok
    print(f"verify after erasure ok in {time.perf_counter() - t0:.2f}s")


if __name__ == "__main__":
    main()
