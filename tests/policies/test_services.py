import datetime
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import IntegrityError
from django.utils import timezone

from policies import services
from policies.models import Policy, PolicyStatus, status_for_dates
from tests.factories import CustomerFactory, PolicyFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def test_status_for_dates():
    assert status_for_dates(TODAY + DAY, TODAY + 9 * DAY, TODAY) == "pending"
    assert status_for_dates(TODAY, TODAY + DAY, TODAY) == "active"
    assert status_for_dates(TODAY - 9 * DAY, TODAY, TODAY) == "active"
    assert status_for_dates(TODAY - 9 * DAY, TODAY - DAY, TODAY) == "expired"


def test_policy_number_retries_on_collision(staff):
    customer = CustomerFactory()
    PolicyFactory(policy_number="POL-AAAAAAAA")
    numbers = iter(["POL-AAAAAAAA", "POL-BBBBBBBB"])
    with mock.patch.object(services, "policy_number_new", lambda: next(numbers)):
        policy = services.policy_create(
            actor=staff, customer_id=customer.pk, policy_type="auto", premium_amount=200,
            coverage_amount=1000, start_date=TODAY, end_date=TODAY + DAY)
    assert policy.policy_number == "POL-BBBBBBBB"


def test_database_refuses_bad_rows():
    with pytest.raises(IntegrityError):
        PolicyFactory(start_date=TODAY, end_date=TODAY)


def test_expire_policies_command(capsys):
    lapsed = PolicyFactory(start_date=TODAY - 400 * DAY, end_date=TODAY - DAY)
    starting = PolicyFactory(status="pending", start_date=TODAY, end_date=TODAY + 9 * DAY)
    future = PolicyFactory(status="pending", start_date=TODAY + DAY, end_date=TODAY + 9 * DAY)
    cancelled = PolicyFactory(status="cancelled", cancelled_at=timezone.now(),
                              start_date=TODAY - 400 * DAY, end_date=TODAY - DAY)
    call_command("expire_policies")
    assert "Expired 1 and activated 1" in capsys.readouterr().out
    for policy, status in [(lapsed, "expired"), (starting, "active"), (future, "pending"),
                           (cancelled, "cancelled")]:
        policy.refresh_from_db()
        assert policy.status == status
    call_command("expire_policies")
    assert "Expired 0 and activated 0" in capsys.readouterr().out


def test_expire_policies_as_of_a_date():
    policy = PolicyFactory(start_date=TODAY - DAY, end_date=TODAY + 5 * DAY)
    call_command("expire_policies", "--date", str(TODAY + 6 * DAY))
    policy.refresh_from_db()
    assert policy.status == PolicyStatus.EXPIRED
    assert Policy.objects.filter(status="expired").count() == 1
