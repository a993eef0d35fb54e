"""Beat's reconciliation: what Stripe's webhooks missed, found from the rows (checkout.reconcile_payments)."""

import logging
from datetime import datetime, timedelta

from checkout import late_payments, late_refunds, stripe_client
from checkout.models import LinkStatus, PaymentLink
from checkout.payments import ISSUE_STALE_AFTER, payment_reconcile
from checkout.services import payment_link_issue_enqueue

logger = logging.getLogger(__name__)


def payments_reconcile_due(*, now: datetime, batch: int = 100) -> dict[str, int]:
    """Beat: what webhooks missed. Re-issue lost creates, expire overdue sessions at Stripe,
    re-read open sessions, closed links not yet final and those named by undelivered events;
    send late-payment refunds Stripe has not yet confirmed."""
    counts = {"reissued": 0, "expired": 0, "reread": 0}
    for link in PaymentLink.objects.filter(status=LinkStatus.ISSUING, created_at__lt=now - ISSUE_STALE_AFTER)[:batch]:
        payment_link_issue_enqueue(link)
        counts["reissued"] += 1
    for link in PaymentLink.objects.filter(status=LinkStatus.OPEN).order_by("expires_at")[:batch]:
        try:
            if link.expires_at <= now:
                stripe_client.checkout_session_expire(link.stripe_session_id)  # "already expired or paid" is fine
                counts["expired"] += 1
            payment_reconcile(link=link, now=now)
            counts["reread"] += 1
        except stripe_client.StripeClientError:
            logger.warning("reconciling %s failed; the next run tries again", link, exc_info=True)
    counts["rechecked"] = late_payments.closed_links_recheck(now=now, batch=batch)
    counts["refunds_sent"] = late_refunds.late_refunds_retry(now=now, batch=batch)
    since = now - timedelta(days=3)
    for event in stripe_client.events_undelivered(since=since):
        link = PaymentLink.objects.filter(stripe_session_id=event.object_id).first()
        if link and link.status == LinkStatus.OPEN:
            payment_reconcile(link=link, event_type=event.type, now=now)
            counts["reread"] += 1
    return counts
