"""seed_demo: a realistic, deterministic demo book in bulk, one audit entry per run,
never on top of real customers unless forced."""

import datetime
import hashlib
from io import StringIO

import pytest
from auditlog import get_logentry_model
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import Agency, User
from claims.models import Claim, ClaimStatus, ClaimStatusChange
from customers.models import Customer
from demo import book as demo
from documents.models import Document, document_storage
from policies.models import Policy, PolicyStatus
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
LogEntry = get_logentry_model()

TODAY = datetime.date(2026, 3, 16)
ARGS = ["--customers", "150", "--agencies", "4", "--claim-rate", "0.9",
        "--document-rate", "0.6", "--today", TODAY.isoformat(), "--password",
        "Seed!Passw0rd99"]


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def snapshot():
    return (
        sorted(Customer.objects.values_list("email", "first_name", "last_name")),
        sorted(Policy.objects.values_list("policy_number", "policy_type", "premium_amount",
                                          "start_date", "status")),
        sorted(Claim.objects.values_list("claim_number", "status", "claim_amount",
                                         "incident_date")),
        sorted(Customer.objects.values_list("email", "phone", "date_of_birth", "address")),
    )


def wipe():
    """Take the demo book out again (test set-up only, outside the audit trail)."""
    from auditlog.context import disable_auditlog

    from claims.models import ClaimApproval, ClaimNote, ClaimPayment, IdempotencyKey, ReserveChange
    from policies.models import Endorsement, Quote

    with disable_auditlog():
        Endorsement.objects.all().delete()
        Quote.objects.update(renewal_of=None)  # quotes and policies refer to each other
        Policy.objects.update(quote=None, renewal_of=None)
        for model in (Document, ClaimStatusChange, ClaimNote, ReserveChange, ClaimApproval,
                      ClaimPayment, IdempotencyKey, Claim, Policy, Quote, Customer, User,
                      Agency):
            model.objects.all().delete()


def test_seed_gives_the_underwriting_lifecycle():
    from policies.models import Endorsement, Quote

    seed(*ARGS)
    statuses = set(Quote.objects.values_list("status", flat=True))
    assert statuses == {"open", "declined", "expired", "bound"}
    assert Quote.objects.filter(renewal_of__isnull=False).exists()
    assert Endorsement.objects.exists()
    assert Policy.objects.filter(version__gt=1).exists()
    due = Policy.objects.filter(rating_plan__isnull=False, status="active",
                                end_date__gt=TODAY + datetime.timedelta(days=30),
                                end_date__lte=TODAY + datetime.timedelta(days=90))
    assert due.exists()


def test_seed_loads_a_consistent_book_with_one_audit_entry():
    out = seed(*ARGS)
    assert "staff@demo.example" in out and "broker@demo.example" in out
    assert "Seed!Passw0rd99" in out

    assert Customer.objects.count() == 150
    assert Agency.objects.count() == 4
    assert User.objects.filter(role="broker").count() == 4
    staff = User.objects.get(email=demo.STAFF_EMAIL)
    assert staff.is_staff and staff.check_password("Seed!Passw0rd99")
    assert User.objects.get(email=demo.BROKER_EMAIL).check_password("Seed!Passw0rd99")
    assert User.objects.get(email="broker4@demo.example").check_password("Seed!Passw0rd99")
    assert not demo.real_customers().exists()

    policies, claims = Policy.objects.count(), Claim.objects.count()
    assert policies >= 150 and claims > 40
    assert Policy.objects.values("policy_number").distinct().count() == policies
    assert Claim.objects.values("claim_number").distinct().count() == claims
    assert set(Claim.objects.values_list("status", flat=True)) == set(ClaimStatus.values)
    assert {PolicyStatus.ACTIVE, PolicyStatus.EXPIRED} <= set(
        Policy.objects.values_list("status", flat=True))
    for claim in Claim.objects.select_related("policy"):
        assert claim.policy.start_date <= claim.incident_date <= min(claim.policy.end_date,
                                                                    TODAY)
        assert claim.claim_amount <= claim.policy.coverage_amount
        assert (claim.processed_date is not None) == (
            claim.status in ("approved", "denied", "closed"))
        history = list(claim.status_changes.values_list("to_status", flat=True))
        assert (history[-1] if history else "pending") == claim.status
    # Claims work: handlers, notes both ways, reserves, payments, one approval waiting.
    from claims.models import ClaimApproval, ClaimNote, ClaimPayment

    assert User.objects.filter(role="staff").count() == 3
    assert Claim.objects.exclude(assignee=None).exists()
    assert set(ClaimNote.objects.values_list("visibility", flat=True)) == {"internal", "shared"}
    assert ClaimPayment.objects.exists()
    assert ClaimApproval.objects.filter(status="pending").count() == 1
    assert not Claim.objects.filter(status="pending", sla_due_at=None).exists()
    # Dates are spread over time, not all "now".
    assert Customer.objects.dates("created_at", "year").count() >= 3

    # Personal data is encrypted at rest, readable through the model.
    customer = Customer.objects.exclude(phone=None).first()
    assert customer.phone.startswith("+")
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM customers_customer WHERE id = %s",
                       [customer.pk.hex if connection.vendor == "sqlite" else customer.pk])
        assert cursor.fetchone()[0].startswith("enc1:")

    # Documents: rows and their bytes in storage.
    documents = list(Document.objects.all())
    assert documents
    storage = document_storage()
    for document in documents[:10]:
        with storage.open(document.file.name) as handle:
            data = handle.read()
        assert len(data) == document.size
        assert hashlib.sha256(data).hexdigest() == document.sha256
        assert data.startswith(b"\x89PNG" if document.mime_type == "image/png" else b"%PDF")

    # One audit entry for the run, with its counts; none per synthetic row.
    entry = LogEntry.objects.get()
    assert entry.additional_data["operation"] == "seed_demo"
    assert entry.content_type.model == "customer"
    assert entry.additional_data["counts"]["customers"] == 150
    assert entry.additional_data["counts"]["claims"] == claims
    assert entry.additional_data["counts"]["documents"] == len(documents)


