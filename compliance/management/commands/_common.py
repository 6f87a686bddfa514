from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from compliance.selectors import customer_by_reference


def customer_arg(reference):
    customer = customer_by_reference(reference)
    if customer is None:
        raise CommandError(f"No customer with id or e-mail {reference!r}.")
    return customer


def actor_arg(email):
    if not email:
        return None
    user = get_user_model().objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is None or not user.is_staff_role:
        raise CommandError("--actor must be the e-mail address of an active staff user.")
    return user
