"""Erasure scrubs the person from free text: claim descriptions, cancellation
reasons, document names, audit payloads and admin history (issue: "Erasure
leaves free text"). Each app's own service is tested directly, then the whole
erasure against a raw pg_dump of the database and the stored files."""

import datetime
import os
import subprocess
from decimal import Decimal

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from claims.models import Claim
from claims.services import claim_create, claims_anonymize
from compliance import chain
from compliance.models import AuditEntry
from compliance.services import customer_erase
from core.redact import MARKER
from customers.services import customer_redactor
from documents.models import Document
from documents.services import document_create, documents_anonymize
from policies.models import Policy
from policies.services import policies_anonymize, policy_cancel
from tests.compliance.canary import CANARY, canary_pdf, found_in_storage, storage_files
from tests.conftest import client_for, requires_postgres
from tests.factories import ClaimFactory, CustomerFactory, PolicyFactory

pytestmark = pytest.mark.django_db

# How people write the canary customer's data in free text.
WRITTEN = {
    "names": "Zebulon Quixoticus",
    "surname": "QUIXOTICUS",
    "email": "Zebulon.Canary@Quixotic-Mail.test",
    "phone": "(555) 777-1234",
    "dob": "19th July 1971",
    "dob_numeric": "19/07/1971",
    "address": "42 Canarywharf Lane",
    "town": "Quillby",
}
NEEDLES = ["zebulon", "quixotic", "5557771234", "777-1234", "777 1234", "1971-07-19",
           "19/07/1971", "19th july 1971", "canarywharf", "quillby"]


def _customer(agency):
    return CustomerFactory(broker=agency, **CANARY)


def test_customer_redactor_is_built_from_the_customer_before_erasure(agency):
    customer = _customer(agency)
    redactor = customer_redactor(customer=customer)
    text = " / ".join(WRITTEN.values())
    assert redactor.text(text) == " / ".join([MARKER] * len(WRITTEN))
    distinctive = customer_redactor(customer=customer, distinctive=True)
    assert distinctive.text("Zebulon in Quillby") == "Zebulon in Quillby"
    assert distinctive.text("Zebulon Quixoticus") == MARKER


def test_claims_anonymize_scrubs_descriptions_and_keeps_the_rest(agency):
    customer = _customer(agency)
    claim = ClaimFactory(policy=PolicyFactory(customer=customer),
                         description=f"{WRITTEN['names']} called from {WRITTEN['phone']}.")
    untouched = ClaimFactory(description="Nothing personal here.")
    before = AuditEntry.objects.count()
    changed = claims_anonymize(claims=Claim.objects.all(),
                               redactor=customer_redactor(customer=customer))
    assert changed == 1
    claim.refresh_from_db()
    untouched.refresh_from_db()
    assert claim.description == f"{MARKER} called from {MARKER}."
    assert claim.claim_amount == Decimal("1500.00") and claim.status == "pending"
    assert untouched.description == "Nothing personal here."
    assert AuditEntry.objects.count() == before  # no change record carrying the old text


def test_policies_anonymize_scrubs_cancellation_reasons(agency, staff):
    customer = _customer(agency)
    policy = PolicyFactory(customer=customer)
    policy_cancel(actor=staff, policy=policy, reason=f"{WRITTEN['surname']} moved to "
                                                     f"{WRITTEN['town']}.")
    other = PolicyFactory()
    policy_cancel(actor=staff, policy=other, reason="Sold the car.")
    changed = policies_anonymize(policies=Policy.objects.all(),
                                 redactor=customer_redactor(customer=customer))
    assert changed == 1
    assert Policy.objects.get(pk=policy.pk).cancellation_reason == f"{MARKER} moved to {MARKER}."
    assert Policy.objects.get(pk=other.pk).cancellation_reason == "Sold the car."


def test_documents_anonymize_scrubs_original_names(agency, staff,
                                                   django_capture_on_commit_callbacks):
    customer = _customer(agency)
    claim = ClaimFactory(policy=PolicyFactory(customer=customer))
    with django_capture_on_commit_callbacks(execute=True):
        named = document_create(actor=staff, claim=claim, document_type="invoice",
                                uploaded_file=canary_pdf("zebulon_quixoticus-invoice.pdf"))
        plain = document_create(actor=staff, claim=claim, document_type="invoice",
                                uploaded_file=canary_pdf("invoice.pdf"))
    changed = documents_anonymize(documents=Document.objects.all(),
                                  redactor=customer_redactor(customer=customer))
    assert changed == 1
    assert Document.objects.get(pk=named.pk).filename == "erased-invoice.pdf"
    assert Document.objects.get(pk=plain.pk).filename == "invoice.pdf"


