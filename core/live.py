"""The channel layer, for live updates: publishing without letting it fail or stall
the caller, and receiving once per server process for all of that process's sockets.

Live updates are a convenience on top of a committed decision: when the layer
(Redis) is unreachable or hangs, the message is dropped and logged, and the
request that published it answers as usual, after at most PUBLISH_TIMEOUT seconds.

A published message names its group (GROUP_KEY), so that LocalGroups can hand it to
the sockets of that group in the receiving process.
"""

import asyncio
import logging
import weakref

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger("insurance.live")

PUBLISH_TIMEOUT = 1.0
GROUP_KEY = "group"
RETRY_MIN_SECONDS = 0.25
MEMBERSHIP_ATTEMPTS = 2
RETRY_MAX_SECONDS = 5.0


async def _send(layer, group: str, message: dict) -> None:
    await asyncio.wait_for(layer.group_send(group, message), timeout=PUBLISH_TIMEOUT)


def group_publish(group: str, message: dict, *, event: str, **log_fields) -> bool:
    """Send `message` to `group`; False (logged, never raised) when the layer fails."""
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        async_to_sync(_send)(layer, group, {**message, GROUP_KEY: group})
        return True
    except Exception:  # noqa: BLE001 - a lost live update never undoes a decision
        logger.warning("%s publish failed", event, exc_info=True,
                       extra={"event": f"{event}.publish_failed", **log_fields})
        return False


class LocalGroups:
    """The channel-layer groups of one server process's sockets, joined once per process.

    A socket that held a channel of its own and joined its groups itself cost, for an
    event to a group of 500 sockets, 500 deliveries to receive, decode and check one
    by one. Here the process (its event loop) holds one channel: it joins a group on
    the layer when its first socket joins and leaves it with its last, and hands each
    message it receives once, in order, to the sockets' class
    (`await type(socket).fan_out(group, message, sockets)`), which delivers it to
    each of them.

    A failing layer (Redis unreachable) never reaches the sockets: the process
    retries it with a back-off and, once it answers again, rejoins every group its
    sockets are in, so live status resumes without a reconnect.
    """

    _by_loop: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()

    @classmethod
    def here(cls, layer) -> "LocalGroups":
        """The instance of this event loop (server process) for this layer."""
        per_layer = cls._by_loop.setdefault(asyncio.get_running_loop(), {})
        if id(layer) not in per_layer or per_layer[id(layer)].layer is not layer:
            per_layer[id(layer)] = cls(layer)
        return per_layer[id(layer)]

    def __init__(self, layer):
        self.layer = layer
        self.channel: str | None = None
        self.groups: dict[str, set] = {}
        self.lock = asyncio.Lock()  # joins and leaves reach the layer in order
        self.healthy = asyncio.Event()
        self.healthy.set()
        self.receiver: asyncio.Task | None = None
        self.repairer: asyncio.Task | None = None

    # --- membership ------------------------------------------------------------------

    async def join(self, group: str, member) -> None:
        async with self.lock:
            if self.channel is None:
                self.channel = await self.layer.new_channel(prefix="live")
            members = self.groups.get(group)
            if members is None:
                members = self.groups[group] = set()
                if self.healthy.is_set():
                    await self._membership("group_add", group)
            members.add(member)
        self._run()

    async def leave(self, group: str, member) -> None:
        async with self.lock:
            members = self.groups.get(group)
            if members is None or member not in members:
                return
            members.discard(member)
            if not members:
                del self.groups[group]
                if self.healthy.is_set():
                    await self._membership("group_discard", group)
            if not self.groups:  # nobody left to listen for
                for task in (self.receiver, self.repairer):
                    if task is not None:
                        task.cancel()
                self.receiver = self.repairer = None

    async def _membership(self, method: str, group: str) -> None:
        for attempt in range(MEMBERSHIP_ATTEMPTS):  # a slow moment is not an outage
            try:
                await asyncio.wait_for(getattr(self.layer, method)(group, self.channel),
                                       timeout=PUBLISH_TIMEOUT)
                return
            except Exception:  # noqa: BLE001 - Redis down or hanging: rejoin when back
                if attempt == MEMBERSHIP_ATTEMPTS - 1:
                    self._broken()

    # --- the layer failing and coming back ----------------------------------------------

    def _broken(self) -> None:
        if self.healthy.is_set():
            logger.warning("channel layer unavailable", exc_info=True,
                           extra={"event": "ws.layer_unavailable"})
            self.healthy.clear()
        self._run()

    def _run(self) -> None:
        if self.groups and (self.receiver is None or self.receiver.done()):
            self.receiver = asyncio.ensure_future(self._receive())
        if not self.healthy.is_set() and (self.repairer is None or self.repairer.done()):
            self.repairer = asyncio.ensure_future(self._repair())

    async def _repair(self) -> None:
        delay = RETRY_MIN_SECONDS
        while True:
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)
            async with self.lock:
                try:
                    for group in list(self.groups):
                        await asyncio.wait_for(self.layer.group_add(group, self.channel),
                                               timeout=PUBLISH_TIMEOUT)
                except Exception:  # noqa: BLE001 - still down
                    continue
            logger.info("channel layer back", extra={"event": "ws.layer_restored"})
            self.healthy.set()
            return

    # --- receiving ----------------------------------------------------------------------

    async def _receive(self) -> None:
        while True:
            await self.healthy.wait()
            try:
                message = await self.layer.receive(self.channel)
            except Exception:  # noqa: BLE001
                self._broken()
                continue
            group = message.pop(GROUP_KEY, None)
            members = list(self.groups.get(group, ()))
            kinds: dict[type, list] = {}
            for member in members:
                kinds.setdefault(type(member), []).append(member)
            for kind, sockets in kinds.items():
                try:
                    await kind.fan_out(group, message, sockets)
                except Exception:  # noqa: BLE001 - one lost event, not a dead process
                    logger.exception("live fan-out failed", extra={
                        "event": "ws.fan_out_failed", "group": group})
