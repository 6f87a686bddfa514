from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from events.models import OutboxEvent, WebhookDelivery, WebhookEndpoint


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


def undelivered_events() -> QuerySet[OutboxEvent]:
    """Events not yet fanned out, or with a delivery or an email still pending."""
    return OutboxEvent.objects.filter(
        Q(dispatched_at__isnull=True)
        | Q(pk__in=WebhookDelivery.objects.filter(status="pending").values("event_id"))
        | Q(emails__status="pending")
    )


def outbox_stats() -> dict:
    row = undelivered_events().order_by().aggregate(oldest=Min("created_at"))
    pending = undelivered_events().order_by().values("pk").distinct().count()
    oldest = row["oldest"]
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return {"pending": pending, "oldest_pending_seconds": round(max(age, 0.0), 3)}


def delivery_counts() -> dict[str, int]:
    counts = dict(WebhookDelivery.objects.order_by().values_list("status")
                  .annotate(n=Count("pk")))
    return {status: counts.get(status, 0) for status in WebhookDelivery.Status.values}
