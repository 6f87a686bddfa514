from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property
from rest_framework import pagination
from rest_framework.exceptions import ValidationError

# Above this many rows (PostgreSQL's own estimate) an unfiltered list is not counted.
ESTIMATE_ABOVE = 100_000


class EstimatedCountPaginator(Paginator):
    """A paginator that does not COUNT(*) a whole big table on every page.

    The list of every row of a table holding more than ESTIMATE_ABOVE rows (no WHERE
    clause: a staff list without filters) takes its count from PostgreSQL's
    statistics (pg_class.reltuples, kept by autovacuum/ANALYZE); any filtered list (a
    broker's agency, a search, a status) is counted exactly, as are small tables."""

    @cached_property
    def count(self):
        estimate = _estimated_rows(self.object_list)
        if estimate is not None and estimate > ESTIMATE_ABOVE:
            return estimate
        return super().count


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


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=` (from 1) and `?page_size=` (1 to 100): anything else is a 400 naming
    the parameter, never silently replaced by a default. A page past the last is 404.
    An unfiltered list of a big table is counted from statistics (EstimatedCountPaginator)."""

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
