"""Live claim status over WebSocket (`/ws/claims/`).

The socket is authenticated by accounts.ws_auth (portal session cookie or
`?token=<access_token>`). A client subscribes to the claims it may see; the
claim transition service publishes to the claim's group after commit, in any
server process when the channel layer is Redis.
"""

import json
import uuid

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from claims.events import claim_group, claim_staff_group
from claims.selectors import claims_visible_to
from claims.services import user_sees_internal_notes

CLOSE_UNAUTHENTICATED = 4401
MAX_SUBSCRIPTIONS = 500


@database_sync_to_async
def _claim_visible(user, claim_id: uuid.UUID) -> bool:
    if user.is_integrator and not user.has_perm("claims.view_claim"):
        return False
    return claims_visible_to(user).filter(pk=claim_id).exists()


def _parse_claim_id(value) -> uuid.UUID | None:
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


class ClaimStatusConsumer(AsyncWebsocketConsumer):
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

    async def disconnect(self, code):
        for claim_id in getattr(self, "subscriptions", ()):
            await self.channel_layer.group_discard(claim_group(claim_id), self.channel_name)
            await self.channel_layer.group_discard(claim_staff_group(claim_id),
                                                   self.channel_name)
        self.subscriptions = set()

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
            await self.channel_layer.group_add(claim_group(key), self.channel_name)
            if await self._sees_internal():
                await self.channel_layer.group_add(claim_staff_group(key), self.channel_name)
            self.subscriptions.add(key)
        await self.send_json({"type": "subscribed", "claim_id": raw_id})

    async def _unsubscribe(self, raw_id):
        claim_id = _parse_claim_id(raw_id)
        key = str(claim_id) if claim_id else None
        if key in self.subscriptions:
            await self.channel_layer.group_discard(claim_group(key), self.channel_name)
            await self.channel_layer.group_discard(claim_staff_group(key), self.channel_name)
            self.subscriptions.discard(key)
        await self.send_json({"type": "unsubscribed", "claim_id": raw_id})

    # Channel-layer event type "claim.status" (see claims.events).
    async def claim_status(self, event):
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
        await self.send_json({"type": "claim.note", "claim_id": event["claim_id"],
                              "note": event["note"]})

    # Channel-layer event type "claim.financials".
    async def claim_financials(self, event):
        await self.send_json({"type": "claim.financials", "claim_id": event["claim_id"],
                              "reserve": event["reserve"], "paid": event["paid"],
                              "incurred": event["incurred"]})
