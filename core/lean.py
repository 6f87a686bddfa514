"""Lean lists: the page read with `.values()` and turned into the serializer's output
without building a model instance or running the serializer machinery per row.

The DRF serializer stays the one description of a resource (schema, validation,
detail and write responses). `LeanRows(SerializerClass)` reads its fields once, at
import time, and derives from them:

- the columns to select (each field's `source`, dotted sources become `__` lookups);
- a converter per field: the field's own `to_representation`, or a shortcut for the
  stock DRF field classes whose output for a database value is known (a UUID's
  string, a `str()`), so a field whose type changes (a custom money or date field)
  is still rendered by its own code;
- `None` stays `None` without a converter, as `Serializer.to_representation` does.

A `SerializerMethodField` has no column: the caller supplies its value per row
(`methods={"documents": fn}`), typically from one extra `.values()` query per page.
Adding a field to a serializer adds it to the lean list as well; a field kind the
plan cannot read from a column (source "*", a nested serializer) makes the view
fall back to the serializer itself (`LeanRows.supported`).

`LeanListMixin` gives a viewset the lean `list()`: same filters, ordering, pagination
(same COUNT and page queries) and the same JSON, byte for byte, as the serializer's;
the response is rendered in the view's own thread (no extra hand-off on ASGI).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import connections, router
from django.http import HttpResponse
from django.utils import timezone
from rest_framework import ISO_8601, relations
from rest_framework import fields as f
from rest_framework import serializers as s
from rest_framework.response import Response
from rest_framework.settings import api_settings


def _str(value):
    return str(value)


def _same(value):
    return value


def _iso_datetime(field) -> Callable | None:
    """DRF's DateTimeField output (ISO 8601, in the field's or the current time zone,
    UTC as "Z"), with the zone looked up once per page instead of once per value."""
    if type(field) is not f.DateTimeField or getattr(field, "timezone", None) is not None:
        return None
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    if output_format is None or output_format.lower() != ISO_8601:
        return None
    if not settings.USE_TZ:
        return None
    zone = timezone.get_current_timezone()

    def convert(value):
        if isinstance(value, str):
            return value
        if timezone.is_aware(value):
            value = value.astimezone(zone)
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return convert


def decimal_text(field: f.DecimalField) -> Callable:
    """DRF's DecimalField output for a Decimal, without its quantize when the value
    already has the field's decimal places (a NUMERIC(p, s) column's values do)."""
    exponent = -field.decimal_places if field.decimal_places is not None else None
    full = field.to_representation
    coerce = getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
    if not coerce or field.localize or exponent is None:
        return full

    def convert(value):
        if type(value) is Decimal and value.as_tuple().exponent == exponent:
            return format(value, "f")
        return full(value)

    return convert


def _converter(field) -> Callable | None:
    """How a non-None column value becomes the field's output; None if the plan
    cannot produce the field from a column."""
    kind = type(field)
    if kind is f.UUIDField and field.uuid_format == "hex_verbose":
        return _str
    if kind in (f.CharField, f.EmailField, f.SlugField, f.URLField, f.RegexField):
        return _str
    if kind in (f.IntegerField,):
        return int
    if kind is f.DecimalField:
        return decimal_text(field)
    if isinstance(field, relations.PrimaryKeyRelatedField) and field.pk_field is None:
        # The related row's pk as the column holds it (JSON encodes a UUID as a string).
        return _same
    if isinstance(field, (relations.RelatedField, s.BaseSerializer, f.SerializerMethodField,
                          f.HiddenField)):
        return None
    if field.source == "*":
        return None
    return field.to_representation


class LeanRows:
    """The compiled row plan of one serializer class."""

    def __init__(self, serializer_class, *, methods: Iterable[str] = (),
                 columns: Iterable[str] = ()):
        """`columns`: what the `methods` fields read from the row besides the fields'
        own columns (e.g. a related row's attribute, ``"rating_plan__version"``)."""
        self.serializer_class = serializer_class
        serializer = serializer_class()
        self.fields = serializer.fields
        self.methods = frozenset(methods)
        self.columns: list[str] = []
        self.plan: list[tuple[str, str | None, Callable | None]] = []
        self.supported = True
        for name, field in serializer.fields.items():
            if field.write_only:
                continue
            if isinstance(field, f.SerializerMethodField) and name in self.methods:
                self.plan.append((name, None, None))
                continue
            convert = _converter(field)
            if convert is None:
                self.supported = False
                continue
            column = "__".join(field.source_attrs)
            if column not in self.columns:
                self.columns.append(column)
            self.plan.append((name, column, convert))
        for column in columns:
            if column not in self.columns:
                self.columns.append(column)

    def rows(self, values: Iterable[dict], methods: dict[str, Callable] | None = None
             ) -> list[dict]:
        """Each `.values()` row as the serializer's dict, fields in its order."""
        methods = methods or {}
        plan = [(name, column,
                 (_iso_datetime(self.fields[name]) or convert) if column else methods[name])
                for name, column, convert in self.plan]
        out = []
        for row in values:
            item = {}
            for name, column, convert in plan:
                if column is None:
                    item[name] = convert(row)
                else:
                    value = row[column]
                    item[name] = None if value is None else convert(value)
            out.append(item)
        return out


@functools.cache
def _rows_of_sql(model, key: str, columns: tuple[str, ...]) -> str | None:
    """SELECT columns FROM model's table WHERE key = ANY(%s) ORDER BY its Meta.ordering,
    written once per shape; None when a column needs the ORM (a field that converts
    what the database returns, or no such column)."""
    meta = model._meta
    try:
        fields = [meta.get_field(name) for name in (key, *columns)]
        order = [(meta.get_field(term.lstrip("-")), term.startswith("-"))
                 for term in meta.ordering]
    except FieldDoesNotExist:
        return None
    if any(not f.concrete or hasattr(f, "from_db_value") or not isinstance(term, str)
           for f, term in zip(fields, (key, *columns), strict=True)):
        return None
    select = ", ".join(f'"{f.column}"' for f in fields[1:])
    order_by = ", ".join(f'"{f.column}" {"DESC" if desc else "ASC"}' for f, desc in order)
    return (f'SELECT {select} FROM "{meta.db_table}" WHERE "{fields[0].column}" = ANY(%s)'
            + (f" ORDER BY {order_by}" if order_by else ""))


def rows_of(model, *, key: str, values: list, columns: Iterable[str]) -> list[dict]:
    """`model.objects.filter(<key>__in=values).values(*columns)` as a list, in the
    model's default order: the statement is written once per shape, not compiled by
    the ORM on every call (the children of a page of rows, read on every list)."""
    columns = tuple(columns)
    sql = _rows_of_sql(model, key, columns)
    if sql is None:
        return list(model._default_manager.filter(**{f"{key}__in": values}).values(*columns))
    with connections[router.db_for_read(model)].cursor() as cursor:
        cursor.execute(sql, [list(values)])
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


_PK = "00000000-0000-0000-0000-000000000000"


def url_for_pk(viewname: str) -> Callable[[object], str]:
    """The URL of `viewname` for a row's primary key, reversed once for a whole page:
    `reverse()` resolves the pattern on every call, the same work for every row."""
    from django.urls import reverse

    url = reverse(viewname, kwargs={"pk": _PK})
    return lambda pk: url.replace(_PK, str(pk))


def rendered(response: Response) -> HttpResponse:
    """The DRF response rendered now, as a plain HttpResponse: the handler then has
    nothing left to render in another thread. `data` is kept for test clients."""
    response.render()
    plain = HttpResponse(response.content, status=response.status_code)
    for header, value in response.items():
        plain[header] = value
    plain.data = response.data
    return plain


class LeanListMixin:
    """`list()` over `.values()` rows shaped by a `LeanRows` plan (`lean_rows`).

    A viewset with SerializerMethodFields declares them in `lean_rows` and fills them
    in `lean_methods(rows)`, which returns {field: fn(row)} for the page's rows."""

    lean_rows: LeanRows

    def lean_methods(self, rows: list[dict]) -> dict[str, Callable]:
        return {}

    def list(self, request, *args, **kwargs):
        plan = self.lean_rows
        if not plan.supported:
            return super().list(request, *args, **kwargs)
        queryset = self.filter_queryset(self.get_queryset())
        values = queryset.prefetch_related(None).values(*plan.columns)
        page = self.paginate_queryset(values)
        rows = list(values) if page is None else page
        data = plan.rows(rows, self.lean_methods(rows))
        if page is None:
            return Response(data)
        return self.get_paginated_response(data)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if (getattr(self, "action", None) == "list" and isinstance(response, Response)
                and not response.exception):
            return rendered(response)
        return response
