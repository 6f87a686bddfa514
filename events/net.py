"""Outbound webhook HTTP: URL rules against server-side request forgery, and one POST.

In production a target must be ``https`` and every address its host resolves to must
be public (not private, loopback, link-local, shared, reserved or multicast). The
check runs when an endpoint is registered and again at each delivery, and the
connection goes to the address that was checked (with the host name kept for TLS
and the Host header), so a DNS answer that changes in between cannot redirect a
delivery to an internal service. ``WEBHOOK_ALLOW_PRIVATE_URLS`` lifts both rules.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings

MAX_RESPONSE_BYTES = 64 * 1024


class UnsafeURL(ValueError):
    pass


def _private_allowed() -> bool:
    return bool(settings.WEBHOOK_ALLOW_PRIVATE_URLS)


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked IP to connect to


def target_for(url: str) -> Target:
    """Parse, resolve and check ``url``; raise UnsafeURL naming the problem."""
    parts = urlsplit(url)
    scheme = (parts.scheme or "").lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL("The URL must be an absolute http(s) URL.")
    if parts.username or parts.password:
        raise UnsafeURL("The URL must not carry credentials.")
    private_ok = _private_allowed()
    if scheme != "https" and not private_ok:
        raise UnsafeURL("The URL must use https.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeURL("The URL's port is not valid.") from exc
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL("The URL's host name does not resolve.") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses:
        raise UnsafeURL("The URL's host name does not resolve.")
    if not private_ok and not all(_is_public(a) for a in addresses):
        raise UnsafeURL("The URL must not point to a private, loopback or link-local address.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=scheme, host=parts.hostname, port=port, path=path,
                  address=str(addresses[0]))


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(url: str, *, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST ``body`` once. Never raises; never follows redirects. At most 64 KiB of
    the response is read, and it is thrown away (never stored, never logged)."""
    started = time.monotonic()

    def done(status_code=None, error=""):
        return Outcome(status_code, error[:200], int((time.monotonic() - started) * 1000))

    try:
        target = target_for(url)
    except UnsafeURL as exc:
        return done(error=f"refused: {exc}")
    timeout = urllib3.Timeout(total=float(settings.WEBHOOK_TIMEOUT_SECONDS))
    host_header = target.host if ":" not in target.host else f"[{target.host}]"
    default_port = 443 if target.scheme == "https" else 80
    if target.port != default_port:
        host_header = f"{host_header}:{target.port}"
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.address, target.port, timeout=timeout, retries=False, maxsize=1,
            server_hostname=target.host, assert_hostname=target.host, cert_reqs="CERT_REQUIRED")
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, timeout=timeout,
                                          retries=False, maxsize=1)
    try:
        response = pool.urlopen(
            "POST", target.path, body=body,
            headers={**headers, "Host": host_header, "Content-Type": "application/json",
                     "User-Agent": "insurance-backoffice-webhooks/1"},
            redirect=False, retries=False, preload_content=False, assert_same_host=False)
        try:
            response.read(MAX_RESPONSE_BYTES)
        except Exception:  # noqa: BLE001 - the body does not matter, the status does
            pass
        finally:
            response.close()
        return done(status_code=response.status)
    except urllib3.exceptions.TimeoutError:
        return done(error="timeout")
    except Exception as exc:  # noqa: BLE001 - a failed attempt is recorded, then retried
        return done(error=exc.__class__.__name__)
    finally:
        pool.close()
