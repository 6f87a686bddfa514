from django.db.models import QuerySet

from accounts.models import User
from customers.models import Customer


def customers_visible_to(user: User) -> QuerySet[Customer]:
    """The one scope for customers: API, portal, admin and websocket use it."""
    qs = Customer.objects.select_related("broker")
    if not (user and user.is_authenticated and user.is_active):
        return qs.none()
    if user.is_broker:
        return qs.filter(broker_id=user.agency_id)
    return qs


def customer_get(*, user: User, pk) -> Customer:
    return customers_visible_to(user).get(pk=pk)
