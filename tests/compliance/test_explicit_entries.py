"""Explicit entries: claim transitions, policy cancellations, logins, document
downloads, with actor, remote address and request id."""

import json

import pytest
from django.contrib.auth import get_user_model

from compliance.models import AuditEntry
from documents.signals import document_downloaded
from tests.compliance.helpers import entries_for
from tests.conftest import client_for
from tests.factories import PASSWORD, ClaimFactory, PolicyFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_claim_transition_is_one_transition_entry_with_actor_address_and_request_id(staff):
    claim = ClaimFactory()
    client = client_for(staff)
    response = client.patch(f"/api/claims/{claim.pk}", {"status": "processing"},
                            REMOTE_ADDR="203.0.113.7", HTTP_X_REQUEST_ID="req-transition-1")
    assert response.status_code == 200, response.content
    entries = entries_for(claim)
    assert [e.action_name for e in entries] == ["create", "transition"]
    entry = entries[-1]
    assert entry.additional_data == {"from": "pending", "to": "processing"}
    assert entry.changes["status"] == ["pending", "processing"]
    assert entry.actor_ref == str(staff.pk)
    assert entry.remote_addr == "203.0.113.7"
    assert entry.cid == "req-transition-1"


def test_forwarded_for_is_not_trusted_without_a_proxy(staff):
    claim = ClaimFactory()
    client_for(staff).patch(f"/api/claims/{claim.pk}", {"status": "processing"},
                            REMOTE_ADDR="203.0.113.8", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert entries_for(claim)[-1].remote_addr == "203.0.113.8"


def test_policy_cancellation_is_one_cancel_entry(staff):
    policy = PolicyFactory()
    response = client_for(staff).post(f"/api/policies/{policy.pk}/cancel",
                                      {"reason": "Sold the car"}, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200, response.content
    entries = entries_for(policy)
    assert [e.action_name for e in entries] == ["create", "cancel"]
    assert entries[-1].additional_data == {"from": "active", "to": "cancelled"}
    assert entries[-1].actor_ref == str(staff.pk)


def test_login_success_and_failure_without_password_or_email(anon_client):
    user = UserFactory(email="login.person@example.test")
    ok = anon_client.post("/api/auth/login", {"email": user.email, "password": PASSWORD},
                          REMOTE_ADDR="192.0.2.10", HTTP_X_REQUEST_ID="req-login-ok")
    assert ok.status_code == 200
    bad = anon_client.post("/api/auth/login", {"email": user.email, "password": "Wr0ng!pass"},
                           REMOTE_ADDR="192.0.2.11")
    assert bad.status_code == 401
    unknown = anon_client.post("/api/auth/login",
                               {"email": "nobody.here@example.test", "password": "Wr0ng!pass"},
                               REMOTE_ADDR="192.0.2.12")
    assert unknown.status_code == 401
    logins = list(AuditEntry.objects.filter(
        action__in=[AuditEntry.Action.LOGIN, AuditEntry.Action.LOGIN_FAILED]).order_by("seq"))
    assert [e.action_name for e in logins] == ["login", "login_failed", "login_failed"]
    success, failed, failed_unknown = logins
    assert success.actor_ref == str(user.pk) and success.object_pk == str(user.pk)
    assert success.remote_addr == "192.0.2.10" and success.cid == "req-login-ok"
    assert failed.object_pk == str(user.pk) and failed.actor_ref == ""
    assert failed.remote_addr == "192.0.2.11"
    assert failed_unknown.object_pk == "" and failed_unknown.additional_data["account"] == "unknown"
    everything = json.dumps([[e.object_repr, e.changes, e.additional_data, e.actor_email]
                             for e in logins])
    for secret in (PASSWORD, "Wr0ng!pass", user.email, "nobody.here@example.test", "****"):
        assert secret not in everything


def test_document_download_signal_leaves_an_entry(staff, rf):
    from documents.models import Document

    claim = ClaimFactory()
    document = Document.objects.create(claim=claim, file="x/y.pdf", filename="scan.pdf",
                                       mime_type="application/pdf", size=3,
                                       document_type="invoice", sha256="0" * 64)
    request = rf.get("/api/documents/x/download", REMOTE_ADDR="198.51.100.20")
    document_downloaded.send(sender=Document, document=document, user=staff, request=request)
    entry = entries_for(document)[-1]
    assert entry.action_name == "download"
    assert entry.actor_ref == str(staff.pk) and entry.remote_addr == "198.51.100.20"
    assert "scan.pdf" not in entry.object_repr


def test_no_email_of_the_actor_is_stored(staff):
    claim = ClaimFactory()
    client_for(staff).patch(f"/api/claims/{claim.pk}", {"status": "processing"})
    assert get_user_model().objects.get(pk=staff.pk).email not in str(
        list(AuditEntry.objects.values_list("actor_email", "object_repr", "changes")))


def test_download_through_the_api_leaves_an_entry(staff, staff_client,
                                                  django_capture_on_commit_callbacks):
    from documents.services import document_create
    from tests.compliance.canary import canary_pdf

    claim = ClaimFactory()
    with django_capture_on_commit_callbacks(execute=True):
        document = document_create(actor=staff, claim=claim, uploaded_file=canary_pdf(),
                                   document_type="invoice")
    response = staff_client.get(f"/api/documents/{document.pk}/download",
                                REMOTE_ADDR="198.51.100.21", HTTP_X_REQUEST_ID="req-dl-1")
    assert response.status_code == 200
    b"".join(response.streaming_content)
    entry = entries_for(document)[-1]
    assert entry.action_name == "download"
    assert (entry.actor_ref, entry.remote_addr, entry.cid) == (
        str(staff.pk), "198.51.100.21", "req-dl-1")
