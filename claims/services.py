import datetime
import logging
import secrets
from decimal import Decimal

from auditlog.context import disable_auditlog
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from claims import events, signals
from claims.models import (
    DECISIONS,
    TRANSITIONS,
    Claim,
    ClaimStatus,
    ClaimStatusChange,
    ClaimType,
    allowed_next,
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
        if allowed:
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
def claim_transition(*, claim_id, to: str, actor: User) -> Claim:
    """Move a claim along TRANSITIONS. Concurrent calls serialize on the row lock:
    exactly one wins, the others see the new status and get a 409."""
    if to not in ClaimStatus.values:
        raise ClaimInvalid(f"Unknown status; use one of {', '.join(ClaimStatus.values)}.",
                           field="status")
    claim = claims_visible_to(actor).select_for_update(of=("self",)).get(pk=claim_id)
    if to in DECISIONS and not user_may_decide(actor):
        raise Forbidden("Only staff may approve or deny a claim.")
    previous = claim.status
    if to not in TRANSITIONS[previous]:
        raise TransitionNotAllowed(current=previous, requested=to)
    now = timezone.now()
    claim.status = to
    if to in DECISIONS:
        claim.processed_date = now
    claim.save(update_fields=["status", "processed_date", "updated_at"])
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
