"""Structured logs: one JSON line per request and per business event, the request id
carried through, and nothing personal in any line."""

import io
import json
import logging
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.logging import JSONFormatter, RequestIDFilter
from tests.factories import PASSWORD

EMAIL = "jordan.applicant@example.test"
PHONE = "+447700900123"
ADDRESS = "12 Quay Side, Demoford"


@pytest.fixture
def json_lines():
    """Every record, formatted as production formats it, from the root logger down."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    handler.addFilter(RequestIDFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)  # the production level
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        stream.seek(0)
        raw = stream.getvalue()
        assert "\n" not in raw.strip() or all(line.startswith("{") for line in raw.splitlines())


@pytest.mark.django_db(transaction=True)
def test_full_workflow_logs_events_and_requests_but_nothing_personal(json_lines, staff, broker):
    client = APIClient()
    login = client.post("/api/auth/login", {"email": broker.email, "password": PASSWORD},
                        format="json", HTTP_X_REQUEST_ID="trace-login-1")
    assert login.status_code == 200, login.content
    assert login["X-Request-ID"] == "trace-login-1"
    tokens = login.json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")

    customer = client.post("/api/customers", {
        "email": EMAIL, "first_name": "Jordan", "last_name": "Applicant", "phone": PHONE,
        "address": ADDRESS, "date_of_birth": "1985-04-02", "gdpr_consent": True,
    }, format="json")
    assert customer.status_code == 201, customer.content
    start = timezone.localdate().replace(day=1)
    policy = client.post("/api/policies", {
        "customer_id": customer.json()["id"], "policy_type": "auto",
        "premium_amount": "640.00", "coverage_amount": "30000.00",
        "start_date": start.isoformat(), "end_date": start.replace(year=start.year + 1).isoformat(),
    }, format="json")
    assert policy.status_code == 201, policy.content
    claim = client.post("/api/claims", {
        "policy_id": policy.json()["id"], "claim_type": "accident",
        "claim_amount": str(Decimal("900.00")), "incident_date": start.isoformat(),
        "description": "Scraped a bollard.",
    }, format="json", HTTP_X_CORRELATION_ID="corr-claim-7")
    assert claim.status_code == 201, claim.content
    assert claim["X-Request-ID"] == "corr-claim-7"

    staff_client = APIClient()
    staff_login = staff_client.post("/api/auth/login", {"email": staff.email,
                                                         "password": PASSWORD}, format="json")
    staff_client.credentials(HTTP_AUTHORIZATION=f"Bearer {staff_login.json()['access_token']}")
    moved = staff_client.patch(f"/api/claims/{claim.json()['id']}", {"status": "processing"},
                               format="json")
    assert moved.status_code == 200, moved.content
    # A failed login (wrong password) and a search by email must not leak either.
    assert client.post("/api/auth/login", {"email": EMAIL, "password": "Wr0ng!Password"},
                       format="json").status_code == 401
    client.get("/api/customers", {"search": EMAIL})
    out = client.post("/api/auth/logout", {"refresh_token": tokens["refresh_token"]},
                      format="json")
    assert out.status_code == 204, out.content

    lines = json_lines()
    raw = json.dumps(lines)
    for secret in (EMAIL, broker.email, staff.email, PHONE, PHONE[1:], "7700900123", ADDRESS,
                   PASSWORD, "Wr0ng!Password", tokens["refresh_token"],
                   tokens["access_token"]):
        assert secret not in raw, f"{secret!r} leaked into the logs"

    requests = [line for line in lines if line.get("event") == "http.request"]
    assert len(requests) == 9
    for line in requests:
        assert set(line) >= {"method", "path", "status", "duration_ms", "request_id", "user_id"}
        assert "?" not in line["path"]
        assert line["request_id"]
    by_path = {(line["method"], line["path"]): line for line in requests}
    assert by_path[("POST", "/api/auth/login")]["request_id"]
    assert by_path[("POST", "/api/claims")]["request_id"] == "corr-claim-7"
    assert by_path[("POST", "/api/customers")]["user_id"] == str(broker.pk)
    assert by_path[("POST", "/api/customers")]["status"] == 201

    events = {line.get("event") for line in lines}
    assert {"policy.created", "claim.created", "claim.status_changed"} <= events
    changed = next(line for line in lines if line.get("event") == "claim.status_changed")
    assert changed["status"] == "processing"
    created = next(line for line in lines if line.get("event") == "claim.created")
    assert created["request_id"] == "corr-claim-7"  # business events carry the request id


def test_formatter_masks_personal_data_in_messages_extras_and_tracebacks():
    formatter = JSONFormatter()
    try:
        raise ValueError('duplicate key (lower(email))=(ann@corp.co.uk) phone +44 7700 900456')
    except ValueError:
        import sys

        record = logging.getLogger("t").makeRecord(
            "t", logging.ERROR, __file__, 1, "failed for %s", ("bob@corp.co.uk",),
            sys.exc_info(), extra={"password": "Hunter2!Hunter2", "note": "call +14155550123",
                                   "count": 3})
    line = json.loads(formatter.format(record))
    raw = json.dumps(line)
    for secret in ("ann@corp.co.uk", "bob@corp.co.uk", "7700 900456", "4155550123",
                   "Hunter2!Hunter2"):
        assert secret not in raw
    assert line["password"] == "[redacted]"
    assert line["count"] == 3
    assert "[email]" in line["message"]


def test_request_id_is_made_when_missing_or_insane(client):
    made = client.get("/health/live")
    assert len(made["X-Request-ID"]) == 32
    insane = client.get("/health/live", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert insane["X-Request-ID"] != "bad id\nwith newline"
