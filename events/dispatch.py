"""Hand work to whoever runs it, after commit.

``EVENTS_DELIVERY``:

- ``celery``: a Celery task on the Redis broker. If the broker cannot be reached the
  message is simply not sent: the row stays pending in the database and the sweep
  (Celery beat) sends it later, so a Redis outage loses nothing and blocks nothing.
- ``thread``: no broker (``make run``): a background thread in this process, with a
  sweeper thread for retries.
- ``sync``: run now, in the caller's thread (tests); delayed retries wait for a sweep.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections, connection

logger = logging.getLogger("insurance.events")

_pool: ThreadPoolExecutor | None = None
_sweeper: threading.Thread | None = None
_lock = threading.Lock()


def run(name: str, *args) -> None:
    from events import tasks

    getattr(tasks, name)(*[str(a) for a in args])


def enqueue(name: str, *args, countdown: float | None = None) -> bool:
    mode = settings.EVENTS_DELIVERY
    if mode == "celery":
        from events import tasks

        try:
            getattr(tasks, name).apply_async(args=[str(a) for a in args], countdown=countdown,
                                             retry=False)
            return True
        except Exception as exc:  # noqa: BLE001 - the sweep sends it once the broker is back
            logger.warning("events.enqueue_failed", extra={
                "event": "events.enqueue_failed", "task": name, "error": exc.__class__.__name__})
            return False
    if mode == "sync":
        if countdown:
            return False
        run(name, *args)
        return True
    _ensure_threads()
    if countdown:
        timer = threading.Timer(countdown, lambda: _pool.submit(_in_thread, name, *args))
        timer.daemon = True
        timer.start()
    else:
        _pool.submit(_in_thread, name, *args)
    return True


def _in_thread(name: str, *args) -> None:
    close_old_connections()
    try:
        run(name, *args)
    except Exception:  # noqa: BLE001 - the row stays pending; the sweeper retries it
        logger.exception("events.inline_failed", extra={"event": "events.inline_failed",
                                                         "task": name})
    finally:
        connection.close()


def _sweep_forever() -> None:
    while True:
        time.sleep(settings.EVENTS_SWEEP_SECONDS)
        _in_thread("sweep")


def _ensure_threads() -> None:
    global _pool, _sweeper
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="events")
        if _sweeper is None or not _sweeper.is_alive():
            _sweeper = threading.Thread(target=_sweep_forever, name="events-sweep", daemon=True)
            _sweeper.start()
