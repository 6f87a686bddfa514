"""Erasure and export: API, commands, canaries."""

import json

import pytest
from django.core.management import call_command

from compliance import chain
from compliance.models import AuditEntry
from customers.models import Customer
from documents.models import Document
from documents.services import document_create
from policies.services import PolicyInvalid, policy_create
from tests.compliance.canary import (
    CANARY,
    CANARY_STRINGS,
    canary_pdf,
    found_in_database,
    found_in_storage,
    storage_files,
)
from tests.compliance.helpers import entries_for
from tests.conftest import client_for
from tests.factories import ClaimFactory, CustomerFactory, PolicyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(staff, agency, django_capture_on_commit_callbacks):
    """A customer full of canaries, with a policy, a claim, a document, edits and
    an export behind them (so audit entries hold copies of their data)."""
    customer = CustomerFactory(broker=agency, **CANARY)
    client = client_for(staff)
    assert client.patch(f"/api/customers/{customer.pk}",
                        {"first_name": "Zebulonius"}).status_code == 200
    assert client.patch(f"/api/customers/{customer.pk}",
                        {"first_name": CANARY["first_name"]}).status_code == 200
    policy = PolicyFactory(customer=customer)
    claim = ClaimFactory(policy=policy, description="Water damage in the kitchen.")
    with django_capture_on_commit_callbacks(execute=True):
        document = document_create(actor=staff, claim=claim, uploaded_file=canary_pdf(),
                                   document_type="invoice")
    assert client.get(f"/api/customers/{customer.pk}/gdpr-export").status_code == 200
    other = CustomerFactory(broker=agency)
    return {"customer": customer, "policy": policy, "claim": claim, "document": document,
            "other": other}


def test_canaries_are_present_before_erasure(book):
    assert storage_files() and found_in_storage()
    tables = {table for table, _ in found_in_database()}
    assert "customers_customer" in tables and "compliance_auditentry" in tables


def test_erasure_leaves_no_canary_in_any_table_or_storage(book, staff_client,
                                                          django_capture_on_commit_callbacks):
    customer = book["customer"]
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.delete(f"/api/customers/{customer.pk}/gdpr-delete")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["erased"] is True and body["erased_now"] is True
    assert body["documents_deleted"] == 1
    assert found_in_database() == []
    assert found_in_storage() == [] and storage_files() == []
    customer.refresh_from_db()
    assert customer.email == f"erased-{customer.pk}@erased.invalid"
    assert (customer.phone, customer.date_of_birth, customer.address) == (None, None, None)
    assert customer.gdpr_consent is True and customer.gdpr_consent_date is not None
    assert customer.erased_at is not None
    # Policies, claims and amounts stay.
    book["policy"].refresh_from_db()
    book["claim"].refresh_from_db()
    assert book["claim"].claim_amount and book["policy"].premium_amount
    assert not Document.objects.filter(pk=book["document"].pk).exists()
    # The other customer is untouched.
    other = Customer.objects.get(pk=book["other"].pk)
    assert other.erased_at is None and other.phone == "+14155550123"


def test_erasure_leaves_one_entry_naming_no_personal_data_and_chain_stays_valid(
        book, staff, staff_client):
    customer = book["customer"]
    before = AuditEntry.objects.count()
    staff_client.delete(f"/api/customers/{customer.pk}/gdpr-delete",
                        HTTP_X_REQUEST_ID="req-erase-1")
    erasures = AuditEntry.objects.filter(action=AuditEntry.Action.ERASE)
    assert erasures.count() == 1
    erasure = erasures.get()
    # One document deletion (the document's own delete entry) plus the erasure entry.
    assert AuditEntry.objects.count() == before + 2
    assert erasure.actor_ref == str(staff.pk) and erasure.cid == "req-erase-1"
    text = json.dumps([erasure.object_repr, erasure.changes, erasure.additional_data]).lower()
    assert not [s for s in CANARY_STRINGS if s in text]
    scrubbed = AuditEntry.objects.filter(redacted_at__isnull=False)
    assert scrubbed.count() == len(erasure.additional_data["redacted_entries"]) >= 4
    report = chain.verify()
    assert report.ok, report.problem


def test_erasure_is_idempotent(book, staff_client):
    url = f"/api/customers/{book['customer'].pk}/gdpr-delete"
    assert staff_client.delete(url).status_code == 200
    count = AuditEntry.objects.count()
    again = staff_client.delete(url.rstrip("/") + "/")
    assert again.status_code == 200 and again.json()["erased_now"] is False
    assert AuditEntry.objects.count() == count


def test_tampering_with_a_scrubbed_entry_is_still_caught(book, staff_client):
    from django.db import connection

    staff_client.delete(f"/api/customers/{book['customer'].pk}/gdpr-delete")
    scrubbed = AuditEntry.objects.filter(redacted_at__isnull=False).order_by("seq").first()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE compliance_auditentry SET object_repr = 'Zebulon' WHERE id = %s",
                       [scrubbed.pk])
    problem = chain.verify().problem
    assert problem.entry_id == scrubbed.pk and problem.kind == "altered"


