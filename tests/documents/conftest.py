import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import ClaimFactory, CustomerFactory, PolicyFactory


@pytest.fixture
def claim(agency):
    return ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=agency)))


@pytest.fixture
def other_claim(other_agency):
    return ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=other_agency)))


@pytest.fixture
def upload(django_capture_on_commit_callbacks):
    """POST one file to a claim's documents, running the after-commit hooks
    (the test's own transaction never commits)."""

    def _upload(client, claim, data: bytes, name="file.bin", document_type="photo",
                content_type="application/octet-stream", path=None, **extra):
        body = {"document_type": document_type,
                "file": SimpleUploadedFile(name, data, content_type=content_type)}
        body.update(extra)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(path or f"/api/claims/{claim.pk}/documents", body,
                               format="multipart")

    return _upload


@pytest.fixture
def make_document(django_capture_on_commit_callbacks):
    """A stored document made through the service (bytes written)."""
    from documents.services import document_create

    def _make(*, actor, claim, data: bytes, name="report.pdf", document_type="other"):
        with django_capture_on_commit_callbacks(execute=True):
            return document_create(actor=actor, claim=claim,
                                   uploaded_file=SimpleUploadedFile(name, data),
                                   document_type=document_type)

    return _make
