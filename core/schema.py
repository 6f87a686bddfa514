"""The OpenAPI schema tells the truth: every status code an operation can answer.

`AutoSchema` adds, to every operation, the error answers the stack itself can give,
decided from what the operation is rather than written per view:

- 400 (field name -> messages) when it takes a body or query parameters;
- 401 (with `WWW-Authenticate`) and 403 when it needs credentials;
- 404 when it has path parameters, or pages through a list (a page past the end);
- 409 for a change (POST/PUT/PATCH/DELETE) to an identified resource;
- 413 and 415 when it takes a body (too large; not the declared media type);
- 429 (with `Retry-After`) when it is throttled.

A view's own declaration of a code (`@extend_schema(responses=...)`) wins over these
defaults. The shared fields of core/fields.py are described as they parse: a date is
a `date` or a `date-time` string, money a number or a decimal string.
"""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

_ERROR_DETAIL = {
    "type": "object",
    "description": "An error that concerns the request as a whole.",
    "properties": {"detail": {"type": "string", "description": "What went wrong."}},
    "required": ["detail"],
}
_VALIDATION_ERROR = {
    "type": "object",
    "description": (
        "Invalid input: each offending field (or query parameter) names its problems; "
        "`detail` or `non_field_errors` hold errors that concern no single field. A nested "
        "field's errors are nested the same way."),
    "properties": {
        "detail": {"type": "string"},
        "non_field_errors": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": {
        "anyOf": [
            {"type": "array", "items": {}},
            {"type": "string"},
            {"type": "object"},
        ],
    },
}
_CONFLICT = {
    "type": "object",
    "description": (
        "The action conflicts with the resource's current state (for a status change: "
        "`status` is the current one and `allowed` the states it may move to)."),
    "properties": {
        "detail": {"type": "string"},
        "status": {"type": "string"},
        "allowed": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": True,
}
_FORBIDDEN = {
    "type": "object",
    "description": "Authenticated, but this role may not do this.",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}

_DESCRIPTIONS = {
    "400": "Invalid input; the body names each offending field or query parameter.",
    "401": "No credentials, or bad or expired ones.",
    "403": "Authenticated, but the caller's role may not do this.",
    "404": "Not found, or not visible to the caller.",
    "409": "Conflicts with the current state of the resource.",
    "413": "The request body is too large.",
    "415": "The body is not of a media type this operation accepts.",
    "429": "Too many requests; retry after the given number of seconds.",
}
_HEADERS = {
    "401": {"WWW-Authenticate": {
        "schema": {"type": "string"},
        "description": "The authentication scheme to use: `Bearer`.",
    }},
    "429": {"Retry-After": {
        "schema": {"type": "integer", "minimum": 0},
        "description": "Seconds to wait before trying again.",
    }},
}


class AutoSchema(SpectacularAutoSchema):
    def _component(self, name: str, schema: dict) -> dict:
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA,
                                      object=name, schema=schema)
        self.registry.register_on_missing(component)
        return component.ref

    def _error_codes(self, operation: dict) -> list[str]:
        parameters = operation.get("parameters", [])
        has_path = any(p.get("in") == "path" for p in parameters)
        has_query = any(p.get("in") == "query" for p in parameters)
        has_body = "requestBody" in operation
        security = operation.get("security") or []
        needs_auth = bool(security) and {} not in security
        throttled = bool(self.view.get_throttles()) if hasattr(self.view, "get_throttles") \
            else False
        codes = []
        if has_body or has_query:
            codes.append("400")
        if needs_auth:
            codes += ["401", "403"]
        if has_path or (self.method == "GET" and self._is_list_view()
                        and self._get_paginator() is not None):
            codes.append("404")
        if self.method in UNSAFE and has_path:
            codes.append("409")
        if has_body or self.method in {"POST", "PUT", "PATCH"}:
            codes.append("413")
        if has_body:
            codes.append("415")
        if throttled:
            codes.append("429")
        return codes

    def _error_response(self, code: str) -> dict:
        if code == "400":
            ref = self._component("ValidationError", _VALIDATION_ERROR)
        elif code == "409":
            ref = self._component("ConflictError", _CONFLICT)
        elif code == "403":
            ref = self._component("ForbiddenError", _FORBIDDEN)
        else:
            ref = self._component("ErrorDetail", _ERROR_DETAIL)
        return {"description": _DESCRIPTIONS[code],
                "content": {"application/json": {"schema": ref}}}

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for code in self._error_codes(operation):
            declared = responses.get(code)
            if declared is None:
                responses[code] = self._error_response(code)
            elif "content" not in declared:  # described, but without its body
                declared["content"] = self._error_response(code)["content"]
        for code, headers in _HEADERS.items():
            if code in responses:
                responses[code].setdefault("headers", {}).update(
                    {k: v for k, v in headers.items()
                     if k not in responses[code].get("headers", {})})
        operation["responses"] = dict(sorted(responses.items()))
        return operation


# --- the shared fields, as they parse -------------------------------------------------

class DateFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "core.fields.DateField"

    def map_serializer_field(self, auto_schema, direction):
        if direction == "response":
            return {"type": "string", "format": "date"}
        return {
            "anyOf": [
                {"type": "string", "format": "date"},
                {"type": "string", "format": "date-time"},
            ],
            "description": "YYYY-MM-DD, or an ISO 8601 date-time whose calendar date "
                           "counts as written (2024-12-31T23:59:59Z is 2024-12-31).",
        }


class MoneyFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "core.fields.MoneyField"

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        pattern = r"^-?\d+(\.\d{1,2})?$"
        if direction == "response":
            return {"type": "string", "format": "decimal", "pattern": r"^-?\d+\.\d{2}$",
                    "example": "150.00"}
        return {
            "anyOf": [
                {"type": "number"},
                {"type": "string", "pattern": pattern},
            ],
            "description": f"An amount with at most {field.decimal_places} decimal places "
                           f"and {field.max_digits} digits, as a JSON number or a string.",
            "example": "150.00",
        }

