"""Audit entries are appended without a lock and sealed into the hash chain right
after their transaction commits (compliance.chain.seal)."""

import threading

import pytest
from django.db import close_old_connections, connection, connections, transaction

from compliance import chain, services
from compliance.models import AuditEntry, ChainHead
from customers.models import Customer
from tests.conftest import requires_postgres
from tests.factories import AgencyFactory, CustomerFactory, PolicyFactory


@pytest.fixture
def after_commit(settings):
    settings.AUDIT_SEAL_AT_WRITE = False


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_writer_holds_no_chain_lock_and_its_entry_is_sealed_on_commit(after_commit):
    agency = AgencyFactory()
    with transaction.atomic():
        customer = Customer.objects.create(email="a@example.test", first_name="A",
                                           last_name="B", broker=agency)
        entry = AuditEntry.objects.get(object_pk=str(customer.pk))
        assert entry.seq is None and entry.entry_hash == ""
        # Another connection can take the chain head meanwhile: no writer holds it.
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute("SELECT seq FROM compliance_chainhead WHERE id = 1 "
                               "FOR UPDATE NOWAIT")
                cursor.execute("ROLLBACK")
        finally:
            other.close()
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert entry.seq == ChainHead.objects.get().seq
    assert entry.entry_hash == chain.entry_hash(entry)
    assert chain.unsealed_status().count == 0
    assert chain.verify().ok


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_are_all_sealed_in_one_unforked_chain(after_commit):
    agency = AgencyFactory()
    errors = []
    barrier = threading.Barrier(8)

    def writer(n):
        try:
            barrier.wait()
            for i in range(6):
                with transaction.atomic():
                    Customer.objects.create(email=f"w{n}-{i}@example.test", first_name="W",
                                            last_name=str(n), broker=agency)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # No writer waited for another's seal: whoever held the head sealed the rest.
    assert chain.unsealed_status().count == 0
    seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 49))
    assert chain.verify().ok


@pytest.mark.django_db
def test_an_entry_left_unsealed_is_reported_and_sealed_by_the_next_seal(
        after_commit, settings, client):
    CustomerFactory()  # the test's transaction never commits: the entry stays unsealed
    state = chain.unsealed_status()
    assert state.count == 1 and not state.alert
    settings.AUDIT_UNSEALED_ALERT_SECONDS = -1
    assert chain.unsealed_status().alert
    body = client.get("/health/ready", secure=True).json()
    assert body["status"] == "ready"  # reported, never a reason to leave rotation
    assert body["checks"]["audit_chain"]["status"] == "alert"
    assert body["checks"]["audit_chain"]["unsealed"] == 1
    assert chain.seal() == 1
    assert chain.unsealed_status().count == 0
    assert chain.verify().ok


@pytest.mark.django_db
def test_verify_seals_what_is_pending_first(after_commit):
    CustomerFactory()
    CustomerFactory()
    report = chain.verify()
    assert report.ok and report.checked == 2 and report.head_seq == 2


@pytest.mark.django_db
def test_erasure_seals_pending_entries_before_scrubbing_them(after_commit):
    customer = CustomerFactory(phone="+14155550199")
    PolicyFactory(customer=customer)
    customer.last_name = "Renamed"
    customer.save()
    assert AuditEntry.objects.filter(seq__isnull=True).count() == 3
    result = services.customer_erase(actor=None, customer=customer)
    assert result.entries_scrubbed >= 2
    assert chain.verify().ok
    erase = AuditEntry.objects.get(action=AuditEntry.Action.ERASE)
    scrubbed = erase.additional_data[chain.REDACTIONS_KEY]
    assert "None" not in scrubbed and all(int(seq) < (erase.seq or 10**9) for seq in scrubbed)
