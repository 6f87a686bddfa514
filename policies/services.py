import datetime
import logging
import secrets
from dataclasses import dataclass
from decimal import Decimal

from auditlog.context import disable_auditlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role, User
from core import metrics
from core.exceptions import Conflict, DomainError, Forbidden
from core.formatting import money, with_article
from core.request_context import acting_for_actor
from customers.selectors import customers_visible_to
from policies import rating, signals
from policies.models import (
    Endorsement,
    Policy,
    PolicyStatus,
    PolicyTerms,
    PolicyType,
    Quote,
    QuoteStatus,
    RatingPlan,
    status_for_dates,
)
from policies.plan_rules import NEEDS_AGE
from policies.risk import RiskInvalid, clean_risk  # noqa: F401 (re-exported)

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
def policy_cancel(*, actor: User, policy: Policy, reason: str,
                  effective_date: datetime.date | None = None,
                  today: datetime.date | None = None) -> Policy:
    """Cancel a live policy from `effective_date` (default today, or the start for a
    policy not started yet), which must lie between the start and today. The
    unearned premium (`end − C + 1` days, pro-rated) is refunded, nothing when the
    policy has an approved or closed claim."""
    today = today or timezone.localdate()
    policy = Policy.objects.select_for_update().get(pk=policy.pk)
    if policy.status == PolicyStatus.CANCELLED:
        raise Conflict("The policy is already cancelled.", extra={"status": policy.status})
    if policy.status == PolicyStatus.EXPIRED:
        raise Conflict("An expired policy cannot be cancelled.", extra={"status": policy.status})
    reason = (reason or "").strip()
    if not reason:
        raise PolicyInvalid("A cancellation reason is required.", field="reason")
    latest = max(today, policy.start_date)
    effective_date = effective_date or latest
    if effective_date < policy.start_date:
        raise PolicyInvalid("The cancellation cannot take effect before the policy starts.",
                            field="effective_date")
    if effective_date > latest:
        raise PolicyInvalid("The cancellation cannot take effect after today.",
                            field="effective_date")
    if effective_date > policy.end_date:
        raise PolicyInvalid("The cancellation cannot take effect after the policy ends.",
                            field="effective_date")
    refund = (Decimal("0.00") if policy_has_paid_claim(policy)
              else unearned_premium(policy, effective_date))
    policy.status = PolicyStatus.CANCELLED
    policy.cancelled_at = timezone.now()
    policy.cancellation_reason = reason
    policy.cancellation_effective_date = effective_date
    policy.refund_amount = refund
    policy.save(update_fields=["status", "cancelled_at", "cancellation_reason",
                               "cancellation_effective_date", "refund_amount", "updated_at"])
    signals.policy_cancelled.send(sender=Policy, policy=policy)
    logger.info("policy.cancelled", extra={"event": "policy.cancelled",
                                           "policy_id": str(policy.pk)})
    return policy


