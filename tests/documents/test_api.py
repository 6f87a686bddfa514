import hashlib
import io
import os
import uuid
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image

from documents.models import Document
from tests.conftest import client_for
from tests.documents import files


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


# --- upload: what is kept ------------------------------------------------------------

@pytest.mark.django_db
def test_upload_pdf_returns_contract_fields_and_stores_bytes(broker_client, broker, claim,
                                                             upload, settings):
    data = files.pdf()
    resp = upload(broker_client, claim, data, name="police report.pdf",
                  document_type="police_report")

    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert set(body) == {"id", "claim_id", "filename", "mime_type", "size", "document_type",
                         "uploaded_at", "download_url"}
    assert body["claim_id"] == str(claim.pk)
    assert body["filename"] == "police report.pdf"
    assert body["mime_type"] == "application/pdf"
    assert body["size"] == len(data)
    assert body["document_type"] == "police_report"
    assert body["download_url"] == f"/api/documents/{body['id']}/download"

    doc = Document.objects.get(pk=body["id"])
    assert doc.uploaded_by == broker
    assert doc.sha256 == hashlib.sha256(data).hexdigest()
    # The stored name is generated, never the client's.
    assert doc.file.name.startswith(f"{claim.pk}/")
    assert "police" not in doc.file.name
    [path] = stored_files(settings)
    assert path.read_bytes() == data
    assert path.name == Path(doc.file.name).name


@pytest.mark.django_db
def test_stored_bytes_live_outside_static_and_web_roots(settings):
    from django.conf import settings as live

    root = Path(live.STORAGES["documents"]["OPTIONS"]["location"]).resolve()
    for web_root in (Path(live.STATIC_ROOT), *map(Path, live.STATICFILES_DIRS)):
        assert not root.is_relative_to(web_root.resolve())
    # Served by no URL of its own: only through the guarded download view.
    assert live.STORAGES["documents"]["OPTIONS"]["base_url"] is None


@pytest.mark.django_db
def test_upload_docx_built_with_zipfile(broker_client, claim, upload):
    resp = upload(broker_client, claim, files.docx(), name="statement.docx",
                  document_type="other")
    assert resp.status_code == 201, resp.content
    assert resp.json()["mime_type"] == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")


@pytest.mark.django_db
def test_upload_word_97_doc(broker_client, claim, upload):
    data = files.word_97_doc()
    resp = upload(broker_client, claim, data, name="claim form.doc", document_type="other")
    assert resp.status_code == 201, resp.content
    assert resp.json()["mime_type"] == "application/msword"
    assert resp.json()["filename"] == "claim form.doc"
    download = broker_client.get(resp.json()["download_url"])
    assert body_of(download) == data
    assert download["Content-Type"] == "application/msword"


@pytest.mark.django_db
def test_jpeg_with_gps_is_reencoded_without_metadata(broker_client, claim, upload, settings):
    original = files.jpeg_with_gps(size=(3000, 2000))
    resp = upload(broker_client, claim, original, name="IMG_0001.JPG",
                  content_type="image/jpeg")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["mime_type"] == "image/jpeg"
    assert body["filename"] == "IMG_0001.jpg"

    download = broker_client.get(body["download_url"])
    stored = body_of(download)
    assert len(stored) == body["size"]
    [path] = stored_files(settings)
    assert path.read_bytes() == stored
    img = Image.open(io.BytesIO(stored))
    assert img.size == (1620, 1080)
    assert dict(img.getexif()) == {}
    assert b"ExampleCam" not in stored and b"GPS" not in stored and b"shot at home" not in stored
    assert Document.objects.get().sha256 == hashlib.sha256(stored).hexdigest()


@pytest.mark.django_db
def test_type_comes_from_bytes_not_name_or_header(broker_client, claim, upload):
    # A PNG sent as "report.pdf" with a PDF content type is a PNG.
    resp = upload(broker_client, claim, files.image("PNG"), name="report.pdf",
                  content_type="application/pdf")
    assert resp.status_code == 201
    assert resp.json()["mime_type"] == "image/png"
    assert resp.json()["filename"] == "report.png"


