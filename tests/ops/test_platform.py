"""Platform files: parsed, and their release and seeding commands run as the platform
would run them, on a fresh PostgreSQL database with platform-generated secrets."""

import json
import os
import secrets
import shlex
import socket
import subprocess
import sys
import tomllib
import uuid
from pathlib import Path

import psycopg
import pytest
import yaml
from django.conf import settings

from tests.conftest import requires_postgres

ROOT = Path(settings.BASE_DIR)


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def app_json() -> dict:
    return json.loads((ROOT / "app.json").read_text())


def railway() -> dict:
    return tomllib.loads((ROOT / "railway.toml").read_text())


def render() -> dict:
    return yaml.safe_load((ROOT / "render.yaml").read_text())


def render_web() -> dict:
    return next(s for s in render()["services"] if s["type"] == "web")


def test_procfile_has_release_and_web():
    processes = procfile()
    assert processes["release"] == "python manage.py migrate --noinput"
    web = processes["web"]
    # One ASGI server process per core (HTTP and WebSocket), WEB_CONCURRENCY overrides.
    assert "uvicorn config.asgi:application" in web and "$PORT" in web
    assert "--workers ${WEB_CONCURRENCY:-$(nproc)}" in web
    # X-Forwarded-* are read by the project (TRUSTED_PROXY_COUNT, SECURE_PROXY_SSL_HEADER),
    # not rewritten by the server.
    assert "--no-proxy-headers" in web
    assert "--proxy-headers" not in web.replace("--no-proxy-headers", "")


def test_app_json_review_apps_seed_and_generate_secrets():
    app = app_json()
    assert app["env"]["SECRET_KEY"]["generator"] == "secret"
    assert app["env"]["FIELD_ENCRYPTION_KEYS"]["generator"] == "secret"
    assert app["env"]["DEBUG"]["value"] == "off"
    assert "seed_demo" in app["environments"]["review"]["scripts"]["postdeploy"]
    assert any(addon.startswith("heroku-postgresql") for addon in app["addons"])


def test_railway_migrates_before_deploy_and_probes_readiness():
    deploy = railway()["deploy"]
    assert deploy["healthcheckPath"] == "/health/ready"
    assert deploy["preDeployCommand"] == ["python manage.py migrate --noinput"]
    assert "seed_demo" in railway()["environments"]["pr"]["deploy"]["preDeployCommand"][0]


def test_render_previews_expire_and_seed_once():
    blueprint = render()
    assert blueprint["previews"]["generation"] == "automatic"
    assert 0 < blueprint["previews"]["expireAfterDays"] <= 7
    web = render_web()
    assert web["healthCheckPath"] == "/health/ready"
    assert web["preDeployCommand"] == "python manage.py migrate --noinput"
    assert "seed_demo" in web["initialDeployHook"]
    keys = {var["key"]: var for var in web["envVars"]}
    assert keys["SECRET_KEY"]["generateValue"] is True
    assert keys["FIELD_ENCRYPTION_KEYS"]["generateValue"] is True
    assert keys["DATABASE_URL"]["fromDatabase"]["name"] in {d["name"] for d in
                                                           blueprint["databases"]}


def test_celery_worker_and_beat_are_declared_everywhere():
    processes = procfile()
    assert processes["worker"].startswith("celery -A config worker")
    assert processes["beat"].startswith("celery -A config beat")
    formation = app_json()["formation"]
    assert formation["worker"]["quantity"] >= 1 and formation["beat"]["quantity"] == 1
    workers = {s["name"]: s for s in render()["services"] if s["type"] == "worker"}
    commands = {s["startCommand"] for s in workers.values()}
    assert commands == {processes["worker"], processes["beat"]}
    for service in workers.values():
        keys = {var["key"] for var in service["envVars"]}
        assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEYS"} <= keys
    for name in ("worker", "beat"):
        config = tomllib.loads((ROOT / f"railway.{name}.toml").read_text())
        assert config["deploy"]["startCommand"] == processes[name]


# --- run the commands ----------------------------------------------------------------


def _server() -> str:
    return os.environ["DATABASE_URL"].rsplit("/", 1)[0]


@pytest.fixture
def fresh_database():
    name = f"ibo_preview_pf_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{_server()}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{_server()}/{name}", name
    finally:
        with psycopg.connect(f"{_server()}/postgres", autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = %s", [name])
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def platform_env(database_url: str, tmp_path, secret_style: str) -> dict[str, str]:
    """What a platform hands the process: its generated secrets, no local settings."""
    secret = {"heroku": lambda: secrets.token_hex(32),  # app.json "generator": "secret"
              "render": lambda: __import__("base64").b64encode(  # generateValue: 256 bits
                  secrets.token_bytes(32)).decode()}[secret_style]
    return {
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(tmp_path),
        "DATABASE_URL": database_url,
        "SECRET_KEY": secret() + secret(),
        "FIELD_ENCRYPTION_KEYS": secret(),
        "METRICS_TOKEN": secret(),
        "ALLOWED_HOSTS": "preview.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://preview.example.com",
        "DEBUG": "off",
        "MEDIA_ROOT": str(tmp_path / "documents"),
        "STATIC_ROOT": str(tmp_path / "static"),
    }


def run(command: str, env: dict[str, str]) -> str:
    # `python` is this interpreter (first on PATH), as on the platform's image.
    assert shlex.split(command)[0] == "python"
    done = subprocess.run(["bash", "-c", command], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def count(database_url: str, table: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@requires_postgres
def test_heroku_release_and_review_app_postdeploy(fresh_database, tmp_path):
    url, _ = fresh_database
    env = platform_env(url, tmp_path, "heroku")
    run(procfile()["release"], env)
    postdeploy = app_json()["environments"]["review"]["scripts"]["postdeploy"]
    out = run(postdeploy, env)
    assert "staff@demo.example" in out and "password" in out
    customers = count(url, "customers_customer")
    assert customers == 2000
    # A redeploy runs the release again and leaves the book alone.
    run(procfile()["release"], env)
    assert "already loaded" in run(postdeploy, env)
    assert count(url, "customers_customer") == customers


@requires_postgres
def test_render_and_railway_commands_with_render_style_secrets(fresh_database, tmp_path):
    url, _ = fresh_database
    env = platform_env(url, tmp_path, "render")
    web = render_web()
    run(web["preDeployCommand"], env)
    run(web["initialDeployHook"], env)
    assert count(url, "customers_customer") == 2000
    for command in railway()["deploy"]["preDeployCommand"]:
        run(command, env)
    for command in railway()["environments"]["pr"]["deploy"]["preDeployCommand"]:
        assert "already loaded" in run(command, env)


@requires_postgres
def test_web_process_serves_readiness_on_the_platform_port(fresh_database, tmp_path):
    url, _ = fresh_database
    env = platform_env(url, tmp_path, "heroku")
    run(procfile()["release"], env)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env["PORT"] = str(port)
    web = procfile()["web"].replace("0.0.0.0", "127.0.0.1")
    server = subprocess.Popen(["bash", "-c", f"exec {web}" if "&&" not in web else web],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        import time
        import urllib.request

        deadline = time.monotonic() + 60
        while True:
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/health/ready",
                                                 headers={"Host": "10.0.0.5:8080"})
                with urllib.request.urlopen(request, timeout=2) as response:
                    body = json.loads(response.read())
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        assert body["status"] == "ready"
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=20)
