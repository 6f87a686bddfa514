"""Notes and financials, live over /ws/claims/: internal notes reach staff only."""

from decimal import Decimal

import pytest
from channels.db import database_sync_to_async

from claims import services
from tests.claims.test_consumers import _ask, _open, _with_token
from tests.factories import ClaimFactory, CustomerFactory, PolicyFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def book(agency):
    return {
        "broker": UserFactory(agency=agency),
        "staff": UserFactory(staff=True),
        "claim": ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=agency)),
                              claim_amount=Decimal("900.00")),
    }


async def _subscribed(user, claim):
    socket = await _open(_with_token(user))
    assert (await _ask(socket, {"type": "subscribe", "claim_id": str(claim.pk)}))["type"] == \
        "subscribed"
    return socket


@pytest.mark.asyncio
async def test_shared_notes_reach_brokers_internal_only_staff(book):
    claim = book["claim"]
    broker = await _subscribed(book["broker"], claim)
    staff = await _subscribed(book["staff"], claim)
    note = database_sync_to_async(services.note_create)
    await note(claim_id=claim.pk, actor=book["staff"], text="Suspect fraud",
               visibility="internal")
    await note(claim_id=claim.pk, actor=book["staff"], text="We need the invoice",
               visibility="shared")
    got_staff = [await staff.receive_json_from(timeout=5) for _ in range(2)]
    assert [e["note"]["text"] for e in got_staff] == ["Suspect fraud", "We need the invoice"]
    event = await broker.receive_json_from(timeout=5)
    assert event["type"] == "claim.note" and event["claim_id"] == str(claim.pk)
    assert event["note"]["text"] == "We need the invoice"
    assert event["note"]["visibility"] == "shared"
    assert await broker.receive_nothing(timeout=0.5)
    await broker.disconnect()
    await staff.disconnect()


@pytest.mark.asyncio
async def test_financials_event(book):
    claim = book["claim"]
    broker = await _subscribed(book["broker"], claim)
    await database_sync_to_async(services.reserve_set)(
        claim_id=claim.pk, actor=book["staff"], amount="250.00", reason="estimate")
    assert await broker.receive_json_from(timeout=5) == {
        "type": "claim.financials", "claim_id": str(claim.pk), "reserve": "250.00",
        "paid": "0.00", "incurred": "250.00"}
    await broker.disconnect()
