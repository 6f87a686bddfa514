import datetime
import logging
import secrets
from decimal import Decimal

from auditlog.context import disable_auditlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from core import metrics
from core.exceptions import Conflict, DomainError
from core.formatting import money, with_article
from core.request_context import acting_for_actor
from customers.selectors import customers_visible_to
from policies import signals
from policies.models import Policy, PolicyStatus, PolicyType, status_for_dates

logger = logging.getLogger("insurance.policies")

_NUMBER_ATTEMPTS = 8


class PolicyInvalid(DomainError):
    pass


def policy_number_new() -> str:
    return f"POL-{secrets.token_hex(4).upper()}"


def minimum_premium(policy_type: str) -> Decimal:
    return Decimal(settings.MIN_PREMIUM[policy_type])


def _validate(*, policy_type, premium_amount, coverage_amount, start_date, end_date):
    if policy_type not in PolicyType.values:
        raise PolicyInvalid(f"Unknown policy type; use one of {', '.join(PolicyType.values)}.",
                            field="policy_type")
    if premium_amount <= 0:
        raise PolicyInvalid("The premium must be greater than zero.", field="premium_amount")
    if coverage_amount <= 0:
        raise PolicyInvalid("The coverage must be greater than zero.", field="coverage_amount")
    floor = minimum_premium(policy_type)
    if premium_amount < floor:
        raise PolicyInvalid(
            f"The premium for {with_article(policy_type)} policy must be at least {money(floor)}.",
            field="premium_amount",
        )
    if end_date <= start_date:
        raise PolicyInvalid("The end date must be after the start date.", field="end_date")


@acting_for_actor
@transaction.atomic
def policy_create(
    *,
    actor: User,
    customer_id,
    policy_type: str,
    premium_amount: Decimal,
    coverage_amount: Decimal,
    start_date: datetime.date,
    end_date: datetime.date,
) -> Policy:
    customer = customers_visible_to(actor).filter(pk=customer_id).first()
    if customer is None:
        raise PolicyInvalid("Unknown customer.", field="customer_id")
    if customer.is_erased:
        raise PolicyInvalid("This customer's data has been erased; no new policy can be written.",
                            field="customer_id")
    _validate(policy_type=policy_type, premium_amount=premium_amount,
              coverage_amount=coverage_amount, start_date=start_date, end_date=end_date)
    policy = Policy(
        customer=customer,
        agency_id=customer.broker_id,
        policy_type=policy_type,
        premium_amount=premium_amount,
        coverage_amount=coverage_amount,
        start_date=start_date,
        end_date=end_date,
        status=status_for_dates(start_date, end_date, timezone.localdate()),
    )
    for attempt in range(_NUMBER_ATTEMPTS):
        policy.policy_number = policy_number_new()
        try:
            with transaction.atomic():
                policy.save(force_insert=True)
            break
        except IntegrityError:
            clash = Policy.objects.filter(policy_number=policy.policy_number).exists()
            if attempt == _NUMBER_ATTEMPTS - 1 or not clash:
                raise
    transaction.on_commit(lambda: _policy_created_metrics(policy))
    return policy


def _policy_created_metrics(policy: Policy) -> None:
    metrics.policies_created.labels(policy_type=policy.policy_type).inc()
    metrics.premium_amount.observe(float(policy.premium_amount))
    logger.info("policy.created", extra={"event": "policy.created", "policy_id": str(policy.pk),
                                         "policy_type": policy.policy_type})


@acting_for_actor
@transaction.atomic
def policy_cancel(*, actor: User, policy: Policy, reason: str) -> Policy:
    policy = Policy.objects.select_for_update().get(pk=policy.pk)
    if policy.status == PolicyStatus.CANCELLED:
        raise Conflict("The policy is already cancelled.", extra={"status": policy.status})
    if policy.status == PolicyStatus.EXPIRED:
        raise Conflict("An expired policy cannot be cancelled.", extra={"status": policy.status})
    reason = (reason or "").strip()
    if not reason:
        raise PolicyInvalid("A cancellation reason is required.", field="reason")
    policy.status = PolicyStatus.CANCELLED
    policy.cancelled_at = timezone.now()
    policy.cancellation_reason = reason
    policy.save(update_fields=["status", "cancelled_at", "cancellation_reason", "updated_at"])
    signals.policy_cancelled.send(sender=Policy, policy=policy)
    logger.info("policy.cancelled", extra={"event": "policy.cancelled",
                                           "policy_id": str(policy.pk)})
    return policy


def policies_refresh_status(*, today: datetime.date | None = None) -> dict[str, int]:
    """Move pending policies that have started to active and lapsed ones to expired.

    Each row is saved on its own (not QuerySet.update) so the audit trail sees it.
    """
    today = today or timezone.localdate()
    counts = {"activated": 0, "expired": 0}
    live = Policy.objects.filter(status__in=[PolicyStatus.PENDING, PolicyStatus.ACTIVE])
    due = live.filter(end_date__lt=today) | live.filter(
        status=PolicyStatus.PENDING, start_date__lte=today)
    for pk in due.values_list("pk", flat=True).iterator(chunk_size=500):
        with transaction.atomic():
            policy = Policy.objects.select_for_update().get(pk=pk)
            if policy.status not in (PolicyStatus.PENDING, PolicyStatus.ACTIVE):
                continue
            new = status_for_dates(policy.start_date, policy.end_date, today)
            if new == policy.status:
                continue
            policy.status = new
            policy.save(update_fields=["status", "updated_at"])
            counts["activated" if new == PolicyStatus.ACTIVE else "expired"] += 1
    return counts


@transaction.atomic
def policies_anonymize(*, policies, redactor) -> int:
    """Scrub one person's data (a `core.redact.Redactor`) from the free text of
    these policies (erasure): the cancellation reason. Written without a change
    record, which would carry the text being erased. Returns how many changed."""
    changed = 0
    for pk, reason in (policies.select_for_update(of=("self",))
                       .values_list("pk", "cancellation_reason")):
        scrubbed = redactor.text(reason)
        if scrubbed != reason:
            with disable_auditlog():  # the erasure's own entry accounts for it
                Policy.objects.filter(pk=pk).update(cancellation_reason=scrubbed)
            changed += 1
    return changed
