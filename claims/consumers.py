"""Live claim status over WebSocket (`/ws/claims/`).

The socket is authenticated by accounts.ws_auth (portal session cookie or
`?token=<access_token>`). A client subscribes to the claims it may see; the
claim transition service publishes to the claim's group after commit, in any
server process when the channel layer is Redis.

The socket follows the sign-in: it joins its user's group (accounts.sockets) and
closes with 4401 when that user signs out. Each event is delivered only after the
visibility selector still shows the claim to a still-active user; otherwise the
subscription is dropped.

A channel layer that fails (Redis unreachable) does not end the socket: it keeps
answering pings, retries the layer with a back-off, and once the layer answers
again re-joins its groups, so live status resumes without a reconnect.
"""

import asyncio
import json
import logging
import uuid

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch

from accounts.models import User
from accounts.sockets import user_group
from claims.events import claim_group, claim_staff_group
from claims.selectors import claims_visible_to
from claims.services import user_sees_internal_notes

CLOSE_UNAUTHENTICATED = 4401
MAX_SUBSCRIPTIONS = 500
LAYER_RETRY_MAX_SECONDS = 5.0

logger = logging.getLogger("insurance.claims")


def _may_see(user, claim_id: uuid.UUID) -> bool:
    if user.is_integrator and not user.has_perm("claims.view_claim"):
        return False
    return claims_visible_to(user).filter(pk=claim_id).exists()


@database_sync_to_async
def _claim_visible(user, claim_id: uuid.UUID) -> bool:
    return _may_see(user, claim_id)


@database_sync_to_async
def _current_user(user_id):
    """The socket's user as the database has it now; None when gone or deactivated."""
    return User.objects.select_related("agency").filter(pk=user_id, is_active=True).first()


def _parse_claim_id(value) -> uuid.UUID | None:
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


