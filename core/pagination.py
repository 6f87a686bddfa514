from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property
from rest_framework import pagination
from rest_framework.exceptions import ValidationError

from core.db import tallies

# Above this many rows (PostgreSQL's own estimate) an unfiltered list is not counted.
ESTIMATE_ABOVE = 100_000
# A filtered list is counted exactly up to this many rows; past it (a broker's whole
# book, every active policy) its count is the planner's estimate. Counting stops after
# this many index entries: about a millisecond, whatever the book.
COUNT_CAP = 1_000


class EstimatedCountPaginator(Paginator):
    """A paginator whose cost does not grow with the table.

    A list filtered only by the columns a tally counts by (core.db.tallies: a broker's
    agency, a status) takes its exact count from the tally.
    The list of every row of a table holding more than ESTIMATE_ABOVE rows (no WHERE
    clause: a staff list without filters) takes its count from PostgreSQL's
    statistics (pg_class.reltuples, kept by autovacuum/ANALYZE); any other list is
    counted exactly up to COUNT_CAP rows (the count stops there), and past that takes
    the planner's estimate of its rows. When the count is an estimate, the pages do
    not trust it: a page reads one row more than it shows to know whether another
    page follows, so following ``next`` still reaches every row exactly once."""

    estimated = False

    @cached_property
    def count(self):
        tallied = tallies.tallied(self.object_list)
        if tallied is not None:
            return tallied
        estimate = _estimated_rows(self.object_list)
        if estimate is not None and estimate > ESTIMATE_ABOVE:
            self.estimated = True
            return estimate
        capped = _capped_count(self.object_list, COUNT_CAP)
        if capped is None:
            return super().count
        if capped <= COUNT_CAP:
            return capped
        self.estimated = True
        return max(_planned_rows(self.object_list) or 0, capped)

    def validate_number(self, number):
        self.count  # noqa: B018 - decides whether the count is an estimate
        if not self.estimated:
            return super().validate_number(number)
        return self._whole(number)

    def _whole(self, number):
        from django.core.paginator import EmptyPage, PageNotAnInteger

        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def page(self, number):
        from django.core.paginator import EmptyPage

        number = self.validate_number(number)
        if not self.estimated:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom:bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        page = self._get_page(rows[:self.per_page], number, self)
        more = len(rows) > self.per_page
        page.has_next = lambda: more
        return page


def _capped_count(object_list, cap: int) -> int | None:
    """The rows of a queryset, counted up to cap + 1 (one query, like a COUNT)."""
    if not isinstance(object_list, QuerySet):
        return None
    query = object_list.query
    if query.group_by or query.combinator or query.is_sliced:
        return None
    try:
        sql, params = object_list.order_by().values("pk")[:cap + 1].query.sql_with_params()
    except EmptyResultSet:  # .none()
        return 0
    with connections[object_list.db].cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) AS capped", params)
        return cursor.fetchone()[0]


def _planned_rows(object_list) -> int | None:
    """The planner's estimate of a queryset's rows (PostgreSQL's EXPLAIN, not run)."""
    connection = connections[object_list.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = object_list.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        import json

        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def _estimated_rows(object_list) -> int | None:
    if not isinstance(object_list, QuerySet):
        return None
    query = object_list.query
    if query.where or query.is_sliced or query.distinct or query.combinator:
        return None
    connection = connections[object_list.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
                       [connection.ops.quote_name(object_list.model._meta.db_table)])
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None and row[0] >= 0 else None


class ExactCountPaginator(EstimatedCountPaginator):
    """Django's own count (or the tally's): for lists bounded by one agency's book."""

    @cached_property
    def count(self):
        tallied = tallies.tallied(self.object_list)
        return Paginator.count.func(self) if tallied is None else tallied


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=` (from 1) and `?page_size=` (1 to 100): anything else is a 400 naming
    the parameter, never silently replaced by a default. A page past the last is 404.

    A caller who sees one agency's rows (a broker: `request.user.agency_id`) gets an
    exact count: the agency key makes it an index scan of that agency's rows alone.
    Staff lists span the whole book: unfiltered and big, counted from statistics;
    otherwise exact up to COUNT_CAP and estimated past it (EstimatedCountPaginator)."""

    page_size_query_param = "page_size"
    max_page_size = 100
    django_paginator_class = EstimatedCountPaginator

    def _positive_int(self, request, name: str, *, maximum: int | None = None) -> int | None:
        if name not in request.query_params:
            return None
        raw = request.query_params[name]
        # (the length first: int() of thousands of digits is Python's ValueError)
        if not raw.isascii() or not raw.isdigit() or len(raw) > 9 or int(raw) < 1 \
                or (maximum is not None and int(raw) > maximum):
            bound = f" from 1 to {maximum}" if maximum is not None else " of 1 or more"
            raise ValidationError({name: [f"Enter a whole number{bound}."]})
        return int(raw)

    def get_page_size(self, request):
        size = self._positive_int(request, self.page_size_query_param,
                                  maximum=self.max_page_size)
        return size if size is not None else self.page_size

    def paginate_queryset(self, queryset, request, view=None):
        self._positive_int(request, self.page_query_param)
        if getattr(getattr(request, "user", None), "agency_id", None) is not None:
            self.django_paginator_class = ExactCountPaginator
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Page number, from 1. A page past the last is 404.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page, 1 to {self.max_page_size} "
                               f"(default {self.page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
