"""Erasure scrubs a person's identifiers from notes and payees; the export holds the
shared notes and payments, never internal notes."""

from decimal import Decimal

import pytest
from django.utils import timezone

from claims import services
from claims.models import ClaimNote, ClaimPayment
from tests.factories import ClaimFactory, CustomerFactory, PolicyFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(agency):
    customer = CustomerFactory(broker=agency, first_name="Zebulon", last_name="Quartermaine",
                               email="zeb.q@example.test", phone="+14155550199")
    claim = ClaimFactory(policy=PolicyFactory(customer=customer), status="approved",
                         processed_date=timezone.now(), claim_amount=Decimal("500.00"))
    staff = UserFactory(staff=True)
    services.note_create(claim_id=claim.pk, actor=staff, visibility="internal",
                         text="Zebulon Quartermaine called from +14155550199, odd story")
    services.note_create(claim_id=claim.pk, actor=staff, visibility="shared",
                         text="Mail zeb.q@example.test the form")
    services.payment_make(claim_id=claim.pk, actor=staff, amount="100",
                          payee="Zebulon Quartermaine")
    return customer, claim


def test_export_has_shared_notes_and_payments(case, staff_client):
    customer, claim = case
    body = staff_client.get(f"/api/customers/{customer.pk}/gdpr-export").json()
    exported = body["claims"][0]
    assert [n["text"] for n in exported["notes"]] == ["Mail zeb.q@example.test the form"]
    assert "odd story" not in str(body)
    assert exported["payments"][0]["amount"] == "100.00"
    assert exported["paid"] == "100.00"


def test_erasure_scrubs_notes_and_payees(case, staff_client):
    customer, claim = case
    assert staff_client.delete(f"/api/customers/{customer.pk}/gdpr-delete").status_code == 200
    texts = " ".join(ClaimNote.objects.filter(claim=claim).values_list("text", flat=True))
    payees = " ".join(ClaimPayment.objects.filter(claim=claim).values_list("payee", flat=True))
    for secret in ("Zebulon", "Quartermaine", "zeb.q@example.test", "+14155550199"):
        assert secret.lower() not in texts.lower() and secret.lower() not in payees.lower()
    assert "odd story" in texts and "[erased]" in payees


def test_anonymize_service_directly(case):
    from claims.models import Claim
    from core.redact import PersonalData, Redactor

    customer, claim = case
    redactor = Redactor.for_person(PersonalData(last_name="Quartermaine"))
    claims = Claim.objects.filter(pk=claim.pk)
    assert services.claim_texts_anonymize(claims=claims, redactor=redactor) == 2
    assert services.claim_texts_anonymize(claims=claims, redactor=redactor) == 0
    assert services.claim_texts_anonymize(notes=ClaimNote.objects.none(),
                                          redactor=redactor) == 0


def test_erasure_scrubs_other_claims_notes_that_name_the_person(case, staff_client, agency):
    customer, claim = case
    other = ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=agency)))
    staff = UserFactory(staff=True)
    services.note_create(claim_id=other.pk, actor=staff, visibility="internal",
                         text="Witness: Zebulon Quartermaine, zeb.q@example.test")
    staff_client.delete(f"/api/customers/{customer.pk}/gdpr-delete")
    text = ClaimNote.objects.get(claim=other).text
    assert "Quartermaine" not in text and "zeb.q@" not in text and "Witness" in text
