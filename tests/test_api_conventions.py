"""Conventions of API.md that hold across resources."""

import pytest

from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_page_size_up_to_100(broker_client, agency):
    CustomerFactory.create_batch(105, broker=agency)
    r = broker_client.get("/api/customers", {"page_size": 100})
    assert len(r.json()["results"]) == 100
    assert r.json()["count"] == 105
    # Beyond the declared maximum is a 400 naming the parameter, not a silent cap.
    r = broker_client.get("/api/customers", {"page_size": 500})
    assert r.status_code == 400 and "page_size" in r.json()


def test_following_next_sees_every_row_once(broker_client, agency):
    created = {str(c.pk) for c in CustomerFactory.create_batch(23, broker=agency)}
    seen = []
    url = "/api/customers?page_size=5&ordering=last_name"
    while url:
        body = broker_client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 23
    assert set(seen) == created


def test_ties_in_ordering_do_not_repeat_rows(broker_client, agency):
    CustomerFactory.create_batch(12, broker=agency, last_name="Same")
    seen = []
    url = "/api/customers?page_size=5&ordering=last_name"
    while url:
        body = broker_client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 12


def test_no_redirect_with_or_without_slash(broker_client):
    for path in ("/api/customers", "/api/customers/", "/api/policies", "/api/policies/",
                 "/api/claims", "/api/claims/", "/api/policies/summary",
                 "/api/policies/summary/"):
        assert broker_client.get(path).status_code == 200, path


def test_request_id_echoed_or_made(anon_client):
    r = anon_client.get("/health", HTTP_X_REQUEST_ID="abc-123")
    assert r.headers["X-Request-ID"] == "abc-123"
    r = anon_client.get("/health")
    assert len(r.headers["X-Request-ID"]) >= 16
    r = anon_client.get("/health", HTTP_X_REQUEST_ID="bad value\nwith<script>")
    assert r.headers["X-Request-ID"] != "bad value\nwith<script>"
    r = anon_client.get("/api/claims", HTTP_X_REQUEST_ID="on-401")
    assert r.status_code == 401 and r.headers["X-Request-ID"] == "on-401"
    r = anon_client.get("/nope-404", HTTP_X_REQUEST_ID="on-404")
    assert r.headers["X-Request-ID"] == "on-404"


def test_health_endpoints(anon_client):
    r = anon_client.get("/health")
    assert r.status_code == 200 and r.json()["status"] == "healthy" and r.json()["version"]
    assert anon_client.get("/health/live").status_code == 200
    r = anon_client.get("/health/ready")
    assert r.status_code == 200 and r.json()["checks"]["database"]["status"] == "ok"


def test_ready_stays_200_degraded_when_redis_is_down(anon_client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    r = anon_client.get("/health/ready")
    assert r.status_code == 200
    assert r.json()["status"] == "degraded"
    assert r.json()["checks"]["redis"]["status"] == "error"
    assert r.json()["checks"]["database"]["status"] == "ok"
    r = anon_client.get("/health")
    assert (r.status_code, r.json()["status"]) == (200, "degraded")
    assert r.json()["checks"]["redis"]["status"] == "error"


def test_ready_is_503_when_database_is_down(anon_client, monkeypatch):
    from config import health

    def broken():
        return {"status": "error", "error": "OperationalError"}

    monkeypatch.setattr(health, "_check_database", broken)
    r = anon_client.get("/health/ready")
    assert r.status_code == 503 and r.json()["checks"]["database"]["status"] == "error"


def test_openapi_schema_lists_every_endpoint(anon_client):
    r = anon_client.get("/api/schema", HTTP_ACCEPT="application/json")
    assert r.status_code == 200
    schema = r.json() if r.headers["Content-Type"].startswith("application/json") else None
    if schema is None:
        import yaml

        schema = yaml.safe_load(r.content)
    paths = set(schema["paths"])
    for path in ("/api/auth/login", "/api/auth/refresh", "/api/auth/logout",
                 "/api/customers", "/api/customers/{id}", "/api/policies",
                 "/api/policies/{id}", "/api/policies/{id}/cancel", "/api/policies/summary",
                 "/api/claims", "/api/claims/{id}"):
        assert any(p.rstrip("/") == path for p in paths), path
    assert anon_client.get("/api/docs").status_code == 200


def test_throttled_requests_get_429_with_retry_after(broker_client, monkeypatch):
    from rest_framework.throttling import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/minute",
                                                             "anon": "3/minute"})
    codes = [broker_client.get("/api/customers").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = broker_client.get("/api/customers")
    assert r.status_code == 429
    assert 0 < int(r.headers["Retry-After"]) <= 60
