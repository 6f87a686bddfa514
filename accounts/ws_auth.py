"""WebSocket authentication: the portal session cookie, or `?token=<access_token>`."""

from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser


@database_sync_to_async
def _user_from_token(raw: str):
    from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

    from accounts.authentication import BearerJWTAuthentication

    auth = BearerJWTAuthentication()
    try:
        validated = auth.get_validated_token(raw.encode())
        return auth.get_user(validated)
    except (InvalidToken, TokenError, Exception):  # noqa: BLE001 - any failure is anonymous
        return AnonymousUser()


class _TokenMiddleware:
    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        token = (query.get("token") or [""])[0]
        if token:
            scope = dict(scope, user=await _user_from_token(token))
        return await self.inner(scope, receive, send)


def WebSocketAuthMiddleware(inner):  # noqa: N802 - reads like a class at the call site
    return AuthMiddlewareStack(_TokenMiddleware(inner))
