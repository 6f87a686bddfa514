import datetime

from django.conf import settings
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html

from core.exceptions import DomainError
from core.pagination import EstimatedCountPaginator
from events import services
from events.models import (
    DeliveryAttempt,
    EmailNotification,
    OutboxEvent,
    WebhookDelivery,
    WebhookEndpoint,
)


def _stuck_before():
    """An event is stuck when still undelivered a while after the sweep should have
    picked it up."""
    grace = settings.EVENTS_SWEEP_GRACE_SECONDS + 2 * settings.EVENTS_SWEEP_SECONDS
    return timezone.now() - datetime.timedelta(seconds=max(grace, 60))


class StuckFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("stuck", "Stuck (not dispatched)"), ("pending", "Not dispatched"),
                ("dispatched", "Dispatched")]

    def queryset(self, request, queryset):
        if self.value() == "stuck":
            return queryset.filter(dispatched_at__isnull=True, created_at__lt=_stuck_before())
        if self.value() == "pending":
            return queryset.filter(dispatched_at__isnull=True)
        if self.value() == "dispatched":
            return queryset.filter(dispatched_at__isnull=False)
        return queryset


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ("type", "resource_type", "resource_id", "created_at", "state")
    list_filter = (StuckFilter, "type", "created_at")
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # no COUNT(*) of a whole big table per page
    # No date_hierarchy: it reads the whole table on every page (MIN/MAX, then the
    # distinct years or months). The date filter's links cost no query.
    readonly_fields = ("id", "type", "created_at", "data", "resource_type", "resource_id",
                       "customer_id", "dispatched_at")
    actions = ["dispatch_again"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="state")
    def state(self, obj):
        if obj.dispatched_at:
            return "dispatched"
        if obj.created_at < _stuck_before():
            return format_html('<strong style="color:#a61b1b">{}</strong>', "stuck")
        return "pending"

    @admin.action(description="Dispatch the selected events now")
    def dispatch_again(self, request, queryset):
        from events import dispatch

        ids = list(queryset.filter(dispatched_at__isnull=True).values_list("pk", flat=True))
        for pk in ids:
            dispatch.enqueue("fanout", pk)
        self.message_user(request, f"{len(ids)} event(s) sent for dispatch.")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "owner", "status", "failing_since", "created_at")
    list_filter = ("status",)
    search_fields = ("url", "description")
    fields = ("owner", "url", "events", "description", "status", "disabled_reason",
              "failing_since", "created_at", "updated_at")
    readonly_fields = ("owner", "failing_since", "disabled_reason", "created_at", "updated_at")

    def has_add_permission(self, request):
        return False  # created through the API, which shows the secret once


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("attempted_at", "status_code", "error", "duration_ms")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("event_type", "endpoint", "status", "attempts", "last_status_code",
                    "next_attempt_at", "created_at")
    list_filter = ("status", "event__type")
    list_select_related = ("event", "endpoint")
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # no COUNT(*) of a whole big table per page
    readonly_fields = ("endpoint", "event", "status", "attempts", "last_status_code",
                       "last_error", "next_attempt_at", "window_started_at", "leased_until",
                       "delivered_at", "created_at")
    inlines = [DeliveryAttemptInline]
    actions = ["redeliver"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="event", ordering="event__type")
    def event_type(self, obj):
        return obj.event.type

    @admin.action(description="Redeliver the selected deliveries")
    def redeliver(self, request, queryset):
        done = 0
        for delivery in queryset.select_related("endpoint"):
            try:
                services.delivery_redeliver(actor=request.user, delivery=delivery)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{delivery.pk}: {exc.message}", messages.WARNING)
        self.message_user(request, f"{done} delivery(ies) queued again.")


@admin.register(EmailNotification)
class EmailNotificationAdmin(admin.ModelAdmin):
    list_display = ("kind", "recipient", "status", "attempts", "created_at")
    list_filter = ("status", "kind")
    list_select_related = ("recipient",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # no COUNT(*) of a whole big table per page
    readonly_fields = ("kind", "event", "endpoint", "recipient", "status", "attempts",
                       "last_error", "next_attempt_at", "sent_at", "created_at")

    def has_add_permission(self, request):
        return False
