from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from documents import selectors, services
from documents.models import Document
from tests.documents import files
from tests.factories import ClaimFactory, CustomerFactory, PolicyFactory


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def pdf_upload(name="report.pdf"):
    return SimpleUploadedFile(name, files.pdf())


@pytest.mark.django_db
def test_create_writes_bytes_only_after_commit(broker, claim, settings,
                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        doc = services.document_create(actor=broker, claim=claim, uploaded_file=pdf_upload(),
                                       document_type="invoice")
        assert Document.objects.filter(pk=doc.pk).exists()
        assert stored_files(settings) == []
    assert len(callbacks) == 1
    callbacks[0]()
    [path] = stored_files(settings)
    assert path.read_bytes() == files.pdf()


@pytest.mark.django_db
def test_rolled_back_transaction_leaves_neither_row_nor_bytes(
        broker, claim, settings, django_capture_on_commit_callbacks):
    with (django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError),
          transaction.atomic()):
        services.document_create(actor=broker, claim=claim, uploaded_file=pdf_upload(),
                                 document_type="invoice")
        raise RuntimeError("the caller's transaction fails later")
    assert Document.objects.count() == 0
    assert stored_files(settings) == []


@pytest.mark.django_db
def test_failed_db_write_leaves_no_bytes(broker, claim, settings, monkeypatch,
                                         django_capture_on_commit_callbacks):
    def broken_save(self, *args, **kwargs):
        raise IntegrityError("simulated")

    monkeypatch.setattr(Document, "save", broken_save)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(IntegrityError):
        services.document_create(actor=broker, claim=claim, uploaded_file=pdf_upload(),
                                 document_type="invoice")
    assert stored_files(settings) == []


@pytest.mark.django_db
def test_failed_storage_write_removes_the_row(broker, claim, settings, monkeypatch,
                                              django_capture_on_commit_callbacks):
    def broken(self, name, content):
        raise OSError("disk full")

    monkeypatch.setattr(FileSystemStorage, "_save", broken)
    with (pytest.raises(services.DocumentStorageUnavailable),
          django_capture_on_commit_callbacks(execute=True)):
        services.document_create(actor=broker, claim=claim, uploaded_file=pdf_upload(),
                                 document_type="invoice")
    assert Document.objects.count() == 0
    assert stored_files(settings) == []


@pytest.mark.django_db
def test_create_refuses_claims_the_actor_cannot_see(other_broker, claim, settings):
    with pytest.raises(services.DocumentNotFound):
        services.document_create(actor=other_broker, claim=claim, uploaded_file=pdf_upload(),
                                 document_type="invoice")
    assert Document.objects.count() == 0


@pytest.mark.django_db
def test_create_validates_type_and_size_first(broker, claim, settings):
    with pytest.raises(services.DocumentInvalid) as err:
        services.document_create(actor=broker, claim=claim, uploaded_file=pdf_upload(),
                                 document_type="selfie")
    assert err.value.field == "document_type"

    settings.DOCUMENT_MAX_BYTES = 100
    with pytest.raises(services.DocumentTooLarge) as err:
        services.document_create(actor=broker, claim=claim, uploaded_file=pdf_upload(),
                                 document_type="invoice")
    assert err.value.status_code == 413

    # A file object that does not know its size is measured while it is read.
    class Unsized:
        name = "x.pdf"

        def __init__(self):
            import io
            self._buf = io.BytesIO(files.pdf())

        def read(self, n=-1):
            return self._buf.read(n)

    with pytest.raises(services.DocumentTooLarge):
        services.document_create(actor=broker, claim=claim, uploaded_file=Unsized(),
                                 document_type="invoice")
    assert Document.objects.count() == 0


@pytest.mark.django_db
def test_delete_removes_bytes_after_commit_and_keeps_them_on_rollback(
        broker, claim, settings, make_document, django_capture_on_commit_callbacks):
    doc = make_document(actor=broker, claim=claim, data=files.pdf())
    assert len(stored_files(settings)) == 1

    with (django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError),
          transaction.atomic()):
        services.document_delete(actor=broker, document=doc)
        raise RuntimeError("rolled back")
    assert Document.objects.filter(pk=doc.pk).exists()
    assert len(stored_files(settings)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        services.document_delete(actor=broker, document=doc)
    assert not Document.objects.filter(pk=doc.pk).exists()
    assert stored_files(settings) == []


@pytest.mark.django_db
def test_delete_refuses_documents_the_actor_cannot_see(broker, other_broker, claim,
                                                       make_document):
    doc = make_document(actor=broker, claim=claim, data=files.pdf())
    with pytest.raises(services.DocumentNotFound):
        services.document_delete(actor=other_broker, document=doc)
    assert Document.objects.filter(pk=doc.pk).exists()


@pytest.mark.django_db
def test_documents_visible_to(broker, other_broker, staff, claim, other_claim, make_document):
    mine = make_document(actor=broker, claim=claim, data=files.pdf())
    theirs = make_document(actor=other_broker, claim=other_claim, data=files.pdf())
    assert set(selectors.documents_visible_to(broker)) == {mine}
    assert set(selectors.documents_visible_to(other_broker)) == {theirs}
    assert set(selectors.documents_visible_to(staff)) == {mine, theirs}
    assert list(selectors.documents_visible_to(None)) == []
    broker.is_active = False
    assert list(selectors.documents_visible_to(broker)) == []
    with pytest.raises(Document.DoesNotExist):
        selectors.document_get(user=other_broker, pk=mine.pk)
    assert selectors.document_get(user=staff, pk=mine.pk) == mine


@pytest.mark.django_db
def test_documents_of_customer(broker, agency, claim, make_document):
    customer = claim.policy.customer
    second_claim = ClaimFactory(policy=PolicyFactory(customer=customer))
    stranger_claim = ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=agency)))
    a = make_document(actor=broker, claim=claim, data=files.pdf())
    b = make_document(actor=broker, claim=second_claim, data=files.pdf())
    make_document(actor=broker, claim=stranger_claim, data=files.pdf())
    assert set(selectors.documents_of_customer(customer)) == {a, b}


@pytest.mark.django_db
def test_row_follows_the_name_the_storage_picked(broker, claim, settings, monkeypatch,
                                                 django_capture_on_commit_callbacks):
    original = FileSystemStorage.get_available_name

    def taken(self, name, max_length=None):
        return original(self, name.replace(".pdf", "_1.pdf"), max_length)

    monkeypatch.setattr(FileSystemStorage, "get_available_name", taken)
    with django_capture_on_commit_callbacks(execute=True):
        doc = services.document_create(actor=broker, claim=claim, uploaded_file=pdf_upload(),
                                       document_type="invoice")
    doc.refresh_from_db()
    assert doc.file.name.endswith("_1.pdf")
    [path] = stored_files(settings)
    assert path.name == Path(doc.file.name).name