@pytest.fixture
def written_everywhere(agency, staff, broker, django_capture_on_commit_callbacks):
    """The canary customer, written about in free text in every place text is kept,
    plus another customer whose records mention the canary by full name."""
    customer = _customer(agency)
    policy = PolicyFactory(customer=customer)
    claim = claim_create(
        actor=broker, policy_id=policy.pk, claim_type="damage", claim_amount=Decimal("1998.48"),
        incident_date=datetime.date.today() - datetime.timedelta(days=2),
        description=(f"{WRITTEN['names']} ({WRITTEN['email']}, {WRITTEN['phone']}, born "
                     f"{WRITTEN['dob']}) found the kitchen flooded at {WRITTEN['address']}, "
                     f"{WRITTEN['town']}. DOB on file {WRITTEN['dob_numeric']}."))
    cancelled = PolicyFactory(customer=customer)
    policy_cancel(actor=staff, policy=cancelled, reason=f"{WRITTEN['surname']} asked us to.")
    client = client_for(staff)
    assert client.patch(f"/api/claims/{claim.pk}", {"status": "processing"}).status_code == 200
    LogEntry.objects.create(
        user=staff, content_type=ContentType.objects.get_for_model(Claim),
        object_id=str(claim.pk), object_repr=f"{claim.claim_number} ({WRITTEN['surname']})",
        action_flag=CHANGE, change_message=f"Phoned {WRITTEN['names']} on {WRITTEN['phone']}")
    other = CustomerFactory(broker=agency, first_name="Ada", last_name="Other")
    other_claim = ClaimFactory(
        policy=PolicyFactory(customer=other),
        description=(f"Hit by a car driven by {WRITTEN['names']}; Ada's daughter Zeb saw it. "
                     f"Driver: {WRITTEN['phone']}."))
    third_claim = ClaimFactory(
        policy=PolicyFactory(customer=other),
        description="The other driver gave +1 555 777 1234 as his number.")
    LogEntry.objects.create(
        user=staff, content_type=ContentType.objects.get_for_model(Claim),
        object_id=str(other_claim.pk), object_repr=other_claim.claim_number,
        action_flag=CHANGE, change_message=f"Witness: {WRITTEN['email']}")
    with django_capture_on_commit_callbacks(execute=True):
        document_create(actor=staff, claim=claim, document_type="invoice",
                        uploaded_file=canary_pdf("Quixoticus-invoice.pdf"))
        other_document = document_create(
            actor=staff, claim=other_claim, document_type="police_report",
            uploaded_file=_plain_pdf("zebulon-quixoticus-statement.pdf"))
    return {"customer": customer, "claim": claim, "policy": policy, "cancelled": cancelled,
            "other": other, "other_claim": other_claim, "other_document": other_document,
            "third_claim": third_claim}


