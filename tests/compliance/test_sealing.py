"""Audit entries are appended without a lock and sealed into the hash chain shortly
after their transaction commits, by one sequencer (compliance.sequencer)."""

import threading
import time

import pytest
from django.db import close_old_connections, connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from compliance import audit, chain, services
from compliance.models import AuditEntry, ChainHead
from compliance.sequencer import LEADER_KEY, Sequencer, sequencer
from customers.models import Customer
from tests.conftest import requires_postgres
from tests.factories import AgencyFactory, CustomerFactory, PolicyFactory


@pytest.fixture
def after_commit(settings):
    settings.AUDIT_SEAL_AT_WRITE = False
    settings.AUDIT_SEAL_INTERVAL_MS = 10
    settings.AUDIT_SEQUENCER_RETRY_SECONDS = 0.05
    yield
    sequencer.stop()  # its thread gives back its connection before the database goes


def wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def all_sealed():
    return chain.unsealed_status().count == 0


class Holder:
    """Another session holding the sequencer's leadership (a leader that never seals)."""

    def __init__(self):
        self.conn = connections.create_connection("default")

    def __enter__(self):
        def took():
            with self.conn.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [LEADER_KEY])
                return cursor.fetchone()[0]

        wait_until(took)  # once this process's own sequencer, if any, has let go
        return self

    def __exit__(self, *exc):
        # A pooled connection's session outlives close(): give the lock back first.
        with self.conn.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LEADER_KEY])
        self.conn.close()


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
    wait_until(all_sealed)
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
    # No writer waited for a seal: the sequencer sealed them all, in batches.
    wait_until(all_sealed)
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
def test_a_sequencer_round_seals_what_is_there_and_leaves_later_entries_to_the_next(
        after_commit, settings, monkeypatch):
    """Writers commit while a round runs. A round that looked again for their entries
    would find a few more every time and never end: the leader would seal in a busy
    loop of tiny batches, paying a round's fixed cost for each, instead of once an
    interval."""
    agency = AgencyFactory()
    monkeypatch.setattr(sequencer, "notify", lambda: None)  # no thread: rounds by hand

    def write():
        audit.record(instance=agency, action=AuditEntry.Action.ACCESS, data={"n": 1})

    write()
    write()
    waiting = chain.unsealed_status().count
    batches, writes_left = [], [3]
    seal_batch = chain._seal_batch

    def batch_then_a_write(head):
        batches.append(seal_batch(head))
        if writes_left[0]:  # an entry committed during the round
            writes_left[0] -= 1
            write()
        return batches[-1]

    monkeypatch.setattr(chain, "_seal_batch", batch_then_a_write)
    leader = Sequencer()
    leader.leading = True  # as if it held the advisory lock
    assert leader._step() == settings.AUDIT_SEAL_INTERVAL_MS / 1000
    assert batches == [waiting]  # one batch: what was there when the round began
    assert chain.unsealed_status().count == 1  # the next round's
    leader._step()
    assert batches == [waiting, 1]
    assert chain.unsealed_status().count == 1
    leader.leading = False
    # A seal that must leave nothing behind (the verifier, an erasure, a process at
    # its exit) looks again until nothing is pending.
    assert chain.seal(wait=False) == 2
    assert batches == [waiting, 1, 1, 1]
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


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_writer_seals_nothing_and_wakes_no_one(after_commit):
    """An audited save is its row and its entry: no chain head, no seal, no
    notification in the writer's transaction or after its commit."""
    agency = AgencyFactory()
    CustomerFactory(broker=agency)  # content types cached
    with CaptureQueriesContext(connection) as queries:
        with transaction.atomic():
            Customer(email="q@example.test", first_name="Q", last_name="R", broker=agency).save()
    sql = [q["sql"] for q in queries.captured_queries]
    assert len(sql) == 4, sql
    assert sql[0] == "BEGIN" and sql[3] == "COMMIT"
    assert sql[1].startswith('INSERT INTO "customers_customer"')
    assert sql[2].startswith('INSERT INTO "compliance_auditentry"')
    wait_until(all_sealed)  # by the sequencer's own connection
    assert chain.verify().ok


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_one_sequencer_leads_and_another_takes_over_when_it_stops(after_commit):
    # Sequencers stand for processes (each thread has its own connection); this
    # process's own one starts at its first audited write.
    first, second = Sequencer(), Sequencer()
    try:
        first.start()
        wait_until(lambda: first.leading)
        second.start()
        agency = AgencyFactory()
        CustomerFactory(broker=agency)
        time.sleep(0.2)  # several tries at the lead
        assert first.leading and not second.leading and not sequencer.leading
        wait_until(all_sealed)
        first.stop()  # gives the lead up with its connection
        wait_until(lambda: second.leading or sequencer.leading)
        assert not (second.leading and sequencer.leading)
        CustomerFactory(broker=agency)
        wait_until(all_sealed)
        assert chain.verify().ok
    finally:
        first.stop()
        second.stop()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_entries_a_stalled_leader_leaves_are_sealed_by_another_process(after_commit, settings):
    settings.AUDIT_SEAL_TAKEOVER_SECONDS = 0.3
    with Holder():  # the leader: alive, never sealing
        CustomerFactory()
        time.sleep(0.1)
        assert chain.unsealed_status().count == 1  # not sealed at once: not the leader
        assert not sequencer.leading
        wait_until(all_sealed, timeout=5)  # past the takeover time, this process seals
    assert chain.verify().ok


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_process_seals_what_it_wrote_when_it_exits(after_commit, settings):
    settings.AUDIT_SEAL_TAKEOVER_SECONDS = 3600
    with Holder():
        CustomerFactory()
        assert chain.unsealed_status().count == 1
        sequencer._at_exit()  # what atexit runs
        assert chain.unsealed_status().count == 0
    assert not sequencer.running
    assert chain.verify().ok
