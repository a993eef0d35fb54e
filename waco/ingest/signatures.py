"""Webhooks refused for their signature are counted, and alert past a threshold.

A rotated Meta app secret or Stripe webhook secret that Waco was not given makes
every webhook fail its signature: without this, deliveries would stop unnoticed.
Counting is one Redis round trip and never raises, so the refusal stays cheap; the
alert is raised at most once per window. A signed webhook of the same source received
after the last refusal (seen by the inbox drain, not the request) resolves it and starts
the count again: refusals while Meta's own webhooks pass are noise, not a wrong secret.
"""

import logging
import time
from datetime import datetime

from django.conf import settings

from waco.alerts.models import AlertSeverity
from waco.alerts.services import alert_raise, alert_resolve
from waco.flags import flag_clear, flag_set_if_absent, recent_times, recent_times_push
from waco.ingest.models import DeliverySource

logger = logging.getLogger(__name__)

ALERT_KIND = "webhook_signature_failures"
# Where staff look when the alert comes.
SECRET_SETTINGS = {DeliverySource.META: "WACO_META_APP_SECRET", DeliverySource.STRIPE: "WACO_STRIPE_WEBHOOK_SECRET"}


def _failures_key(source: str) -> str:
    return f"waco:webhook-signature-failures:{source}"


def _alerted_key(source: str) -> str:
    return f"waco:webhook-signature-alerted:{source}"


def alert_subject(source: str) -> str:
    return f"{DeliverySource(source).label} webhooks"


def signature_failed(*, source: str) -> None:
    """Count one webhook refused for its signature; alert when the threshold is reached within the window."""
    threshold = settings.WACO_WEBHOOK_SIGNATURE_ALERT_FAILURES
    window = settings.WACO_WEBHOOK_SIGNATURE_ALERT_SECONDS
    now = time.time()
    try:
        times = recent_times_push(_failures_key(source), now, keep=threshold, ttl_seconds=window)
        if sum(1 for t in times if t > now - window) < threshold:
            return
        if not flag_set_if_absent(_alerted_key(source), window):  # raised (or refreshed) within the window
            return
        alert_raise(
            kind=ALERT_KIND,
            subject=alert_subject(source),
            severity=AlertSeverity.CRITICAL,
            detail=f"{threshold} or more webhooks refused for their signature within {window} s. If the secret "
            f"was rotated, put the new one first in {SECRET_SETTINGS[source]} (the old one may follow).",
        )
    except Exception:  # the refusal must go out whatever happens here
        logger.warning("cannot count a %s signature failure", source, exc_info=True)


def signed_deliveries_processed(*, source: str, latest_received_at: datetime) -> None:
    """Signed webhooks pass again: forget the refusals before them and resolve the alert."""
    try:
        times = recent_times(_failures_key(source))
        if not times or times[0] >= latest_received_at.timestamp():
            return
        flag_clear(_failures_key(source))
        flag_clear(_alerted_key(source))
        alert_resolve(kind=ALERT_KIND, subject=alert_subject(source))
    except Exception:  # never worth failing the inbox drain for
        logger.warning("cannot resolve %s signature failures", source, exc_info=True)
