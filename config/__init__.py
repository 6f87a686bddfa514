__version__ = "0.1.0"

# Shared tasks bind to this app wherever Django runs (web, worker, manage.py).
from config.celery import app as celery_app  # noqa: E402

__all__ = ["celery_app"]
