"""Live claim status over WebSocket (`/ws/claims/`).

The socket is authenticated by accounts.ws_auth (portal session cookie or
`?token=<access_token>`). A client subscribes to the claims it may see; the
claim transition service publishes to the claim's group after commit, in any
server process when the channel layer is Redis.

The socket follows the sign-in: it joins its user's group (accounts.sockets) and
closes with 4401 when that user signs out. Each event is delivered only after the
visibility selector still shows the claim to a still-active user; otherwise the
subscription is dropped (or, for a user gone or deactivated, the socket closed).

Fan-out costs per process, not per socket: the sockets of a server process join
their groups through that process's core.live.LocalGroups, so an event reaches the
process once; fan_out then reads, once, whether each of its subscribers still sees
the claim (the users as the database has them now, then the claim's agency: two
queries, whatever the number of sockets), encodes the event once and hands it to
each socket. Subscribing asks the same question; the questions of sockets that
subscribe at about the same moment are answered by one read (_Checks).

A channel layer that fails (Redis unreachable) does not end the socket: it keeps
answering pings while the process retries the layer with a back-off and, once the
layer answers again, re-joins its groups, so live status resumes without a reconnect.
"""

import asyncio
import json
import uuid
import weakref

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch

from accounts.models import User
from accounts.sockets import SESSION_ENDED, user_group
from claims.events import claim_group, claim_staff_group
from claims.selectors import claims_visible_among
from claims.services import user_sees_internal_notes
from core.live import LocalGroups

CLOSE_UNAUTHENTICATED = 4401
_HANDED_OVER = {"claim.event", SESSION_ENDED}  # by fan_out, through the socket's inbox
MAX_SUBSCRIPTIONS = 500


def _audience(pairs: set[tuple]) -> tuple[dict, set[tuple]]:
    """For (user pk, claim pk) pairs: the users as the database has them now (absent
    when gone or deactivated) and the pairs where the user may still see the claim
    (claims_visible_to's rule; an integrator also needs claims.view_claim)."""
    users = {user.pk: user for user in User.objects.select_related("agency").filter(
        pk__in={user_id for user_id, _ in pairs}, is_active=True)}
    allowed = [user for user in users.values()
               if not user.is_integrator or user.has_perm("claims.view_claim")]
    visible = claims_visible_among(allowed, {claim_id for _, claim_id in pairs})
    return users, visible & pairs


class _Checks:
    """The subscribe checks of one event loop (one server process), batched: every
    question asked before the batch's read starts is answered by that read, so each
    answer still reflects the database after the question was asked."""

    def __init__(self):
        self.pairs: set[tuple] = set()
        self.answer: asyncio.Future | None = None
        self.tasks: set[asyncio.Task] = set()

    async def ask(self, user_id, claim_id: uuid.UUID):
        """(the user now or None, whether they still see the claim)."""
        if self.answer is None:
            self.answer = asyncio.get_running_loop().create_future()
            task = asyncio.ensure_future(self._read())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        answer = self.answer
        self.pairs.add((user_id, claim_id))
        users, visible = await asyncio.shield(answer)
        return users.get(user_id), (user_id, claim_id) in visible

    async def _read(self):
        await asyncio.sleep(0)  # the sockets asking at the same moment join this read
        pairs, answer = self.pairs, self.answer
        self.pairs, self.answer = set(), None  # later questions wait for the next read
        try:
            result = await database_sync_to_async(_audience)(pairs)
        except asyncio.CancelledError:
            answer.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 - every waiter sees the failure
            answer.set_exception(exc)
            answer.exception()  # retrieved: no "never retrieved" noise if none waits
            return
        answer.set_result(result)


_checks: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Checks]" = (
    weakref.WeakKeyDictionary())


def _checks_here() -> _Checks:
    loop = asyncio.get_running_loop()
    if loop not in _checks:
        _checks[loop] = _Checks()
    return _checks[loop]


def _parse_claim_id(value) -> uuid.UUID | None:
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _outgoing(event: dict) -> dict | None:
    """A channel-layer claim event as the client receives it (API.md)."""
    kind = event.get("type")
    if kind == "claim.status":
        return {"type": kind, "claim_id": event["claim_id"],
                "claim_number": event["claim_number"], "status": event["status"],
                "previous_status": event["previous_status"],
                "updated_at": event["updated_at"]}
    if kind == "claim.note":
        return {"type": kind, "claim_id": event["claim_id"], "note": event["note"]}
    if kind == "claim.financials":
        return {"type": kind, "claim_id": event["claim_id"], "reserve": event["reserve"],
                "paid": event["paid"], "incurred": event["incurred"]}
    return None


