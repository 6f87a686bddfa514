import datetime
import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone

from policies import services
from policies.models import RatingPlan
from tests.factories import CustomerFactory

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
AUTO_RISK = {"vehicle_value": "25000.00", "annual_mileage": 8000, "prior_claims": 1}
RISKS = {
    "auto": AUTO_RISK,
    "home": {"rebuild_value": "300000", "construction": "masonry", "flood_zone": False},
    "life": {"smoker": False},
    "health": {"smoker": True, "deductible": "500"},
}


def ensure_default_plans():
    """The migration's default plans (a transactional test elsewhere may have
    flushed them)."""
    migration = importlib.import_module("policies.migrations.0004_default_rating_plans")
    migration.create(apps, None)


@pytest.fixture(autouse=True)
def default_plans(request):
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction"))
    request.getfixturevalue("transactional_db" if transactional else "db")
    ensure_default_plans()
    return {p.policy_type: p for p in RatingPlan.objects.all()}


@pytest.fixture
def customer(agency):
    return CustomerFactory(broker=agency, date_of_birth=datetime.date(1980, 5, 17))


def make_quote(actor, customer, policy_type="auto", coverage=Decimal("20000"),
               start=None, **kwargs):
    return services.quote_create(
        actor=actor, customer_id=customer.pk, policy_type=policy_type,
        coverage_amount=coverage, start_date=start or TODAY,
        risk=kwargs.pop("risk", RISKS[policy_type]), **kwargs)


def make_policy(actor, customer, **kwargs):
    return services.quote_bind(actor=actor, quote=make_quote(actor, customer, **kwargs))
