"""The production settings check itself (config.required), rule by rule."""

import secrets

import environ
import pytest
from django.core.exceptions import ImproperlyConfigured

from config.required import check_production_settings

DEV_SECRET, DEV_FIELD = "dev-secret-" + "z" * 50, "dev-field-key"


def _values(**over):
    values = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "_DEV_SECRET": DEV_SECRET,
        "_DEV_FIELD_KEY": DEV_FIELD,
        "FIELD_ENCRYPTION_KEYS": ["a-fernet-key"],
        "DATABASES": {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "app"}},
        "REDIS_URL": "",
        "ALLOWED_HOSTS": ["backoffice.example.com"],
    }
    values.update(over)
    return values


def _check(monkeypatch, values, env=None, testing=False):
    for key, value in {"DATABASE_URL": "postgres://h/app", **(env or {})}.items():
        monkeypatch.setenv(key, value)
    check_production_settings(values, environ=environ.Env(), testing=testing)


def test_a_complete_production_configuration_passes(monkeypatch):
    _check(monkeypatch, _values(REDIS_URL="rediss://cache:6380/0"),
           env={"JWT_SIGNING_KEY": "j" * 32})


def test_a_platform_generated_256_bit_secret_is_strong_enough(monkeypatch):
    import base64

    _check(monkeypatch, _values(SECRET_KEY=base64.b64encode(secrets.token_bytes(32)).decode()))
    _check(monkeypatch, _values(SECRET_KEY=secrets.token_hex(16)))


@pytest.mark.parametrize(("over", "env", "named"), [
    ({"SECRET_KEY": ""}, {}, "SECRET_KEY must be set"),
    ({"SECRET_KEY": secrets.token_hex(15)}, {}, "SECRET_KEY is too weak"),
    ({"SECRET_KEY": "abcd" * 20}, {}, "SECRET_KEY is too weak"),
    ({"SECRET_KEY": "django-insecure-" + secrets.token_hex(30)}, {}, "SECRET_KEY is too weak"),
    ({"SECRET_KEY": DEV_SECRET}, {}, "SECRET_KEY is the development key"),
    ({"FIELD_ENCRYPTION_KEYS": []}, {}, "FIELD_ENCRYPTION_KEYS must be set"),
    ({"FIELD_ENCRYPTION_KEYS": ["k", DEV_FIELD]}, {}, "FIELD_ENCRYPTION_KEYS holds the dev"),
    ({}, {"DATABASE_URL": ""}, "DATABASE_URL must be set"),
    ({"DATABASES": {"default": {"ENGINE": "django.db.backends.mysql", "NAME": "x"}}}, {},
     "DATABASE_URL is not a PostgreSQL URL"),
    ({"DATABASES": {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": ""}}}, {},
     "DATABASE_URL is not a PostgreSQL URL"),
    ({"REDIS_URL": "http://cache:6379"}, {}, "REDIS_URL must be"),
    ({}, {"JWT_SIGNING_KEY": "j" * 31}, "JWT_SIGNING_KEY is too short"),
    ({"ALLOWED_HOSTS": []}, {}, "ALLOWED_HOSTS must name"),
])
def test_each_problem_is_named(monkeypatch, over, env, named):
    with pytest.raises(ImproperlyConfigured, match=named):
        _check(monkeypatch, _values(**over), env)


def test_the_development_keys_are_allowed_only_under_test(monkeypatch):
    _check(monkeypatch, _values(SECRET_KEY=DEV_SECRET, FIELD_ENCRYPTION_KEYS=[DEV_FIELD]),
           testing=True)


def test_every_problem_is_reported_at_once(monkeypatch):
    with pytest.raises(ImproperlyConfigured) as info:
        _check(monkeypatch, _values(SECRET_KEY="", FIELD_ENCRYPTION_KEYS=[]))
    assert "SECRET_KEY" in str(info.value) and "FIELD_ENCRYPTION_KEYS" in str(info.value)
