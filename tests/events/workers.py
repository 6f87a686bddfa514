"""Real processes for the worker tests: a Celery worker (with its embedded beat) on
the test database, and a private redis-server that a test may stop and start."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

from config.celery import app as celery_app

ROOT = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class RedisServer:
    """A redis-server of the test's own on a free port: never the shared one."""

    def __init__(self, tmp_path):
        self.port = free_port()
        self.dir = tmp_path / f"redis-{self.port}"
        self.dir.mkdir()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed (Debian package redis-server)"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


class Worker:
    def __init__(self, *, broker_url: str, tmp_path, env: dict[str, str] | None = None,
                 concurrency: int = 1, beat: bool = True):
        self.log = tmp_path / f"worker-{free_port()}.log"
        environment = {
            **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")},
            "DATABASE_URL": test_database_url(),
            "CELERY_BROKER_URL": broker_url,
            "REDIS_URL": "",
            "EVENTS_DELIVERY": "celery",
            "DEBUG": "off",
            "TESTING": "true",  # the test process's keys (signing, field encryption)
            "SECRET_KEY": settings.SECRET_KEY,
            "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
            "WEBHOOK_ALLOW_PRIVATE_URLS": "true",
            "EVENTS_SWEEP_SECONDS": "0.5",
            "EVENTS_SWEEP_GRACE_SECONDS": "0.5",
            "WEBHOOK_RETRY_DELAYS": "0.3,0.6",
            "EVENTS_LEASE_SECONDS": "3",
            "EMAIL_URL": "consolemail://",
            **(env or {}),
        }
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "WARNING",
                   "-P", "solo" if concurrency == 1 else "prefork", "-c", str(concurrency),
                   "-Q", settings.CELERY_TASK_DEFAULT_QUEUE, "-n", f"w{free_port()}@%h",
                   "--without-gossip", "--without-mingle", "--without-heartbeat"]
        if beat:
            command += ["-B", "-s", str(tmp_path / f"beat-{free_port()}")]
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        """SIGKILL the worker and everything it started: nothing gets to clean up."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGQUIT)  # cold shutdown: a test is done
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def publishing_to(broker_url: str):
    """Point this (test) process's Celery app at another broker for a while."""
    def reset():
        if celery_app._pool is not None:
            celery_app._pool.force_close_all()
            celery_app._pool = None
        celery_app.amqp._producer_pool = None

    previous = celery_app.conf.broker_url
    reset()
    celery_app.conf.broker_url = broker_url
    try:
        yield
    finally:
        reset()
        celery_app.conf.broker_url = previous


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1, message: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(message or "condition not met in time")
