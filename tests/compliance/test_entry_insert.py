"""An audit entry goes in with one INSERT built once (compliance.models): every field
as Model.save would write it, the same signals."""

import contextvars

import pytest
from auditlog.context import set_actor
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance import audit, chain
from compliance.models import AuditEntry
from compliance.sequencer import sequencer
from tests.factories import AgencyFactory, CustomerFactory, UserFactory


@pytest.fixture
def insert_alone(settings):
    settings.AUDIT_SEAL_AT_WRITE = False  # the insert alone, no seal in the transaction
    yield
    sequencer.stop()


@pytest.mark.django_db
def test_an_entry_is_one_insert_and_reads_back_as_written(insert_alone):
    agency = AgencyFactory()
    audit.record(instance=agency, action=AuditEntry.Action.ACCESS, data={"warm": True})
    with CaptureQueriesContext(connection) as queries:
        entry = audit.record(instance=agency, action=AuditEntry.Action.ACCESS,
                             data={"n": 1, "name": "Zoë"}, changes={"a": [None, "b"]})
    assert len(queries.captured_queries) == 1
    assert queries.captured_queries[0]["sql"].startswith('INSERT INTO "compliance_auditentry"')
    assert entry.pk is not None and not entry._state.adding
    stored = AuditEntry.objects.get(pk=entry.pk)
    for field in AuditEntry._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(entry, field.attname), field.name
    assert stored.additional_data == {"n": 1, "name": "Zoë"}
    assert stored.payload_digest == chain.payload_digest(stored)
    assert chain.seal() == 2 and chain.verify().ok


@pytest.mark.django_db
def test_the_actor_context_still_reaches_the_entry():
    """auditlog's set_actor works through a pre_save receiver on the entry."""
    user = UserFactory()

    def write():
        with set_actor(user, remote_addr="203.0.113.9"):
            return CustomerFactory()

    # set_actor leaves its context variable set: keep it out of the other tests.
    customer = contextvars.copy_context().run(write)
    entry = AuditEntry.objects.get(object_pk=str(customer.pk))
    assert entry.actor_id == user.pk and entry.actor_ref == str(user.pk)
    assert entry.remote_addr == "203.0.113.9"
    assert entry.actor_email is None  # who acted is the id, never an address
