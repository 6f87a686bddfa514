"""Events through the outbox: commit -> Celery worker(s) on Redis -> HTTP receiver.

Usage (PostgreSQL; makes and drops its own database, starts its own redis-server):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ibo_bench .venv/bin/python \
        bench/events_delivery.py [--events 400] [--workers 1 2]

Each event is a real claim status change committed by the service (one outbox row in
the change's transaction); Celery workers (one process each, like Procfile `worker:`
scaled out) fan it out and POST a signed webhook to a receiver on 127.0.0.1. Prints
events per second from the first commit to the last receipt, and the delivery
latency (commit to receipt) at p50 and p99, for each worker count.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)
os.environ["SECURE_SSL_REDIRECT"] = "false"
os.environ["EVENTS_DELIVERY"] = "celery"
os.environ["WEBHOOK_ALLOW_PRIVATE_URLS"] = "true"
if "FIELD_ENCRYPTION_KEYS" not in os.environ:
    from cryptography.fernet import Fernet

    os.environ["FIELD_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()

    import django
    from django.conf import settings

    django.setup()
    from django.test.utils import setup_databases, teardown_databases

    if not settings.IS_POSTGRES:
        sys.exit("bench/events_delivery.py needs DATABASE_URL pointing at PostgreSQL")
    old = setup_databases(verbosity=0, interactive=False)
    try:
        for n in args.workers:
            _run(args.events, n)
    finally:
        teardown_databases(old, verbosity=0)


def _percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def _run(count: int, workers: int):
    from django.db import connection

    from accounts.models import Agency, Role, User
    from claims import services as claim_services
    from claims.models import Claim
    from events import services
    from events.models import OutboxEvent, WebhookDelivery, WebhookEndpoint
    from tests.events.receiver import Receiver
    from tests.events.workers import RedisServer, Worker, publishing_to, wait_until
    from tests.factories import ClaimFactory

    tmp = Path(tempfile.mkdtemp(prefix="bench-events-"))
    redis = RedisServer(tmp).start()
    staff = User.objects.filter(role=Role.STAFF).first() or User.objects.create_user(
        email="bench-staff@example.test", password=None, role=Role.STAFF, is_staff=True)
    agency = Agency.objects.first() or Agency.objects.create(name="Bench agency")
    claims = [ClaimFactory(policy__customer__broker=agency) for _ in range(count)]
    with Receiver() as receiver, publishing_to(redis.url):
        WebhookEndpoint.objects.all().delete()
        services.webhook_endpoint_create(actor=staff, url=receiver.url,
                                         events=["claim.status_changed"])
        started = [Worker(broker_url=redis.url, tmp_path=tmp, beat=False,
                          env={"EVENTS_SWEEP_SECONDS": "30"}) for _ in range(workers)]
        try:
            # Warm up: every worker process imports Django and connects first.
            time.sleep(6)
            committed: dict[str, float] = {}
            first = time.time()
            for claim in claims:
                claim_services.claim_transition(claim_id=claim.pk, to="processing",
                                                actor=staff)
                committed[str(claim.pk)] = time.time()
            receiver.wait_for(count, timeout=600)
            last = max(r["at"] for r in receiver.requests)
            latencies = []
            for request in receiver.requests:
                body = json.loads(request["body"])
                latencies.append(request["at"] - committed[body["data"]["id"]])
            wait_until(lambda: WebhookDelivery.objects.filter(status="delivered").count()
                       == count, timeout=60)
        finally:
            for worker in started:
                worker.stop()
            redis.stop()
    rate = count / (last - first)
    print(f"workers={workers} events={count}: {rate:.0f} events/s; latency commit->receipt "
          f"p50 {statistics.median(latencies) * 1000:.0f} ms, "
          f"p99 {_percentile(latencies, 99) * 1000:.0f} ms")
    WebhookDelivery.objects.all().delete()
    OutboxEvent.objects.all().delete()
    Claim.objects.filter(pk__in=[c.pk for c in claims]).delete()
    connection.close()


if __name__ == "__main__":
    main()
