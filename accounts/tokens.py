"""Revoked token families, as the access-token check sees them.

A family's refresh tokens are checked against the database (accounts.models.
TokenFamily). Its access tokens live at most ACCESS_TOKEN_LIFETIME and are checked
on every API call and WebSocket connection, so their revocation is a mark in the
shared cache for that long: one cache read per call, no query. If the cache is
unreachable the mark cannot be read and such an access token keeps working until
it expires (minutes); its family can still not be refreshed.
"""

import logging

from django.core.cache import cache
from rest_framework_simplejwt.settings import api_settings as jwt_settings

FAMILY_CLAIM = "fam"

logger = logging.getLogger("insurance.auth")


def _key(family_id: str) -> str:
    return f"jwt:revoked-family:{family_id}"


def mark_family_revoked(family_id) -> None:
    timeout = int(jwt_settings.ACCESS_TOKEN_LIFETIME.total_seconds()) + 60
    try:
        cache.set(_key(str(family_id)), 1, timeout=timeout)
    except Exception:  # noqa: BLE001 - the database revocation already holds
        logger.warning("auth.family_mark_failed", extra={"event": "auth.family_mark_failed",
                                                         "family_id": str(family_id)})


def family_revoked(family_id) -> bool:
    try:
        return bool(cache.get(_key(str(family_id))))
    except Exception:  # noqa: BLE001 - see the module docstring
        return False
