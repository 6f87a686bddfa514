"""X-Forwarded-For / X-Forwarded-Proto are believed only as far as TRUSTED_PROXY_COUNT
says: the client address (lockout, throttles, audit, metrics, WebSocket scope) and
whether a request is secure."""

import pytest
from django.test import Client, RequestFactory

from compliance.models import AuditEntry
from core.proxy import SCHEME_KEY, TrustedProxyMiddleware, client_ip, is_secure
from tests.factories import PASSWORD, ClaimFactory, UserFactory

WRONG = "Wrong!Passw0rd1"


def _request(peer="192.0.2.1", xff=None, proto=None):
    extra = {"REMOTE_ADDR": peer}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    if proto is not None:
        extra["HTTP_X_FORWARDED_PROTO"] = proto
    return RequestFactory().get("/", **extra)


def _scope(peer="192.0.2.1", xff=None, proto=None):
    headers = [(b"host", b"testserver")]
    if xff is not None:
        headers.append((b"x-forwarded-for", xff.encode()))
    if proto is not None:
        headers.append((b"X-Forwarded-Proto", proto.encode()))
    return {"type": "websocket", "client": (peer, 5000), "headers": headers, "scheme": "ws"}


# --- the rule itself: requests and WebSocket scopes ------------------------------------

CASES = [
    # count, peer, X-Forwarded-For, expected client
    (0, "192.0.2.1", None, "192.0.2.1"),
    (0, "192.0.2.1", "203.0.113.50", "192.0.2.1"),  # forged, ignored
    (0, "192.0.2.1", "198.51.100.7, 127.0.0.1", "192.0.2.1"),
    (0, "192.0.2.1", "not-an-address", "192.0.2.1"),
    (1, "10.0.0.1", None, "10.0.0.1"),  # missing: the peer
    (1, "10.0.0.1", "198.51.100.7", "198.51.100.7"),
    (1, "10.0.0.1", "203.0.113.50, 198.51.100.7", "198.51.100.7"),  # forged left entry
    (1, "10.0.0.1", "203.0.113.50,198.51.100.7:4431", "198.51.100.7"),  # with a port
    (1, "10.0.0.1", "203.0.113.50, garbage", "10.0.0.1"),  # malformed: the peer
    (1, "10.0.0.1", " , ", "10.0.0.1"),
    (1, "10.0.0.1", "[2001:db8::7]:443", "2001:db8::7"),
    (1, "10.0.0.1", "::ffff:198.51.100.9", "198.51.100.9"),
    (2, "10.0.0.2", "203.0.113.50, 198.51.100.7, 10.0.0.1", "198.51.100.7"),
    (2, "10.0.0.2", "6.6.6.6, 7.7.7.7, 198.51.100.7, 10.0.0.1", "198.51.100.7"),
    (2, "10.0.0.2", "198.51.100.7", "198.51.100.7"),  # fewer entries: all from proxies
    (2, "10.0.0.2", None, "10.0.0.2"),
    (2, "10.0.0.2", "198.51.100.7, x.y", "198.51.100.7"),
    (2, "10.0.0.2", "198.51.100.7, x.y, 10.0.0.1", "10.0.0.2"),
]


@pytest.mark.parametrize("count,peer,xff,expected", CASES)
def test_client_ip_of_a_request_and_of_a_websocket_scope(settings, count, peer, xff, expected):
    settings.TRUSTED_PROXY_COUNT = count
    assert client_ip(_request(peer, xff)) == expected
    assert client_ip(_scope(peer, xff)) == expected


def test_a_peer_that_is_not_an_address_gives_no_address(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request("unix-socket")) == ""
    assert client_ip({"type": "websocket", "headers": []}) == ""


@pytest.mark.parametrize("count,proto,secure", [
    (0, None, False), (0, "https", False),  # a direct client's claim changes nothing
    (1, None, False), (1, "https", True), (1, "http", False), (1, "HTTPS", True),
    (1, "https, http", False),  # the rightmost (our proxy's) word counts
    (1, "javascript", False),
    (2, "https, http", True), (2, "https", True), (2, "http, https", False),
])
def test_secure_follows_the_trusted_proto(settings, count, proto, secure):
    settings.TRUSTED_PROXY_COUNT = count
    request = _request(proto=proto)
    TrustedProxyMiddleware(lambda r: None)(request)
    assert request.is_secure() is secure
    assert is_secure(request) is secure
    assert is_secure(_scope(proto=proto)) is secure


