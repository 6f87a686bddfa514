"""Retention: last policy's end + GDPR_RETENTION_YEARS; gdpr_purge."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from compliance.models import AuditEntry
from customers.models import Customer
from customers.selectors import customer_retention_date
from tests.factories import ClaimFactory, CustomerFactory, PolicyFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2040, 6, 15)


def _policy(customer, end):
    return PolicyFactory(customer=customer, start_date=end - datetime.timedelta(days=365),
                         end_date=end, status="expired")


@pytest.fixture
def people():
    lapsed = CustomerFactory()
    _policy(lapsed, datetime.date(2033, 6, 14))      # retained until 2040-06-14: past
    _policy(lapsed, datetime.date(2030, 1, 1))
    boundary = CustomerFactory()
    _policy(boundary, datetime.date(2033, 6, 15))    # retained until today: kept
    recent = CustomerFactory()
    _policy(recent, datetime.date(2033, 6, 14))
    _policy(recent, datetime.date(2039, 1, 1))       # the last policy decides
    open_claim = CustomerFactory()
    policy = _policy(open_claim, datetime.date(2030, 1, 1))
    ClaimFactory(policy=policy, incident_date=datetime.date(2029, 12, 1), status="processing")
    no_policy_old = CustomerFactory()
    no_policy_new = CustomerFactory()
    for customer, year in ((no_policy_old, 2033), (no_policy_new, 2034)):
        customer.created_at = timezone.make_aware(datetime.datetime(year, 1, 1))
        customer.save()
    return {"lapsed": lapsed, "boundary": boundary, "recent": recent, "open_claim": open_claim,
            "no_policy_old": no_policy_old, "no_policy_new": no_policy_new}


def test_retention_date_follows_the_last_policy_end(people, settings):
    assert customer_retention_date(customer=people["lapsed"]) == datetime.date(2040, 6, 14)
    assert customer_retention_date(customer=people["recent"]) == datetime.date(2046, 1, 1)
    assert customer_retention_date(customer=people["no_policy_old"]) == datetime.date(2040, 1, 1)
    settings.GDPR_RETENTION_YEARS = 10
    assert customer_retention_date(customer=people["lapsed"]) == datetime.date(2043, 6, 14)


def test_purge_dry_run_then_run_then_nothing(people, capsys):
    call_command("gdpr_purge", "--dry-run", "--date", TODAY.isoformat())
    out = capsys.readouterr().out
    due = {str(people["lapsed"].pk), str(people["no_policy_old"].pk)}
    for pk in due:
        assert f"Would erase customer {pk}" in out
    assert "Would erase 2 customers past the 7-year retention period." in out
    assert Customer.objects.filter(erased_at__isnull=False).count() == 0
    for name in ("boundary", "recent", "open_claim", "no_policy_new"):
        assert str(people[name].pk) not in out
    assert "@" not in out  # ids only, no personal data printed

    call_command("gdpr_purge", "--date", TODAY.isoformat())
    out = capsys.readouterr().out
    assert "Erased 2 customers" in out
    erased = set(Customer.objects.filter(erased_at__isnull=False).values_list("pk", flat=True))
    assert {str(pk) for pk in erased} == due
    assert AuditEntry.objects.filter(action=AuditEntry.Action.ERASE).count() == 2

    entries = AuditEntry.objects.count()
    call_command("gdpr_purge", "--date", TODAY.isoformat())
    assert "Nobody is past the retention period." in capsys.readouterr().out
    assert AuditEntry.objects.count() == entries


def test_purge_with_a_shorter_period(people, settings, capsys):
    settings.GDPR_RETENTION_YEARS = 1
    call_command("gdpr_purge", "--dry-run", "--date", TODAY.isoformat())
    out = capsys.readouterr().out
    assert str(people["recent"].pk) in out and str(people["boundary"].pk) in out
    assert str(people["open_claim"].pk) not in out
