"""The broker's claim page shows shared notes (never internal ones) and the money,
and lets the broker write to the claims team."""

from decimal import Decimal

import pytest
from django.utils import timezone

from claims import services
from claims.models import ClaimNote
from tests.factories import ClaimFactory, CustomerFactory, PolicyFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim(agency):
    return ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=agency)),
                        status="approved", processed_date=timezone.now(),
                        claim_amount=Decimal("900.00"))


def test_claim_page_notes_and_money(client, broker, claim):
    staff = UserFactory(staff=True)
    services.note_create(claim_id=claim.pk, actor=staff, text="Looks like fraud",
                         visibility="internal")
    services.note_create(claim_id=claim.pk, actor=staff, text="Payment next week",
                         visibility="shared")
    services.payment_make(claim_id=claim.pk, actor=staff, amount="250", payee="P")
    client.force_login(broker)
    html = client.get(f"/portal/claims/{claim.pk}/").content.decode()
    assert "Payment next week" in html and "Looks like fraud" not in html
    assert "250.00" in html
    part = client.get(f"/portal/claims/{claim.pk}/", HTTP_HX_REQUEST="true",
                      HTTP_HX_TARGET="claim-notes").content.decode()
    assert "Payment next week" in part and "Looks like fraud" not in part
    assert "<html" not in part


def test_broker_writes_a_shared_note(client, broker, claim):
    client.force_login(broker)
    r = client.post(f"/portal/claims/{claim.pk}/notes/", {"text": "Invoice sent by post"})
    assert r.status_code == 302
    note = ClaimNote.objects.get(claim=claim)
    assert note.visibility == "shared" and note.author == broker


def test_other_agency_cannot_note(client, other_broker, claim):
    client.force_login(other_broker)
    assert client.post(f"/portal/claims/{claim.pk}/notes/", {"text": "x"}).status_code == 404
    assert not ClaimNote.objects.exists()
