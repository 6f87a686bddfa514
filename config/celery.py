"""The Celery application: Redis broker (CELERY_BROKER_URL, by default REDIS_URL),
tasks from each app's tasks.py, and the beat schedule of the outbox sweep.

    celery -A config worker      # delivers webhooks and emails
    celery -A config beat        # runs the sweep every EVENTS_SWEEP_SECONDS
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("insurance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
