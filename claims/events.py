"""Live claim status events, pushed to the channel layer after commit."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger("insurance.claims")


def claim_group(claim_id) -> str:
    return f"claim.{claim_id}"


def claim_status_payload(*, claim, previous_status: str) -> dict:
    return {
        "type": "claim.status",
        "claim_id": str(claim.pk),
        "claim_number": claim.claim_number,
        "status": claim.status,
        "previous_status": previous_status,
        "updated_at": claim.updated_at.isoformat(),
    }


def claim_status_publish(payload: dict) -> None:
    """Send to every socket subscribed to this claim, in any server process."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(claim_group(payload["claim_id"]), payload)
    except Exception:  # noqa: BLE001 - a lost live update must never undo a decision
        logger.exception("claim.status publish failed",
                         extra={"event": "claim.status.publish_failed",
                                "claim_id": payload["claim_id"]})