class ClaimStatusConsumer(AsyncWebsocketConsumer):
    # --- the channel layer, kept alive through a Redis outage ------------------------

    async def __call__(self, scope, receive, send):
        """AsyncConsumer.__call__, with a channel-layer receive that survives the layer
        failing instead of taking the socket down with it."""
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.layer_ok = True
        self.base_send = send
        handlers = [receive]
        if self.channel_layer is not None:
            self.channel_name = await self.channel_layer.new_channel()
            handlers.append(self._layer_receive)
        try:
            await await_many_dispatch(handlers, self.dispatch)
        except StopConsumer:
            pass

    def _groups(self) -> list[str]:
        groups = [claim_group(key) for key in getattr(self, "subscriptions", ())]
        if getattr(self, "sees_internal", False):
            groups += [claim_staff_group(key) for key in self.subscriptions]
        if hasattr(self, "user"):
            groups.append(user_group(self.user.pk))
        return groups

    async def _layer(self, method: str, group: str) -> bool:
        """group_add / group_discard; a failing layer is noted, never raised."""
        try:
            await getattr(self.channel_layer, method)(group, self.channel_name)
            return True
        except Exception:  # noqa: BLE001 - Redis down: rejoin when it is back
            if self.layer_ok:
                logger.warning("channel layer unavailable", exc_info=True,
                               extra={"event": "ws.layer_unavailable"})
            self.layer_ok = False
            return False

    async def _layer_receive(self):
        delay = 0.25
        while True:
            if self.layer_ok:
                try:
                    return await self.channel_layer.receive(self.channel_name)
                except Exception:  # noqa: BLE001
                    logger.warning("channel layer receive failed", exc_info=True,
                                   extra={"event": "ws.layer_unavailable"})
                    self.layer_ok = False
            await asyncio.sleep(delay)
            delay = min(delay * 2, LAYER_RETRY_MAX_SECONDS)
            self.layer_ok = True  # optimistic: rejoin every group; a failure unsets it
            for group in self._groups():
                if not await self._layer("group_add", group):
                    break
            else:
                logger.info("channel layer back", extra={"event": "ws.layer_restored"})
                delay = 0.25

    # --- connection ---------------------------------------------------------------

    async def connect(self):
        self.subscriptions: set[str] = set()
        user = self.scope.get("user")
        # Accept first: a close code sent before the handshake completes is
        # turned into an HTTP 403 and never reaches the browser.
        await self.accept()
        if not (user and user.is_authenticated and user.is_active):
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        await self._layer("group_add", user_group(user.pk))

    async def disconnect(self, code):
        for group in self._groups():
            if not self.layer_ok:
                break
            await self._layer("group_discard", group)
        self.subscriptions = set()

    # Channel-layer event type "session.ended" (see accounts.sockets).
    async def session_ended(self, event):
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def send_json(self, content: dict):
        await self.send(text_data=json.dumps(content))

    async def receive(self, text_data=None, bytes_data=None):
        if not hasattr(self, "user"):  # closed as unauthenticated
            return
        try:
            message = json.loads(text_data if text_data is not None else bytes_data)
        except (TypeError, ValueError):
            await self.send_json({"type": "error", "message": "Invalid JSON format"})
            return
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "subscribe":
            await self._subscribe(message.get("claim_id"))
        elif kind == "unsubscribe":
            await self._unsubscribe(message.get("claim_id"))
        else:
            await self.send_json({
                "type": "error",
                "code": "unknown_type",
                "message": "Unknown message type; use subscribe, unsubscribe or ping.",
            })

    async def _subscribe(self, raw_id):
        claim_id = _parse_claim_id(raw_id)
        if claim_id is None or not await _claim_visible(self.user, claim_id):
            await self.send_json({
                "type": "error",
                "code": "not_found",
                "claim_id": raw_id if isinstance(raw_id, str) else None,
                "message": "No such claim, or it is not visible to you.",
            })
            return
        key = str(claim_id)
        if key not in self.subscriptions:
            if len(self.subscriptions) >= MAX_SUBSCRIPTIONS:
                await self.send_json({
                    "type": "error",
                    "code": "too_many_subscriptions",
                    "message": f"At most {MAX_SUBSCRIPTIONS} claims per connection.",
                })
                return
            self.subscriptions.add(key)  # rejoined with the rest if the layer is down
            await self._layer("group_add", claim_group(key))
            if await self._sees_internal():
                await self._layer("group_add", claim_staff_group(key))
        await self.send_json({"type": "subscribed", "claim_id": raw_id})

    async def _unsubscribe(self, raw_id):
        claim_id = _parse_claim_id(raw_id)
        key = str(claim_id) if claim_id else None
        if key in self.subscriptions:
            await self._forget(key)
        await self.send_json({"type": "unsubscribed", "claim_id": raw_id})

    async def _forget(self, key: str) -> None:
        self.subscriptions.discard(key)
        await self._layer("group_discard", claim_group(key))
        await self._layer("group_discard", claim_staff_group(key))

    async def _still_visible(self, key: str) -> bool:
        """Before any event reaches the socket: the user is still active and the claim
        still theirs to see (moved, erased, permission withdrawn → unsubscribed)."""
        if key not in self.subscriptions:
            return False
        user = await _current_user(self.user.pk)
        if user is None:  # deactivated or deleted since the socket opened
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return False
        self.user = user
        if not await _claim_visible(user, uuid.UUID(key)):
            await self._forget(key)
            return False
        return True

    # Channel-layer event type "claim.status" (see claims.events).
    async def claim_status(self, event):
        if not await self._still_visible(event["claim_id"]):
            return
        await self.send_json({
            "type": "claim.status",
            "claim_id": event["claim_id"],
            "claim_number": event["claim_number"],
            "status": event["status"],
            "previous_status": event["previous_status"],
            "updated_at": event["updated_at"],
        })

    async def _sees_internal(self) -> bool:
        if not hasattr(self, "sees_internal"):
            self.sees_internal = await database_sync_to_async(user_sees_internal_notes)(
                self.user)
        return self.sees_internal

    # Channel-layer event type "claim.note": shared notes reach every subscriber,
    # internal ones are sent to the staff group only (and dropped here for anyone
    # else, should one ever arrive).
    async def claim_note(self, event):
        if event["note"]["visibility"] != "shared" and not await self._sees_internal():
            return
        if not await self._still_visible(event["claim_id"]):
            return
        await self.send_json({"type": "claim.note", "claim_id": event["claim_id"],
                              "note": event["note"]})

    # Channel-layer event type "claim.financials".
    async def claim_financials(self, event):
        if not await self._still_visible(event["claim_id"]):
            return
        await self.send_json({"type": "claim.financials", "claim_id": event["claim_id"],
                              "reserve": event["reserve"], "paid": event["paid"],
                              "incurred": event["incurred"]})
