"""Redis is not a single point of failure (API.md, Operations).

A real server process runs against the test database and a redis-server of the
test's own; the test stops that Redis and checks the API, the portal, the admin,
the lockout, the throttles, the probes and the live socket, then starts it again
and checks that live status resumes on the socket that stayed open.
"""

import json
import time
import uuid

import pytest

from tests.conftest import IN_CI, requires_postgres
from tests.factories import PASSWORD, ClaimFactory, CustomerFactory, PolicyFactory, UserFactory
from tests.ops.outage import Browser, RedisServer, ServerProcess, redis_available, server_env

pytestmark = [
    requires_postgres,
    pytest.mark.skipif(not redis_available() and not IN_CI, reason="needs redis-server"),
    pytest.mark.django_db(transaction=True),
]

WRONG = "Wrong!Passw0rd1"


@pytest.fixture
def own_redis():
    server = RedisServer()
    yield server
    server.close()


@pytest.fixture
def server(own_redis, tmp_path):
    from tests.browser.servers import collected_static, database_url_for_tests

    process = ServerProcess(
        server_env(DATABASE_URL=database_url_for_tests(), REDIS_URL=own_redis.url,
                   MEDIA_ROOT=str(tmp_path / "media"), STATIC_ROOT=str(collected_static())),
        tmp_path / "server.log")
    yield process
    process.stop()


def _login(http, email, password=PASSWORD, ip_hint=""):
    status, headers, body = http.request(
        "POST", "/api/auth/login", json_body={"email": email, "password": password})
    return status, headers, (json.loads(body) if body else {})


def _customer(n: int) -> dict:
    return {"email": f"outage{n}-{uuid.uuid4().hex[:6]}@example.test", "first_name": "Ada",
            "last_name": "Lovelace", "gdpr_consent": True}


def test_everything_answers_without_redis_and_live_status_resumes(own_redis, server, agency):
    from websockets.sync.client import connect

    staff = UserFactory(staff=True, email="ops-staff@example.test")
    broker = UserFactory(agency=agency, email="ops-broker@example.test")
    victim = UserFactory(agency=agency, email="ops-victim@example.test")
    claim = ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=agency)))
    http = Browser(server.url)

    status, _, tokens = _login(http, broker.email)
    assert status == 200
    broker_token = tokens["access_token"]
    status, _, body = _login(http, staff.email)
    staff_token = body["access_token"]

    with connect(f"{server.ws_url}/ws/claims/?token={broker_token}", origin=server.url,
                 open_timeout=10) as ws:
        ws.send(json.dumps({"type": "subscribe", "claim_id": str(claim.pk)}))
        assert json.loads(ws.recv(timeout=10))["type"] == "subscribed"

        own_redis.stop()  # ------------------------------------------------ outage
        statuses: list[int] = []

        def call(method, path, **kwargs):
            status, headers, body = http.request(method, path, **kwargs)
            statuses.append(status)
            return status, headers, body

        # probes: ready, but degraded, naming the failing check
        status, _, body = call("GET", "/health/ready")
        ready = json.loads(body)
        assert (status, ready["status"]) == (200, "degraded"), ready
        assert ready["checks"]["redis"]["status"] == "error"
        assert ready["checks"]["database"]["status"] == "ok"
        status, _, body = call("GET", "/health")
        assert (status, json.loads(body)["status"]) == (200, "degraded")

        # API: sign-in, reads, writes, a claim decision (its live event cannot be sent)
        assert _login(http, broker.email)[0] == 200
        for _ in range(15):  # throttles fail open rather than refusing everyone
            assert call("GET", "/api/customers", token=broker_token)[0] == 200
        assert call("POST", "/api/customers", json_body=_customer(1),
                    token=broker_token)[0] == 201
        status, _, body = call("PATCH", f"/api/claims/{claim.pk}",
                               json_body={"status": "processing"}, token=staff_token)
        assert status == 200, body
        ws.send(json.dumps({"type": "ping"}))  # the socket stays open through the outage
        assert json.loads(ws.recv(timeout=10)) == {"type": "pong"}

        # the lockout still holds: 5 failures lock the email, even with the right password
        for _ in range(5):
            assert _login(http, victim.email, WRONG)[0] == 401
        status, headers, _ = _login(http, victim.email)
        assert status == 429 and int(headers["Retry-After"]) > 0

        # ... and 50 from one address lock the address (every test request is 127.0.0.1)
        for n in range(45):  # the 5 failures above count for the address too: 50 in all
            status, _, _ = _login(http, f"nobody{n}@example.test", WRONG)
            assert status in (401, 429)
        assert _login(http, staff.email)[0] == 429

        # nothing above was a server error
        assert all(s < 500 for s in statuses), statuses

        own_redis.start()  # ----------------------------------------------- back
        time.sleep(6.5)  # the socket retries its channel layer at most every 5 s
        status, _, body = http.request("PATCH", f"/api/claims/{claim.pk}",
                                       json_body={"status": "approved"}, token=staff_token)
        assert status == 200, body
        event = json.loads(ws.recv(timeout=10))
        assert (event["type"], event["status"]) == ("claim.status", "approved")
    assert "Internal Server Error" not in server.log()


def test_portal_and_admin_sessions_work_without_redis(own_redis, server, agency):
    staff = UserFactory(staff=True, email="admin-staff@example.test")
    UserFactory(agency=agency, email="portal-broker@example.test")
    own_redis.stop()

    portal = Browser(server.url)
    status, headers, _ = portal.sign_in("/portal/login/", "portal-broker@example.test", PASSWORD)
    assert status == 302, status
    for path in ("/portal/", "/portal/customers/", "/portal/claims/"):
        status, _, _ = portal.request("GET", path)
        assert status == 200, path
    status, _, _ = portal.request("POST", "/portal/logout/", form={})
    assert status == 302
    assert portal.request("GET", "/portal/")[0] == 302  # signed out: to sign-in

    admin = Browser(server.url)
    status, _, _ = admin.sign_in("/admin/login/?next=/admin/", staff.email, PASSWORD,
                                 field="username")
    assert status == 302
    for path in ("/admin/", "/admin/customers/customer/", "/admin/claims/claim/"):
        status, _, _ = admin.request("GET", path)
        assert status == 200, path
