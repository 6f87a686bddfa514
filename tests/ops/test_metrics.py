"""/metrics: django-prometheus' request, database and cache metrics plus the business
metrics of API.md, valid for promtool, and not public in production."""

import os
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client

from tests.conftest import IN_CI, IS_POSTGRES
from tests.factories import CustomerFactory, PolicyFactory

pytestmark = pytest.mark.django_db


def scrape(client=None, **extra) -> str:
    response = (client or Client()).get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def value(text: str, sample: str) -> float:
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_business_metrics_count_created_policies_and_transitions(
        broker, staff, django_capture_on_commit_callbacks):
    from claims import services as claim_services
    from policies import services as policy_services

    customer = CustomerFactory(broker=broker.agency)
    before = scrape()
    with django_capture_on_commit_callbacks(execute=True):
        policy = policy_services.policy_create(
            actor=broker, customer_id=customer.pk, policy_type="home",
            premium_amount=Decimal("420.00"), coverage_amount=Decimal("250000.00"),
            start_date=policy_start(), end_date=policy_start().replace(year=2100))
    with django_capture_on_commit_callbacks(execute=True):
        claim = claim_services.claim_create(
            actor=broker, policy_id=policy.pk, claim_type="fire",
            claim_amount=Decimal("1200.00"), incident_date=policy.start_date)
    with django_capture_on_commit_callbacks(execute=True):
        claim_services.claim_transition(claim_id=claim.pk, to="processing", actor=staff)
    after = scrape()

    created = 'insurance_policies_created_total{policy_type="home"}'
    assert value(after, created) == value(before, created) + 1
    processed = 'insurance_claims_processed_total{status="processing"}'
    assert value(after, processed) == value(before, processed) + 1
    for histogram in ("insurance_premium_amount", "insurance_claim_amount"):
        assert f"# TYPE {histogram} histogram" in after
        assert value(after, f"{histogram}_count") == value(before, f"{histogram}_count") + 1
    assert value(after, 'insurance_premium_amount_bucket{le="500.0"}') >= 1


def policy_start():
    from django.utils import timezone

    return timezone.localdate().replace(day=1)


def test_request_database_and_cache_metrics_are_exported():
    PolicyFactory()
    cache.set("ops-probe", 0)
    assert cache.get("ops-probe", "default") == 0  # a cached falsy value is a hit
    Client().get("/health")
    text = scrape()
    assert "django_http_requests_total_by_view_transport_method_total" in text
    if IS_POSTGRES:  # the PostgreSQL engine is django-prometheus' instrumented one
        assert 'django_db_execute_total{alias="default",vendor="postgresql"}' in text
    assert "django_cache_get_total" in text
    assert "django_cache_get_hits_total" in text


def test_promtool_accepts_the_real_output(staff):
    promtool = shutil.which("promtool")
    if promtool is None:
        if IN_CI or os.environ.get("CI") == "true":
            pytest.fail("promtool is missing in CI (Debian package prometheus)")
        pytest.skip("promtool not installed (Debian package prometheus)")
    PolicyFactory()
    Client().get("/health/ready")
    done = subprocess.run([promtool, "check", "metrics"], input=scrape().encode(),
                          capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()


# --- access in production (the tests run with DEBUG off) ------------------------------


def test_loopback_and_private_direct_clients_are_allowed():
    scrape(REMOTE_ADDR="127.0.0.1")
    scrape(REMOTE_ADDR="10.1.2.3")
    scrape(REMOTE_ADDR="::1")


@pytest.mark.parametrize("extra", [
    {"REMOTE_ADDR": "203.0.113.9"},
    # Came through the platform's proxy: the proxy's private address is not enough.
    {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.9"},
    {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "127.0.0.1"},
    {"REMOTE_ADDR": "203.0.113.9", "HTTP_AUTHORIZATION": "Bearer wrong-token"},
])
def test_public_or_proxied_clients_need_the_token(settings, extra):
    settings.METRICS_TOKEN = "s3cret-metrics-token-for-tests"
    response = Client().get("/metrics", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"insurance_" not in response.content


def test_bearer_token_opens_metrics_from_anywhere(settings):
    settings.METRICS_TOKEN = "s3cret-metrics-token-for-tests"
    text = scrape(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="203.0.113.9",
                  HTTP_AUTHORIZATION="Bearer s3cret-metrics-token-for-tests")
    assert "insurance_policies_created" in text


def test_without_a_configured_token_no_bearer_value_works(settings):
    settings.METRICS_TOKEN = ""
    response = Client().get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 401


def test_debug_keeps_metrics_open(settings):
    settings.DEBUG = True
    scrape(REMOTE_ADDR="203.0.113.9")