# --- upload: what is refused ---------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("data, name, content_type, detected", [
    (files.SHELL_SCRIPT, "invoice.pdf", "application/pdf", "text/x-shellscript"),
    (files.HTML_PAGE, "photo.png", "image/png", "text/html"),
    (files.SVG_WITH_SCRIPT, "drawing.svg", "image/svg+xml", "image/svg+xml"),
    (files.SVG_WITH_SCRIPT, "drawing.png", "image/png", "image/svg+xml"),
    (files.plain_zip(), "report.docx", "application/octet-stream", "application/zip"),
    (files.excel_97_xls(), "claim.doc", "application/msword", "application/vnd.ms-excel"),
])
def test_disallowed_content_is_400_and_nothing_is_stored(broker_client, claim, upload,
                                                         settings, data, name,
                                                         content_type, detected):
    resp = upload(broker_client, claim, data, name=name, content_type=content_type)
    assert resp.status_code == 400
    message = resp.json()["file"][0]
    assert detected in message and "Allowed types" in message
    assert Document.objects.count() == 0
    assert stored_files(settings) == []


@pytest.mark.django_db
def test_decompression_bomb_is_400(broker_client, claim, upload, settings):
    resp = upload(broker_client, claim, files.png_bomb(), name="bomb.png")
    assert resp.status_code == 400
    assert "too large to process" in resp.json()["file"][0]
    resp = upload(broker_client, claim, files.png_bomb(9000, 9000), name="bomb.png")
    assert resp.status_code == 400
    assert "megapixels" in resp.json()["file"][0]
    assert Document.objects.count() == 0
    assert stored_files(settings) == []


@pytest.mark.django_db
def test_traversal_file_name_is_kept_only_as_sanitized_metadata(broker_client, claim,
                                                                settings,
                                                                django_capture_on_commit_callbacks):
    # Built by hand so the client's name reaches the server untouched.
    boundary = "BOUNDARY1234"
    payload = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"document_type\"\r\n\r\n"
        f"invoice\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
        f"filename=\"../../../../etc/cron.d/evil.pdf\"\r\n"
        f"Content-Type: application/pdf\r\n\r\n"
    ).encode() + files.pdf() + f"\r\n--{boundary}--\r\n".encode()
    with django_capture_on_commit_callbacks(execute=True):
        resp = broker_client.generic(
            "POST", f"/api/claims/{claim.pk}/documents", payload,
            content_type=f"multipart/form-data; boundary={boundary}")
    assert resp.status_code == 201, resp.content
    assert resp.json()["filename"] == "evil.pdf"
    doc = Document.objects.get()
    assert ".." not in doc.file.name and "evil" not in doc.file.name
    [path] = stored_files(settings)
    assert path.resolve().is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert not Path("/etc/cron.d/evil.pdf").exists()

    download = broker_client.get(resp.json()["download_url"])
    assert download["Content-Disposition"] == 'attachment; filename="evil.pdf"'


@pytest.mark.django_db
def test_service_sanitizes_traversal_names_it_is_given(broker, claim, make_document):
    doc = make_document(actor=broker, claim=claim, data=files.pdf(),
                        name="../../secret/..\\x.pdf")
    assert doc.filename == "x.pdf"


