"""Encryption at rest for secrets kept in the database (access tokens).

Keys come from WACO_FIELD_ENCRYPTION_KEY, a comma-separated list: the first
encrypts, all decrypt, so a key can be rotated without downtime. Any string
works as a key: it is stretched to a Fernet key with SHA-256.
"""

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

__all__ = ["EncryptedTextField", "InvalidToken", "decrypt", "encrypt", "needs_rotation"]


def _fernet_key(secret: str) -> bytes:
    return base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest())


@lru_cache(maxsize=4)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_fernet_key(k)) for k in keys])


def _current_cipher() -> MultiFernet:
    return _cipher(tuple(settings.WACO_FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return _current_cipher().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    """Raises InvalidToken when no configured key opened it (wrong key or tampering)."""
    return _current_cipher().decrypt(ciphertext.encode()).decode()


def needs_rotation(ciphertext: str) -> bool:
    """True when only a later key opens it; raises InvalidToken when none does."""
    keys = tuple(settings.WACO_FIELD_ENCRYPTION_KEYS)
    try:
        _cipher(keys[:1]).decrypt(ciphertext.encode())
        return False
    except InvalidToken:
        _cipher(keys).decrypt(ciphertext.encode())
        return True


class EncryptedTextField(models.TextField):
    """A text column holding Fernet ciphertext; Python code sees the plaintext.

    Not searchable or orderable by value, by design.
    """

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
