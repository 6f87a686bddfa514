"""The HTTP side of the ASGI application: each request served in one worker thread.

Django's own ASGIHandler runs a sync view through its async middleware chain: a new
per-request thread (ThreadSensitiveContext), then one hand-off for the
request_started signal, one for the view, one to render a template response, one
to close the response. Every view here is sync (the ORM is), so the handler below
does the whole request - signals, the (sync) middleware chain, the view, rendering -
in one call on the event loop's thread pool, and only reading the body and sending
the response stay on the event loop. WebSocket traffic never comes here (Channels).

The threads come from the loop's default executor (asgiref's `thread_sensitive=False`
path): they are kept between requests, each holds at most one pooled database
connection while it serves, and code in them that calls `async_to_sync` (Channels'
group_send) runs on the main event loop, as in any sync view under ASGI.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.db import close_old_connections
from django.http import FileResponse
from django.urls import set_script_prefix


class OneHopASGIHandler(ASGIHandler):
    def __init__(self):
        super().__init__()
        # The middleware chain in its sync form: it runs inside the worker thread.
        self.load_middleware(is_async=False)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            response = await sync_to_async(self.serve, thread_sensitive=False)(scope, body_file)
            try:
                await self.send_response(response, send)
            finally:
                if response.streaming:
                    await sync_to_async(response.close, thread_sensitive=False)()
        finally:
            body_file.close()

    def serve(self, scope, body_file):
        """The whole request, in the worker thread; a non-streaming response is closed
        (request_finished: database connection back to the pool) before it is sent."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        if response.streaming:
            # Its content is read on the event loop; this thread's connection goes
            # back to the pool now, not when the last chunk has been sent.
            close_old_connections()
        else:
            response.close()
        return response
