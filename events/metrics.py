"""Outbox and webhook figures for /metrics, read from the database at scrape time
(workers run in other processes, so their in-memory counters would not be seen):

- ``insurance_outbox_pending``: events not yet wholly delivered (webhooks and emails);
- ``insurance_outbox_oldest_pending_seconds``: age of the oldest of them;
- ``insurance_webhook_deliveries_total{status}``: deliveries by status.
"""

import logging

from prometheus_client.core import REGISTRY, CounterMetricFamily, GaugeMetricFamily

logger = logging.getLogger("insurance.events")


class OutboxCollector:
    def describe(self):
        return []

    def collect(self):
        from events import selectors

        try:
            stats = selectors.outbox_stats()
            counts = selectors.delivery_counts()
        except Exception:  # noqa: BLE001 - a scrape never fails for a database hiccup
            logger.warning("metrics.outbox_unavailable",
                           extra={"event": "metrics.outbox_unavailable"})
            return
        yield GaugeMetricFamily("insurance_outbox_pending",
                                "Events not yet delivered to every webhook and recipient.",
                                value=stats["pending"])
        yield GaugeMetricFamily("insurance_outbox_oldest_pending_seconds",
                                "Age of the oldest undelivered event.",
                                value=stats["oldest_pending_seconds"])
        family = CounterMetricFamily("insurance_webhook_deliveries",
                                     "Webhook deliveries by status.", labels=["status"])
        for status, n in counts.items():
            family.add_metric([status], n)
        yield family


_collector = OutboxCollector()
_registered = False


def register() -> None:
    global _registered
    if not _registered:
        REGISTRY.register(_collector)
        _registered = True
