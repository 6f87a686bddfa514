"""DRF throttles that know the client by core.proxy.client_ip, not by DRF's own
reading of X-Forwarded-For (which, without NUM_PROXIES, keys on whatever the client
sends and so lets it pick a fresh bucket per request)."""

from rest_framework import throttling

from core.proxy import client_ip


class ClientAddressMixin:
    def get_ident(self, request):
        return client_ip(request)


class AnonRateThrottle(ClientAddressMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(ClientAddressMixin, throttling.UserRateThrottle):
    pass


class ScopedRateThrottle(ClientAddressMixin, throttling.ScopedRateThrottle):
    pass
