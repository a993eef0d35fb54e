"""The Stripe-Signature header, computed as Stripe does for every delivery attempt.

Signed at send time, not at creation: Waco checks the timestamp against a
tolerance (300 s by default), and a retry hours later must still pass.
"""

import hashlib
import hmac
import time

from django.conf import settings


def stripe_signature_header(body: bytes, *, timestamp: int | None = None) -> str:
    """`t=<ts>,v1=<hex HMAC-SHA256(webhook secret, "<ts>.<raw body>")>`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + body
    # The first secret signs, as Stripe signs with the newest during a rotation.
    digest = hmac.new(settings.WACO_STRIPE_WEBHOOK_SECRETS[0].encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
