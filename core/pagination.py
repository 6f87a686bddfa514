from rest_framework import pagination
from rest_framework.exceptions import ValidationError


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=` (from 1) and `?page_size=` (1 to 100): anything else is a 400 naming
    the parameter, never silently replaced by a default. A page past the last is 404."""

    page_size_query_param = "page_size"
    max_page_size = 100

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
