"""Celery tasks. Each is a thin shell over a service; every one is safe to run twice
(rows are leased and their state checked), so at-least-once messaging is enough."""

from celery import shared_task
from django.conf import settings

from events import dispatch, services


def _again(name: str, pk, delay: float | None) -> None:
    # Short waits ride on a countdown; long ones on the sweep (a Redis broker redelivers
    # long-delayed messages after its visibility timeout, which would double them).
    if delay is not None and delay <= settings.EVENTS_COUNTDOWN_MAX_SECONDS:
        dispatch.enqueue(name, pk, countdown=delay)


@shared_task(name="events.fanout", ignore_result=True)
def fanout(event_id: str) -> None:
    deliveries, emails = services.event_fanout(event_id=event_id)
    for pk in deliveries:
        dispatch.enqueue("deliver", pk)
    for pk in emails:
        dispatch.enqueue("send_email", pk)


@shared_task(name="events.deliver", ignore_result=True)
def deliver(delivery_id: str) -> None:
    _again("deliver", delivery_id, services.delivery_attempt(delivery_id=delivery_id))


@shared_task(name="events.send_email", ignore_result=True)
def send_email(notification_id: str) -> None:
    _again("send_email", notification_id,
           services.email_send(notification_id=notification_id))


@shared_task(name="events.sweep", ignore_result=True)
def sweep() -> dict:
    found = services.outbox_sweep()
    for name, ids in found.items():
        for pk in ids:
            dispatch.enqueue(name, pk)
    return {name: len(ids) for name, ids in found.items()}
