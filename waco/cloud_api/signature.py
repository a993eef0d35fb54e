"""X-Hub-Signature-256: HMAC-SHA256 of the raw request body with the Meta app secret."""

import hashlib
import hmac
import string
from collections.abc import Iterable

from django.conf import settings

SIGNATURE_HEADER = "X-Hub-Signature-256"
PREFIX = "sha256="
# A SHA-256 digest is 32 bytes, 64 hex characters.
_HEX_LENGTH = 64
_HEX_DIGITS = frozenset(string.hexdigits)


def sign(body: bytes, secret: str) -> str:
    """The header value Meta would send for this body: "sha256=<hex>"."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return PREFIX + digest


def verify_signature(body: bytes, header: str | None, secrets: Iterable[str] | None = None) -> bool:
    """True when the header matches the body under any of the secrets.

    Several secrets let an app secret be rotated without dropping deliveries;
    without `secrets`, settings.WACO_META_APP_SECRETS (a list) is used.
    The body must be the raw bytes as received: re-serialised JSON differs.
    Malformed headers return False; this never raises.
    """
    if not isinstance(header, str) or not isinstance(body, (bytes, bytearray)):
        return False
    if not header.startswith(PREFIX):
        return False
    received = header[len(PREFIX) :].strip().lower()
    if len(received) != _HEX_LENGTH or not set(received) <= _HEX_DIGITS:
        return False
    if secrets is None:
        secrets = settings.WACO_META_APP_SECRETS
    if isinstance(secrets, str):  # one secret passed bare must not become its characters
        secrets = [secrets]
    matched = False
    for secret in secrets:
        if not isinstance(secret, str) or not secret:
            continue
        # No early exit: the time taken does not tell which secret matched.
        matched |= hmac.compare_digest(sign(bytes(body), secret)[len(PREFIX) :], received)
    return matched
