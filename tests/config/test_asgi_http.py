"""The web process's HTTP path (config.http.OneHopASGIHandler) and the async-capable
middleware (config.async_middleware)."""

import asyncio
import json

import pytest
from asgiref import sync as asgiref_sync
from django.conf import settings
from django.utils.deprecation import MiddlewareMixin
from django.utils.module_loading import import_string

from tests.conftest import client_for
from tests.factories import PASSWORD, ClaimFactory, CustomerFactory, PolicyFactory

pytestmark = pytest.mark.django_db(transaction=True)


async def _asgi(app, path, headers=(), method="GET", body=b""):
    raw, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "https", "path": raw, "raw_path": raw.encode(),
             "query_string": query.encode(), "root_path": "",
             "headers": [(b"host", b"testserver"),
                         (b"content-length", str(len(body)).encode()), *headers],
             "client": ("127.0.0.1", 5000), "server": ("testserver", 443)}
    inbox = [{"type": "http.request", "body": body, "more_body": False}]
    sent = []

    async def receive():
        if inbox:
            return inbox.pop()
        await asyncio.sleep(3600)

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], dict(sent[0]["headers"]), b"".join(
        m.get("body", b"") for m in sent[1:])


@pytest.fixture
def hops(monkeypatch):
    """How many sync_to_async hand-offs are made."""
    made = []
    original = asgiref_sync.SyncToAsync.__init__

    def counting(self, func, *args, **kwargs):
        made.append(getattr(func, "__qualname__", repr(func)))
        original(self, func, *args, **kwargs)

    monkeypatch.setattr(asgiref_sync.SyncToAsync, "__init__", counting)
    return made


def test_a_list_request_is_one_hop_and_answers_as_the_test_client(broker, agency, hops):
    from config.asgi import application

    for _ in range(3):
        ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=agency)))
    client = client_for(broker)
    expected = client.get("/api/claims?page_size=2")
    token = client._credentials["HTTP_AUTHORIZATION"]
    hops.clear()
    status, headers, body = asyncio.run(_asgi(
        application, "/api/claims?page_size=2",
        [(b"authorization", token.encode()), (b"x-forwarded-proto", b"https")]))
    assert status == 200
    assert hops == ["OneHopASGIHandler.serve"]
    assert json.loads(body)["results"] == expected.json()["results"]
    assert headers[b"Content-Type"] == b"application/json"
    assert b"X-Request-ID" in headers


def test_an_error_response_is_served_too(hops):
    from config.asgi import application

    status, _, body = asyncio.run(_asgi(application, "/api/claims",
                                        [(b"x-forwarded-proto", b"https")]))
    assert status == 401
    assert json.loads(body)["detail"]


def test_every_middleware_is_async_capable_without_per_hook_threads():
    stock = {"django.middleware.security.SecurityMiddleware",
             "django.middleware.csrf.CsrfViewMiddleware",
             "django.middleware.clickjacking.XFrameOptionsMiddleware"}
    for path in settings.MIDDLEWARE:
        cls = import_string(path)
        assert getattr(cls, "async_capable", False), path
        if issubclass(cls, MiddlewareMixin) and path not in stock:
            assert cls.__acall__ is not MiddlewareMixin.__acall__, path


def test_portal_login_page_and_form_through_the_async_middleware(broker):
    """Django's own ASGI path: session, CSRF, messages and auth middleware in async
    mode, a form POST with its CSRF token, the session saved."""
    from django.test import AsyncClient

    async def flow():
        client = AsyncClient(enforce_csrf_checks=True)
        page = await client.get("/portal/login/", secure=True)
        assert page.status_code == 200
        token = page.cookies[settings.CSRF_COOKIE_NAME].value
        return await client.post("/portal/login/", {
            "email": broker.email, "password": PASSWORD,
            "csrfmiddlewaretoken": token}, secure=True,
            headers={"referer": "https://testserver/portal/login/"})

    response = asyncio.run(flow())
    assert response.status_code == 302, response.content[:500]
    assert response.cookies[settings.SESSION_COOKIE_NAME].value
