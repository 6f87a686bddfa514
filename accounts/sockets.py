"""Live sockets follow the sign-in: every socket of a user joins that user's group,
and signing out tells the group to close.

The message goes out after the sign-out commits; a channel layer that is down
(Redis unreachable) never fails the sign-out: it is logged and dropped.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger("insurance.accounts")

SESSION_ENDED = "session.ended"


def user_group(user_id) -> str:
    return f"user.{user_id}"


def _send(user_id) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(user_group(user_id), {"type": SESSION_ENDED})
    except Exception:  # noqa: BLE001 - a sign-out never fails because Redis is down
        logger.warning("session.ended publish failed", exc_info=True,
                       extra={"event": "session.ended.publish_failed", "user_id": str(user_id)})


def close_user_sockets(*, user_id) -> None:
    """Close the user's open live sockets once the current transaction commits."""
    if user_id is None:
        return
    transaction.on_commit(lambda: _send(user_id))
