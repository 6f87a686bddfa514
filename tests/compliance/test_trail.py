"""Every create, change and delete of an audited model leaves exactly one entry;
nothing changes those tables behind the trail's back."""

import datetime

import pytest
from auditlog.context import disable_auditlog
from django.db import connection, transaction
from django.utils import timezone

from claims.models import Claim
from compliance.guard import UnauditedWrite
from compliance.models import AuditEntry, ImmutableEntry
from customers.models import Customer
from policies.models import Policy, PolicyStatus
from policies.services import policies_refresh_status
from tests.compliance.helpers import actions_for, entries_for
from tests.factories import ClaimFactory, CustomerFactory, PolicyFactory

pytestmark = pytest.mark.django_db


def test_create_change_delete_one_entry_each():
    customer = CustomerFactory()
    assert actions_for(customer) == ["create"]
    customer.first_name = "Renamed"
    customer.save()
    assert actions_for(customer) == ["create", "update"]
    old_name = entries_for(customer)[0].changes["first_name"][1]
    assert entries_for(customer)[1].changes == {"first_name": [old_name, "Renamed"]}
    customer.save()  # no change: no entry
    assert len(entries_for(customer)) == 2
    policy = PolicyFactory(customer=customer)
    claim = ClaimFactory(policy=policy)
    assert actions_for(policy) == ["create"]
    assert actions_for(claim) == ["create"]
    claim_pk = claim.pk
    Claim.objects.filter(pk=claim_pk).delete()  # QuerySet.delete sends per-row signals
    deleted = Claim(pk=claim_pk)
    assert actions_for(deleted) == ["create", "delete"]


def test_encrypted_fields_never_in_change_records():
    customer = CustomerFactory(phone="+15005550006", address="7 Canary Row")
    customer.phone = "+15005550007"
    customer.save()
    created, changed = entries_for(customer)
    assert created.changes["phone"] == ["", "[encrypted]"]
    assert created.changes["address"] == ["", "[encrypted]"]
    assert created.changes["date_of_birth"] == ["", "[encrypted]"]
    assert changed.changes == {"phone": ["[encrypted]", "[encrypted]"]}
    assert "Canary" not in str(created.changes) and "555000" not in str(changed.changes)


def test_queryset_update_is_refused():
    customer = CustomerFactory()
    with pytest.raises(UnauditedWrite, match="customers_customer"), transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(first_name="Sneaky")
    customer.refresh_from_db()
    assert customer.first_name != "Sneaky"


def test_bulk_update_and_bulk_create_are_refused():
    policy = PolicyFactory()
    policy.status = PolicyStatus.EXPIRED
    with pytest.raises(UnauditedWrite, match="policies_policy"), transaction.atomic():
        Policy.objects.bulk_update([policy], ["status"])
    with pytest.raises(UnauditedWrite, match="customers_customer"), transaction.atomic():
        Customer.objects.bulk_create([Customer(email="bulk@example.test", first_name="B",
                                               last_name="C")])


def test_related_manager_and_raw_sql_updates_are_refused():
    claim = ClaimFactory()
    with pytest.raises(UnauditedWrite), transaction.atomic():
        claim.policy.claims.all().update(description="rewritten")
    with pytest.raises(UnauditedWrite), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("update claims_claim set description = 'x' where id = %s", [claim.pk])


def test_explicit_opt_out_allows_bulk_insert_without_per_row_entries():
    before = AuditEntry.objects.count()
    with disable_auditlog():
        Customer.objects.bulk_create([
            Customer(email=f"seed{i}@example.test", first_name="S", last_name=str(i))
            for i in range(3)])
    assert Customer.objects.filter(email__startswith="seed").count() == 3
    assert AuditEntry.objects.count() == before


def test_refresh_status_command_leaves_one_entry_per_changed_policy():
    today = timezone.localdate()
    lapsed = PolicyFactory(start_date=today - datetime.timedelta(days=400),
                           end_date=today - datetime.timedelta(days=35))
    live = PolicyFactory()
    counts = policies_refresh_status(today=today)
    assert counts["expired"] == 1
    lapsed_entries = entries_for(lapsed)
    assert [e.action_name for e in lapsed_entries] == ["create", "update"]
    assert lapsed_entries[1].changes == {"status": ["active", "expired"]}
    assert actions_for(live) == ["create"]


def test_entries_cannot_be_changed_or_deleted_through_the_orm():
    customer = CustomerFactory()
    entry = entries_for(customer)[0]
    entry.object_repr = "forged"
    with pytest.raises(ImmutableEntry):
        entry.save()
    with pytest.raises(ImmutableEntry):
        entry.delete()
    with pytest.raises(ImmutableEntry):
        AuditEntry.objects.filter(pk=entry.pk).update(object_repr="forged")
    with pytest.raises(ImmutableEntry):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get(pk=entry.pk).object_repr != "forged"
