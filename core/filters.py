"""List filters that refuse what their schema does not allow.

A query parameter's value is either valid for its declared type or a 400 naming the
parameter: an enum value outside the enum, a malformed UUID, and an empty value for
anything but free text (`?status=`) are refused, never read as "no filter". Free-text
parameters (`?search=`, `?actor=`) may be empty, which means no filter.
"""

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter, SearchFilter

# A search costs one set of lookups per term: bound both its terms and its length.
MAX_SEARCH_TERMS = 10
MAX_SEARCH_LENGTH = 200


def check_search(text: str, *, field: str = "search") -> None:
    """400 naming the bound when a search text is too long or has too many terms."""
    if len(text) > MAX_SEARCH_LENGTH:
        raise ValidationError({field: [
            f"Search text may be at most {MAX_SEARCH_LENGTH} characters "
            f"(it has {len(text)})."]})
    terms = text.replace(",", " ").split()
    if len(terms) > MAX_SEARCH_TERMS:
        raise ValidationError({field: [
            f"Search may have at most {MAX_SEARCH_TERMS} terms (it has {len(terms)})."]})


class BoundedSearchFilter(SearchFilter):
    """DRF's search, refused with a 400 past MAX_SEARCH_TERMS terms or
    MAX_SEARCH_LENGTH characters."""

    def get_search_terms(self, request):
        check_search(request.query_params.get(self.search_param, ""),
                     field=self.search_param)
        return super().get_search_terms(request)


def _is_free_text(flt) -> bool:
    return type(flt) is django_filters.CharFilter


def _asks_for_none(filterset_class, params) -> bool:
    """No parameter of the request names one of the filters (or a suffixed form of
    one, as range filters use) and none is required: the filter set would change
    nothing, so building and validating its form can be skipped. A filter set that
    filters on its own (its `filter_queryset` or `qs` overridden) is always built."""
    names = filterset_class.base_filters
    if (filterset_class.filter_queryset is not django_filters.FilterSet.filter_queryset
            or filterset_class.qs is not django_filters.FilterSet.qs
            or any(flt.extra.get("required") for flt in names.values())):
        return False
    return not any(param.startswith(name) for param in params for name in names)


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter's backend, with blank values refused for every typed filter."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or _asks_for_none(filterset_class, request.query_params):
            return queryset
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        errors = {}
        for name, flt in filterset.filters.items():
            values = request.query_params.getlist(name)
            if values and not _is_free_text(flt) and any(v.strip() == "" for v in values):
                errors[name] = ["This value may not be blank; leave the parameter out "
                                "for no filter."]
        if not filterset.is_valid():
            for name, messages in filterset.errors.items():
                errors.setdefault(name, list(messages))
        if errors:
            raise ValidationError(errors)
        return filterset.qs


class StableOrderingFilter(OrderingFilter):
    """Ordering only on the fields a view names in `ordering_fields` (never DRF's
    default of every serializer field), always ending on the primary key, so pages
    never overlap; an ordering field that the view does not offer is a 400 naming
    `ordering`."""

    def get_valid_fields(self, queryset, view, context=None):
        if getattr(view, "ordering_fields", None) in (None, "__all__"):
            return []
        return super().get_valid_fields(queryset, view, context or {})

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if not any(o.lstrip("-") in ("pk", "id") for o in ordering):
            ordering.append("-id")
        return ordering

    def remove_invalid_fields(self, queryset, fields, view, request):
        valid = {item[0] for item in
                 self.get_valid_fields(queryset, view, {"request": request})}
        bad = [term for term in fields if term.removeprefix("-") not in valid]
        if bad:
            raise ValidationError({self.ordering_param: [
                f"Unknown ordering field {bad[0]!r}; use one of "
                f"{', '.join(sorted(valid))}, with '-' for descending."]})
        return fields

    def get_schema_operation_parameters(self, view):
        fields = [item[0] if isinstance(item, tuple | list) else item
                  for item in (getattr(view, "ordering_fields", None) or [])]
        if not fields:
            return []
        choices = [term for field in fields for term in (field, f"-{field}")]
        return [{
            "name": self.ordering_param,
            "required": False,
            "in": "query",
            "description": "Comma-separated fields to order by; '-' for descending.",
            "schema": {"type": "array", "items": {"type": "string", "enum": choices}},
            "style": "form",
            "explode": False,
        }]
