"""Processes a test (or bench/outages.py) can break on purpose: its own redis-server,
its own PostgreSQL cluster, and a daphne server process pointed at them.

Never the shared services on 6379 / 5432: each of these listens on a free port of
its own and lives in a temporary directory that is removed afterwards.
"""

import glob
import http.cookiejar
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DAPHNE = ROOT / ".venv" / "bin" / "daphne"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not happen within {timeout}s")


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def redis_available() -> bool:
    return shutil.which("redis-server") is not None


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class RedisServer:
    """A throw-away redis-server on a free port; stop() and start() keep the port."""

    def __init__(self):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="ibo-redis-"))
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        _wait(lambda: _port_open(self.port), 10, "redis-server start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        _wait(lambda: not _port_open(self.port), 10, "redis-server stop")

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class PostgresCluster:
    """A throw-away PostgreSQL cluster (initdb + pg_ctl) on a free port.

    As root, the cluster runs as the `postgres` system user (initdb refuses root).
    """

    def __init__(self):
        self.bin = postgres_bin()
        if self.bin is None:
            raise RuntimeError("PostgreSQL server binaries (initdb) are not installed")
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="ibo-pg-"))
        self.data = self.dir / "data"
        self.sockets = self.dir / "sock"
        self.sockets.mkdir()
        self._as = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            shutil.chown(self.sockets, "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-sync")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self._as, str(self.bin / tool), *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 "
                   "-c max_connections=60")
        self._run("pg_ctl", "-D", str(self.data), "-o", options,
                  "-l", str(self.dir / "log"), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def close(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


def server_env(**overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "TESTING": "true",  # the test keys (signing, field encryption), fast hashing
        "DEBUG": "false",
        "LOG_LEVEL": "ERROR",
    })
    env.update(overrides)
    return env


def manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


class ServerProcess:
    """`daphne config.asgi:application` with the given environment."""

    def __init__(self, env: dict, log_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [str(DAPHNE), "-b", "127.0.0.1", "-p", str(self.port), "config.asgi:application"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        try:
            _wait(self._live, 60, "server start")
        except RuntimeError:
            self.stop()
            raise RuntimeError("server did not start:\n" + self.log()[-3000:]) from None

    def _live(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError("server exited:\n" + self.log()[-3000:])
        try:
            with urllib.request.urlopen(f"{self.url}/health/live", timeout=1) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

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


class Browser:
    """A cookie-keeping HTTP client: portal and admin sign-in with CSRF, API calls."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def request(self, method: str, path: str, *, json_body=None, form=None,
                token: str | None = None, timeout: float = 30):
        """(status, headers, body bytes); never raises on an HTTP status."""
        headers = {}
        data = None
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            form = {**form, "csrfmiddlewaretoken": self.cookie("csrftoken") or ""}
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = self.base + path
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with self.opener.open(req, timeout=timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def cookie(self, name: str) -> str | None:
        for cookie in self.jar:
            if cookie.name == name:
                return cookie.value
        return None

    def sign_in(self, login_path: str, email: str, password: str, field: str = "email"):
        self.request("GET", login_path)
        return self.request("POST", login_path, form={field: email, "password": password})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class WriteLoad:
    """Concurrent customer creations through the API, each outcome recorded:
    (started monotonic time, status, Retry-After header, created id or None)."""

    def __init__(self, base: str, token: str, *, workers: int = 6, tag: str = "load"):
        import threading

        self.base, self.token, self.tag = base, token, tag
        self.results: list[tuple[float, int, str | None, str | None]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(n,), daemon=True)
                         for n in range(workers)]

    def start(self) -> "WriteLoad":
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _run(self, worker: int) -> None:
        http = Browser(self.base)
        n = 0
        while not self._stop.is_set():
            n += 1
            body = {"email": f"{self.tag}-{worker}-{n}@example.test", "first_name": "Load",
                    "last_name": f"Writer{worker}", "gdpr_consent": True}
            started = time.monotonic()
            try:
                status, headers, raw = http.request("POST", "/api/customers", json_body=body,
                                                    token=self.token, timeout=60)
            except OSError:
                status, headers, raw = 0, {}, b""
            created = None
            if 200 <= status < 300:
                created = json.loads(raw)["id"]
            with self._lock:
                self.results.append((started, status, headers.get("Retry-After"), created))
            time.sleep(0.02)

    def summary(self, outage_started: float, service_back: float) -> dict:
        """Counts, and seconds from the service being back to the first 2xx started after it."""
        statuses = [status for _, status, _, _ in self.results]
        after = sorted(t for t, status, _, _ in self.results
                       if 200 <= status < 300 and t >= service_back)
        return {
            "requests": len(statuses),
            "2xx": sum(200 <= s < 300 for s in statuses),
            "503": statuses.count(503),
            "other_5xx": sum(s >= 500 and s != 503 for s in statuses),
            "other": sum(not (200 <= s < 300) and s < 500 for s in statuses),
            "recovery_seconds": round(after[0] - service_back, 2) if after else None,
            "outage_seconds": round(service_back - outage_started, 2),
        }
