"""Production settings: `check --deploy` is clean with DEBUG off and nothing silenced,
probes answer an internal host name, and encryption keys from platform secrets."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings

from core.keys import fernet_key, is_fernet_key

ROOT = Path(django_settings.BASE_DIR)


def production_env(**overrides) -> dict[str, str]:
    """A clean environment as a platform would give it: nothing from this shell."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DEBUG": "off",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "backoffice.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://backoffice.example.com",
        "FIELD_ENCRYPTION_KEYS": secrets.token_hex(32),
        "METRICS_TOKEN": secrets.token_urlsafe(32),
    }
    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    env.update(overrides)
    return {key: value for key, value in env.items() if value is not None}


def manage(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


def test_deploy_check_passes_with_nothing_silenced():
    done = manage(production_env(), "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues (0 silenced)" in done.stdout


def test_production_refuses_a_weak_secret_key_before_any_check():
    done = manage(production_env(SECRET_KEY="short-key"), "check", "--deploy",
                  "--fail-level", "WARNING")
    assert done.returncode != 0
    assert "SECRET_KEY is too weak" in done.stderr


def test_production_refuses_to_start_without_a_secret_key():
    done = manage(production_env(SECRET_KEY=None), "check")
    assert done.returncode != 0
    assert "SECRET_KEY must be set" in done.stderr


def test_production_settings_are_hardened():
    env = production_env()
    code = ("from django.conf import settings as s; print(s.DEBUG, s.SECURE_SSL_REDIRECT, "
            "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
            "s.SECURE_PROXY_SSL_HEADER, s.SECURE_REFERRER_POLICY, s.ALLOWED_HOSTS, "
            "s.CSRF_TRUSTED_ORIGINS)")
    done = manage(env, "shell", "-c", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == (
        # The scheme comes from core.proxy (trusted proxies only), never a client header.
        "False True True True 31536000 ('trusted_proxy.scheme', 'https') same-origin "
        "['backoffice.example.com'] ['https://backoffice.example.com']")


# --- probes with an internal host name ------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["10.0.0.5:8080", "backoffice-web.internal:8000", "[fd12::7]"])
@pytest.mark.parametrize("path", ["/health", "/health/", "/health/live", "/health/ready"])
def test_probes_answer_an_internal_host_name_over_plain_http(host, path):
    with override_settings(ALLOWED_HOSTS=["backoffice.example.com"], SECURE_SSL_REDIRECT=True):
        response = Client().get(path, HTTP_HOST=host)
    assert response.status_code == 200, response.content
    assert response["X-Request-ID"]


@pytest.mark.django_db
def test_other_paths_still_validate_the_host_and_redirect_to_https():
    with override_settings(ALLOWED_HOSTS=["backoffice.example.com"], SECURE_SSL_REDIRECT=True):
        assert Client().get("/api/policies", HTTP_HOST="10.0.0.5:8080").status_code == 400
        redirect = Client().get("/api/policies", HTTP_HOST="backoffice.example.com")
        assert redirect.status_code == 301
        assert redirect["Location"].startswith("https://backoffice.example.com/")
        assert Client().get("/health/ready", HTTP_HOST="backoffice.example.com").status_code == 200
        probe_post = Client().post("/health", HTTP_HOST="10.0.0.5:8080")
        assert probe_post.status_code == 400  # only GET/HEAD skip the host check


@pytest.mark.django_db
def test_readiness_reports_a_broken_database_as_503(monkeypatch):
    from config import health

    monkeypatch.setattr(health, "_check_database",
                        lambda: {"status": "error", "error": "OperationalError"})
    with override_settings(ALLOWED_HOSTS=["backoffice.example.com"]):
        response = Client().get("/health/ready", HTTP_HOST="10.0.0.5:8080")
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["status"] == "error"


# --- encryption keys from platform secrets --------------------------------------------


def test_a_fernet_key_is_used_as_is():
    key = Fernet.generate_key().decode()
    assert fernet_key(key) == key


@pytest.mark.parametrize("secret", [secrets.token_hex(32), "A" * 20 + "+/" + "b" * 22])
def test_a_platform_secret_becomes_a_stable_fernet_key(secret):
    derived = fernet_key(secret)
    assert is_fernet_key(derived)
    assert derived == fernet_key(secret)
    assert derived != fernet_key(secret + "x")
    Fernet(derived.encode())


def test_a_short_secret_is_refused():
    with pytest.raises(ImproperlyConfigured):
        fernet_key("changeme")
