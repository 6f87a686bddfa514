import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from documents.models import Document
from tests.factories import UserFactory


def _png(size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def _upload(portal, claim, content: bytes, name="photo.png", kind="photo"):
    return portal.post(f"/portal/claims/{claim.pk}/documents/", {
        "document_type": kind, "file": SimpleUploadedFile(name, content)})


def test_upload_a_photo_from_the_claim_page_then_download_it(
        portal, claim, broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the bytes are stored on commit
        response = _upload(portal, claim, _png())
    assert response.status_code == 302
    assert response.headers["Location"] == f"/portal/claims/{claim.pk}/"
    document = Document.objects.get()
    assert document.claim == claim and document.uploaded_by == broker
    assert document.mime_type == "image/png"
    body = portal.get(response.headers["Location"]).content.decode()
    assert "photo.png" in body and f"/portal/documents/{document.pk}/download/" in body
    download = portal.get(f"/portal/documents/{document.pk}/download/")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_file_that_is_not_an_allowed_type_is_400_beside_the_file(portal, claim):
    response = _upload(portal, claim, b"#!/bin/sh\necho hi\n" * 20, name="photo.png")
    assert response.status_code == 400
    assert 'id="id_file_error_1"' in response.content.decode()
    assert not Document.objects.exists()


def test_missing_file_is_400(portal, claim):
    response = portal.post(f"/portal/claims/{claim.pk}/documents/", {"document_type": "photo"})
    assert response.status_code == 400
    assert 'id="id_file_error_1"' in response.content.decode()


def test_too_large_is_413_beside_the_file(portal, claim, settings):
    settings.DOCUMENT_MAX_BYTES = 2048
    response = _upload(portal, claim, _png((400, 400)) + b"\0" * 4096)
    assert response.status_code == 413
    body = response.content.decode()
    assert 'id="id_file_error_1">The file is larger than the 2 KiB limit.' in body
    assert not Document.objects.exists()


def test_another_agencys_document_is_404(portal, foreign_claim):
    other = UserFactory(agency=foreign_claim.policy.customer.broker)
    from documents.services import document_create

    document = document_create(actor=other, claim=foreign_claim, document_type="photo",
                               uploaded_file=SimpleUploadedFile("x.png", _png()))
    assert portal.get(f"/portal/documents/{document.pk}/download/").status_code == 404
    assert _upload(portal, foreign_claim, _png()).status_code == 404
    assert Document.objects.count() == 1
