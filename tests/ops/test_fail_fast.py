"""Fail fast: with DEBUG off, the Procfile's `web:` process refuses to start on a
missing or unusable required setting, naming it, instead of answering 500 later."""

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.ops.outage import free_port
from tests.ops.test_deploy import ROOT, production_env

pytestmark = pytest.mark.skipif(not os.environ.get("DATABASE_URL"),
                                reason="production settings need DATABASE_URL")


def _web_command() -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.removeprefix("web:").strip()
    raise AssertionError("the Procfile has no web: process")


def _start_web(tmp_path: Path, **overrides) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = production_env(PORT=str(port), STATIC_ROOT=str(tmp_path / "static"),
                         SECURE_SSL_REDIRECT="false", ALLOWED_HOSTS="127.0.0.1",
                         **overrides)
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}:{env['PATH']}"
    process = subprocess.Popen(["bash", "-c", _web_command()], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    return process, port


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


def _stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    out, _ = process.communicate(timeout=30)
    return out


def test_the_web_process_starts_with_every_required_setting(tmp_path):
    process, port = _start_web(tmp_path)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None and not _answers(port):
            time.sleep(0.3)
        assert _answers(port), _stop(process)
    finally:
        _stop(process)


@pytest.mark.parametrize(("overrides", "named"), [
    ({"SECRET_KEY": None}, "SECRET_KEY"),
    ({"SECRET_KEY": "short-key"}, "SECRET_KEY"),
    ({"SECRET_KEY": "x" * 60}, "SECRET_KEY"),
    ({"SECRET_KEY": "django-insecure-" + "a1b2c3d4e5" * 5}, "SECRET_KEY"),
    ({"FIELD_ENCRYPTION_KEYS": None}, "FIELD_ENCRYPTION_KEYS"),
    ({"FIELD_ENCRYPTION_KEYS": "changeme"}, "FIELD_ENCRYPTION_KEYS"),
    ({"DATABASE_URL": None}, "DATABASE_URL"),
    ({"DATABASE_URL": "mysql://app@db.internal/backoffice"}, "DATABASE_URL"),
    ({"DATABASE_URL": "postgres://app@db.internal:port/backoffice"}, "DATABASE_URL"),
    ({"REDIS_URL": "http://cache.internal:6379"}, "REDIS_URL"),
    ({"JWT_SIGNING_KEY": "secret"}, "JWT_SIGNING_KEY"),
    ({"LOCKOUT_SECONDS": "fifteen minutes"}, "LOCKOUT_SECONDS"),
    ({"DB_POOL_MAX": "lots"}, "DB_POOL_MAX"),
])
def test_the_web_process_refuses_to_start_naming_the_setting(tmp_path, overrides, named):
    process, port = _start_web(tmp_path, **overrides)
    try:
        code = process.wait(timeout=90)
    finally:
        output = _stop(process)
    assert code != 0
    assert "ImproperlyConfigured" in output and named in output, output[-2000:]
    assert not _answers(port)
