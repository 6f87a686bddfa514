import uuid

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from compliance.selectors import customer_by_reference, customers_of_person


def is_id(reference: str) -> bool:
    try:
        uuid.UUID((reference or "").strip())
    except ValueError:
        return False
    return True


def customer_arg(reference):
    customer = customer_by_reference(reference)
    if customer is None:
        raise CommandError(f"No customer with id or e-mail {reference!r}.")
    return customer


def person_arg(email):
    """Every customer record with this e-mail address, in every agency."""
    customers = list(customers_of_person(email))
    if not customers:
        raise CommandError(f"No customer with id or e-mail {email!r}.")
    return customers


def actor_arg(email):
    if not email:
        return None
    user = get_user_model().objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is None or not user.is_staff_role:
        raise CommandError("--actor must be the e-mail address of an active staff user.")
    return user
