from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import Client

from claims.models import Claim
from documents.admin import ClaimWithDocumentsAdmin
from documents.models import Document
from tests.documents import files
from tests.factories import UserFactory


@pytest.fixture
def admin_client_for():
    def _client(user):
        client = Client()
        client.force_login(user)
        return client

    return _client


def test_claim_admin_carries_the_documents_inline():
    model_admin = admin.site._registry[Claim]
    assert isinstance(model_admin, ClaimWithDocumentsAdmin)
    inline_models = [inline.model for inline in model_admin.inlines]
    assert Document in inline_models


@pytest.mark.django_db
def test_claim_page_shows_documents_with_size_type_uploader_and_link(
        staff, broker, claim, make_document, admin_client_for):
    doc = make_document(actor=broker, claim=claim, data=files.pdf(), name="police.pdf",
                        document_type="police_report")
    client = admin_client_for(staff)
    page = client.get(f"/admin/claims/claim/{claim.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "police.pdf" in html
    assert "Police report" in html
    size = len(files.pdf())
    assert f"{size}\xa0bytes" in html or f"{size} bytes" in html
    assert broker.email in html
    link = f"/admin/documents/document/{doc.pk}/download/"
    assert link in html

    download = client.get(link)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == files.pdf()
    assert download["Content-Disposition"] == 'attachment; filename="police.pdf"'
    assert download["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_admin_download_uses_the_same_visibility_rule(broker, claim, other_agency,
                                                      make_document, admin_client_for):
    doc = make_document(actor=broker, claim=claim, data=files.pdf())
    # A mis-granted admin login for another agency's broker still sees only its own book.
    outsider = UserFactory(agency=other_agency, is_staff=True)
    outsider.user_permissions.add(Permission.objects.get(codename="view_document"),
                                  Permission.objects.get(codename="view_claim"))
    client = admin_client_for(outsider)
    assert client.get(f"/admin/documents/document/{doc.pk}/download/").status_code == 404
    assert client.get(f"/admin/documents/document/{doc.pk}/change/").status_code in (302, 404)

    # Not logged in: sent to the login page, no bytes.
    resp = Client().get(f"/admin/documents/document/{doc.pk}/download/")
    assert resp.status_code == 302 and "/login/" in resp["Location"]


@pytest.mark.django_db
def test_admin_document_list_and_delete_removes_bytes(staff, broker, claim, make_document,
                                                      admin_client_for, settings,
                                                      django_capture_on_commit_callbacks):
    doc = make_document(actor=broker, claim=claim, data=files.pdf(), name="quote.pdf")
    client = admin_client_for(staff)
    listing = client.get("/admin/documents/document/")
    assert listing.status_code == 200
    assert "quote.pdf" in listing.content.decode()
    assert client.get(f"/admin/documents/document/{doc.pk}/change/").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(f"/admin/documents/document/{doc.pk}/delete/", {"post": "yes"})
    assert resp.status_code == 302
    assert not Document.objects.filter(pk=doc.pk).exists()
    assert not any(p.is_file() for p in Path(settings.MEDIA_ROOT).rglob("*"))
