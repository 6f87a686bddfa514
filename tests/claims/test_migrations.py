"""The claims handling migration applies on a database holding claims: each claim is
in its status since its last change (or its report), with the SLA due time that follows."""

import datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

BEFORE = [("claims", "0002_users_are_deactivated_not_deleted"),
          ("accounts", "0003_user_authority_limit"),
          ("policies", "0002_policy_agency")]
AFTER = [("claims", "0003_claims_handling")]


def test_status_since_from_history():
    from auditlog.context import disable_auditlog

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        _check(executor, disable_auditlog)
    finally:
        call_command("migrate", verbosity=0)


def _check(executor, disable_auditlog):
    with disable_auditlog():  # historical models: no signals, so no audit entries
        apps = executor.loader.project_state(BEFORE).apps
        Agency = apps.get_model("accounts", "Agency")
        Customer = apps.get_model("customers", "Customer")
        Policy = apps.get_model("policies", "Policy")
        Claim = apps.get_model("claims", "Claim")
        Change = apps.get_model("claims", "ClaimStatusChange")
        agency = Agency.objects.create(name="Old Agency")
        customer = Customer.objects.create(email="old@example.test", first_name="O",
                                           last_name="C", gdpr_consent=True, broker=agency,
                                           gdpr_consent_date=timezone.now())
        today = timezone.localdate()
        policy = Policy.objects.create(policy_number="POL-OLD00001", customer=customer,
                                       policy_type="auto", premium_amount=500,
                                       coverage_amount=10000, start_date=today,
                                       end_date=today + datetime.timedelta(days=300),
                                       status="active")
        pending = Claim.objects.create(claim_number="CLM-OLD-1", policy=policy,
                                       claim_type="theft", claim_amount=100,
                                       incident_date=today, status="pending")
        moved = Claim.objects.create(claim_number="CLM-OLD-2", policy=policy,
                                     claim_type="theft", claim_amount=100,
                                     incident_date=today, status="processing")
        at = timezone.now() - datetime.timedelta(days=20)
        Change.objects.create(claim=moved, from_status="pending", to_status="processing",
                              changed_at=at)
        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        apps = executor.loader.project_state(AFTER).apps
        Claim = apps.get_model("claims", "Claim")
        moved = Claim.objects.get(pk=moved.pk)
        assert moved.status_since == at
        assert moved.sla_due_at == at + datetime.timedelta(hours=240)
        assert moved.sla_due_at < timezone.now()  # overdue, as it was
        pending = Claim.objects.get(pk=pending.pk)
        assert pending.sla_due_at == pending.created_at + datetime.timedelta(hours=48)
        assert (pending.reserve, pending.paid) == (0, 0)
