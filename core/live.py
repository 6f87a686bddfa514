"""Publishing to the channel layer without letting it fail or stall the caller.

Live updates are a convenience on top of a committed decision: when the layer
(Redis) is unreachable or hangs, the message is dropped and logged, and the
request that published it answers as usual, after at most PUBLISH_TIMEOUT seconds.
"""

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger("insurance.live")

PUBLISH_TIMEOUT = 1.0


async def _send(layer, group: str, message: dict) -> None:
    await asyncio.wait_for(layer.group_send(group, message), timeout=PUBLISH_TIMEOUT)


def group_publish(group: str, message: dict, *, event: str, **log_fields) -> bool:
    """Send `message` to `group`; False (logged, never raised) when the layer fails."""
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        async_to_sync(_send)(layer, group, message)
        return True
    except Exception:  # noqa: BLE001 - a lost live update never undoes a decision
        logger.warning("%s publish failed", event, exc_info=True,
                       extra={"event": f"{event}.publish_failed", **log_fields})
        return False
