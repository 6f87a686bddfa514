"""The hash chain over audit entries.

    payload_digest = sha256(canonical(object_repr, changes, changes_text,
                                      serialized_data, additional_data))
    entry_hash     = sha256(canonical(seq, prev_hash, timestamp, resource, object_pk,
                                      action, actor, remote address and port,
                                      request id, payload_digest))

Appending locks the single ChainHead row (SELECT ... FOR UPDATE), so two writers
never get the same position: the chain cannot fork.

Redaction (erasure): an entry's payload may be scrubbed of personal data. Its
`payload_digest` (the one written first) stays, so `entry_hash` and every later
link still verify; the scrubbed payload's new digest is recorded, per entry, in
the erasure's own entry, which is itself appended to the chain. The verifier
accepts a scrubbed payload only when a later, intact erasure entry names that
entry with exactly that digest; any other change of a payload is tampering.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from compliance import context
from compliance.models import GENESIS_HASH, AuditEntry, ChainHead, redaction_allowed

REDACTIONS_KEY = "redacted_entries"


def canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str).encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _timestamp(value: datetime.datetime) -> str:
    if timezone.is_naive(value):
        value = timezone.make_aware(value, datetime.UTC)
    return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")


def _resource(content_type_id: int | None) -> str:
    if content_type_id is None:
        return ""
    ct = ContentType.objects.get_for_id(content_type_id)
    return f"{ct.app_label}.{ct.model}"


def payload_of(entry: AuditEntry) -> dict:
    return {
        "object_repr": entry.object_repr or "",
        "changes": entry.changes,
        "changes_text": entry.changes_text or "",
        "serialized_data": entry.serialized_data,
        "additional_data": entry.additional_data,
    }


def payload_digest(entry: AuditEntry) -> str:
    return sha256(canonical(payload_of(entry)))


def entry_hash(entry: AuditEntry) -> str:
    return sha256(canonical({
        "seq": entry.seq,
        "prev_hash": entry.prev_hash,
        "timestamp": _timestamp(entry.timestamp),
        "resource": _resource(entry.content_type_id),
        "object_pk": entry.object_pk or "",
        "object_id": entry.object_id,
        "action": entry.action,
        "actor": entry.actor_ref or "",
        "remote_addr": entry.remote_addr or "",
        "remote_port": entry.remote_port,
        "request_id": entry.cid or "",
        "payload_digest": entry.payload_digest,
    }))


def _locked_head() -> ChainHead:
    head = ChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        # An empty database (or a test flush): start from the last entry, if any.
        last = AuditEntry.objects.order_by("-seq").only("seq", "entry_hash").first()
        ChainHead.objects.get_or_create(
            pk=1, defaults={"seq": last.seq if last else 0,
                            "entry_hash": last.entry_hash if last else GENESIS_HASH})
        head = ChainHead.objects.select_for_update().get(pk=1)
    return head


def append(entry: AuditEntry, insert: Callable[[], None]) -> None:
    """Fill the entry's context, seal it after the current head and insert it."""
    context.apply(entry)
    classify(entry)
    with transaction.atomic():
        head = _locked_head()
        entry.seq = head.seq + 1
        entry.prev_hash = head.entry_hash
        entry.payload_digest = payload_digest(entry)
        entry.entry_hash = entry_hash(entry)
        insert()
        ChainHead.objects.filter(pk=1).update(seq=entry.seq, entry_hash=entry.entry_hash)


def classify(entry: AuditEntry) -> None:
    """Name what a status change is: a claim's is a transition, a policy's
    move to cancelled a cancellation. Still the one entry of that change."""
    if entry.action != AuditEntry.Action.UPDATE or not isinstance(entry.changes, dict):
        return
    status = entry.changes.get("status")
    if not status or entry.content_type_id is None:
        return
    resource = _resource(entry.content_type_id)
    old, new = status[0], status[1]
    if resource == "claims.claim":
        entry.action = AuditEntry.Action.TRANSITION
    elif resource == "policies.policy" and new == "cancelled":
        entry.action = AuditEntry.Action.CANCEL
    else:
        return
    extra = dict(entry.additional_data or {})
    extra.update({"from": old, "to": new})
    entry.additional_data = extra


