"""Runs anywhere: embedded defaults with no environment, real engines when configured."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, django
from django.conf import settings
django.setup()
from django.core.cache import caches
print(json.dumps({
    "db": settings.DATABASES["default"]["ENGINE"],
    "pool": bool(settings.DATABASES["default"].get("OPTIONS", {}).get("pool")),
    "cache": type(caches["default"]).__module__,
    "layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "debug": settings.DEBUG,
    "storage": settings.STORAGES["documents"]["BACKEND"],
}))
"""


def probe(env: dict) -> dict:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "TESTING",
                          "AWS_STORAGE_BUCKET_NAME")}
    clean.update(env, DJANGO_SETTINGS_MODULE="config.settings")
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=clean, check=True,
                         capture_output=True, text=True, timeout=60)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_embedded_defaults_with_no_environment():
    got = probe({})
    assert got["db"] == "django.db.backends.sqlite3"
    assert "locmem" in got["cache"] or got["cache"].startswith("core")
    assert got["layer"] == "channels.layers.InMemoryChannelLayer"
    assert got["storage"].endswith("FileSystemStorage")
    assert got["debug"] is True


def test_real_engines_from_the_environment():
    got = probe({"DATABASE_URL": "postgres://u@127.0.0.1:5432/x",
                 "REDIS_URL": "redis://127.0.0.1:6379/3",
                 "SECRET_KEY": secrets.token_urlsafe(50),
                 "FIELD_ENCRYPTION_KEYS": secrets.token_hex(32)})
    assert "postgresql" in got["db"]
    assert got["pool"] is True
    assert "redis" in got["cache"]
    assert got["layer"] == "channels_redis.core.RedisChannelLayer"
    assert got["debug"] is False


def test_production_refuses_to_start_without_secret_key():
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "TESTING", "DEBUG")}
    env.update(DATABASE_URL="postgres://u@127.0.0.1:5432/x",
               DJANGO_SETTINGS_MODULE="config.settings")
    out = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "SECRET_KEY" in out.stderr