@pytest.mark.django_db
def test_missing_file_or_two_files_is_400(broker_client, claim, settings,
                                          django_capture_on_commit_callbacks):
    url = f"/api/claims/{claim.pk}/documents"
    resp = broker_client.post(url, {"document_type": "photo"}, format="multipart")
    assert resp.status_code == 400
    assert "No file" in resp.json()["file"][0]

    resp = broker_client.post(url, {"document_type": "photo"}, format="json")
    assert resp.status_code == 400

    two = {"document_type": "photo",
           "file": [SimpleUploadedFile("a.pdf", files.pdf()),
                    SimpleUploadedFile("b.pdf", files.pdf())]}
    resp = broker_client.post(url, two, format="multipart")
    assert resp.status_code == 400
    assert "exactly one file" in resp.json()["file"][0]

    other_field = {"document_type": "photo",
                   "file": SimpleUploadedFile("a.pdf", files.pdf()),
                   "attachment": SimpleUploadedFile("b.pdf", files.pdf())}
    resp = broker_client.post(url, other_field, format="multipart")
    assert resp.status_code == 400

    wrong_field = {"document_type": "photo",
                   "upload": SimpleUploadedFile("a.pdf", files.pdf())}
    resp = broker_client.post(url, wrong_field, format="multipart")
    assert resp.status_code == 400
    assert "'file' field" in resp.json()["file"][0]

    assert Document.objects.count() == 0
    assert stored_files(settings) == []


@pytest.mark.django_db
@pytest.mark.parametrize("document_type", ["", "selfie", None])
def test_unknown_document_type_is_400(broker_client, claim, upload, document_type):
    body = {"file": SimpleUploadedFile("a.pdf", files.pdf())}
    if document_type is not None:
        body["document_type"] = document_type
    resp = broker_client.post(f"/api/claims/{claim.pk}/documents", body, format="multipart")
    assert resp.status_code == 400
    assert "document_type" in resp.json()
    assert Document.objects.count() == 0


@pytest.mark.django_db
@override_settings(DOCUMENT_MAX_BYTES=2000)
def test_oversize_file_is_413_while_streaming(broker_client, claim, upload, settings):
    # Content-Length is under limit + multipart overhead: the upload handler stops it.
    data = files.pdf() + b"%" + b"x" * 5000
    resp = upload(broker_client, claim, data, name="big.pdf")
    assert resp.status_code == 413
    assert "2000 bytes" in resp.json()["file"][0]
    assert resp.json()["max_bytes"] == 2000
    assert Document.objects.count() == 0
    assert stored_files(settings) == []

    # Exactly at the limit is fine.
    exact = files.pdf()
    exact = exact + b"%" + b"x" * (2000 - len(exact) - 1)
    assert len(exact) == 2000
    assert upload(broker_client, claim, exact, name="ok.pdf").status_code == 201


@pytest.mark.django_db
def test_oversize_file_over_10_mib_is_413_before_the_body_is_parsed(broker_client, claim,
                                                                    settings, monkeypatch):
    from documents import uploads

    parsed = []
    monkeypatch.setattr(uploads.DocumentUploadHandler, "new_file",
                        lambda *a, **k: parsed.append(a))
    data = files.pdf() + b"%" + os.urandom(11 * 1024 * 1024)
    body = {"document_type": "other", "file": SimpleUploadedFile("huge.pdf", data)}
    resp = broker_client.post(f"/api/claims/{claim.pk}/documents", body, format="multipart")
    assert resp.status_code == 413
    assert "10 MiB" in resp.json()["file"][0]
    assert parsed == []  # refused on Content-Length, the multipart body never parsed
    assert Document.objects.count() == 0
    assert stored_files(settings) == []


def test_upload_handler_stops_at_the_limit_without_a_content_length(settings):
    """The streaming guard on its own: a body with no usable Content-Length."""
    from documents.services import DocumentTooLarge
    from documents.uploads import DocumentUploadHandler

    settings.DOCUMENT_MAX_BYTES = 1000
    handler = DocumentUploadHandler()
    handler.new_file("file", "a.pdf", "application/pdf", None)
    handler.receive_data_chunk(b"x" * 600, 0)
    with pytest.raises(DocumentTooLarge):
        handler.receive_data_chunk(b"x" * 600, 600)
    assert handler.file.closed


# --- list, download, delete ------------------------------------------------------------

