import datetime
import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Agency, User
from core.exceptions import DomainError
from core.redact import PersonalData, Redactor
from core.request_context import acting_for_actor
from customers.models import Customer

EDITABLE = ("email", "first_name", "last_name", "phone", "date_of_birth", "address")


class CustomerInvalid(DomainError):
    pass


PHONE_EXAMPLE = "07700 900123 or +44 7700 900123"
E164_WRITTEN = re.compile(r"^\+[1-9]\d{7,14}$")


def _plausible(number) -> bool:
    """A number in use, or one with as many digits as its country's mobile or fixed
    numbers (so the ranges kept for drama and tests pass, a digit too few does not)."""
    if phonenumbers.is_valid_number(number):
        return True
    region = phonenumbers.region_code_for_country_code(number.country_code)
    lengths = set()
    for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
        example = phonenumbers.example_number_for_type(region, kind)
        if example is not None:
            lengths.add(len(phonenumbers.national_significant_number(example)))
    return len(phonenumbers.national_significant_number(number)) in lengths


def phone_normalize(value: str, *, region: str | None = None) -> str:
    """A phone number as people type it (``07700 900123``, ``+44 7700 900123``,
    ``(020) 7946 0958``, ``0044 …``), in E.164 (``+447700900123``). A number
    without its country code is read in `region` (settings.PHONE_DEFAULT_REGION).
    Its length must fit the numbering plan of its country; numbers kept for
    drama and tests (07700 900xxx, 555-01xx) are accepted."""
    region = (region or settings.PHONE_DEFAULT_REGION or "").upper() or None
    text = (value or "").strip()
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        problem = {
            exc.INVALID_COUNTRY_CODE: "This phone number's country code is unknown.",
            exc.TOO_SHORT_NSN: "This phone number is too short.",
            exc.TOO_SHORT_AFTER_IDD: "This phone number is too short.",
            exc.TOO_LONG: "This phone number is too long.",
        }.get(exc.error_type, f"Enter a phone number, e.g. {PHONE_EXAMPLE}.")
        raise CustomerInvalid(problem, field="phone") from exc
    if (E164_WRITTEN.match(text) and not number.extension
            and phonenumbers.region_code_for_country_code(number.country_code) != "ZZ"):
        # Already in E.164 as a system stores it (the API's contract): taken as written,
        # since a numbering plan's lengths change faster than the records that hold them.
        return text
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason == phonenumbers.ValidationResult.IS_POSSIBLE and not _plausible(number):
        reason = phonenumbers.ValidationResult.INVALID_LENGTH
    if number.extension:
        raise CustomerInvalid("Leave the extension out of the phone number.", field="phone")
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        problem = {
            phonenumbers.ValidationResult.TOO_SHORT: "This phone number is too short.",
            phonenumbers.ValidationResult.TOO_LONG: "This phone number is too long.",
            phonenumbers.ValidationResult.INVALID_COUNTRY_CODE:
                "This phone number's country code is unknown.",
            phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
                "Add the area code to this phone number.",
        }.get(reason, "This phone number has too few or too many digits.")
        raise CustomerInvalid(problem, field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


DUPLICATE_EMAIL = "A customer with this email already exists."  # in this agency


def _email_taken(*, email: str, agency: Agency | None, instance: Customer | None) -> bool:
    """An email is unique within one agency (case-insensitive), not across agencies: one
    person may be a customer of two agencies, and neither learns of the other."""
    clash = Customer.objects.filter(email__iexact=email, broker=agency)
    if instance is not None:
        clash = clash.exclude(pk=instance.pk)
    return clash.exists()


def _clean(data: dict, *, instance: Customer | None, agency: Agency | None) -> dict:
    out = dict(data)
    if "email" in out:
        email = (out["email"] or "").strip()
        try:
            validate_email(email)
        except ValidationError as exc:
            raise CustomerInvalid("Enter a valid email address.", field="email") from exc
        out["email"] = email
        if _email_taken(email=email, agency=agency, instance=instance):
            raise CustomerInvalid(DUPLICATE_EMAIL, field="email")
    for name in ("first_name", "last_name"):
        if name in out:
            value = (out[name] or "").strip()
            if not value:
                raise CustomerInvalid("This field may not be blank.", field=name)
            out[name] = value
    for name in ("phone", "address"):
        if name in out:
            out[name] = (out[name] or "").strip() or None
    if out.get("phone"):
        out["phone"] = phone_normalize(out["phone"])
    dob = out.get("date_of_birth")
    if dob and dob > timezone.localdate():
        raise CustomerInvalid("The date of birth cannot be in the future.", field="date_of_birth")
    return out


def _agency_for(*, actor: User, broker: Agency | None) -> Agency | None:
    if actor.is_broker:
        if broker is not None and broker.pk != actor.agency_id:
            raise CustomerInvalid("A broker can only add customers to its own agency.",
                                  field="broker")
        return actor.agency
    return broker


@acting_for_actor
@transaction.atomic
def customer_create(
    *,
    actor: User,
    email: str,
    first_name: str,
    last_name: str,
    gdpr_consent: bool,
    phone: str | None = None,
    date_of_birth: datetime.date | None = None,
    address: str | None = None,
    broker: Agency | None = None,
) -> Customer:
    if gdpr_consent is not True:
        raise CustomerInvalid(
            "GDPR consent is required to hold a customer's data.", field="gdpr_consent"
        )
    agency = _agency_for(actor=actor, broker=broker)
    data = _clean(
        {"email": email, "first_name": first_name, "last_name": last_name, "phone": phone,
         "date_of_birth": date_of_birth, "address": address},
        instance=None, agency=agency,
    )
    customer = Customer(
        **data,
        gdpr_consent=True,
        gdpr_consent_date=timezone.now(),
        broker=agency,
        created_by=actor,
    )
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as exc:  # lost a race on the email, unique within the agency
        raise CustomerInvalid(DUPLICATE_EMAIL, field="email") from exc
    return customer


@acting_for_actor
@transaction.atomic
def customer_update(*, actor: User, customer: Customer, data: dict) -> Customer:
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.is_erased:
        raise CustomerInvalid("This customer's personal data has been erased.")
    if "gdpr_consent" in data and data["gdpr_consent"] is not True:
        raise CustomerInvalid(
            "Consent cannot be withdrawn by an edit; request erasure instead.",
            field="gdpr_consent",
        )
    if "broker" in data:
        agency = data["broker"]
        if actor.is_broker and (agency is None or agency.pk != actor.agency_id):
            raise CustomerInvalid("A broker cannot move a customer to another agency.",
                                  field="broker")
        customer.broker = agency
    moved = customer.broker_id != Customer.objects.values_list("broker_id", flat=True).get(
        pk=customer.pk)
    editable = {k: v for k, v in data.items() if k in EDITABLE}
    if "broker" in data and "email" not in editable:
        editable["email"] = customer.email  # moving agency: the email must be free there
    cleaned = _clean(editable, instance=customer, agency=customer.broker)
    for key, value in cleaned.items():
        setattr(customer, key, value)
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as exc:
        raise CustomerInvalid(DUPLICATE_EMAIL, field="email") from exc
    if moved:
        _book_follows(customer)
    return customer


def _book_follows(customer: Customer) -> None:
    """A customer moved to another agency takes its policies, claims and documents
    (their `agency` key) along: each row saved, so each change is audited."""
    agency_id = customer.broker_id
    for policy in customer.policies.select_for_update():
        policy.agency_id = agency_id
        policy.save(update_fields=["agency", "updated_at"])
        for claim in policy.claims.select_for_update():
            claim.agency_id = agency_id
            claim.save(update_fields=["agency", "updated_at"])
            for document in claim.documents.select_for_update():
                document.agency_id = agency_id
                document.save(update_fields=["agency"])


ERASED_EMAIL_DOMAIN = "erased.invalid"


def customer_redactor(*, customer: Customer, distinctive: bool = False) -> Redactor:
    """What finds this customer's personal data in free text (see core.redact):
    built before erasure, from the data about to be erased."""
    person = PersonalData(
        first_name=customer.first_name or "", last_name=customer.last_name or "",
        email=customer.email or "", phone=customer.phone or "",
        date_of_birth=customer.date_of_birth, address=customer.address or "")
    return Redactor.for_person(person, distinctive=distinctive,
                               region=settings.PHONE_DEFAULT_REGION)
PERSONAL_FIELDS = ("email", "first_name", "last_name", "phone", "date_of_birth", "address")


@transaction.atomic
def customer_anonymize(*, customer: Customer) -> Customer:
    """Irreversibly replace the customer's personal data (erasure).

    Kept: the row and its id (policies and claims point to it), the agency, the
    consent facts (given, when) and the erasure time. The e-mail becomes
    erased-<id>@erased.invalid, so it stays unique and can never be delivered.
    The caller records the erasure in the audit trail.
    """
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.is_erased:
        return customer
    customer.email = f"erased-{customer.pk}@{ERASED_EMAIL_DOMAIN}"
    customer.first_name = "Erased"
    customer.last_name = "Customer"
    customer.phone = None
    customer.date_of_birth = None
    customer.address = None
    customer.erased_at = timezone.now()
    customer.save(update_fields=[*PERSONAL_FIELDS, "erased_at", "updated_at"])
    return customer