def redact(entries: list[AuditEntry], scrub: Callable[[AuditEntry], bool | None]
           ) -> dict[str, str]:
    """Scrub the payload of each entry in place; returns {seq: new payload digest},
    which the caller must seal into its erasure entry (same transaction). An entry
    for which `scrub` returns False held nothing to scrub and is left alone. An
    entry may be scrubbed again by a later erasure (it named two people): the
    latest erasure's seal is the one that counts."""
    sealed: dict[str, str] = {}
    now = timezone.now()
    token = redaction_allowed.set(True)
    try:
        for entry in entries:
            if scrub(entry) is False:
                continue
            digest = payload_digest(entry)
            AuditEntry.objects.filter(pk=entry.pk).update(
                object_repr=entry.object_repr, changes=entry.changes,
                changes_text=entry.changes_text, serialized_data=entry.serialized_data,
                additional_data=entry.additional_data, redacted_at=now)
            sealed[str(entry.seq)] = digest
    finally:
        redaction_allowed.reset(token)
    return sealed


# --- Verification -----------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    entry_id: int | None
    seq: int | None
    kind: str  # altered | removed | inserted | redaction
    detail: str

    def __str__(self):
        where = f"entry id={self.entry_id} (seq {self.seq})" if self.entry_id else f"seq {self.seq}"
        return f"{self.kind.upper()}: {where}: {self.detail}"


@dataclass(frozen=True)
class Report:
    checked: int
    head_seq: int
    head_hash: str
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _redaction_map() -> dict[int, tuple[int, str]]:
    """seq of a scrubbed entry -> (seq of the latest erasure that scrubbed it, digest)."""
    out: dict[int, tuple[int, str]] = {}
    rows = (AuditEntry.objects.filter(action=AuditEntry.Action.ERASE)
            .order_by("seq").values_list("seq", "additional_data"))
    for seq, data in rows:
        for target, digest in ((data or {}).get(REDACTIONS_KEY) or {}).items():
            out[int(target)] = (seq, digest)
    return out


def _walk() -> Iterator[AuditEntry]:
    return AuditEntry.objects.order_by("seq", "id").iterator(chunk_size=2000)


def verify() -> Report:
    """Walk the chain from the start; stop at the first entry that does not fit."""
    redactions = _redaction_map()
    prev_seq, prev_hash, checked = 0, GENESIS_HASH, 0
    for entry in _walk():
        checked += 1
        problem = _check(entry, prev_seq, prev_hash, redactions)
        if problem:
            return Report(checked, prev_seq, prev_hash, problem)
        prev_seq, prev_hash = entry.seq, entry.entry_hash
    head = ChainHead.objects.filter(pk=1).first()
    if head is not None and (head.seq, head.entry_hash) != (prev_seq, prev_hash):
        if head.seq > prev_seq:
            problem = Problem(None, prev_seq + 1, "removed",
                              f"the chain head records seq {head.seq} but the chain ends at "
                              f"seq {prev_seq}: the last entries were removed")
        else:
            problem = Problem(None, prev_seq, "inserted",
                              f"entries after seq {head.seq} were appended out of band "
                              f"(the chain head records seq {head.seq})")
        return Report(checked, prev_seq, prev_hash, problem)
    return Report(checked, prev_seq, prev_hash, None)


def _check(entry, prev_seq, prev_hash, redactions) -> Problem | None:
    if entry.seq != prev_seq + 1:
        if entry.seq <= prev_seq:
            return Problem(entry.pk, entry.seq, "inserted",
                           f"seq {entry.seq} repeats or goes back after seq {prev_seq}")
        return Problem(entry.pk, entry.seq, "removed",
                       f"seq {prev_seq + 1} to {entry.seq - 1} are missing before this entry")
    if entry.prev_hash != prev_hash:
        return Problem(entry.pk, entry.seq, "inserted",
                       "its link does not match the entry before it: an entry before it "
                       "was removed or this one was inserted out of band")
    if entry_hash(entry) != entry.entry_hash:
        return Problem(entry.pk, entry.seq, "altered",
                       "its fixed content (time, object, action, actor, address, request) "
                       "no longer matches its hash")
    digest = payload_digest(entry)
    if entry.redacted_at is None:
        if digest != entry.payload_digest:
            return Problem(entry.pk, entry.seq, "altered",
                           "its change record no longer matches its hash")
        return None
    sealed = redactions.get(entry.seq)
    if sealed is None or sealed[0] <= entry.seq:
        return Problem(entry.pk, entry.seq, "redaction",
                       "marked as scrubbed, but no later erasure entry seals the scrubbing")
    if sealed[1] != digest:
        return Problem(entry.pk, entry.seq, "altered",
                       f"its scrubbed change record differs from the one sealed by the "
                       f"erasure at seq {sealed[0]}")
    return None
