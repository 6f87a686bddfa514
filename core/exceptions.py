"""One place that turns domain errors into HTTP answers."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class DomainError(Exception):
    """Base class of errors raised by services; mapped to 4xx here."""

    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}

    def as_data(self) -> dict:
        if self.field:
            data = {self.field: [self.message]}
        else:
            data = {"detail": self.message}
        data.update(self.extra)
        return data


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


class Forbidden(DomainError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "forbidden"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"

    def __init__(self, detail=None, code=None):
        super().__init__(detail or TOO_LARGE_MESSAGE(), code)


def TOO_LARGE_MESSAGE() -> str:  # noqa: N802 - reads as the constant it mostly is
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None:
        return "The request body is too large."
    return f"The request body is larger than the {limit:,} byte limit."


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": TOO_LARGE_MESSAGE()},
                        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        return Response({"detail": "The request has too many fields or files."},
                        status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DomainError):
        return Response(exc.as_data(), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            data = {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
        else:
            data = {"detail": exc.messages}
        exc = exceptions.ValidationError(data)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, list):
        # A bare list of messages (raised outside a serializer, e.g. a NUL in ?search=)
        # takes the one error shape: an object with `detail`.
        response.data = {"detail": " ".join(str(message) for message in response.data)}
    return response
