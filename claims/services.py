import datetime
import hashlib
import logging
import re
import secrets
from decimal import Decimal

from auditlog.context import disable_auditlog
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role, User
from claims import events, signals
from claims.models import (
    BY_PAYMENT_ONLY,
    DECISIONS,
    TRANSITIONS,
    ZERO,
    ApprovalKind,
    ApprovalStatus,
    Claim,
    ClaimApproval,
    ClaimNote,
    ClaimPayment,
    ClaimStatus,
    ClaimStatusChange,
    ClaimType,
    IdempotencyKey,
    NoteVisibility,
    ReserveChange,
    allowed_next,
    sla_due,
)
from claims.selectors import claims_visible_to
from core import metrics
from core.exceptions import Conflict, DomainError, Forbidden
from core.formatting import day, money, with_article
from core.request_context import acting_for_actor
from policies.models import PolicyStatus
from policies.selectors import policies_visible_to

logger = logging.getLogger("insurance.claims")

_NUMBER_ATTEMPTS = 8


class ClaimInvalid(DomainError):
    pass


class TransitionNotAllowed(Conflict):
    def __init__(self, *, current: str, requested: str):
        allowed = allowed_next(current)
        if requested in BY_PAYMENT_ONLY:
            text = (f"A claim is closed only by a final payment; {with_article(current)} "
                    f"claim's allowed next: {', '.join(allowed) or 'none'}.")
        elif current == ClaimStatus.APPROVED:
            text = (f"An approved claim cannot become {requested}; "
                    f"it is closed by a final payment.")
        elif allowed:
            text = (f"{with_article(current, capital=True)} claim cannot become {requested}; "
                    f"allowed next: {', '.join(allowed)}.")
        else:
            text = (f"{with_article(current, capital=True)} claim is final and cannot "
                    f"become {requested}.")
        super().__init__(text, extra={"status": current, "allowed": allowed})


def claim_number_new() -> str:
    return f"CLM-{timezone.localdate():%Y%m}-{secrets.token_hex(3).upper()}"


def user_may_decide(user: User) -> bool:
    """Approving or denying is for staff (and integrators granted the permission)."""
    return user.is_staff_role or (user.is_integrator and user.has_perm("claims.decide_claim"))


@acting_for_actor
@transaction.atomic
def claim_create(
    *,
    actor: User,
    policy_id,
    claim_type: str,
    claim_amount: Decimal,
    incident_date: datetime.date,
    description: str = "",
) -> Claim:
    policy = policies_visible_to(actor).filter(pk=policy_id).first()
    if policy is None:
        raise ClaimInvalid("Unknown policy.", field="policy_id")
    if claim_type not in ClaimType.values:
        raise ClaimInvalid(f"Unknown claim type; use one of {', '.join(ClaimType.values)}.",
                           field="claim_type")
    today = timezone.localdate()
    if incident_date > today:
        raise ClaimInvalid("The incident date cannot be in the future.", field="incident_date")
    if not (policy.start_date <= incident_date <= policy.end_date):
        raise ClaimInvalid(
            f"The incident date must fall within the policy period "
            f"({day(policy.start_date)} to {day(policy.end_date)}).",
            field="incident_date",
        )
    if policy.status == PolicyStatus.CANCELLED and incident_date >= (
        # cover ends at the start of the cancellation's effective date
        policy.cancellation_effective_date or timezone.localdate(policy.cancelled_at)
    ):
        raise ClaimInvalid(f"The incident happened after the policy was cancelled "
                           f"on {day(policy.cancelled_at)}.", field="incident_date")
    if claim_amount <= 0:
        raise ClaimInvalid("The claim amount must be greater than zero.", field="claim_amount")
    if claim_amount > policy.coverage_amount:
        raise ClaimInvalid(
            f"The claim amount exceeds the policy's coverage of {money(policy.coverage_amount)}.",
            field="claim_amount",
        )
    claim = Claim(
        policy=policy,
        agency_id=policy.agency_id,
        claim_type=claim_type,
        claim_amount=claim_amount,
        description=(description or "").strip(),
        incident_date=incident_date,
        status=ClaimStatus.PENDING,
        reported_date=today,
        reported_by=actor,
    )
    for attempt in range(_NUMBER_ATTEMPTS):
        claim.claim_number = claim_number_new()
        try:
            with transaction.atomic():
                claim.save(force_insert=True)
            break
        except IntegrityError:
            clash = Claim.objects.filter(claim_number=claim.claim_number).exists()
            if attempt == _NUMBER_ATTEMPTS - 1 or not clash:
                raise
    signals.claim_created.send(sender=Claim, claim=claim)
    amount = float(claim.claim_amount)
    transaction.on_commit(lambda: metrics.claim_amount.observe(amount))
    logger.info("claim.created", extra={"event": "claim.created", "claim_id": str(claim.pk)})
    return claim


