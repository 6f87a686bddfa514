"""Live claim status events, pushed to the channel layer after commit."""

from core.live import group_publish


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
    """Send to every socket subscribed to this claim, in any server process; a failing
    or hanging channel layer is logged, never raised (core.live)."""
    group_publish(claim_group(payload["claim_id"]), payload, event="claim.status",
                  claim_id=payload["claim_id"])