class ClaimStatusConsumer(AsyncWebsocketConsumer):
    # --- group messages, through the process's LocalGroups -----------------------------

    async def __call__(self, scope, receive, send):
        """AsyncConsumer.__call__, with the socket's inbox (filled by fan_out) in place
        of a channel-layer channel of its own."""
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.local_groups = (LocalGroups.here(self.channel_layer)
                             if self.channel_layer is not None else None)
        self.joined: set[str] = set()
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.handling = self.closing = False
        self.subscriptions: set[str] = set()
        self.base_send = send
        try:
            await await_many_dispatch([receive, self.inbox.get], self.dispatch)
        except StopConsumer:
            pass
        finally:
            for group in list(self.joined):
                await self._leave(group)

    async def dispatch(self, message):
        """Channels' dispatch sends every message to the database thread first (to close
        stale connections): one hop per socket per event, all of a process's sockets
        queueing on that one thread. What fan_out hands over needs no connection, and
        a handler that reads uses database_sync_to_async, which closes them itself."""
        if message["type"] in _HANDED_OVER:
            self.handling = True
            try:
                await getattr(self, get_handler_name(message))(message)
            finally:
                self.handling = False
        else:
            await super().dispatch(message)

    async def _join(self, group: str) -> None:
        if self.local_groups is not None and group not in self.joined:
            self.joined.add(group)
            await self.local_groups.join(group, self)

    async def _leave(self, group: str) -> None:
        if group in self.joined:
            self.joined.discard(group)
            await self.local_groups.leave(group, self)

    @classmethod
    async def fan_out(cls, group: str, event: dict, sockets: list) -> None:
        """One group message for this process's sockets in that group: checked, encoded
        and handed to each socket once."""
        if event.get("type") == SESSION_ENDED:
            for socket in sockets:
                socket.inbox.put_nowait(event)
            return
        outgoing = _outgoing(event)
        if outgoing is None:
            return
        claim_id = uuid.UUID(event["claim_id"])
        users, visible = await database_sync_to_async(_audience)(
            {(socket.user.pk, claim_id) for socket in sockets})
        delivery = {"type": "claim.event", "claim_id": claim_id, "users": users,
                    "visible": visible, "text": json.dumps(outgoing),
                    "internal": (event["type"] == "claim.note"
                                 and event["note"]["visibility"] != "shared")}
        frame = {"type": "websocket.send", "text": delivery["text"]}
        for socket in sockets:
            # Most sockets only need the frame: written here, in turn, rather than
            # handed to each socket's task to wake and decide. A socket with something
            # still queued, or whose answer needs more (a close, a read, a forget),
            # gets it through its inbox, in order.
            if socket.plain_delivery(delivery):
                try:
                    await socket.base_send(frame)
                except Exception:  # noqa: BLE001 - a socket closing; the others go on
                    continue
            else:
                socket.inbox.put_nowait(delivery)

    def plain_delivery(self, delivery) -> bool:
        """Whether claim_event would just send this delivery's text, with nothing of
        this socket's waiting before it."""
        if not self.inbox.empty() or self.handling or self.closing:
            return False
        if str(delivery["claim_id"]) not in self.subscriptions:
            return False
        if delivery["internal"] and getattr(self, "sees_internal", None) is not True:
            return False
        user = delivery["users"].get(self.user.pk)
        if user is None or (user.pk, delivery["claim_id"]) not in delivery["visible"]:
            return False
        self.user = user
        return True

    # --- connection ---------------------------------------------------------------

    async def close(self, code=None, reason=None):
        self.closing = True
        await super().close(code=code, reason=reason)

    async def connect(self):
        user = self.scope.get("user")
        # Accept first: a close code sent before the handshake completes is
        # turned into an HTTP 403 and never reaches the browser.
        await self.accept()
        if not (user and user.is_authenticated and user.is_active):
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        await self._join(user_group(user.pk))

    async def disconnect(self, code):
        for group in list(self.joined):
            await self._leave(group)
        self.subscriptions = set()

    # Group message "session.ended" (see accounts.sockets).
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
        if claim_id is not None:
            user, visible = await _checks_here().ask(self.user.pk, claim_id)
            if user is None:  # deactivated or deleted since the socket opened
                await self.close(code=CLOSE_UNAUTHENTICATED)
                return
            self.user = user
        if claim_id is None or not visible:
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
            self.subscriptions.add(key)
            await self._join(claim_group(key))
            if await self._sees_internal():
                await self._join(claim_staff_group(key))
        await self.send_json({"type": "subscribed", "claim_id": raw_id})

    async def _unsubscribe(self, raw_id):
        claim_id = _parse_claim_id(raw_id)
        key = str(claim_id) if claim_id else None
        if key in self.subscriptions:
            await self._forget(key)
        await self.send_json({"type": "unsubscribed", "claim_id": raw_id})

    async def _forget(self, key: str) -> None:
        self.subscriptions.discard(key)
        await self._leave(claim_group(key))
        await self._leave(claim_staff_group(key))

    async def _sees_internal(self) -> bool:
        if not hasattr(self, "sees_internal"):
            self.sees_internal = await database_sync_to_async(user_sees_internal_notes)(
                self.user)
        return self.sees_internal

    # Handed over by fan_out: a claim event (claim.status, claim.note — internal ones
    # reach the staff group only, and are dropped here for anyone else, should one
    # ever arrive — or claim.financials), with the read of who still sees the claim.
    async def claim_event(self, delivery):
        key = str(delivery["claim_id"])
        if key not in self.subscriptions:
            return
        if delivery["internal"] and not await self._sees_internal():
            return
        user = delivery["users"].get(self.user.pk)
        if user is None:  # deactivated or deleted since the socket opened
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        if (user.pk, delivery["claim_id"]) not in delivery["visible"]:
            await self._forget(key)  # moved, erased, permission withdrawn
            return
        await self.send(text_data=delivery["text"])
