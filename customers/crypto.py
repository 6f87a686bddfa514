"""Authenticated encryption (Fernet) of personal data at rest.

Keys come from FIELD_ENCRYPTION_KEYS (never SECRET_KEY): the first encrypts,
every key is tried to decrypt, so keys can be rotated without downtime.
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "enc1:"


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must hold at least one Fernet key.")
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return PREFIX + fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    if not token.startswith(PREFIX):
        raise ValueError("Value is not an encrypted token.")
    try:
        return fernet().decrypt(token[len(PREFIX):].encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "An encrypted value could not be decrypted with any configured key."
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypt under the first (newest) key."""
    return PREFIX + fernet().rotate(token[len(PREFIX):].encode()).decode()
