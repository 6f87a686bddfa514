"""Real ASGI server processes (daphne) on the test database, for tests that need
WebSockets across processes or a browser. Used with `transactional_db`, so rows
the test writes are committed and visible to the servers."""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)
DAPHNE = BASE_DIR / ".venv" / "bin" / "daphne"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_static_root: Path | None = None


def collected_static() -> Path:
    """Static files collected once per test run, served by WhiteNoise as in production."""
    global _static_root
    if _static_root is None:
        root = Path(tempfile.mkdtemp(prefix="ibo-static-"))
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=BASE_DIR, env={**os.environ, "TESTING": "true", "STATIC_ROOT": str(root)},
            check=True,
        )
        _static_root = root
    return _static_root


def database_url_for_tests() -> str:
    """DATABASE_URL with the database name swapped for pytest's test database."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


class DaphneServer:
    def __init__(self, *, media_root: Path, log_path: Path, extra_env: dict | None = None,
                 server: str = "daphne"):
        """`server`: ``daphne`` (as `make run` serves) or ``uvicorn`` (as the Procfile's
        web process does, one worker)."""
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = dict(os.environ)
        env.update({
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url_for_tests(),
            "REDIS_URL": settings.REDIS_URL,
            "TESTING": "true",  # the test process's keys (signing, field encryption)
            "DEBUG": "false",
            "MEDIA_ROOT": str(media_root),
            "STATIC_ROOT": str(collected_static()),
            "LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        })
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        if server == "uvicorn":
            command = [str(DAPHNE.parent / "uvicorn"), "config.asgi:application",
                       "--host", "127.0.0.1", "--port", str(self.port), "--lifespan", "off",
                       "--no-proxy-headers", "--no-access-log"]
        else:
            command = [str(DAPHNE), "-b", "127.0.0.1", "-p", str(self.port),
                       "config.asgi:application"]
        self.process = subprocess.Popen(
            command,
            cwd=BASE_DIR, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.url}/health/live", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"daphne did not start:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


def api(server: DaphneServer, method: str, path: str, body: dict | None = None,
        token: str | None = None) -> tuple[int, dict]:
    """A JSON call to a server's API, as an integrator's program makes it."""
    import json

    request = urllib.request.Request(
        server.url + path, method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json",
                 **({"Authorization": f"Bearer {token}"} if token else {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
