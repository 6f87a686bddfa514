"""The hash chain over audit entries.

    payload_digest = sha256(canonical(object_repr, changes, changes_text,
                                      serialized_data, additional_data))
    entry_hash     = sha256(canonical(seq, prev_hash, timestamp, resource, object_pk,
                                      action, actor, remote address and port,
                                      request id, payload_digest))

Appending and sealing are two steps, so audited writes run in parallel:

- a writer inserts its entry unsealed (`seq` NULL, no hashes; its payload digest
  computed) and takes no lock: the table's own id sequence orders the inserts;
- one sequencer for the whole deployment (compliance.sequencer: a thread in each
  writing process, one of them elected leader) seals, every few milliseconds,
  every committed unsealed entry: `seal()` locks the single ChainHead row
  (SELECT ... FOR UPDATE: one sealer at a time, so the chain cannot fork), gives
  each entry, in id order, the next position and its hashes, in one UPDATE, and
  moves the head. The lock is held for the sealing only, never for a writer's
  transaction, and no writer waits for, or wakes, the sealer.

An entry whose sealer died is sealed by the next seal (the next leader, a
takeover, `verify_audit_chain`, an erasure). `unsealed_status()` reports the
oldest unsealed entry's age; /health/ready and the `audit_unsealed_*` metrics show
it, and it is an alert past AUDIT_UNSEALED_ALERT_SECONDS.
With AUDIT_SEAL_AT_WRITE (the test suite's default, where the test's own
transaction never commits) the writer seals right after its insert instead; on
SQLite (one writer at a time anyway) the writer seals right after its commit.

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

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from compliance import context
from compliance.models import GENESIS_HASH, AuditEntry, ChainHead, redaction_allowed
from compliance.sequencer import sequencer

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


# What entry_hash() reads: the sealer loads only these, never the payload.
HASHED_FIELDS = ("id", "timestamp", "content_type", "object_pk", "object_id", "action",
                 "actor_ref", "remote_addr", "remote_port", "cid", "payload_digest")


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


def _locked_head(*, skip_locked: bool = False) -> ChainHead | None:
    """The head row, locked; None when `skip_locked` and another sealer holds it."""
    head = ChainHead.objects.select_for_update(skip_locked=skip_locked).filter(pk=1).first()
    if head is None and skip_locked and ChainHead.objects.filter(pk=1).exists():
        return None
    if head is None:
        # An empty database (or a test flush): start from the last entry, if any.
        last = (AuditEntry.objects.filter(seq__isnull=False).order_by("-seq")
                .only("seq", "entry_hash").first())
        ChainHead.objects.get_or_create(
            pk=1, defaults={"seq": last.seq if last else 0,
                            "entry_hash": last.entry_hash if last else GENESIS_HASH})
        head = ChainHead.objects.select_for_update().get(pk=1)
    return head


def append(entry: AuditEntry, insert: Callable[[], None]) -> None:
    """Fill the entry's context and insert it unsealed; it is sealed after commit."""
    context.apply(entry)
    classify(entry)
    entry.seq = None
    entry.prev_hash = ""
    entry.entry_hash = ""
    entry.payload_digest = payload_digest(entry)
    insert()
    if settings.AUDIT_SEAL_AT_WRITE:
        seal()
    elif connection.vendor == "postgresql":
        sequencer.notify()
    else:
        transaction.on_commit(_seal_after_commit, robust=True)


SEAL_BATCH = 5000


def _seal_after_commit() -> None:
    seal(wait=False)


def pending() -> bool:
    """Whether a committed entry waits to be sealed (the partial index audit_unsealed)."""
    return AuditEntry.objects.filter(seq__isnull=True).exists()


def seal(*, wait: bool = True, drain: bool = True) -> int:
    """Seal every unsealed entry this connection can see, in id order, after the
    current head. Returns how many this call sealed.

    `wait=False` never queues behind another sealer: if one holds the head, this
    returns at once, and that sealer, after its commit, looks again for entries
    committed meanwhile (a writer committed before it tried the lock, so that look
    sees its entry) and seals them too.

    `drain=False` (the sequencer's round) seals what is there now and stops: it
    does not look again for entries committed during the round, which its next
    round, one interval later, seals. While writers commit without pause, looking
    again would find a few new entries every time and turn the periodic round into
    a busy loop of tiny batches, each paying a round's fixed cost (~6 queries)."""
    sealed = 0
    while True:
        with transaction.atomic():
            head = _locked_head(skip_locked=not wait)
            if head is None:
                return sealed  # another sealer is at work and will look again
            batch = _seal_batch(head)
        sealed += batch
        if batch < SEAL_BATCH and (not drain or not pending()):
            return sealed


def _seal_batch(head: ChainHead) -> int:
    entries = list(AuditEntry.objects.filter(seq__isnull=True).order_by("id")
                   .only(*HASHED_FIELDS)[:SEAL_BATCH])
    if not entries:
        return 0
    seq, prev = head.seq, head.entry_hash
    rows = []
    for entry in entries:
        seq += 1
        entry.seq, entry.prev_hash = seq, prev
        entry.entry_hash = prev = entry_hash(entry)
        rows.append((entry.pk, entry.seq, entry.prev_hash, entry.entry_hash))
    _write_seals(rows)
    ChainHead.objects.filter(pk=1).update(seq=seq, entry_hash=prev)
    return len(entries)


def _write_seals(rows: list[tuple]) -> None:
    """One UPDATE for the batch; only rows still unsealed (the head lock makes that
    all of them)."""
    table = AuditEntry._meta.db_table
    values = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
    params = [value for row in rows for value in row]
    cast = "::bigint" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} AS a SET seq = v.seq{cast}, prev_hash = v.prev_hash, "
                f"entry_hash = v.entry_hash FROM (VALUES {values}) "
                f"AS v(id, seq, prev_hash, entry_hash) "
                f"WHERE a.id = v.id{cast} AND a.seq IS NULL", params)
        else:
            for pk, seq, prev, digest in rows:
                cursor.execute(f"UPDATE {table} SET seq = %s, prev_hash = %s, entry_hash = %s "
                               f"WHERE id = %s AND seq IS NULL", [seq, prev, digest, pk])


@dataclass(frozen=True)
class Unsealed:
    count: int
    oldest_seconds: float

    @property
    def alert(self) -> bool:
        return self.oldest_seconds > settings.AUDIT_UNSEALED_ALERT_SECONDS


def unsealed_status() -> Unsealed:
    """How many committed entries wait to be sealed, and for how long the oldest has."""
    from django.db.models import Count, Min

    row = AuditEntry.objects.filter(seq__isnull=True).aggregate(n=Count("id"),
                                                                 oldest=Min("timestamp"))
    if not row["n"]:
        return Unsealed(0, 0.0)
    age = (timezone.now() - row["oldest"]).total_seconds()
    return Unsealed(row["n"], max(age, 0.0))


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
    return (AuditEntry.objects.filter(seq__isnull=False).order_by("seq", "id")
            .iterator(chunk_size=2000))


def verify() -> Report:
    """Seal what is pending, then walk the chain from the start; stop at the first
    entry that does not fit."""
    seal()
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