@acting_for_actor
@transaction.atomic
def policy_reinstate(*, actor: User, policy: Policy, reason: str,
                     today: datetime.date | None = None) -> Policy:
    """Staff put a cancelled policy back in force within 30 days of the
    cancellation's effective date; its status follows the dates again."""
    if not (actor is not None and getattr(actor, "is_staff_role", False)):
        raise Forbidden("Only staff may reinstate a policy.")
    today = today or timezone.localdate()
    policy = Policy.objects.select_for_update().get(pk=policy.pk)
    if policy.status != PolicyStatus.CANCELLED:
        raise Conflict("Only a cancelled policy can be reinstated.",
                       extra={"status": policy.status})
    effective = policy.cancellation_effective_date or timezone.localdate(policy.cancelled_at)
    if today > effective + datetime.timedelta(days=REINSTATEMENT_DAYS):
        raise Conflict(f"A policy can be reinstated only within {REINSTATEMENT_DAYS} days of "
                       f"the cancellation taking effect ({effective.isoformat()}).",
                       extra={"status": policy.status})
    reason = (reason or "").strip()
    if not reason:
        raise PolicyInvalid("A reinstatement reason is required.", field="reason")
    policy.status = status_for_dates(policy.start_date, policy.end_date, today)
    policy.cancelled_at = None
    policy.cancellation_effective_date = None
    policy.refund_amount = None
    policy.reinstated_at = timezone.now()
    policy.reinstatement_reason = reason
    policy.save(update_fields=["status", "cancelled_at", "cancellation_effective_date",
                               "refund_amount", "reinstated_at", "reinstatement_reason",
                               "updated_at"])
    logger.info("policy.reinstated", extra={"event": "policy.reinstated",
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


# --- Underwriting: rating, quotes, binding, endorsements, renewals -----------------

QUOTE_VALID_DAYS = 30
REINSTATEMENT_DAYS = 30
REFUND_BLOCKING_CLAIM_STATUSES = ("approved", "closed")


def quote_number_new() -> str:
    return f"QUO-{secrets.token_hex(4).upper()}"


def _save_numbered(obj, *, field: str, make) -> None:
    """Insert `obj` with a fresh random number in `field`, retrying on a clash."""
    model = type(obj)
    for attempt in range(_NUMBER_ATTEMPTS):
        setattr(obj, field, make())
        try:
            with transaction.atomic():
                obj.save(force_insert=True)
            return
        except IntegrityError:
            clash = model.objects.filter(**{field: getattr(obj, field)}).exists()
            if attempt == _NUMBER_ATTEMPTS - 1 or not clash:
                raise


@acting_for_actor
@transaction.atomic
def rating_plan_new_version(*, actor: User, plan: RatingPlan,
                            effective_from: datetime.date | None = None) -> RatingPlan:
    """A copy of `plan` as the product's next version, for staff to edit before
    it takes effect (from tomorrow unless told otherwise)."""
    if not (actor is not None and getattr(actor, "is_staff_role", False)):
        raise Forbidden("Only staff may change rating plans.")
    latest = (RatingPlan.objects.select_for_update().filter(policy_type=plan.policy_type)
              .order_by("-version").first())
    copy = RatingPlan(
        policy_type=plan.policy_type, version=latest.version + 1,
        effective_from=effective_from or timezone.localdate() + datetime.timedelta(days=1),
        base_rate=plan.base_rate, minimum_premium=plan.minimum_premium,
        factors=plan.factors, fees=plan.fees, taxes=plan.taxes, appetite=plan.appetite,
        notes=f"Copied from version {plan.version}.")
    copy.full_clean()
    copy.save(force_insert=True)
    return copy


def rating_plan_in_force(*, policy_type: str, on: datetime.date) -> RatingPlan:
    plan = (RatingPlan.objects.filter(policy_type=policy_type, effective_from__lte=on)
            .order_by("-effective_from", "-version").first())
    if plan is None:
        raise PolicyInvalid(f"No {policy_type} rating plan is in force on {on.isoformat()}.",
                            field="start_date")
    return plan


def age_on(born: datetime.date, on: datetime.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def rating_inputs(*, customer, policy_type: str, coverage_amount: Decimal,
                  start_date: datetime.date, end_date: datetime.date,
                  risk: dict) -> rating.RatingInputs:
    """The answers a product is rated on: its risk answers plus the customer's age
    on the start date for the products that need one."""
    answers = dict(risk)
    if policy_type in NEEDS_AGE:
        if customer.date_of_birth is None:
            raise PolicyInvalid(
                f"A {policy_type} quote needs the customer's date of birth; add it to the "
                f"customer first.", field="date_of_birth")
        answers["age"] = age_on(customer.date_of_birth, start_date)
    return rating.RatingInputs(coverage_amount=Decimal(coverage_amount), start_date=start_date,
                               end_date=end_date, answers=answers)


def _check_term(*, start_date: datetime.date, end_date: datetime.date) -> None:
    if end_date <= start_date:
        raise PolicyInvalid("The end date must be after the start date.", field="end_date")
    if end_date > rating.one_year_end(start_date):
        raise PolicyInvalid("A rated term is at most one year (end date "
                            f"{rating.one_year_end(start_date).isoformat()} at the latest).",
                            field="end_date")


def _check_coverage(coverage_amount) -> Decimal:
    coverage_amount = Decimal(coverage_amount)
    if coverage_amount <= 0:
        raise PolicyInvalid("The coverage must be greater than zero.", field="coverage_amount")
    return coverage_amount


@acting_for_actor
@transaction.atomic
def quote_create(*, actor: User, customer_id, policy_type: str, coverage_amount: Decimal,
                 start_date: datetime.date, end_date: datetime.date | None = None,
                 risk: dict | None = None, today: datetime.date | None = None,
                 renewal_of: Policy | None = None, plans: dict | None = None) -> Quote:
    """Rate a risk and record the quote: `open` with a premium, or `declined` with
    the appetite rules' reasons. Valid for 30 days.

    For a renewal the customer is the expiring policy's (no visibility lookup);
    `plans` may cache the plan in force per (type, start date) over a batch."""
    today = today or timezone.localdate()
    if renewal_of is not None and renewal_of.customer_id == customer_id:
        customer = renewal_of.customer
    else:
        customer = customers_visible_to(actor).filter(pk=customer_id).first()
    if customer is None:
        raise PolicyInvalid("Unknown customer.", field="customer_id")
    if customer.is_erased:
        raise PolicyInvalid("This customer's data has been erased; no new quote can be made.",
                            field="customer_id")
    if policy_type not in PolicyType.values:
        raise PolicyInvalid(f"Unknown policy type; use one of {', '.join(PolicyType.values)}.",
                            field="policy_type")
    coverage_amount = _check_coverage(coverage_amount)
    if start_date < today and renewal_of is None:
        raise PolicyInvalid("The start date must be today or later.", field="start_date")
    end_date = end_date or rating.one_year_end(start_date)
    _check_term(start_date=start_date, end_date=end_date)
    risk = clean_risk(policy_type, risk or {})
    if plans is None:
        plan = rating_plan_in_force(policy_type=policy_type, on=start_date)
    else:
        key = (policy_type, start_date)
        if key not in plans:
            plans[key] = rating_plan_in_force(policy_type=policy_type, on=start_date)
        plan = plans[key]
    result = rating.rate(plan.rules(), rating_inputs(
        customer=customer, policy_type=policy_type, coverage_amount=coverage_amount,
        start_date=start_date, end_date=end_date, risk=risk))
    valid_until = today + datetime.timedelta(days=QUOTE_VALID_DAYS)
    if renewal_of is not None:
        valid_until = max(valid_until, start_date)
    quote = Quote(
        agency_id=customer.broker_id, customer=customer, policy_type=policy_type,
        coverage_amount=coverage_amount, start_date=start_date, end_date=end_date, risk=risk,
        status=QuoteStatus.DECLINED if result.declined else QuoteStatus.OPEN,
        premium_amount=result.premium, breakdown=result.breakdown(),
        decline_reasons=list(result.decline_reasons), rating_plan=plan,
        valid_until=valid_until, renewal_of=renewal_of,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    _save_numbered(quote, field="quote_number", make=quote_number_new)
    logger.info("quote.created", extra={"event": "quote.created", "quote_id": str(quote.pk),
                                        "policy_type": policy_type, "status": quote.status})
    return quote


def quote_preview(*, actor: User, customer, policy_type: str, coverage_amount,
                  start_date: datetime.date, end_date: datetime.date | None,
                  risk: dict) -> tuple[rating.Rating, RatingPlan]:
    """Rate without recording anything (the portal's live premium)."""
    coverage_amount = _check_coverage(coverage_amount)
    end_date = end_date or rating.one_year_end(start_date)
    _check_term(start_date=start_date, end_date=end_date)
    risk = clean_risk(policy_type, risk)
    plan = rating_plan_in_force(policy_type=policy_type, on=start_date)
    return rating.rate(plan.rules(), rating_inputs(
        customer=customer, policy_type=policy_type, coverage_amount=coverage_amount,
        start_date=start_date, end_date=end_date, risk=risk)), plan


@acting_for_actor
@transaction.atomic
def quote_bind(*, actor: User, quote: Quote, today: datetime.date | None = None,
               policy_numbers=None) -> Policy:
    """Make the policy from an open quote, in one transaction. The quote row is
    locked first, so of two concurrent binds exactly one makes a policy.
    `policy_numbers` (a callable) may supply the numbers (a deterministic demo book)."""
    today = today or timezone.localdate()
    quote = Quote.objects.select_for_update().select_related("customer").get(pk=quote.pk)
    if quote.status == QuoteStatus.BOUND:
        raise Conflict("The quote is already bound.", extra={"status": quote.status})
    if quote.status == QuoteStatus.DECLINED:
        raise Conflict("A declined quote cannot be bound.", extra={"status": quote.status})
    if quote.status == QuoteStatus.EXPIRED or quote.valid_until < today:
        raise Conflict("The quote has expired; make a new quote.", extra={"status": "expired"})
    if quote.start_date < today:
        raise Conflict("The quote's start date has passed; make a new quote.",
                       extra={"status": quote.status})
    if quote.customer.is_erased:
        raise Conflict("This customer's data has been erased; no new policy can be written.")
    policy = Policy(
        customer=quote.customer, policy_type=quote.policy_type,
        premium_amount=quote.premium_amount, coverage_amount=quote.coverage_amount,
        start_date=quote.start_date, end_date=quote.end_date,
        status=status_for_dates(quote.start_date, quote.end_date, today),
        quote=quote, renewal_of_id=quote.renewal_of_id, rating_plan_id=quote.rating_plan_id,
        risk=quote.risk, version=1,
    )
    _save_numbered(policy, field="policy_number", make=policy_numbers or policy_number_new)
    PolicyTerms.objects.create(
        policy=policy, version=1, effective_from=policy.start_date,
        coverage_amount=policy.coverage_amount, end_date=policy.end_date,
        premium_amount=policy.premium_amount, risk=policy.risk, breakdown=quote.breakdown)
    quote.status = QuoteStatus.BOUND
    quote.bound_at = timezone.now()
    quote.save(update_fields=["status", "bound_at", "updated_at"])
    transaction.on_commit(lambda: _policy_created_metrics(policy))
    (signals.policy_renewed if quote.renewal_of_id else signals.policy_bound).send(
        sender=Policy, policy=policy)
    event = "policy.renewed" if quote.renewal_of_id else "policy.bound"
    logger.info(event, extra={"event": event, "policy_id": str(policy.pk),
                              "quote_id": str(quote.pk)})
    return policy


def quotes_expire(*, today: datetime.date | None = None) -> int:
    """Open quotes past their `valid_until` become `expired` (one save each, audited)."""
    today = today or timezone.localdate()
    done = 0
    due = Quote.objects.filter(status=QuoteStatus.OPEN, valid_until__lt=today)
    for pk in due.values_list("pk", flat=True).iterator(chunk_size=500):
        with transaction.atomic():
            quote = Quote.objects.select_for_update().get(pk=pk)
            if quote.status != QuoteStatus.OPEN or quote.valid_until >= today:
                continue
            quote.status = QuoteStatus.EXPIRED
            quote.save(update_fields=["status", "updated_at"])
            done += 1
    return done


# --- Terms in force, endorsements ---------------------------------------------------

@dataclass(frozen=True)
class Terms:
    version: int
    effective_from: datetime.date
    coverage_amount: Decimal
    end_date: datetime.date
    premium_amount: Decimal
    risk: dict


def _terms_of(policy: Policy, rows=None) -> list[Terms]:
    rows = list(rows if rows is not None else policy.terms.order_by("version"))
    if not rows:  # a direct policy: its row is its only terms
        return [Terms(policy.version, policy.start_date, policy.coverage_amount,
                      policy.end_date, policy.premium_amount, policy.risk or {})]
    return [Terms(t.version, t.effective_from, t.coverage_amount, t.end_date,
                  t.premium_amount, t.risk) for t in rows]


def terms_in_force(policy: Policy, on: datetime.date, rows=None) -> Terms:
    """The highest version effective on or before `on` (version 1 before the start)."""
    history = _terms_of(policy, rows)
    found = history[0]
    for terms in history:
        if terms.effective_from <= on:
            found = terms
    return found


def _require_rated(policy: Policy, doing: str) -> None:
    if policy.rating_plan_id is None:
        raise Conflict(f"This policy was entered directly, never rated: it cannot be {doing}. "
                       f"Make a new quote instead.", extra={"status": policy.status})


@dataclass(frozen=True)
class EndorsementDraft:
    policy: Policy
    effective_date: datetime.date
    coverage_amount: Decimal
    end_date: datetime.date
    risk: dict
    changes: dict
    premium_before: Decimal
    premium_after: Decimal
    premium_delta: Decimal
    breakdown: list

    def change_rows(self):
        from policies.risk import change_rows

        return change_rows(self.changes)


def endorsement_delta(*, start: datetime.date, effective: datetime.date,
                      before: Decimal, old_end: datetime.date,
                      after: Decimal, new_end: datetime.date) -> Decimal:
    """Premium for the rest of the new terms minus that for the rest of the old ones,
    each pro-rated by days (`end − effective + 1` of `end − start + 1`), rounded
    half up once. With the end date unchanged this is
    `(after − before) × (end − E + 1) / term days`."""
    exact = (Decimal(after) * rating.term_days(effective, new_end)
             / rating.term_days(start, new_end)
             - Decimal(before) * rating.term_days(effective, old_end)
             / rating.term_days(start, old_end))
    return rating.round_money(exact)


def endorsement_draft(*, policy: Policy, effective_date: datetime.date,
                      coverage_amount: Decimal | None = None,
                      end_date: datetime.date | None = None, risk: dict | None = None,
                      today: datetime.date | None = None) -> EndorsementDraft:
    """Check and price a mid-term change without recording it."""
    today = today or timezone.localdate()
    _require_rated(policy, "endorsed")
    if policy.status in (PolicyStatus.CANCELLED, PolicyStatus.EXPIRED):
        raise Conflict(f"A {policy.status} policy cannot be endorsed.",
                       extra={"status": policy.status})
    if effective_date < today:
        raise PolicyInvalid("The effective date cannot be in the past.", field="effective_date")
    if effective_date < policy.start_date:
        raise PolicyInvalid("The effective date is before the policy starts.",
                            field="effective_date")
    if effective_date > policy.end_date:
        raise PolicyInvalid("The effective date is after the policy ends.",
                            field="effective_date")
    last = policy.endorsements.order_by("-sequence").first()
    if last is not None and effective_date < last.effective_date:
        raise PolicyInvalid(
            f"The effective date is before that of the last endorsement "
            f"({last.effective_date.isoformat()}).", field="effective_date")
    new_coverage = (_check_coverage(coverage_amount) if coverage_amount is not None
                    else policy.coverage_amount)
    new_end = end_date or policy.end_date
    if end_date is not None:
        _check_term(start_date=policy.start_date, end_date=new_end)
        if new_end < effective_date:
            raise PolicyInvalid("The new end date is before the endorsement takes effect.",
                                field="end_date")
    merged = dict(policy.risk or {})
    if risk:
        merged.update(clean_risk(policy.policy_type, risk, partial=True))
    changes: dict = {}
    if new_coverage != policy.coverage_amount:
        changes["coverage_amount"] = [f"{policy.coverage_amount:.2f}", f"{new_coverage:.2f}"]
    if new_end != policy.end_date:
        changes["end_date"] = [policy.end_date.isoformat(), new_end.isoformat()]
    for key in sorted(set(merged) | set(policy.risk or {})):
        old, new = (policy.risk or {}).get(key), merged.get(key)
        if old != new:
            changes[f"risk.{key}"] = [old, new]
    if not changes:
        raise PolicyInvalid("The endorsement changes nothing: give a new coverage_amount, "
                            "end_date or risk answer.", field="non_field_errors")
    result = rating.rate(policy.rating_plan.rules(), rating_inputs(
        customer=policy.customer, policy_type=policy.policy_type, coverage_amount=new_coverage,
        start_date=policy.start_date, end_date=new_end, risk=merged))
    if result.declined:
        raise PolicyInvalid("; ".join(result.decline_reasons), field="risk")
    delta = endorsement_delta(start=policy.start_date, effective=effective_date,
                              before=policy.premium_amount, old_end=policy.end_date,
                              after=result.premium, new_end=new_end)
    return EndorsementDraft(
        policy=policy, effective_date=effective_date, coverage_amount=new_coverage,
        end_date=new_end, risk=merged, changes=changes, premium_before=policy.premium_amount,
        premium_after=result.premium, premium_delta=delta, breakdown=result.breakdown())


@acting_for_actor
@transaction.atomic
def endorsement_create(*, actor: User, policy: Policy, effective_date: datetime.date,
                       reason: str, coverage_amount: Decimal | None = None,
                       end_date: datetime.date | None = None, risk: dict | None = None,
                       today: datetime.date | None = None) -> Endorsement:
    """Record a mid-term change: re-rated on the plan that rated the policy; the
    policy's version goes up by one and the new terms join its history."""
    policy = (Policy.objects.select_for_update(of=("self",))
              .select_related("customer", "rating_plan").get(pk=policy.pk))
    reason = (reason or "").strip()
    if not reason:
        raise PolicyInvalid("A reason is required.", field="reason")
    draft = endorsement_draft(policy=policy, effective_date=effective_date,
                              coverage_amount=coverage_amount, end_date=end_date, risk=risk,
                              today=today)
    if not policy.terms.exists():  # bound before terms were kept: record version 1 now
        PolicyTerms.objects.create(
            policy=policy, version=policy.version, effective_from=policy.start_date,
            coverage_amount=policy.coverage_amount, end_date=policy.end_date,
            premium_amount=policy.premium_amount, risk=policy.risk or {})
    policy.version += 1
    endorsement = Endorsement.objects.create(
        policy=policy, agency_id=policy.customer.broker_id, sequence=policy.version - 1,
        effective_date=effective_date, reason=reason, changes=draft.changes,
        premium_before=draft.premium_before, premium_after=draft.premium_after,
        premium_delta=draft.premium_delta, breakdown=draft.breakdown,
        created_by=actor if getattr(actor, "pk", None) else None)
    PolicyTerms.objects.create(
        policy=policy, version=policy.version, effective_from=effective_date,
        coverage_amount=draft.coverage_amount, end_date=draft.end_date,
        premium_amount=draft.premium_after, risk=draft.risk, breakdown=draft.breakdown,
        endorsement=endorsement)
    policy.coverage_amount = draft.coverage_amount
    policy.end_date = draft.end_date
    policy.premium_amount = draft.premium_after
    policy.risk = draft.risk
    policy.save(update_fields=["coverage_amount", "end_date", "premium_amount", "risk",
                               "version", "updated_at"])
    signals.policy_endorsed.send(sender=Policy, policy=policy)
    logger.info("policy.endorsed", extra={"event": "policy.endorsed", "policy_id": str(policy.pk),
                                          "sequence": endorsement.sequence})
    return endorsement


# --- Cancellation refunds, reinstatement -------------------------------------------

def unearned_premium(policy: Policy, cancel_on: datetime.date, rows=None) -> Decimal:
    """Premium for the days from `cancel_on` to the end, version by version: each
    terms version's premium × its unearned days / its term days; rounded once."""
    history = _terms_of(policy, rows)
    exact = Decimal(0)
    for index, terms in enumerate(history):
        until = terms.end_date
        if index + 1 < len(history):
            until = min(until, history[index + 1].effective_from - datetime.timedelta(days=1))
        first = max(terms.effective_from, cancel_on)
        if until < first:
            continue
        exact += (terms.premium_amount * rating.term_days(first, until)
                  / rating.term_days(policy.start_date, terms.end_date))
    return rating.round_money(exact)


def policy_has_paid_claim(policy: Policy) -> bool:
    return policy.claims.filter(status__in=REFUND_BLOCKING_CLAIM_STATUSES).exists()


# --- Renewals ---------------------------------------------------------------------

def policies_due_for_renewal(*, today: datetime.date, days: int):
    """Active rated policies ending within `days` of `today` with no renewal quote."""
    return (Policy.objects.filter(status=PolicyStatus.ACTIVE, rating_plan__isnull=False,
                                  end_date__gte=today,
                                  end_date__lte=today + datetime.timedelta(days=days),
                                  renewal_quotes__isnull=True)
            .select_related("customer").order_by("end_date", "id"))


def renew_policies(*, actor: User | None, days: int = 30,
                   today: datetime.date | None = None) -> dict[str, int]:
    """A renewal quote for each policy due: same cover and risk answers, a one-year
    term from the day after the old end, re-rated on the plan in force on that day.
    Idempotent: a policy with a renewal quote (of any status) is left alone."""
    today = today or timezone.localdate()
    # Without a signed-in person (manage.py): the book's authority, never saved and
    # without an id, so audit entries name no actor.
    authority = actor or User(id=None, role=Role.STAFF, is_active=True, is_staff=True)
    counts = {"quoted": 0, "declined": 0, "skipped": 0}
    plans: dict = {}
    for policy in policies_due_for_renewal(today=today, days=days).iterator(chunk_size=500):
        start = policy.end_date + datetime.timedelta(days=1)
        try:  # quote_create is its own transaction: one renewal fails alone
            quote = quote_create(
                actor=authority, customer_id=policy.customer_id,
                policy_type=policy.policy_type, coverage_amount=policy.coverage_amount,
                start_date=start, end_date=rating.one_year_end(start),
                risk=policy.risk or {}, today=today, renewal_of=policy, plans=plans)
        except (DomainError, IntegrityError) as exc:
            counts["skipped"] += 1
            logger.warning("policy.renewal_skipped", extra={
                "event": "policy.renewal_skipped", "policy_id": str(policy.pk),
                "reason": getattr(exc, "message", type(exc).__name__)})
            continue
        counts["declined" if quote.status == QuoteStatus.DECLINED else "quoted"] += 1
    return counts
