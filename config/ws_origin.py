"""Origin check for WebSockets.

Browsers always send `Origin` on a WebSocket handshake, so a cross-site page
(the only way a portal session cookie could be abused) is refused when its
origin is not one of ALLOWED_HOSTS. Programs (integrators with `?token=`) often
send no Origin at all; with no browser involved there is nothing to forge, so a
handshake without Origin is let through to authentication.
"""

from channels.security.websocket import OriginValidator
from django.conf import settings


class BrowserOriginValidator(OriginValidator):
    def valid_origin(self, parsed_origin):
        if parsed_origin is None:
            return True
        return self.validate_origin(parsed_origin)


def AllowedHostsOriginValidator(application):  # noqa: N802 - mirrors channels' own helper
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
    return BrowserOriginValidator(application, allowed_hosts)