def test_seed_is_idempotent():
    seed(*ARGS)
    before = snapshot()
    out = seed(*ARGS)
    assert "already loaded" in out
    assert "broker@demo.example" in out
    assert snapshot() == before
    assert LogEntry.objects.count() == 1


def test_same_seed_same_book_other_seed_other_book():
    seed(*ARGS, "--seed", "7")
    first = snapshot()
    wipe()
    seed(*ARGS, "--seed", "7")
    assert snapshot() == first
    wipe()
    seed(*ARGS, "--seed", "8")
    assert snapshot() != first


def test_refuses_a_database_with_real_customers_unless_forced():
    CustomerFactory(email="someone@corp-client.co.uk")
    with pytest.raises(CommandError, match="not demo data"):
        seed(*ARGS)
    assert not User.objects.filter(email=demo.STAFF_EMAIL).exists()
    seed(*ARGS, "--force")
    assert Customer.objects.count() == 151


def test_reserved_domains_are_not_real_customers():
    for email in ("a@example.test", "b@example.com", "c@sub.example.org", "d@demo.example"):
        CustomerFactory(email=email)
    assert not demo.real_customers().exists()
    CustomerFactory(email="e@notexample.com")
    assert demo.real_customers().count() == 1


def test_existing_numbers_are_never_reused():
    book = demo.DemoBook(seed=1, size=demo.BookSize(), today=TODAY)
    first = book.policy_number()
    again = demo.DemoBook(seed=1, size=demo.BookSize(), today=TODAY)
    again.taken_policy_numbers = {first}
    assert again.policy_number() != first
    numbers = {book.policy_number() for _ in range(50_000)}
    assert len(numbers) == 50_000


@pytest.mark.parametrize("args, message", [
    (["--customers", "-1"], "--customers"),
    (["--agencies", "0"], "--agencies"),
    (["--claim-rate", "1.5"], "--claim-rate"),
    (["--policies-per-customer", "0.5"], "--policies-per-customer"),
])
def test_bad_sizes_are_refused_clearly(args, message):
    with pytest.raises(CommandError, match=message):
        seed(*args)


def test_default_run_prints_the_logins_with_a_random_password_when_debug_is_off(settings):
    settings.DEBUG = False
    out = seed("--customers", "5", "--today", TODAY.isoformat())
    assert demo.DEV_PASSWORD not in out
    password = out.split("(password ", 1)[1].split(")", 1)[0]
    assert User.objects.get(email=demo.STAFF_EMAIL).check_password(password)


def test_files_the_storage_renames_are_followed_by_their_documents(monkeypatch):
    """A second seed into the same storage: each name is taken, the storage picks
    another, and every document is pointed at the name its bytes were stored under
    (found a batch of names per read, updated by key)."""
    from concurrent.futures import ThreadPoolExecutor

    from django.core.files.base import ContentFile

    from tests.factories import ClaimFactory

    monkeypatch.setattr(demo, "RENAME_BATCH", 2)
    storage = document_storage()
    claim = ClaimFactory()
    names = [f"seeded/{n}.pdf" for n in range(5)]
    for name in names:
        storage.save(name, ContentFile(b"old", name=name))  # the earlier seed's files
        Document.objects.create(claim=claim, file=name, filename="x.pdf",
                                mime_type="application/pdf", size=3, document_type="invoice",
                                sha256="0" * 64)
    from auditlog.context import disable_auditlog

    with ThreadPoolExecutor(2) as workers, disable_auditlog():  # as the seed runs it
        writer = demo._FileWriter(storage, workers)
        for name in names:
            writer.add(name, b"new")
        writer.finish()
    stored = sorted(Document.objects.values_list("file", flat=True))
    assert len(stored) == 5 and not set(stored) & set(names)
    assert all(storage.open(name).read() == b"new" for name in stored)