@pytest.mark.django_db
def test_list_claim_documents_with_fixed_query_count(broker_client, broker, claim,
                                                    make_document,
                                                    django_assert_num_queries):
    for i in range(3):
        make_document(actor=broker, claim=claim, data=files.pdf(), name=f"r{i}.pdf")
    url = f"/api/claims/{claim.pk}/documents"
    # user (JWT), claim lookup, count, page
    with django_assert_num_queries(4):
        resp = broker_client.get(url)
    assert resp.status_code == 200
    assert resp.json()["count"] == 3
    for i in range(3, 8):
        make_document(actor=broker, claim=claim, data=files.pdf(), name=f"r{i}.pdf")
    with django_assert_num_queries(4):
        resp = broker_client.get(url + "/?page_size=100")
    assert resp.json()["count"] == 8
    names = [d["filename"] for d in resp.json()["results"]]
    assert names[0] == "r7.pdf"  # newest first
    assert len(set(names)) == 8


@pytest.mark.django_db
def test_claim_detail_lists_its_documents(broker_client, broker, claim, make_document):
    doc = make_document(actor=broker, claim=claim, data=files.pdf())
    resp = broker_client.get(f"/api/claims/{claim.pk}")
    assert resp.status_code == 200
    [listed] = resp.json()["documents"]
    assert listed["id"] == str(doc.pk)
    assert listed["download_url"] == f"/api/documents/{doc.pk}/download"


@pytest.mark.django_db
@pytest.mark.parametrize("accept", [None, "text/html", "application/pdf", "application/json"])
def test_download_headers(broker_client, broker, claim, make_document, accept):
    data = files.pdf()
    doc = make_document(actor=broker, claim=claim, data=data, name="Médical report.pdf")
    extra = {"HTTP_ACCEPT": accept} if accept else {}
    resp = broker_client.get(f"/api/documents/{doc.pk}/download", **extra)
    assert resp.status_code == 200
    assert resp.streaming
    assert body_of(resp) == data
    assert resp["Content-Type"] == "application/pdf"
    assert resp["Content-Length"] == str(len(data))
    assert resp["X-Content-Type-Options"] == "nosniff"
    assert resp["Content-Disposition"] == (
        "attachment; filename*=utf-8''M%C3%A9dical%20report.pdf")
    assert "sandbox" in resp["Content-Security-Policy"]
    assert "no-store" in resp["Cache-Control"]


@pytest.mark.django_db
def test_image_download_is_an_attachment_never_inline(broker_client, claim, upload):
    resp = upload(broker_client, claim, files.image("GIF"), name="x.gif")
    download = broker_client.get(resp.json()["download_url"] + "/")
    assert download.status_code == 200
    assert download["Content-Type"] == "image/gif"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_download_of_missing_bytes_is_404_not_500(broker_client, broker, claim, make_document,
                                                  settings):
    doc = make_document(actor=broker, claim=claim, data=files.pdf())
    for path in stored_files(settings):
        path.unlink()
    resp = broker_client.get(f"/api/documents/{doc.pk}/download")
    assert resp.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("slash", ["", "/"])
