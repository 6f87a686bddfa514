"""core.live: a failing or hanging channel layer never fails nor stalls the publisher."""

import asyncio
import logging
import time

import pytest
from channels.layers import InMemoryChannelLayer

from core import live


class _Broken:
    async def group_send(self, group, message):
        raise ConnectionError("Redis is unreachable")


class _Hanging:
    async def group_send(self, group, message):
        await asyncio.sleep(60)


def test_a_broken_layer_is_logged_not_raised(monkeypatch, caplog):
    monkeypatch.setattr(live, "get_channel_layer", lambda: _Broken())
    with caplog.at_level(logging.WARNING, logger="insurance.live"):
        assert live.group_publish("g", {"type": "x"}, event="claim.status", claim_id="c1") is False
    record = next(r for r in caplog.records if r.name == "insurance.live")
    assert record.event == "claim.status.publish_failed" and record.claim_id == "c1"


def test_a_hanging_layer_costs_at_most_the_timeout(monkeypatch):
    monkeypatch.setattr(live, "get_channel_layer", lambda: _Hanging())
    monkeypatch.setattr(live, "PUBLISH_TIMEOUT", 0.2)
    started = time.monotonic()
    assert live.group_publish("g", {"type": "x"}, event="claim.status") is False
    assert time.monotonic() - started < 5


def test_a_working_layer_delivers(monkeypatch):
    layer = InMemoryChannelLayer()
    monkeypatch.setattr(live, "get_channel_layer", lambda: layer)

    async def join():
        name = await layer.new_channel()
        await layer.group_add("g", name)
        return name

    from asgiref.sync import async_to_sync

    name = async_to_sync(join)()
    assert live.group_publish("g", {"type": "x.y", "n": 1}, event="test") is True
    # the message names its group, for the receiving process's LocalGroups
    assert async_to_sync(layer.receive)(name) == {"type": "x.y", "n": 1, "group": "g"}


def test_no_layer_configured_is_a_quiet_no(monkeypatch):
    monkeypatch.setattr(live, "get_channel_layer", lambda: None)
    assert live.group_publish("g", {"type": "x"}, event="test") is False


@pytest.mark.django_db(transaction=True)
def test_a_claim_decision_stands_when_the_layer_fails(monkeypatch):
    from claims.models import ClaimStatus
    from claims.services import claim_transition
    from tests.factories import ClaimFactory, UserFactory

    monkeypatch.setattr(live, "get_channel_layer", lambda: _Broken())
    claim = ClaimFactory()
    claim_transition(claim_id=claim.pk, to=ClaimStatus.PROCESSING,
                     actor=UserFactory(staff=True))
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PROCESSING
