import datetime

from django.conf import settings
from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

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


def policy_count_subquery():
    """Each customer's number of policies, as a correlated subquery: evaluated only
    for the rows a page shows, where a Count() annotation groups the whole list."""
    policy = Customer._meta.get_field("policies").related_model
    counts = (policy._default_manager.filter(customer_id=OuterRef("pk")).order_by()
              .values("customer_id").annotate(n=Count("*")).values("n"))
    return Coalesce(Subquery(counts), 0)


def customer_get(*, user: User, pk) -> Customer:
    return customers_visible_to(user).get(pk=pk)


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def _years_after(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def customer_retention_date(*, customer: Customer, years: int | None = None) -> datetime.date:
    """The day after which the customer's personal data is no longer kept: the end of
    their last policy plus GDPR_RETENTION_YEARS; with no policy at all, the day the
    record was created plus the same number of years."""
    years = settings.GDPR_RETENTION_YEARS if years is None else years
    last_end = customer.policies.aggregate(last=Max("end_date"))["last"]
    start = last_end or timezone.localtime(customer.created_at).date()
    return _years_after(start, years)


def customers_past_retention(
    *, today: datetime.date | None = None, years: int | None = None
) -> QuerySet[Customer]:
    """Customers not yet erased whose retention date has passed (retention date
    before today), annotated with `last_policy_end`."""
    years = settings.GDPR_RETENTION_YEARS if years is None else years
    today = today or timezone.localdate()
    cutoff = _years_before(today, years)
    created_cutoff = timezone.make_aware(
        datetime.datetime.combine(cutoff, datetime.time.min)
    )
    return (
        Customer.objects.filter(erased_at__isnull=True)
        .annotate(last_policy_end=Max("policies__end_date"))
        .filter(
            Q(last_policy_end__lt=cutoff)
            | Q(last_policy_end__isnull=True, created_at__lt=created_cutoff)
        )
        .order_by("created_at", "id")
    )
