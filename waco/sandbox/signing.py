"""How the sandbox signs what it delivers: as Meta signs its webhooks and as Stripe signs its events.

Signed at each delivery attempt, not at creation: Waco checks a Stripe signature's
timestamp against a tolerance (300 s by default), and a retry hours later must still pass.
"""

import hashlib
import hmac
import time

from django.conf import settings


def signature(body: bytes) -> str:
    """X-Hub-Signature-256 as Meta computes it: HMAC-SHA256 of the raw body with the app secret."""
    secret = settings.WACO_META_APP_SECRETS[0]
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def stripe_signature_header(body: bytes, *, timestamp: int | None = None) -> str:
    """`t=<ts>,v1=<hex HMAC-SHA256(webhook secret, "<ts>.<raw body>")>`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + body
    # The first secret signs, as Stripe signs with the newest during a rotation.
    digest = hmac.new(settings.WACO_STRIPE_WEBHOOK_SECRETS[0].encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
