"""Business metrics exported at /metrics next to django-prometheus' own, and the
guarded /metrics view.

Names (API.md): ``insurance_policies_created_total``,
``insurance_claims_processed_total{status}``, and the ``insurance_premium_amount`` /
``insurance_claim_amount`` histograms.

With DEBUG off, /metrics is not public: it answers a client on a loopback or private
address (as core.proxy.client_ip tells it), or any client sending
``Authorization: Bearer <METRICS_TOKEN>``.
"""

import hmac
import ipaddress

from django.conf import settings
from django.core.cache.backends import locmem
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_prometheus.cache.metrics import (
    django_cache_get_total,
    django_cache_hits_total,
    django_cache_misses_total,
)
from django_prometheus.exports import ExportToDjangoView
from prometheus_client import Counter, Histogram

from core.proxy import client_ip, trusted_proxy_count

_MONEY_BUCKETS = (100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000,
                  250_000, 1_000_000)

policies_created = Counter(
    "insurance_policies_created", "Policies created.", ["policy_type"]
)
claims_processed = Counter(
    "insurance_claims_processed", "Claims moved to a new status.", ["status"]
)
premium_amount = Histogram(
    "insurance_premium_amount", "Premium of created policies.", buckets=_MONEY_BUCKETS
)
claim_amount = Histogram(
    "insurance_claim_amount", "Amount of reported claims.", buckets=_MONEY_BUCKETS
)

# Loopback and private networks (RFC 1918, shared address space, IPv6 unique local).
_PRIVATE_NETWORKS = tuple(ipaddress.ip_network(net) for net in (
    "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
    "::1/128", "fc00::/7",
))
# Requests that went through a reverse proxy carry one of these; a direct scrape does not.
_FORWARDING_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def _from_private_network(request) -> bool:
    """The client (core.proxy.client_ip: the peer, or behind TRUSTED_PROXY_COUNT
    proxies the address they saw) is on a loopback or private network. With no
    trusted proxy, a request carrying forwarding headers came through a proxy nobody
    declared, whose own private address says nothing about the client: refused."""
    if not trusted_proxy_count() and any(request.META.get(h) for h in _FORWARDING_HEADERS):
        return False
    address = client_ip(request)
    if not address:
        return False
    address = ipaddress.ip_address(address)
    return any(address in network for network in _PRIVATE_NETWORKS
               if network.version == address.version)


def _has_token(request) -> bool:
    expected = getattr(settings, "METRICS_TOKEN", "")
    scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if not expected or scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def metrics_allowed(request) -> bool:
    return settings.DEBUG or _has_token(request) or _from_private_network(request)


@never_cache
@require_GET
def metrics_view(request):
    if not metrics_allowed(request):
        response = HttpResponse(
            "Metrics need a bearer token or a direct request from a private network.\n",
            status=401, content_type="text/plain; charset=utf-8",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return ExportToDjangoView(request)


class LocMemCache(locmem.LocMemCache):
    """Local-memory cache counting gets, hits and misses like django-prometheus' own
    backends (its locmem one returns the default for cached falsy values)."""

    def get(self, key, default=None, version=None):
        django_cache_get_total.labels(backend="locmem").inc()
        missing = object()
        value = super().get(key, missing, version)
        if value is missing:
            django_cache_misses_total.labels(backend="locmem").inc()
            return default
        django_cache_hits_total.labels(backend="locmem").inc()
        return value
