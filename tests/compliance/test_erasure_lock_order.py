"""Erasure and a concurrent document deletion must not deadlock (PostgreSQL).

A DELETE of a document holds that document's row, then appends its audit entry (which
locks the audit chain head). Erasure deletes every document of the customer, each
appending an entry; if it took the head before reaching a document another request
holds, the two would wait on each other. Erasure therefore locks the documents first.
"""

import threading
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection, connections, transaction

from compliance.models import ChainHead
from compliance.services import customer_erase
from documents.models import Document
from documents.selectors import documents_of_customer
from documents.services import document_create
from tests.conftest import requires_postgres
from tests.documents import files
from tests.factories import ClaimFactory, CustomerFactory, PolicyFactory

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def _waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                       "current_database() AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0]


def test_erasure_locks_documents_before_the_audit_chain(staff):
    customer = CustomerFactory()
    claim = ClaimFactory(policy=PolicyFactory(customer=customer))
    for name in ("a.pdf", "b.pdf", "c.pdf"):
        document_create(actor=staff, claim=claim, document_type="invoice",
                        uploaded_file=SimpleUploadedFile(name, files.pdf()))
    # The document erasure reaches last, held by "another request".
    held = list(documents_of_customer(customer))[-1]
    assert ChainHead.objects.filter(pk=1).exists()
    connections.close_all()

    holding, release, outcome = threading.Event(), threading.Event(), {}

    def other_request():
        try:
            with transaction.atomic():
                Document.objects.select_for_update().get(pk=held.pk)
                holding.set()
                release.wait(30)
        finally:
            connections.close_all()

    def erasure():
        try:
            outcome["result"] = customer_erase(actor=staff, customer=customer)
        except Exception as exc:  # noqa: BLE001 - reported below
            outcome["error"] = exc
        finally:
            connections.close_all()

    holder = threading.Thread(target=other_request)
    holder.start()
    assert holding.wait(10)
    eraser = threading.Thread(target=erasure)
    eraser.start()
    try:
        deadline = time.monotonic() + 20
        while _waiting_on_a_lock() < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _waiting_on_a_lock() >= 1, "erasure never waited for the held document"
        # While erasure waits for the document, the chain head is free for others.
        try:
            with transaction.atomic():
                assert ChainHead.objects.select_for_update(nowait=True).filter(pk=1).exists()
        except OperationalError as exc:
            pytest.fail(f"erasure holds the audit chain head while waiting: {exc}")
    finally:
        release.set()
        holder.join(30)
        eraser.join(60)
        connections.close_all()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["result"].erased_now and outcome["result"].documents_deleted == 3
    assert not Document.objects.filter(claim=claim).exists()
