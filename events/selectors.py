import datetime

from django.db import connection
from django.db.models import Count, QuerySet
from django.utils import timezone

from accounts.models import User
from events.models import WebhookDelivery, WebhookEndpoint


def webhook_endpoints_visible_to(user: User) -> QuerySet[WebhookEndpoint]:
    """Staff see every endpoint; an integrator sees its own."""
    qs = WebhookEndpoint.objects.all()
    if not (user and user.is_authenticated and user.is_active):
        return qs.none()
    if user.is_staff_role:
        return qs
    if user.is_integrator:
        return qs.filter(owner=user)
    return qs.none()


def deliveries_of(endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return endpoint.deliveries.select_related("event").order_by("-created_at", "-id")


_UNDELIVERED = """
    SELECT count(*), min(created_at) FROM events_outboxevent WHERE id IN (
        SELECT id FROM events_outboxevent WHERE dispatched_at IS NULL
        UNION SELECT event_id FROM events_webhookdelivery WHERE status = 'pending'
        UNION SELECT event_id FROM events_emailnotification
              WHERE status = 'pending' AND event_id IS NOT NULL)
"""


def outbox_stats() -> dict:
    """How many events are undelivered and the oldest one's age. One query, each part
    on a partial index of pending rows (cheap however long the history grows)."""
    with connection.cursor() as cursor:
        cursor.execute(_UNDELIVERED)
        pending, oldest = cursor.fetchone()
    if isinstance(oldest, str):  # SQLite hands back text
        oldest = datetime.datetime.fromisoformat(oldest)
        if timezone.is_naive(oldest):
            oldest = timezone.make_aware(oldest, datetime.UTC)
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return {"pending": pending, "oldest_pending_seconds": round(max(age, 0.0), 3)}


def delivery_counts() -> dict[str, int]:
    counts = dict(WebhookDelivery.objects.order_by().values_list("status")
                  .annotate(n=Count("pk")))
    return {status: counts.get(status, 0) for status in WebhookDelivery.Status.values}