@acting_for_actor
@transaction.atomic
def claim_transition(*, claim_id, to: str, actor: User) -> Claim | ClaimApproval:
    """Move a claim along TRANSITIONS. Concurrent calls serialize on the row lock:
    exactly one wins, the others see the new status and get a 409. Approving a claim
    above the actor's authority limit does not happen: a pending approval is
    returned instead (a second person decides, see approval_decide)."""
    if to not in ClaimStatus.values:
        raise ClaimInvalid(f"Unknown status; use one of {', '.join(ClaimStatus.values)}.",
                           field="status")
    claim = _locked(claim_id=claim_id, actor=actor)
    if to in DECISIONS and not user_may_decide(actor):
        raise Forbidden("Only staff may approve or deny a claim.")
    previous = claim.status
    if to in BY_PAYMENT_ONLY or to not in TRANSITIONS[previous]:
        raise TransitionNotAllowed(current=previous, requested=to)
    if to == ClaimStatus.APPROVED and claim.claim_amount > actor.authority_limit:
        return _approval_request(claim=claim, actor=actor, kind=ApprovalKind.CLAIM_APPROVAL,
                                 amount=claim.claim_amount)
    return _apply_transition(claim=claim, to=to, actor=actor)


def _apply_transition(*, claim: Claim, to: str, actor: User | None) -> Claim:
    """Change the (locked) claim's status, record the history row, publish after commit."""
    now = timezone.now()
    previous = claim.status
    claim.status = to
    if to in DECISIONS:
        claim.processed_date = now
    claim.status_since = now
    claim.sla_due_at = sla_due(to, now)
    fields = ["status", "processed_date", "status_since", "sla_due_at", "updated_at"]
    if to == ClaimStatus.DENIED and claim.reserve > 0:
        # Nothing will be paid on a denied claim: its reserve is released.
        _reserve_record(claim=claim, amount=ZERO, reason="Claim denied", actor=actor)
        fields.append("reserve")
    claim.save(update_fields=fields)
    ClaimStatusChange.objects.create(
        claim=claim, from_status=previous, to_status=to, actor=actor, changed_at=now
    )
    signals.claim_status_changed.send(sender=Claim, claim=claim, previous_status=previous)
    payload = events.claim_status_payload(claim=claim, previous_status=previous)
    transaction.on_commit(lambda: _after_transition(payload))
    return claim


def _after_transition(payload: dict) -> None:
    metrics.claims_processed.labels(status=payload["status"]).inc()
    logger.info("claim.status_changed", extra={
        "event": "claim.status_changed", "claim_id": payload["claim_id"],
        "status": payload["status"], "previous_status": payload["previous_status"]})
    events.claim_status_publish(payload)


@transaction.atomic
def claims_anonymize(*, claims, redactor) -> int:
    """Scrub one person's data (a `core.redact.Redactor`) from the free text of
    these claims (erasure). Amounts, dates and statuses stay. Written without a
    change record: the record would carry the text being erased. Returns how many
    claims changed."""
    changed = 0
    for pk, description in (claims.select_for_update(of=("self",))
                            .values_list("pk", "description")):
        scrubbed = redactor.text(description)
        if scrubbed != description:
            with disable_auditlog():  # the erasure's own entry accounts for it
                Claim.objects.filter(pk=pk).update(description=scrubbed)
            changed += 1
    return changed


# --- Claims handling: assignment, notes, reserves, payments, authority -------------

MAX_NOTE_LENGTH = 10_000
_KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")


