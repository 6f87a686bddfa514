"""A database that is away answers 503 with Retry-After, in one place (config.errors)."""

import psycopg
import psycopg_pool
import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client

from config.errors import database_unavailable, server_error

pytestmark = pytest.mark.django_db


def _raising(exc):
    def fail(*args, **kwargs):
        raise exc
    return fail


@pytest.mark.parametrize("exc", [
    OperationalError("server closed the connection"),
    InterfaceError("connection already closed"),
    psycopg.OperationalError("connection refused"),
    psycopg_pool.PoolTimeout("couldn't get a connection after 3.00 sec"),
])
def test_api_answers_503_json_with_retry_after(monkeypatch, exc):
    monkeypatch.setattr("accounts.lockout.seconds_locked", _raising(exc))
    response = Client(raise_request_exception=False).post(
        "/api/auth/login", {"email": "a@example.test", "password": "x"},
        content_type="application/json")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "service_unavailable"


def test_portal_answers_a_plain_503_page(monkeypatch):
    monkeypatch.setattr("accounts.lockout.seconds_locked", _raising(OperationalError("down")))
    client = Client(raise_request_exception=False)
    client.get("/portal/login/")
    response = client.post("/portal/login/", {"email": "a@example.test", "password": "x"})
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"].startswith("text/html")
    assert b"Temporarily unavailable" in response.content


def test_other_errors_stay_500(monkeypatch):
    monkeypatch.setattr("accounts.lockout.seconds_locked", _raising(ValueError("bug")))
    response = Client(raise_request_exception=False).post(
        "/api/auth/login", {"email": "a@example.test", "password": "x"},
        content_type="application/json")
    assert response.status_code == 500
    assert "Retry-After" not in response


def test_a_wrapped_database_error_counts(rf):
    try:
        try:
            raise psycopg.OperationalError("gone")
        except psycopg.OperationalError as inner:
            raise RuntimeError("while saving") from inner
    except RuntimeError as exc:
        assert database_unavailable(exc)
        response = server_error(rf.get("/admin/"))
    assert response.status_code == 503
    assert not database_unavailable(ValueError("x"))
    assert not database_unavailable(None)
