"""Live sockets follow the sign-in: every socket of a user joins that user's group,
and signing out tells the group to close.

The message goes out after the sign-out commits; a channel layer that is down
(Redis unreachable) never fails the sign-out: it is logged and dropped.
"""

from django.db import transaction

from core.live import group_publish

SESSION_ENDED = "session.ended"


def user_group(user_id) -> str:
    return f"user.{user_id}"


def _send(user_id) -> None:
    group_publish(user_group(user_id), {"type": SESSION_ENDED}, event=SESSION_ENDED,
                  user_id=str(user_id))


def close_user_sockets(*, user_id) -> None:
    """Close the user's open live sockets once the current transaction commits."""
    if user_id is None:
        return
    transaction.on_commit(lambda: _send(user_id))
