"""The one rule for proxy headers: who the client is, and whether it came over HTTPS.

``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed only as far as
``TRUSTED_PROXY_COUNT`` says. Each trusted proxy appends the address it saw to
``X-Forwarded-For``, so with N trusted proxies the rightmost N entries were written
by them and the client is the N-th from the right; anything further left was sent
by the client and is ignored. With 0 (the default) both headers are ignored and the
peer of the connection (``REMOTE_ADDR`` / the ASGI scope's ``client``) is the client.

Every user goes through these two functions: the login lockout, the API throttles,
the audit trail's ``remote_addr``, the /metrics guard, WebSocket connections and
the https decision (``TrustedProxyMiddleware`` below, read by Django through
``SECURE_PROXY_SSL_HEADER = (SCHEME_KEY, "https")``: a META key no client header can
produce, since headers arrive as ``HTTP_*``).

The web process must not let its server rewrite the peer from these headers
(daphne's ``--proxy-headers`` takes the leftmost, client-written, entry).
"""

from __future__ import annotations

import ipaddress

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings

# The scheme decided from trusted proxies, in request.META; see settings.SECURE_PROXY_SSL_HEADER.
SCHEME_KEY = "trusted_proxy.scheme"


def trusted_proxy_count() -> int:
    try:
        return max(int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0), 0)
    except (TypeError, ValueError):
        return 0


def normalize_ip(value) -> str | None:
    """A valid IP address in canonical form, or None. Accepts what proxies write:
    an IPv4 address with a port, a bracketed IPv6 address with or without a port,
    an IPv4-mapped IPv6 address (made IPv4)."""
    text = str(value or "").strip().strip('"')
    if not text or len(text) > 64:
        return None
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return str(address)


def _headers_of(source) -> tuple[str, str, str]:
    """(peer, X-Forwarded-For, X-Forwarded-Proto) of a request or an ASGI scope."""
    meta = getattr(source, "META", None)
    if meta is not None:
        return (meta.get("REMOTE_ADDR") or "", meta.get("HTTP_X_FORWARDED_FOR") or "",
                meta.get("HTTP_X_FORWARDED_PROTO") or "")
    scope = source or {}
    client = scope.get("client") or ("",)
    forwarded_for, forwarded_proto = [], []
    for name, value in scope.get("headers") or ():
        name = name.lower()
        if name == b"x-forwarded-for":
            forwarded_for.append(value.decode("latin-1"))
        elif name == b"x-forwarded-proto":
            forwarded_proto.append(value.decode("latin-1"))
    return str(client[0] or ""), ",".join(forwarded_for), ",".join(forwarded_proto)


def _trusted_entry(header: str, count: int) -> str | None:
    """The entry the outermost trusted proxy wrote: N-th from the right. With fewer
    entries than trusted proxies, every entry present was written by one of them,
    so the leftmost is the outermost proxy's."""
    hops = [hop.strip() for hop in header.split(",") if hop.strip()]
    if not hops:
        return None
    return hops[-count] if len(hops) >= count else hops[0]


def client_ip(source) -> str:
    """The client's address for a request or an ASGI scope ("" when unknown)."""
    peer, forwarded_for, _ = _headers_of(source)
    peer = normalize_ip(peer) or ""
    count = trusted_proxy_count()
    if count and forwarded_for:
        return normalize_ip(_trusted_entry(forwarded_for, count)) or peer
    return peer


def forwarded_scheme(source) -> str | None:
    """"https" or "http" as the trusted proxies saw it; None when they say nothing
    (or none is trusted): then the connection's own scheme counts."""
    count = trusted_proxy_count()
    if not count:
        return None
    _, _, proto = _headers_of(source)
    value = (_trusted_entry(proto, count) or "").lower() if proto else ""
    return value if value in ("http", "https") else None


def is_secure(source) -> bool:
    """Whether the client reached the outermost trusted hop over HTTPS."""
    scheme = forwarded_scheme(source)
    if scheme is not None:
        return scheme == "https"
    if getattr(source, "META", None) is not None:
        return source.is_secure()
    return (source or {}).get("scheme") in ("https", "wss")


class TrustedProxyMiddleware:
    """Puts the trusted scheme where SECURE_PROXY_SSL_HEADER reads it, before
    anything (the SSL redirect, CSRF, `next` links) asks whether a request is secure.
    With no trusted proxy it does nothing and the connection's scheme counts."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    @staticmethod
    def _mark(request) -> None:
        request.META.pop(SCHEME_KEY, None)
        scheme = forwarded_scheme(request)
        if scheme is not None:
            request.META[SCHEME_KEY] = scheme

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        self._mark(request)
        return self.get_response(request)

    async def __acall__(self, request):
        self._mark(request)
        return await self.get_response(request)
