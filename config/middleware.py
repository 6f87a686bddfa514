"""Request id: echo a sane incoming X-Request-ID (or X-Correlation-ID), else make one."""

import re
import uuid

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

from config.request_context import request_id_var

_SANE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def request_id_from(meta) -> str:
    for header in ("HTTP_X_REQUEST_ID", "HTTP_X_CORRELATION_ID"):
        value = meta.get(header, "")
        if value and _SANE.match(value):
            return value
    return uuid.uuid4().hex


class RequestIDMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def _before(self, request):
        request.request_id = request_id_from(request.META)
        return request_id_var.set(request.request_id)

    def _after(self, request, response, token):
        response["X-Request-ID"] = request.request_id
        request_id_var.reset(token)
        return response

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        token = self._before(request)
        response = self.get_response(request)
        return self._after(request, response, token)

    async def __acall__(self, request):
        token = self._before(request)
        response = await self.get_response(request)
        return self._after(request, response, token)
