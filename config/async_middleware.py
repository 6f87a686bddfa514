"""The third-party and Django middleware of MIDDLEWARE, made natively async-capable.

Django's MiddlewareMixin is async-capable only in name: on the ASGI path it sends
every `process_request` / `process_response` hook to the one sync thread
(`sync_to_async`), and the handler does the same for `process_view` and
`process_template_response`. A middleware that is not async-capable at all
(WhiteNoise) splits the chain into an async and a sync half. With a dozen
middlewares that is a dozen thread hand-offs per request, each costing more than
the hook itself.

The hooks below do only in-memory work (headers, cookies, lazy objects, metrics
counters), so on the async path they run inline on the event loop. The few that may
reach the database or a cache (a session being saved, messages spilling into the
session, WhiteNoise finding a file on disk) still go to the thread, and only when
they would. On the sync path (tests, and the web process's one-hop handler in
config/http.py) every class behaves exactly like its parent.

Django's SecurityMiddleware, CsrfViewMiddleware and XFrameOptionsMiddleware stay as
they are: `check --deploy` looks for them by their dotted path.
"""

from __future__ import annotations

from types import MethodType

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from csp.middleware import CSPMiddleware as _CSP
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware as _Auth
from django.contrib.messages.middleware import MessageMiddleware as _Messages
from django.contrib.sessions.middleware import SessionMiddleware as _Session
from django.middleware.common import CommonMiddleware as _Common
from django_prometheus.middleware import PrometheusAfterMiddleware as _PromAfter
from django_prometheus.middleware import PrometheusBeforeMiddleware as _PromBefore
from whitenoise.middleware import WhiteNoiseMiddleware as _WhiteNoise


def _inline(method):
    """A coroutine method (bound to the same middleware: the handler names it in its
    errors) that runs a non-blocking sync hook in the event loop."""

    async def hook(_self, *args, **kwargs):
        return method(*args, **kwargs)

    return MethodType(hook, method.__self__)


class InlineHooks:
    """Mixin for a MiddlewareMixin subclass whose hooks do no I/O (or say when they do,
    through `request_blocks` / `response_blocks`)."""

    def __init__(self, get_response):
        super().__init__(get_response)
        if self.async_mode:
            # The handler adapts these per instance: a coroutine function is awaited
            # as is, a plain method would be sent to the thread.
            for name in ("process_view", "process_template_response"):
                method = getattr(self, name, None)
                if method is not None:
                    setattr(self, name, self._async_hook(name, method))

    def _async_hook(self, name, method):
        return _inline(method)

    def request_blocks(self, request) -> bool:
        return False

    def response_blocks(self, request, response) -> bool:
        return False

    async def __acall__(self, request):
        response = None
        if hasattr(self, "process_request"):
            if self.request_blocks(request):
                response = await sync_to_async(self.process_request)(request)
            else:
                response = self.process_request(request)
        response = response or await self.get_response(request)
        if hasattr(self, "process_response"):
            if self.response_blocks(request, response):
                response = await sync_to_async(self.process_response)(request, response)
            else:
                response = self.process_response(request, response)
        return response


class PrometheusBeforeMiddleware(InlineHooks, _PromBefore):
    pass


class PrometheusAfterMiddleware(InlineHooks, _PromAfter):
    pass


class SessionMiddleware(InlineHooks, _Session):
    """Saving a session writes to the cache and the database: only then a thread."""

    def response_blocks(self, request, response) -> bool:
        session = getattr(request, "session", None)
        return session is not None and (
            session.modified or settings.SESSION_SAVE_EVERY_REQUEST
        )


class CommonMiddleware(InlineHooks, _Common):
    pass


class AuthenticationMiddleware(InlineHooks, _Auth):
    pass


class MessageMiddleware(InlineHooks, _Messages):
    """Storing messages may spill into (and so load) the session."""

    def response_blocks(self, request, response) -> bool:
        storage = getattr(request, "_messages", None)
        return storage is not None and (storage.used or storage.added_new)


class CSPMiddleware(InlineHooks, _CSP):
    """django-csp's policy on pages; a JSON response (the API's) is not a document a
    browser renders, so it is left without one instead of paying to build it."""

    def process_response(self, request, response):
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        return super().process_response(request, response)


class WhiteNoiseMiddleware(_WhiteNoise):
    """WhiteNoise is sync-only; the lookup of a static path is a dict read, so the
    async path does it inline and only a file actually served goes to a thread."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response=None, settings=settings):
        super().__init__(get_response, settings)
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.async_mode:
            return self.__acall__(request)
        return super().__call__(request)

    async def __acall__(self, request):
        if self.autorefresh:
            static_file = await sync_to_async(self.find_file)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is not None:
            return await sync_to_async(self.serve)(static_file, request)
        return await self.get_response(request)
