"""Events through the outbox: commit -> Celery worker(s) on Redis -> HTTP receiver.

Usage (PostgreSQL; makes and drops its own database, starts its own redis-server):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ibo_bench .venv/bin/python \
        bench/events_delivery.py [--events 400] [--workers 1 2]

Each event is a real claim status change committed by the service (one outbox row in
the change's transaction); Celery workers (one process each, like Procfile `worker:`
scaled out) fan it out and POST a signed webhook to a receiver on 127.0.0.1. For each
worker count it prints the events per second the workers deliver while draining a
backlog (the committing side is not in the way), and the delivery latency from
commit to receipt (p50, p99) while events are committed at a steady rate.
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
    parser.add_argument("--rate", type=float, default=4.0, help="paced events per second")
    parser.add_argument("--paced", type=int, default=100, help="events for the latency run")
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
            _run(args.events, n, args.rate, args.paced)
    finally:
        teardown_databases(old, verbosity=0)


def _percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def _run(count: int, workers: int, rate: float, paced: int):
    from accounts.models import Agency, Role, User
    from claims import services as claim_services
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
    claims = [ClaimFactory(policy__customer__broker=agency) for _ in range(count + paced)]
    committed: dict[str, float] = {}

    def commit(claim):
        claim_services.claim_transition(claim_id=claim.pk, to="processing", actor=staff)
        committed[str(claim.pk)] = time.time()

    def start_workers():
        return [Worker(broker_url=redis.url, tmp_path=tmp, beat=False,
                       env={"EVENTS_SWEEP_SECONDS": "30"}) for _ in range(workers)]

    with Receiver() as receiver, publishing_to(redis.url):
        WebhookEndpoint.objects.all().delete()
        services.webhook_endpoint_create(actor=staff, url=receiver.url,
                                         events=["claim.status_changed"])
        # 1. Throughput: a backlog of `count` committed events, drained by the workers.
        for claim in claims[:count]:
            commit(claim)
        started = start_workers()
        try:
            receiver.wait_for(count, timeout=900)
            arrivals = sorted(r["at"] for r in receiver.requests)
            throughput = (count - 1) / (arrivals[-1] - arrivals[0])
            # 2. Latency: events committed at a steady `rate`, commit to receipt.
            before = len(receiver.requests)
            for claim in claims[count:]:
                tick = time.time()
                commit(claim)
                time.sleep(max(0.0, 1 / rate - (time.time() - tick)))
            receiver.wait_for(before + paced, timeout=300)
            latencies = [r["at"] - committed[json.loads(r["body"])["data"]["id"]]
                         for r in receiver.requests[before:]]
            wait_until(lambda: WebhookDelivery.objects.filter(status="delivered").count()
                       == count + paced, timeout=60)
        finally:
            for worker in started:
                worker.stop()
            redis.stop()
    print(f"workers={workers}: {throughput:.1f} events/s draining a backlog of {count}; "
          f"latency commit->receipt at {rate:g} events/s: "
          f"p50 {statistics.median(latencies) * 1000:.0f} ms, "
          f"p99 {_percentile(latencies, 99) * 1000:.0f} ms")
    WebhookDelivery.objects.all().delete()
    OutboxEvent.objects.all().delete()


if __name__ == "__main__":
    main()