def test_delete_removes_row_and_bytes(broker_client, broker, claim, make_document, settings,
                                      django_capture_on_commit_callbacks, slash):
    doc = make_document(actor=broker, claim=claim, data=files.pdf())
    assert len(stored_files(settings)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        resp = broker_client.delete(f"/api/documents/{doc.pk}{slash}")
    assert resp.status_code == 204
    assert not Document.objects.filter(pk=doc.pk).exists()
    assert stored_files(settings) == []
    assert broker_client.get(f"/api/documents/{doc.pk}/download").status_code == 404
    assert broker_client.delete(f"/api/documents/{doc.pk}").status_code == 404


@pytest.mark.django_db
def test_every_path_with_and_without_trailing_slash(broker_client, broker, claim, upload,
                                                    make_document):
    for slash in ("", "/"):
        assert upload(broker_client, claim, files.pdf(),
                      path=f"/api/claims/{claim.pk}/documents{slash}").status_code == 201
        assert broker_client.get(f"/api/claims/{claim.pk}/documents{slash}").status_code == 200
        doc = make_document(actor=broker, claim=claim, data=files.pdf())
        assert broker_client.get(f"/api/documents/{doc.pk}{slash}").status_code == 200
        assert broker_client.get(
            f"/api/documents/{doc.pk}/download{slash}").status_code == 200


# --- who may see what ------------------------------------------------------------------------

@pytest.mark.django_db
def test_other_agencys_broker_gets_404_on_every_endpoint(broker, claim, other_broker_client,
                                                         make_document, upload, settings,
                                                         django_capture_on_commit_callbacks):
    doc = make_document(actor=broker, claim=claim, data=files.pdf())
    client = other_broker_client

    assert client.get(f"/api/claims/{claim.pk}/documents").status_code == 404
    resp = upload(client, claim, files.pdf())
    assert resp.status_code == 404
    assert client.get(f"/api/documents/{doc.pk}").status_code == 404
    assert client.get(f"/api/documents/{doc.pk}/download").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/api/documents/{doc.pk}").status_code == 404

    assert Document.objects.count() == 1  # nothing added, nothing removed
    assert len(stored_files(settings)) == 1
    unknown = uuid.uuid4()
    assert client.get(f"/api/documents/{unknown}/download").status_code == 404


@pytest.mark.django_db
def test_staff_sees_every_agencys_documents(staff_client, broker, claim, make_document):
    doc = make_document(actor=broker, claim=claim, data=files.pdf())
    assert staff_client.get(f"/api/claims/{claim.pk}/documents").json()["count"] == 1
    assert staff_client.get(f"/api/documents/{doc.pk}/download").status_code == 200


@pytest.mark.django_db
def test_anonymous_is_401(anon_client, broker, claim, make_document):
    doc = make_document(actor=broker, claim=claim, data=files.pdf())
    for resp in (anon_client.get(f"/api/claims/{claim.pk}/documents"),
                 anon_client.post(f"/api/claims/{claim.pk}/documents", {}),
                 anon_client.get(f"/api/documents/{doc.pk}/download"),
                 anon_client.delete(f"/api/documents/{doc.pk}")):
        assert resp.status_code == 401
        assert "WWW-Authenticate" in resp


@pytest.mark.django_db
def test_integrator_needs_document_model_permissions(integrator, broker, claim, make_document,
                                                     upload):
    doc = make_document(actor=broker, claim=claim, data=files.pdf())
    client = client_for(integrator)
    assert client.get(f"/api/claims/{claim.pk}/documents").status_code == 403
    assert client.get(f"/api/documents/{doc.pk}/download").status_code == 403
    assert upload(client, claim, files.pdf()).status_code == 403

    integrator.user_permissions.add(
        Permission.objects.get(codename="view_document"),
        Permission.objects.get(codename="add_document"))
    client = client_for(type(integrator).objects.get(pk=integrator.pk))
    assert client.get(f"/api/claims/{claim.pk}/documents").status_code == 200
    assert client.get(f"/api/documents/{doc.pk}/download").status_code == 200
    assert upload(client, claim, files.pdf()).status_code == 201
    assert client.delete(f"/api/documents/{doc.pk}").status_code == 403


@pytest.mark.django_db
def test_schema_documents_the_endpoints(staff_client):
    resp = staff_client.get("/api/schema", HTTP_ACCEPT="application/json")
    assert resp.status_code == 200
    text = resp.content.decode()
    assert "/api/claims/{id}/documents" in text
    assert "/api/documents/{id}/download" in text
    assert "multipart/form-data" in text


@pytest.mark.django_db
def test_download_is_announced_for_the_audit_trail(broker_client, broker, other_broker_client,
                                                    claim, make_document):
    from documents.signals import document_downloaded

    doc = make_document(actor=broker, claim=claim, data=files.pdf())
    seen = []

    def receiver(sender, document, user=None, request=None, **kwargs):
        seen.append((document.pk, user))

    document_downloaded.connect(receiver)
    try:
        assert other_broker_client.get(f"/api/documents/{doc.pk}/download").status_code == 404
        assert seen == []
        assert broker_client.get(f"/api/documents/{doc.pk}/download").status_code == 200
    finally:
        document_downloaded.disconnect(receiver)
    assert seen == [(doc.pk, broker)]
