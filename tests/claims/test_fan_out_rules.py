"""ClaimStatusConsumer.plain_delivery: when fan_out may write an event's frame itself,
and when the socket must decide through its inbox (in order, with a read, a close or
a forget). No server, no database: the rule on its own."""

import asyncio
import uuid
from types import SimpleNamespace

import pytest

from claims.consumers import ClaimStatusConsumer

CLAIM = uuid.uuid4()
USER = SimpleNamespace(pk=7)


def _socket(**state):
    socket = ClaimStatusConsumer()
    socket.inbox = asyncio.Queue()
    socket.handling = socket.closing = False
    socket.subscriptions = {str(CLAIM)}
    socket.user = SimpleNamespace(pk=7)
    for name, value in state.items():
        setattr(socket, name, value)
    return socket


def _delivery(*, internal=False, users=None, visible=None):
    return {"type": "claim.event", "claim_id": CLAIM, "text": "{}", "internal": internal,
            "users": {7: USER} if users is None else users,
            "visible": {(7, CLAIM)} if visible is None else visible}


def test_a_subscribed_socket_that_sees_the_claim_gets_the_frame_and_the_fresh_user():
    socket = _socket()
    assert socket.plain_delivery(_delivery()) is True
    assert socket.user is USER


@pytest.mark.parametrize("state, delivery", [
    ({"subscriptions": set()}, {}),                          # not subscribed to it
    ({"handling": True}, {}),                                # busy with an earlier one
    ({"closing": True}, {}),                                 # closing
    ({}, {"users": {}}),                                     # deactivated: to be closed
    ({}, {"visible": set()}),                                # no longer visible: forget
    ({}, {"internal": True}),                                # internal, not yet known
    ({"sees_internal": False}, {"internal": True}),          # internal, not for them
])
def test_anything_else_goes_through_the_inbox(state, delivery):
    socket = _socket(**state)
    before = socket.user
    assert socket.plain_delivery(_delivery(**delivery)) is False
    assert socket.user is before


def test_an_internal_note_for_a_socket_known_to_see_them():
    assert _socket(sees_internal=True).plain_delivery(_delivery(internal=True)) is True


def test_a_socket_with_something_queued_keeps_its_order():
    socket = _socket()
    socket.inbox.put_nowait(_delivery())
    assert socket.plain_delivery(_delivery()) is False
