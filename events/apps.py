from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Events, webhooks and notifications"

    def ready(self):
        from events import metrics, receivers  # noqa: F401 - connect signals, register metrics

        metrics.register()
