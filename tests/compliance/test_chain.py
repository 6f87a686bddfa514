"""The hash chain: verify_audit_chain names the first entry altered, removed or
inserted out of band; concurrent writers never fork the chain."""

import itertools
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import close_old_connections, connection, transaction

from compliance import chain
from compliance.models import AuditEntry, ChainHead
from customers.models import Customer
from tests.conftest import requires_postgres
from tests.factories import AgencyFactory, CustomerFactory, PolicyFactory

pytestmark = pytest.mark.django_db


def _book():
    for _ in range(3):
        customer = CustomerFactory()
        PolicyFactory(customer=customer)
        customer.last_name = "Changed"
        customer.save()
    return list(AuditEntry.objects.order_by("seq"))


def _sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_intact_chain_verifies(capsys):
    entries = _book()
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0].prev_hash == "0" * 64
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.entry_hash
    call_command("verify_audit_chain")
    out = capsys.readouterr().out
    assert f"{len(entries)} entr" in out and entries[-1].entry_hash in out
    assert ChainHead.objects.get().seq == entries[-1].seq


def test_change_record_altered_with_raw_sql_is_caught_at_that_row():
    entries = _book()
    target = entries[4]
    _sql("UPDATE compliance_auditentry SET changes = %s WHERE id = %s",
         ['{"last_name": ["Someone", "Else"]}', target.pk])
    with pytest.raises(CommandError) as excinfo:
        call_command("verify_audit_chain")
    message = str(excinfo.value)
    assert f"entry id={target.pk} (seq {target.seq})" in message
    assert "ALTERED" in message
    report = chain.verify()
    assert report.problem.entry_id == target.pk and report.checked == target.seq


def test_fixed_field_altered_is_caught():
    entries = _book()
    target = entries[2]
    _sql("UPDATE compliance_auditentry SET remote_addr = '10.9.9.9' WHERE id = %s", [target.pk])
    problem = chain.verify().problem
    assert (problem.entry_id, problem.kind) == (target.pk, "altered")


def test_removed_entry_is_named():
    entries = _book()
    _sql("DELETE FROM compliance_auditentry WHERE id = %s", [entries[3].pk])
    problem = chain.verify().problem
    assert problem.kind == "removed"
    assert problem.entry_id == entries[4].pk
    assert "seq 4 to 4 are missing" in problem.detail


def test_last_entry_removed_is_caught_by_the_head():
    entries = _book()
    _sql("DELETE FROM compliance_auditentry WHERE id = %s", [entries[-1].pk])
    problem = chain.verify().problem
    assert problem.kind == "removed" and problem.seq == entries[-1].seq


def test_entry_inserted_out_of_band_is_named():
    entries = _book()
    # Make room by shifting the later entries' positions, then insert a forged one.
    _sql("UPDATE compliance_auditentry SET seq = seq + 1000 WHERE seq > 3")
    forged = entries[2]
    _sql(
        "INSERT INTO compliance_auditentry (content_type_id, object_pk, object_repr, action, "
        "changes_text, changes, timestamp, seq, prev_hash, entry_hash, payload_digest, "
        "actor_ref) VALUES (%s, %s, 'forged', 1, '', NULL, %s, 4, %s, %s, %s, '')",
        [forged.content_type_id, forged.object_pk, forged.timestamp, forged.entry_hash,
         "f" * 64, "e" * 64])
    problem = chain.verify().problem
    forged_id = AuditEntry.objects.get(seq=4).pk
    assert problem.entry_id == forged_id
    assert problem.kind == "altered"


def test_appended_out_of_band_beyond_the_head_is_caught():
    entries = _book()
    last = entries[-1]
    entry = AuditEntry(content_type_id=last.content_type_id, object_pk=last.object_pk,
                       object_repr="x", action=1, timestamp=last.timestamp,
                       seq=last.seq + 1, prev_hash=last.entry_hash)
    entry.payload_digest = chain.payload_digest(entry)
    entry.entry_hash = chain.entry_hash(entry)
    _sql("INSERT INTO compliance_auditentry (content_type_id, object_pk, object_repr, action, "
         "changes_text, timestamp, seq, prev_hash, entry_hash, payload_digest, actor_ref) "
         "VALUES (%s, %s, 'x', 1, '', %s, %s, %s, %s, %s, '')",
         [entry.content_type_id, entry.object_pk, entry.timestamp, entry.seq, entry.prev_hash,
          entry.entry_hash, entry.payload_digest])
    problem = chain.verify().problem
    assert problem.kind == "inserted"


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_do_not_fork_the_chain():
    agency = AgencyFactory()
    errors = []
    barrier = threading.Barrier(6)

    def writer(n):
        try:
            barrier.wait()
            for i in range(5):
                with transaction.atomic():
                    Customer.objects.create(email=f"w{n}-{i}@example.test", first_name="W",
                                            last_name=str(n), broker=agency)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 31))
    assert chain.verify().ok
