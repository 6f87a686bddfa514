"""A create's entry is auditlog's, built from a per-model plan (compliance.audit.log_create):
the same change record as auditlog's own diff, the same signals, one entry."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from auditlog.context import disable_auditlog
from auditlog.diff import model_instance_diff
from auditlog.receivers import log_create as auditlog_log_create
from auditlog.registry import auditlog
from auditlog.signals import post_log, pre_log
from django.core.management import call_command
from django.db.models.signals import post_save

from compliance import audit
from compliance.models import AuditEntry
from customers.models import Customer
from tests.factories import AgencyFactory, ClaimFactory, CustomerFactory, PolicyFactory

pytestmark = pytest.mark.django_db


def _same_as_auditlog(instance):
    ours = audit.create_changes(instance)
    theirs = model_instance_diff(None, instance)
    assert ours == theirs, type(instance).__name__
    return ours


def test_every_registered_model_gets_auditlogs_own_change_record():
    """Rows of every audited kind, as the demo book writes them: the plan's record
    equals auditlog's diff of the same instance, field for field."""
    call_command("seed_demo", "--customers", "40", "--agencies", "2", "--claim-rate", "0.9",
                 "--document-rate", "0.8", "--today", "2026-03-16", "--password",
                 "Seed!Passw0rd99", stdout=StringIO())
    models = auditlog.get_models()
    assert len(models) == 11
    for model in models:
        rows = list(model.objects.all()[:25])
        assert rows, f"the demo book has no {model.__name__}"
        for row in rows:
            assert _same_as_auditlog(row)


def test_unsaved_values_are_recorded_as_auditlog_records_them():
    """Before a save normalises them: a premium given as a string, a naive time, a
    cleared foreign key, JSON, masked fields empty and set."""
    agency = AgencyFactory()
    customer = Customer(email="Mixed.Case@Example.test", first_name="Zoë", last_name="",
                        phone="+14155550100", date_of_birth=None, broker=agency)
    changes = _same_as_auditlog(customer)
    assert changes["phone"] == ("", "[encrypted]")
    assert "date_of_birth" not in changes and "address" not in changes
    assert changes["created_by"] == ("None", "None")
    policy = PolicyFactory(customer=CustomerFactory(broker=agency))
    policy.premium_amount = "1234.50"
    policy.created_at = datetime.datetime(2026, 1, 2, 3, 4, 5)
    _same_as_auditlog(policy)
    policy.risk = {"z": 1, "a": [2, 1]}  # JSON: keys sorted as auditlog sorts them
    assert _same_as_auditlog(policy)["risk"] == ("None", '{"a": [2, 1], "z": 1}')
    policy.risk = {"flags": {3, 1}}  # not JSON: auditlog keeps the value's str()
    policy.created_at = 20260102  # not a time: auditlog keeps it as it is
    changes = _same_as_auditlog(policy)
    assert changes["created_at"] == ("None", "20260102")
    assert changes["risk"] == ("None", str({"flags": {3, 1}}))
    claim = ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=agency)))
    claim.reserve = Decimal("10")
    _same_as_auditlog(claim)


def test_a_related_objects_name_when_auditlog_is_told_to_record_it(settings, monkeypatch):
    monkeypatch.setattr(audit, "_plans", {})  # plans made under this setting
    settings.AUDITLOG_USE_FK_STRING_REPRESENTATION = True
    customer = CustomerFactory()
    changes = _same_as_auditlog(customer)
    assert changes["broker"] == ("None", str(customer.broker))


def test_a_create_writes_one_entry_through_this_receiver_only():
    for model in auditlog.get_models():
        receivers = post_save._live_receivers(model)[0]  # (sync, async) receivers
        assert audit.log_create in receivers, model
        assert auditlog_log_create not in receivers, model
    customer = CustomerFactory()
    entries = AuditEntry.objects.filter(object_pk=str(customer.pk))
    assert list(entries.values_list("action", flat=True)) == [AuditEntry.Action.CREATE]
    entry = entries.get()
    assert entry.changes == {k: list(v) for k, v in audit.create_changes(customer).items()}
    assert entry.object_repr == str(customer)
    assert entry.content_type.model == "customer" and entry.object_id is None


def test_disabled_trail_and_raw_saves_write_no_entry(settings):
    agency = AgencyFactory()
    with disable_auditlog():
        quiet = CustomerFactory(broker=agency)
    assert not AuditEntry.objects.filter(object_pk=str(quiet.pk)).exists()
    raw = Customer(email="raw@example.test", first_name="R", last_name="W", broker=agency)
    raw.save()
    assert AuditEntry.objects.filter(object_pk=str(raw.pk)).count() == 1
    settings.AUDITLOG_DISABLE_ON_RAW_SAVE = True
    before = AuditEntry.objects.count()
    audit.log_create(Customer, raw, created=True, raw=True)
    assert AuditEntry.objects.count() == before
    audit.log_create(Customer, raw, created=False)
    assert AuditEntry.objects.count() == before
    settings.AUDITLOG_DISABLE_ON_RAW_SAVE = False
    audit.log_create(Customer, raw, created=True, raw=True)
    assert AuditEntry.objects.count() == before + 1


def test_pre_log_may_veto_and_post_log_hears_the_entry():
    heard = []

    def veto(sender, instance, action, **kwargs):
        return False

    def listen(sender, **kwargs):
        heard.append(kwargs)

    post_log.connect(listen)
    pre_log.connect(veto)
    try:
        vetoed = CustomerFactory()
        assert not AuditEntry.objects.filter(object_pk=str(vetoed.pk)).exists()
        assert heard == []
    finally:
        pre_log.disconnect(veto)
    try:
        customer = CustomerFactory()
    finally:
        post_log.disconnect(listen)
    (event,) = heard
    assert event["instance"] is customer and event["instance_old"] is None
    assert event["action"] == AuditEntry.Action.CREATE and event["error"] is None
    assert event["log_created"] is True
    assert event["log_entry"] == AuditEntry.objects.get(object_pk=str(customer.pk))
    assert event["changes"] == audit.create_changes(customer)


def test_an_entry_that_fails_is_reported_then_raised(monkeypatch):
    heard = []

    def listen(sender, **kwargs):
        heard.append(kwargs)

    def broken(*args, **kwargs):
        raise RuntimeError("the trail is down")

    monkeypatch.setattr(AuditEntry.objects, "log_create", broken)
    post_log.connect(listen)
    try:
        with pytest.raises(RuntimeError, match="the trail is down"):
            CustomerFactory()
    finally:
        post_log.disconnect(listen)
    (event,) = heard
    assert isinstance(event["error"], RuntimeError) and event["log_entry"] is None
    assert event["log_created"] is False


def test_no_change_no_entry(monkeypatch):
    monkeypatch.setattr(audit, "create_changes", lambda instance: None)
    customer = CustomerFactory()
    assert not AuditEntry.objects.filter(object_pk=str(customer.pk)).exists()
