"""Real Celery workers on a real Redis broker deliver to a real receiver; the outbox
survives a Redis outage and a killed worker (nothing committed is lost)."""

import pytest
from django.conf import settings
from standardwebhooks import Webhook

from claims import services as claim_services
from events import services
from events.models import OutboxEvent, WebhookDelivery
from tests.conftest import requires_postgres, requires_redis
from tests.events.workers import RedisServer, Worker, publishing_to, wait_until
from tests.factories import ClaimFactory

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def celery_mode(settings):
    settings.EVENTS_DELIVERY = "celery"
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    return settings


@pytest.fixture
def workers(tmp_path):
    started = []

    def start(broker_url, **kwargs):
        worker = Worker(broker_url=broker_url, tmp_path=tmp_path, **kwargs)
        started.append(worker)
        return worker
    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path)
    yield server
    server.stop()


def delivered(delivery_filter=None):
    return lambda: WebhookDelivery.objects.filter(status="delivered").exists()


@requires_redis
def test_a_worker_on_the_redis_broker_retries_then_delivers(celery_mode, staff, agency,
                                                           make_receiver, workers):
    receiver = make_receiver(statuses=[503, 200])
    _, secret = services.webhook_endpoint_create(actor=staff, url=receiver.url,
                                                 events=["claim.status_changed"])
    worker = workers(settings.CELERY_BROKER_URL)
    claim = ClaimFactory(policy__customer__broker=agency)
    claim_services.claim_transition(claim_id=claim.pk, to="processing", actor=staff)
    first, second = receiver.wait_for(2, timeout=60)
    wait_until(delivered(), message=worker.output())
    delivery = WebhookDelivery.objects.get()
    assert (delivery.attempts, delivery.last_status_code) == (2, 200)
    assert [a.status_code for a in delivery.attempt_log.all()] == [503, 200]
    assert second["at"] - first["at"] >= 0.3  # waited before retrying
    payload = Webhook(secret).verify(second["body"], second["headers"])
    assert payload["data"]["id"] == str(claim.pk)


def test_an_event_committed_while_redis_is_down_is_delivered_when_it_returns(
        celery_mode, staff, agency, make_receiver, own_redis, workers):
    receiver = make_receiver(statuses=[200])
    services.webhook_endpoint_create(actor=staff, url=receiver.url,
                                     events=["claim.status_changed"])
    claim = ClaimFactory(policy__customer__broker=agency)
    with publishing_to(own_redis.url):  # that Redis is not running
        claim_services.claim_transition(claim_id=claim.pk, to="processing", actor=staff)
    claim.refresh_from_db()
    assert claim.status == "processing"  # the change itself never waits on Redis
    event = OutboxEvent.objects.get()
    assert event.dispatched_at is None
    own_redis.start()
    worker = workers(own_redis.url)
    (request,) = receiver.wait_for(1, timeout=60)
    assert request["headers"]["webhook-id"] == f"msg_{event.pk.hex}"
    wait_until(delivered(), message=worker.output())


def test_a_killed_worker_loses_nothing(celery_mode, staff, agency, make_receiver, own_redis,
                                       workers):
    # The first request hangs: the worker is killed while it waits for the answer.
    receiver = make_receiver(statuses=[200], delays=[30, 0])
    services.webhook_endpoint_create(actor=staff, url=receiver.url,
                                     events=["claim.status_changed"])
    own_redis.start()
    first = workers(own_redis.url)
    claim = ClaimFactory(policy__customer__broker=agency)
    with publishing_to(own_redis.url):
        claim_services.claim_transition(claim_id=claim.pk, to="processing", actor=staff)
    receiver.wait_for(1, timeout=60)
    first.kill()
    assert WebhookDelivery.objects.get().status == "pending"
    second = workers(own_redis.url)
    receiver.wait_for(2, timeout=60)
    wait_until(delivered(), message=second.output())
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 1  # the killed attempt left no record; this one did