def _locked(*, claim_id, actor: User) -> Claim:
    """The claim, visible to the actor, locked FOR UPDATE until the transaction ends:
    every rule that reads its money or status runs under this lock."""
    return (claims_visible_to(actor).select_related("policy__customer")
            .select_for_update(of=("self",)).get(pk=claim_id))


def _agency_id(claim: Claim):
    return claim.policy.customer.broker_id


def _require_staff(actor: User, what: str) -> None:
    if not (actor and actor.is_active and actor.role == Role.STAFF):
        raise Forbidden(f"Only staff may {what}.")


def _money(value, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except Exception as exc:  # noqa: BLE001 - any unparsable input is the caller's 400
        raise ClaimInvalid("Send a decimal amount, e.g. 1250.00.", field=field) from exc
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise ClaimInvalid("Send an amount with at most 2 decimal places.", field=field)
    return amount.quantize(Decimal("0.01"))


def user_sees_internal_notes(user: User) -> bool:
    return bool(user and user.is_authenticated and user.is_active and (
        user.is_staff_role or (user.is_integrator and user.has_perm("claims.view_claimnote"))))


@acting_for_actor
@transaction.atomic
def claim_assign(*, claim_id, assignee_id, actor: User) -> Claim:
    """Give a claim to a staff user (or to nobody with None). Staff only."""
    _require_staff(actor, "assign claims")
    assignee = None
    if assignee_id is not None:
        assignee = User.objects.filter(pk=assignee_id, role=Role.STAFF, is_active=True).first()
        if assignee is None:
            raise ClaimInvalid("The assignee must be an active staff user.", field="assignee_id")
    claim = _locked(claim_id=claim_id, actor=actor)
    if claim.assignee_id != (assignee.pk if assignee else None):
        claim.assignee = assignee
        claim.save(update_fields=["assignee", "updated_at"])
    return claim


@acting_for_actor
@transaction.atomic
def note_create(*, claim_id, actor: User, text: str, visibility: str) -> ClaimNote:
    """A note on a claim: `internal` (staff only) or `shared` with the broker."""
    if visibility not in NoteVisibility.values:
        raise ClaimInvalid(f"Use one of {', '.join(NoteVisibility.values)}.", field="visibility")
    if visibility == NoteVisibility.INTERNAL and not user_sees_internal_notes(actor):
        raise Forbidden("Brokers write shared notes only.")
    text = (text or "").strip()
    if not text:
        raise ClaimInvalid("A note needs some text.", field="text")
    if len(text) > MAX_NOTE_LENGTH:
        raise ClaimInvalid(f"A note is at most {MAX_NOTE_LENGTH} characters.", field="text")
    claim = (claims_visible_to(actor).select_related("policy__customer").get(pk=claim_id))
    note = ClaimNote.objects.create(claim=claim, agency_id=_agency_id(claim), author=actor,
                                    visibility=visibility, text=text)
    payload = events.claim_note_payload(note=note)
    transaction.on_commit(lambda: events.claim_note_publish(payload))
    return note


def _reserve_record(*, claim: Claim, amount: Decimal, reason: str,
                    actor: User | None) -> ReserveChange:
    change = ReserveChange.objects.create(
        claim=claim, agency_id=_agency_id(claim), amount=amount, previous=claim.reserve,
        reason=reason, actor=actor)
    claim.reserve = amount
    return change


def _publish_financials(claim: Claim) -> None:
    payload = events.claim_financials_payload(claim=claim)
    transaction.on_commit(lambda: events.claim_financials_publish(payload))


@acting_for_actor
@transaction.atomic
def reserve_set(*, claim_id, actor: User, amount, reason: str) -> ReserveChange:
    """Set the claim's outstanding reserve to `amount` (the new reserve, not a delta):
    at least zero, and with what is already paid within the policy's coverage."""
    _require_staff(actor, "set reserves")
    amount = _money(amount, "amount")
    reason = (reason or "").strip()
    if not reason:
        raise ClaimInvalid("Say why the reserve changes.", field="reason")
    if len(reason) > 500:
        raise ClaimInvalid("A reason is at most 500 characters.", field="reason")
    claim = _locked(claim_id=claim_id, actor=actor)
    if claim.status in (ClaimStatus.DENIED, ClaimStatus.CLOSED):
        raise Conflict(f"A {claim.status} claim's reserve cannot change.",
                       extra={"status": claim.status})
    if amount < 0:
        raise ClaimInvalid("The reserve cannot be negative.", field="amount")
    coverage = claim.policy.coverage_amount
    if amount + claim.paid > coverage:
        raise ClaimInvalid(
            f"Reserve plus paid ({amount + claim.paid:.2f}) would exceed the policy's "
            f"coverage of {coverage:.2f}.", field="amount")
    change = _reserve_record(claim=claim, amount=amount, reason=reason, actor=actor)
    claim.save(update_fields=["reserve", "updated_at"])
    _publish_financials(claim)
    return change


def _payment_check(*, claim: Claim, amount: Decimal) -> None:
    if claim.status != ClaimStatus.APPROVED:
        raise Conflict(f"Payments are made on approved claims only; this one is {claim.status}.",
                       extra={"status": claim.status})
    if claim.paid + amount > claim.claim_amount:
        raise ClaimInvalid(
            f"Paid plus this payment ({claim.paid + amount:.2f}) would exceed the claim "
            f"amount of {claim.claim_amount:.2f}.", field="amount")


def _payment_apply(*, claim: Claim, amount: Decimal, payee: str, final: bool, actor: User,
                   approved_by: User | None = None) -> ClaimPayment:
    payment = ClaimPayment.objects.create(
        claim=claim, agency_id=_agency_id(claim), amount=amount, payee=payee, final=final,
        actor=actor, approved_by=approved_by)
    claim.paid += amount
    claim.reserve = ZERO if final else max(ZERO, claim.reserve - amount)
    if final:
        claim.save(update_fields=["paid", "reserve", "updated_at"])
        _apply_transition(claim=claim, to=ClaimStatus.CLOSED, actor=approved_by or actor)
    else:
        claim.save(update_fields=["paid", "reserve", "updated_at"])
    signals.claim_payment_made.send(sender=Claim, claim=claim,
                                    data=events.payment_data(payment))
    _publish_financials(claim)
    logger.info("claim.payment_made", extra={"event": "claim.payment_made",
                                             "claim_id": str(claim.pk), "final": final})
    return payment


@acting_for_actor
@transaction.atomic
def payment_make(*, claim_id, actor: User, amount, payee: str,
                 final: bool = False) -> ClaimPayment | ClaimApproval:
    """Pay on an approved claim. The sums are read and written under the claim's row
    lock, so concurrent payments can never pay more than the claim amount. Above the
    actor's authority limit a pending approval is returned instead."""
    _require_staff(actor, "make payments")
    amount = _money(amount, "amount")
    payee = (payee or "").strip()
    if amount <= 0:
        raise ClaimInvalid("A payment must be greater than zero.", field="amount")
    if not payee:
        raise ClaimInvalid("Name the payee.", field="payee")
    if len(payee) > 200:
        raise ClaimInvalid("A payee is at most 200 characters.", field="payee")
    claim = _locked(claim_id=claim_id, actor=actor)
    _payment_check(claim=claim, amount=amount)
    if amount > actor.authority_limit:
        return _approval_request(claim=claim, actor=actor, kind=ApprovalKind.PAYMENT,
                                 amount=amount, payee=payee, final=bool(final))
    return _payment_apply(claim=claim, amount=amount, payee=payee, final=bool(final),
                          actor=actor)


def idempotency_key_check(key: str | None) -> str:
    if key is None or key == "":
        raise ClaimInvalid("This request needs an Idempotency-Key header.",
                           field="Idempotency-Key")
    if not _KEY_RE.match(key):
        raise ClaimInvalid("An Idempotency-Key is 1 to 255 visible ASCII characters.",
                           field="Idempotency-Key")
    return key


@transaction.atomic
def idempotent(*, actor: User, key: str, fingerprint: str, claim_id,
               perform) -> tuple[int, dict, bool]:
    """Run `perform()` (which returns (status, body)) once per (user, key).

    The claim's row is locked first, so a concurrent duplicate waits and then finds
    the stored key: it gets the first response. The key row is stored in the same
    transaction as the payment. Returns (status, body, replayed)."""
    key = idempotency_key_check(key)
    fingerprint = hashlib.sha256(fingerprint.encode()).hexdigest()  # any length in
    _locked(claim_id=claim_id, actor=actor)
    stored = IdempotencyKey.objects.filter(user=actor, key=key).first()
    if stored is not None:
        if stored.fingerprint != fingerprint:
            raise Conflict("This Idempotency-Key was already used for a different request.")
        return stored.response_status, stored.response_body, True
    status, body = perform()
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(user=actor, key=key, fingerprint=fingerprint,
                                          response_status=status, response_body=body)
    except IntegrityError as exc:  # the same key, in flight for another request
        raise Conflict("A request with this Idempotency-Key is already being processed.") \
            from exc
    return status, body, False


def _approval_request(*, claim: Claim, actor: User, kind: str, amount: Decimal,
                      payee: str = "", final: bool = False) -> ClaimApproval:
    if kind == ApprovalKind.CLAIM_APPROVAL:
        pending = claim.approvals.filter(kind=kind, status=ApprovalStatus.PENDING).first()
        if pending is not None:
            return pending  # asked twice: still the one request
    return ClaimApproval.objects.create(
        claim=claim, agency_id=_agency_id(claim), kind=kind, amount=amount, payee=payee,
        final=final, requested_by=actor)


class ApprovalDecided(Conflict):
    pass


@acting_for_actor
@transaction.atomic
def approval_decide(*, approval_id, actor: User, approve: bool) -> ClaimApproval:
    """Four eyes: a different staff user whose limit covers the amount approves (the
    action takes effect now, under the claim's lock, with its rules checked again)
    or rejects it."""
    _require_staff(actor, "decide approvals")
    claim_id = ClaimApproval.objects.values_list("claim_id", flat=True).get(pk=approval_id)
    claim = _locked(claim_id=claim_id, actor=actor)
    approval = ClaimApproval.objects.select_for_update().select_related(
        "requested_by").get(pk=approval_id)
    if approval.status != ApprovalStatus.PENDING:
        raise ApprovalDecided(f"This approval was already {approval.status}.",
                              extra={"status": approval.status})
    if approval.requested_by_id == actor.pk:
        raise Forbidden("A second person must decide: you asked for this approval.")
    if approval.amount > actor.authority_limit:
        raise Forbidden(f"Your authority limit ({actor.authority_limit:.2f}) does not cover "
                        f"{approval.amount:.2f}.")
    if approve:
        if approval.kind == ApprovalKind.CLAIM_APPROVAL:
            if ClaimStatus.APPROVED not in TRANSITIONS[claim.status]:
                raise TransitionNotAllowed(current=claim.status, requested=ClaimStatus.APPROVED)
            _apply_transition(claim=claim, to=ClaimStatus.APPROVED, actor=actor)
        else:
            _payment_check(claim=claim, amount=approval.amount)
            approval.payment = _payment_apply(
                claim=claim, amount=approval.amount, payee=approval.payee,
                final=approval.final, actor=approval.requested_by, approved_by=actor)
    approval.status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    approval.decided_by = actor
    approval.decided_at = timezone.now()
    approval.save(update_fields=["status", "decided_by", "decided_at", "payment"])
    return approval


# --- Erasure support (called by compliance) ---------------------------------------

def claim_texts_anonymize(*, redactor, claims=None, notes=None) -> int:
    """Scrub one person's data (a `core.redact.Redactor`) from claims handling's free
    text: the notes, and the payees of payments and approvals, of `claims`; and the
    `notes` given (other claims' notes that mention the person). Runs inside the
    erasure's transaction; the note text and payees are not in the audit trail, so
    each row is saved without a change record. Returns how many rows changed."""
    changed = 0
    note_rows = ClaimNote.objects.none()
    if claims is not None:
        note_rows = ClaimNote.objects.filter(claim__in=claims)
    if notes is not None:
        note_rows = note_rows | notes
    for note in note_rows.select_for_update():
        text = redactor.text(note.text)
        if text != note.text:
            note.text = text
            note.save(update_fields=["text"])
            changed += 1
    if claims is None:
        return changed
    for model in (ClaimPayment, ClaimApproval):
        for row in model.objects.filter(claim__in=claims).select_for_update():
            payee = redactor.text(row.payee)
            if payee != row.payee:
                row.payee = payee
                row.save(update_fields=["payee"])
                changed += 1
    return changed