def test_a_client_cannot_write_the_trusted_scheme_itself(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = _request(proto="https")
    request.META[SCHEME_KEY] = "https"  # as if smuggled in
    TrustedProxyMiddleware(lambda r: None)(request)
    assert request.is_secure() is False


# --- https: redirects and `next` links ------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("count,status", [(0, 301), (1, 200)])
def test_ssl_redirect_believes_x_forwarded_proto_only_from_a_trusted_proxy(
        settings, count, status):
    settings.TRUSTED_PROXY_COUNT = count
    settings.SECURE_SSL_REDIRECT = True
    response = Client().get("/portal/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == status
    if status == 301:
        assert response["Location"].startswith("https://")


@pytest.mark.django_db
def test_forged_proto_does_not_make_next_links_https_only(settings):
    """`next` keeps a plain-http same-host link on a plain-http request, whatever the
    client says about the scheme."""
    settings.TRUSTED_PROXY_COUNT = 0
    response = Client().get("/portal/login/?next=http://testserver/portal/claims/",
                            HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert b'value="http://testserver/portal/claims/"' in response.content
    settings.TRUSTED_PROXY_COUNT = 1
    response = Client().get("/portal/login/?next=http://testserver/portal/claims/",
                            HTTP_X_FORWARDED_PROTO="https")
    assert b'value="http://testserver/portal/claims/"' not in response.content


# --- the lockout (API and portal) -------------------------------------------------------


def _api_login(email, password, **extra):
    return Client().post("/api/auth/login", {"email": email, "password": password},
                         content_type="application/json", **extra)


def _portal_login(email, password, **extra):
    return Client().post("/portal/login/", {"email": email, "password": password}, **extra)


@pytest.mark.django_db
@pytest.mark.parametrize("login", [_api_login, _portal_login], ids=["api", "portal"])
@pytest.mark.parametrize("forged", ["203.0.113.50", "10.9.8.7", "198.51.100.7, 127.0.0.1"])
def test_forged_forwarded_for_does_not_escape_the_address_lock(settings, login, forged):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.LOCKOUT_IP_LIMIT = 5
    user = UserFactory(email="victim@northwind.test")
    for n in range(5):
        # every failure claims another address: all count against the real one
        r = login(f"nobody{n}@example.test", WRONG, REMOTE_ADDR="192.0.2.66",
                  HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        assert r.status_code == 401
    r = login(user.email, PASSWORD, REMOTE_ADDR="192.0.2.66", HTTP_X_FORWARDED_FOR=forged)
    assert r.status_code == 429
    assert int(r["Retry-After"]) > 0
    # and no other address was charged for them
    assert login(user.email, PASSWORD, REMOTE_ADDR="203.0.113.1").status_code in (200, 302)


@pytest.mark.django_db
def test_a_client_cannot_fill_another_addresss_counter(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.LOCKOUT_IP_LIMIT = 5
    user = UserFactory(email="victim@northwind.test")
    for n in range(6):
        _api_login(f"nobody{n}@example.test", WRONG, REMOTE_ADDR="192.0.2.66",
                   HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert _api_login(user.email, PASSWORD, REMOTE_ADDR="198.51.100.99").status_code == 200


@pytest.mark.django_db
def test_behind_one_proxy_the_lock_keys_on_the_address_the_proxy_saw(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOCKOUT_IP_LIMIT = 5
    user = UserFactory(email="victim@northwind.test")
    for n in range(5):
        _api_login(f"nobody{n}@example.test", WRONG, REMOTE_ADDR="10.0.0.1",
                   HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, 198.51.100.7")
    locked = _api_login(user.email, PASSWORD, REMOTE_ADDR="10.0.0.1",
                        HTTP_X_FORWARDED_FOR="203.0.113.50, 198.51.100.7")
    assert locked.status_code == 429
    # other clients behind the same proxy are not locked out with it
    assert _api_login(user.email, PASSWORD, REMOTE_ADDR="10.0.0.1",
                      HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 200


# --- DRF throttles -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("count,xff,expected", [
    (0, "203.0.113.{n}", "10.0.0.1"),
    (1, "203.0.113.{n}, 198.51.100.7", "198.51.100.7"),
    (2, "203.0.113.{n}, 198.51.100.7, 10.0.0.3", "198.51.100.7"),
])
def test_throttles_key_on_the_client_address(settings, monkeypatch, count, xff, expected):
    from rest_framework.request import Request
    from rest_framework.settings import api_settings

    from core.throttling import AnonRateThrottle

    settings.TRUSTED_PROXY_COUNT = count
    for throttle_class in api_settings.DEFAULT_THROTTLE_CLASSES:
        throttle = throttle_class()
        idents = {throttle.get_ident(Request(_request("10.0.0.1", xff.format(n=n))))
                  for n in range(3)}
        assert idents == {expected}, throttle_class
    # rotating the forged part does not buy a fresh bucket
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/minute"})
    allowed = [AnonRateThrottle().allow_request(
        Request(_request("10.0.0.1", xff.format(n=n))), None) for n in range(5)]
    assert allowed == [True, True, True, False, False]


# --- the audit trail's remote_addr -----------------------------------------------------------


def _transition_entry(staff_client, **extra):
    claim = ClaimFactory()
    response = staff_client.patch(f"/api/claims/{claim.pk}", {"status": "processing"},
                                  format="json", **extra)
    assert response.status_code == 200, response.content
    return AuditEntry.objects.filter(object_pk=str(claim.pk)).order_by("-seq").first()


@pytest.mark.django_db
@pytest.mark.parametrize("count,xff,expected", [
    (0, "6.6.6.6", "192.0.2.10"),
    (0, "garbage", "192.0.2.10"),
    (1, "6.6.6.6, 198.51.100.7", "198.51.100.7"),
    (1, "6.6.6.6, garbage", "192.0.2.10"),
    (1, None, "192.0.2.10"),
    (2, "6.6.6.6, 198.51.100.7, 10.0.0.1", "198.51.100.7"),
])
def test_audit_remote_addr_follows_the_rule(settings, staff_client, count, xff, expected):
    settings.TRUSTED_PROXY_COUNT = count
    extra = {"REMOTE_ADDR": "192.0.2.10"}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    assert _transition_entry(staff_client, **extra).remote_addr == expected


@pytest.mark.django_db
def test_failed_login_audit_records_the_real_address(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    UserFactory(email="someone@northwind.test")
    _api_login("someone@northwind.test", WRONG, REMOTE_ADDR="192.0.2.11",
               HTTP_X_FORWARDED_FOR="6.6.6.6")
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN_FAILED).get()
    assert entry.remote_addr == "192.0.2.11"


# --- /metrics ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("count,peer,xff,allowed", [
    (0, "10.0.0.1", None, True),
    (0, "10.0.0.1", "10.0.0.9", False),  # an undeclared proxy: not direct
    (1, "10.0.0.1", "203.0.113.5", False),
    (1, "10.0.0.1", "10.0.0.9, 203.0.113.5", False),  # forged private entry
    (1, "10.0.0.1", "203.0.113.5, 10.1.2.3", True),
    (1, "10.0.0.1", None, True),
    (2, "10.0.0.1", "10.1.2.3, 203.0.113.5, 10.0.0.7", False),
    (2, "10.0.0.1", "203.0.113.5, 10.1.2.3, 10.0.0.7", True),
])
def test_metrics_access_uses_the_client_address(settings, count, peer, xff, allowed):
    settings.TRUSTED_PROXY_COUNT = count
    settings.METRICS_TOKEN = "s3cret-metrics-token-for-tests"
    extra = {"REMOTE_ADDR": peer}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    assert Client().get("/metrics", **extra).status_code == (200 if allowed else 401)


# --- request logs carry no address at all ------------------------------------------------------


@pytest.mark.django_db
def test_request_log_line_is_the_same_whatever_the_forwarding_headers(caplog):
    with caplog.at_level("INFO", logger="insurance.request"):
        Client().get("/api/nope", REMOTE_ADDR="192.0.2.1",
                     HTTP_X_FORWARDED_FOR="6.6.6.6", HTTP_X_FORWARDED_PROTO="https")
    record = next(r for r in caplog.records if r.getMessage() == "http.request")
    assert "6.6.6.6" not in str(vars(record))


# --- the web process as the platforms start it ---------------------------------------------


def _procfile_server_command(port: int) -> str:
    """The Procfile's web server command as a platform runs it (after collectstatic),
    bound to 127.0.0.1:`port` with one worker."""
    from tests.ops.test_platform import procfile

    server = procfile()["web"].split("&&", 1)[-1].strip()
    return (server.replace("0.0.0.0", "127.0.0.1").replace("$PORT", str(port))
            .replace("${WEB_CONCURRENCY:-$(nproc)}", "1"))


@pytest.mark.django_db(transaction=True)
def test_the_procfile_server_does_not_let_x_forwarded_for_escape_the_lock(tmp_path):
    """The probe's finding, end to end: the server started as the Procfile starts it,
    50 failures (here 3) from one address, then the right password with a forged
    X-Forwarded-For is still refused."""
    import json
    import os
    import subprocess
    import urllib.error
    import urllib.request

    from tests.browser import servers
    from tests.conftest import IS_POSTGRES

    if not IS_POSTGRES:
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    user = UserFactory(email="victim@northwind.test")

    class ProcfileServer(servers.DaphneServer):
        def __init__(self):
            self.port = servers._free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            self.log_path = tmp_path / "web.log"
            env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings",
                   "DATABASE_URL": servers.database_url_for_tests(),
                   "REDIS_URL": os.environ.get("REDIS_URL", ""), "TESTING": "true",
                   "DEBUG": "false", "MEDIA_ROOT": str(tmp_path / "media"),
                   "STATIC_ROOT": str(servers.collected_static()), "LOG_LEVEL": "WARNING",
                   "LOCKOUT_IP_LIMIT": "3", "TRUSTED_PROXY_COUNT": "0"}
            self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
            env["PATH"] = f"{servers.DAPHNE.parent}:{env.get('PATH', '')}"
            self.process = subprocess.Popen(
                ["bash", "-c", "exec " + _procfile_server_command(self.port)],
                cwd=servers.BASE_DIR, env=env, stdout=self._log, stderr=subprocess.STDOUT)
            self._wait_ready()

    def login(email, password, forged):
        request = urllib.request.Request(
            server.url + "/api/auth/login", method="POST",
            data=json.dumps({"email": email, "password": password}).encode(),
            headers={"Content-Type": "application/json", "X-Forwarded-For": forged})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    server = ProcfileServer()
    try:
        for n in range(3):
            assert login(f"nobody{n}@example.test", WRONG, f"203.0.113.{n}") == 401
        for forged in ("203.0.113.50", "10.9.8.7", "198.51.100.7, 127.0.0.1"):
            assert login(user.email, PASSWORD, forged) == 429, server.log()[-2000:]
    finally:
        server.stop()


def test_platform_files_set_the_count_their_platform_needs():
    """Heroku, Render and Railway put one proxy in front of the app; no platform's
    server rewrites the peer from the client's headers."""
    from tests.ops import test_platform as platform

    assert platform.app_json()["env"]["TRUSTED_PROXY_COUNT"]["value"] == "1"
    render_vars = {var["key"]: var for var in platform.render_web()["envVars"]}
    assert render_vars["TRUSTED_PROXY_COUNT"]["value"] == "1"
    railway_start = platform.railway()["deploy"]["startCommand"]
    assert "TRUSTED_PROXY_COUNT=${TRUSTED_PROXY_COUNT:-1} uvicorn" in railway_start
    for command in (platform.procfile()["web"], railway_start,
                    platform.render_web()["startCommand"]):
        # uvicorn would otherwise take the peer from X-Forwarded-For itself
        assert "--no-proxy-headers" in command
        assert "--proxy-headers" not in command.replace("--no-proxy-headers", "")


@pytest.mark.django_db
@pytest.mark.parametrize("count,scheme", [(0, "http"), (1, "https")])
def test_pagination_next_links_follow_the_trusted_scheme(settings, broker_client, agency,
                                                         count, scheme):
    from tests.factories import CustomerFactory

    settings.TRUSTED_PROXY_COUNT = count
    CustomerFactory.create_batch(2, broker=agency)
    page = broker_client.get("/api/customers", {"page_size": 1},
                             HTTP_HOST="testserver", HTTP_X_FORWARDED_PROTO="https").json()
    assert page["next"].startswith(f"{scheme}://testserver/api/customers")