def _plain_pdf(name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.compliance.canary import PDF
    body = PDF.replace(b"% Zebulon Quixoticus, 42 Canarywharf Lane\n", b"% statement\n")
    return SimpleUploadedFile(name, body, content_type="application/pdf")


def _pg_dump() -> str:
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    return subprocess.run(
        ["pg_dump", "--data-only", "-h", db["HOST"] or "127.0.0.1",
         "-p", str(db["PORT"] or 5432), "-U", db["USER"], db["NAME"]],
        capture_output=True, text=True, env=env, check=True).stdout.lower()


def _hits(dump: str) -> list[str]:
    return [n for n in NEEDLES if n in dump]


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_after_erasure_a_pg_dump_and_the_files_hold_no_canary(
        written_everywhere, django_capture_on_commit_callbacks):
    before = _hits(_pg_dump())
    assert set(before) >= {"quixotic", "777-1234", "19th july 1971", "canarywharf", "quillby"}
    customer = written_everywhere["customer"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(_staff()).delete(f"/api/customers/{customer.pk}/gdpr-delete")
    assert response.status_code == 200, response.content
    assert _hits(_pg_dump()) == []
    assert [p for p in storage_files() if "quixoticus" in p.lower()] == []
    assert found_in_storage(NEEDLES) == []
    # Policies, claims and amounts stay; the other customer's own words stay.
    claim = Claim.objects.get(pk=written_everywhere["claim"].pk)
    assert claim.claim_amount == Decimal("1998.48") and claim.status == "processing"
    assert claim.description.startswith(f"{MARKER} ({MARKER}, {MARKER}, born {MARKER}) found")
    assert Policy.objects.filter(customer=customer).count() == 2
    other_claim = Claim.objects.get(pk=written_everywhere["other_claim"].pk)
    assert other_claim.description == (
        f"Hit by a car driven by {MARKER}; Ada's daughter Zeb saw it. Driver: {MARKER}.")
    third_claim = Claim.objects.get(pk=written_everywhere["third_claim"].pk)
    assert third_claim.description == f"The other driver gave {MARKER} as his number."
    assert Document.objects.get(pk=written_everywhere["other_document"].pk).filename == (
        "erased-statement.pdf")
    report = chain.verify()
    assert report.ok, report.problem


def _staff():
    from accounts.models import User
    return User.objects.get(email="handler@example.test")


def test_erasure_scrubs_audit_payloads_and_admin_history_and_keeps_the_chain(
        written_everywhere, staff):
    customer = written_everywhere["customer"]
    customer_erase(actor=staff, customer=customer)
    texts = [repr((e.object_repr, e.changes, e.changes_text, e.serialized_data,
                   e.additional_data)).lower() for e in AuditEntry.objects.all()]
    texts += [f"{e.object_repr} {e.change_message}".lower() for e in LogEntry.objects.all()]
    assert [(n, t) for t in texts for n in NEEDLES if n in t] == []
    claim_created = AuditEntry.objects.get(
        content_type=ContentType.objects.get_for_model(Claim),
        object_pk=str(written_everywhere["claim"].pk), action=AuditEntry.Action.CREATE)
    assert claim_created.redacted_at is not None
    assert MARKER in claim_created.changes["description"][1]
    assert claim_created.changes["claim_amount"][1] == "1998.48"
    report = chain.verify()
    assert report.ok, report.problem


def test_an_entry_naming_two_erased_people_is_scrubbed_twice_and_the_chain_verifies(
        agency, staff):
    first = _customer(agency)
    second = CustomerFactory(broker=agency, first_name="Yolanda", last_name="Xerxesdottir",
                             email="yolanda@xerxes.test")
    shared = ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=agency)))
    client = client_for(staff)
    assert client.patch(f"/api/claims/{shared.pk}", {"status": "processing"}).status_code == 200
    claim_create(actor=staff, policy_id=shared.policy_id, claim_type="theft",
                 claim_amount=Decimal("10"), incident_date=datetime.date.today(),
                 description="Witnesses: Zebulon Quixoticus and Yolanda Xerxesdottir.")
    customer_erase(actor=staff, customer=first)
    customer_erase(actor=staff, customer=second)
    entry = AuditEntry.objects.filter(changes__icontains="Witnesses").get()
    assert entry.changes["description"][1] == f"Witnesses: {MARKER} and {MARKER}."
    report = chain.verify()
    assert report.ok, report.problem
    tampered = AuditEntry.objects.filter(pk=entry.pk)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE compliance_auditentry SET object_repr = 'x' WHERE id = %s",
                       [entry.pk])
    assert chain.verify().problem.entry_id == tampered.get().pk


def test_an_own_entry_scrubbed_by_an_earlier_erasure_is_scrubbed_again(agency, staff):
    first = _customer(agency)
    second = CustomerFactory(broker=agency, first_name="Yolanda", last_name="Xerxesdottir",
                             email="yolanda@xerxes.test")
    policy = PolicyFactory(customer=first)
    claim = claim_create(actor=staff, policy_id=policy.pk, claim_type="theft",
                         claim_amount=Decimal("10"), incident_date=datetime.date.today(),
                         description="Zebulon saw Yolanda Xerxesdottir take the bike.")
    customer_erase(actor=staff, customer=second)
    entry = AuditEntry.objects.get(object_pk=str(claim.pk), action=AuditEntry.Action.CREATE)
    assert entry.redacted_at is not None
    assert entry.changes["description"][1] == f"Zebulon saw {MARKER} take the bike."
    customer_erase(actor=staff, customer=first)
    entry.refresh_from_db()
    assert entry.changes["description"][1] == f"{MARKER} saw {MARKER} take the bike."
    assert Claim.objects.get(pk=claim.pk).description == f"{MARKER} saw {MARKER} take the bike."
    report = chain.verify()
    assert report.ok, report.problem
