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


def _refused(portal, claim, response) -> str:
    """A refused upload redirects (303) to the claim's page, which shows the error
    once; the address bar then holds the claim's address, never the upload's."""
    assert response.status_code == 303
    assert response.headers["Location"] == f"/portal/claims/{claim.pk}/#errors"
    page = portal.get(f"/portal/claims/{claim.pk}/")
    assert page.status_code == 200
    again = portal.get(f"/portal/claims/{claim.pk}/").content.decode()
    assert "id_file_error_1" not in again and "data-error-summary" not in again
    return page.content.decode()


def test_a_file_that_is_not_an_allowed_type_redirects_and_shows_the_error_beside_the_file(
        portal, claim):
    response = _upload(portal, claim, b"#!/bin/sh\necho hi\n" * 20, name="photo.png",
                       kind="invoice")
    body = _refused(portal, claim, response)
    assert 'id="id_file_error_1"' in body
    assert '<option value="invoice" selected>' in body  # the choice made is kept
    assert 'href="#id_file" data-focus="id_file">File:' in body  # listed in the summary
    assert not Document.objects.exists()


def test_missing_file_and_kind_are_listed_in_the_summary(portal, claim):
    response = portal.post(f"/portal/claims/{claim.pk}/documents/", {"document_type": ""})
    body = _refused(portal, claim, response)
    assert 'id="id_file_error_1"' in body
    assert "Kind of document: Choose the kind of document." in body
    assert "There are 2 problems" in body


def test_too_large_redirects_and_shows_the_limit_beside_the_file(portal, claim, settings):
    settings.DOCUMENT_MAX_BYTES = 2048
    response = _upload(portal, claim, _png((400, 400)) + b"\0" * 4096)
    body = _refused(portal, claim, response)
    assert 'id="id_file_error_1">The file is larger than the 2 KiB limit.' in body
    assert not Document.objects.exists()


def test_the_refusal_shows_only_on_its_own_claim(portal, claim, broker):
    from tests.factories import ClaimFactory

    other = ClaimFactory(policy=claim.policy)
    _upload(portal, claim, b"not an image" * 10)
    assert "id_file_error_1" not in portal.get(f"/portal/claims/{other.pk}/").content.decode()
    assert "id_file_error_1" in portal.get(f"/portal/claims/{claim.pk}/").content.decode()


def test_the_kind_of_document_starts_unchosen(portal, claim):
    body = portal.get(f"/portal/claims/{claim.pk}/").content.decode()
    assert '<option value="" selected>Choose…</option>' in body


def test_another_agencys_document_is_404(portal, foreign_claim):
    other = UserFactory(agency=foreign_claim.policy.customer.broker)
    from documents.services import document_create

    document = document_create(actor=other, claim=foreign_claim, document_type="photo",
                               uploaded_file=SimpleUploadedFile("x.png", _png()))
    assert portal.get(f"/portal/documents/{document.pk}/download/").status_code == 404
    assert _upload(portal, foreign_claim, _png()).status_code == 404
    assert Document.objects.count() == 1