def test_marking_an_entry_scrubbed_without_an_erasure_is_caught():
    from django.db import connection

    customer = CustomerFactory()
    entry = entries_for(customer)[0]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE compliance_auditentry SET redacted_at = now(), object_repr = 'x' "
                       "WHERE id = %s" if connection.vendor == "postgresql" else
                       "UPDATE compliance_auditentry SET redacted_at = CURRENT_TIMESTAMP, "
                       "object_repr = 'x' WHERE id = %s", [entry.pk])
    problem = chain.verify().problem
    assert problem.entry_id == entry.pk and problem.kind == "redaction"


def test_erased_customer_blocks_new_policies_and_edits(book, staff, staff_client):
    customer = book["customer"]
    staff_client.delete(f"/api/customers/{customer.pk}/gdpr-delete")
    assert staff_client.patch(f"/api/customers/{customer.pk}",
                              {"first_name": "Back"}).status_code == 400
    import datetime

    with pytest.raises(PolicyInvalid):
        policy_create(actor=staff, customer_id=customer.pk, policy_type="auto",
                      premium_amount=500, coverage_amount=1000,
                      start_date=datetime.date(2030, 1, 1), end_date=datetime.date(2031, 1, 1))


@pytest.mark.parametrize("who", ["broker", "integrator"])
def test_only_staff_may_erase_or_export(request, who, agency):
    customer = CustomerFactory(broker=agency)
    client = client_for(request.getfixturevalue(who))
    assert client.delete(f"/api/customers/{customer.pk}/gdpr-delete").status_code == 403
    assert client.get(f"/api/customers/{customer.pk}/gdpr-export").status_code == 403
    assert Customer.objects.get(pk=customer.pk).erased_at is None


def test_anonymous_gets_401_and_unknown_customer_404(anon_client, staff_client):
    customer = CustomerFactory()
    response = anon_client.delete(f"/api/customers/{customer.pk}/gdpr-delete")
    assert response.status_code == 401 and response.has_header("WWW-Authenticate")
    assert anon_client.get(f"/api/customers/{customer.pk}/gdpr-export").status_code == 401
    missing = "00000000-0000-0000-0000-000000000000"
    assert staff_client.delete(f"/api/customers/{missing}/gdpr-delete").status_code == 404
    assert staff_client.get(f"/api/customers/{missing}/gdpr-export/").status_code == 404
    assert staff_client.get(f"/api/customers/{'-' * 36}/gdpr-export").status_code == 404


def test_export_holds_everything_about_the_person_and_nothing_about_others(book, staff_client):
    customer, other = book["customer"], book["other"]
    PolicyFactory(customer=other)
    response = staff_client.get(f"/api/customers/{customer.pk}/gdpr-export")
    assert response.status_code == 200
    data = response.json()
    assert data["schema_version"] == 1
    assert data["profile"]["email"] == CANARY["email"]
    assert data["profile"]["phone"] == CANARY["phone"]
    assert data["profile"]["date_of_birth"] == "1971-07-19"
    assert data["consents"][0]["given"] is True
    assert [p["id"] for p in data["policies"]] == [str(book["policy"].pk)]
    assert [c["id"] for c in data["claims"]] == [str(book["claim"].pk)]
    assert [d["id"] for d in data["documents"]] == [str(book["document"].pk)]
    kinds = {(e["resource_type"], e["action"]) for e in data["audit_entries"]}
    assert {("customer", "create"), ("customer", "update"), ("customer", "export"),
            ("policy", "create"), ("claim", "create"), ("document", "create")} <= kinds
    text = json.dumps(data).lower()
    assert other.email.lower() not in text and str(other.pk) not in text
    assert "handler@example.test" not in text  # the staff member who acted
    assert {e["actor_role"] for e in data["audit_entries"]} <= {"staff", None}
    # The export itself is recorded.
    assert entries_for(customer)[-1].action_name == "export"


def test_commands_erase_and_export_by_id_or_email(book, capsys, tmp_path):
    customer = book["customer"]
    call_command("gdpr_export", CANARY["email"].upper())
    data = json.loads(capsys.readouterr().out)
    # By e-mail: every record of the person (here one), each a full export.
    assert [r["profile"]["id"] for r in data["records"]] == [str(customer.pk)]
    call_command("gdpr_erase", CANARY["email"], "--actor", "handler@example.test")
    assert "Erased customer" in capsys.readouterr().out
    call_command("gdpr_erase", str(customer.pk))
    assert "already erased" in capsys.readouterr().out
    out_file = tmp_path / "export.json"
    call_command("gdpr_export", str(customer.pk), "--output", str(out_file))
    exported = json.loads(out_file.read_text())
    assert exported["profile"]["erased_at"] and exported["profile"]["phone"] is None
    assert AuditEntry.objects.filter(action=AuditEntry.Action.ERASE).count() == 1
    assert chain.verify().ok


def test_commands_reject_unknown_customer_and_non_staff_actor(broker):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="No customer"):
        call_command("gdpr_erase", "nobody@example.test")
    customer = CustomerFactory()
    with pytest.raises(CommandError, match="staff"):
        call_command("gdpr_erase", str(customer.pk), "--actor", broker.email)
