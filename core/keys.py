"""Key material from the environment.

Platforms generate secrets in their own shape (hex, standard base64, ...), while
Fernet wants exactly 32 url-safe base64 bytes. A configured value that is a valid
Fernet key is used as is; any other value of at least 32 characters is treated as a
high-entropy secret and the Fernet key is derived from it with HKDF-SHA256 (the same
secret always gives the same key, so data stays readable across restarts).
"""

import base64
import binascii

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"insurance-backoffice field encryption v1"
MIN_SECRET_LENGTH = 32


def is_fernet_key(value: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(value.encode())) == 32 and len(value) == 44
    except (binascii.Error, ValueError):
        return False


def fernet_key(value: str) -> str:
    value = value.strip()
    if is_fernet_key(value):
        return value
    if len(value) < MIN_SECRET_LENGTH:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "Each FIELD_ENCRYPTION_KEYS entry must be a Fernet key or a random secret of "
            f"at least {MIN_SECRET_LENGTH} characters.")
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        value.encode())
    return base64.urlsafe_b64encode(derived).decode()
