"""Every response carries the security headers, probes and error answers included;
every HTML page carries a Content-Security-Policy (API.md, Operations)."""

import pytest
from django.db import OperationalError
from django.test import AsyncClient, Client, override_settings

from tests.conftest import client_for

pytestmark = pytest.mark.django_db

HOST = "backoffice.example.com"


def _boom(*args, **kwargs):
    raise RuntimeError("a bug")


def _db_down(*args, **kwargs):
    raise OperationalError("the database is restarting")


# (method, path, extra request options, patched (target, fn) or None, expected status, page?)
CASES = [
    ("get", "/health", {"host": "10.0.0.5:8080"}, None, 200, False),
    ("get", "/health/live", {"host": "10.0.0.5:8080"}, None, 200, False),
    ("get", "/health/ready", {"host": "10.0.0.5:8080"}, None, 200, False),
    ("get", "/api/customers", {}, None, 401, False),
    ("get", "/api/customers", {"auth": True}, None, 200, False),
    ("get", "/api/no-such-thing", {}, None, 404, None),
    ("post", "/api/auth/login", {}, ("accounts.lockout.seconds_locked", _db_down), 503, False),
    ("post", "/api/auth/login", {}, ("accounts.lockout.seconds_locked", _boom), 500, None),
    ("get", "/api/customers", {"host": "evil.example"}, None, 400, None),
    ("get", "/portal/login/", {}, None, 200, True),
    ("get", "/portal/", {}, None, 302, None),
    ("post", "/portal/login/", {}, ("accounts.lockout.seconds_locked", _db_down), 503, True),
    ("get", "/portal/no-such-page/", {}, None, 404, True),
    ("get", "/admin/login/", {}, None, 200, True),
]


def _request(client, method, path, options, token):
    # AsyncClient always sends Host: testserver; the host cases run through Client only
    headers = {} if isinstance(client, AsyncClient) else {"host": HOST}
    headers.update({k: v for k, v in options.items() if k != "auth"})
    if options.get("auth"):
        headers["authorization"] = token
    data = {"email": "a@example.test", "password": "x"} if method == "post" else None
    kwargs = {"content_type": "application/json"} if path.startswith("/api/") else {}
    return getattr(client, method)(path, data, headers=headers, **kwargs)


@pytest.fixture
def token(staff):
    return client_for(staff)._credentials["HTTP_AUTHORIZATION"]


def _assert_headers(response, status, page):
    assert response.status_code == status, response.content[:300]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    is_html = response.get("Content-Type", "").startswith("text/html")
    if page is not None:
        assert is_html is page
    if is_html:
        csp = response["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp


@pytest.mark.parametrize(("method", "path", "options", "patch", "status", "page"), CASES)
@override_settings(ALLOWED_HOSTS=[HOST, "testserver"])
def test_security_headers_sync(monkeypatch, token, method, path, options, patch, status, page):
    if patch:
        monkeypatch.setattr(*patch)
    response = _request(Client(raise_request_exception=False), method, path, options, token)
    _assert_headers(response, status, page)


@pytest.mark.parametrize(("method", "path", "options", "patch", "status", "page"),
                         [case for case in CASES if "host" not in case[2]])
@override_settings(ALLOWED_HOSTS=[HOST, "testserver"])
@pytest.mark.django_db(transaction=True)  # the user must be visible to the async thread
@pytest.mark.asyncio
async def test_security_headers_async(monkeypatch, token, method, path, options, patch,
                                      status, page):
    if patch:
        monkeypatch.setattr(*patch)
    client = AsyncClient(raise_request_exception=False)
    response = await _request(client, method, path, options, token)
    _assert_headers(response, status, page)


@pytest.mark.django_db
def test_api_json_carries_no_page_policy_but_a_page_does(broker_client, client):
    api = broker_client.get("/api/customers")
    assert api["Content-Type"] == "application/json"
    assert "Content-Security-Policy" not in api
    page = client.get("/portal/login/")
    assert "default-src 'self'" in page["Content-Security-Policy"]
