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


def claim_staff_group(claim_id) -> str:
    """Sockets of users who may read internal notes (staff) on this claim."""
    return f"claim.{claim_id}.staff"


def _money(value) -> str:
    return f"{value:.2f}"


def note_data(note) -> dict:
    """A note as the notes API shows it (also the `note` of a claim.note event)."""
    author = note.author
    return {
        "id": str(note.pk),
        "claim_id": str(note.claim_id),
        "visibility": note.visibility,
        "text": note.text,
        "author_id": str(note.author_id) if note.author_id else None,
        "author_name": author.display_name if author is not None else None,
        "created_at": note.created_at.isoformat(),
    }


def payment_data(payment) -> dict:
    """A payment as the financials API shows it (the `data` of claim.payment_made)."""
    return {
        "id": str(payment.pk),
        "claim_id": str(payment.claim_id),
        "amount": _money(payment.amount),
        "payee": payment.payee,
        "final": payment.final,
        "actor_id": str(payment.actor_id) if payment.actor_id else None,
        "approved_by_id": str(payment.approved_by_id) if payment.approved_by_id else None,
        "created_at": payment.created_at.isoformat(),
    }


def claim_note_payload(*, note) -> dict:
    return {"type": "claim.note", "claim_id": str(note.claim_id), "note": note_data(note)}


def claim_financials_payload(*, claim) -> dict:
    return {
        "type": "claim.financials",
        "claim_id": str(claim.pk),
        "reserve": _money(claim.reserve),
        "paid": _money(claim.paid),
        "incurred": _money(claim.incurred),
    }


def _publish(group: str, payload: dict) -> None:
    group_publish(group, payload, event=payload["type"], claim_id=payload["claim_id"])


def claim_note_publish(payload: dict) -> None:
    """Shared notes go to every subscriber of the claim; internal ones only to staff."""
    if payload["note"]["visibility"] == "shared":
        _publish(claim_group(payload["claim_id"]), payload)
    else:
        _publish(claim_staff_group(payload["claim_id"]), payload)


def claim_financials_publish(payload: dict) -> None:
    _publish(claim_group(payload["claim_id"]), payload)
