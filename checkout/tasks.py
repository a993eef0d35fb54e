from celery import shared_task
from django.utils import timezone

from checkout import payments, reconciliation, stripe_client
from checkout.models import PaymentLink
from checkout.reminders import payment_reminders_send
from waco.backoff import backoff_delay
from waco.celery_config import QUEUE_MAINTENANCE, QUEUE_SERVICE


@shared_task(name="checkout.issue_payment_link", queue=QUEUE_SERVICE, bind=True, max_retries=40)
def issue_payment_link(self, link_id: int) -> None:
    """Create the Stripe Checkout Session of a new payment attempt, then announce the link."""
    delay = payments.payment_link_issue(link_id=link_id)
    if delay is not None:
        raise self.retry(countdown=delay.total_seconds())


@shared_task(name="checkout.reconcile_payment", queue=QUEUE_SERVICE, bind=True, max_retries=20)
def reconcile_payment(self, link_id: int, event_type: str = "") -> None:
    """A Stripe event named this link's session: re-read it from Stripe and apply what it says."""
    link = PaymentLink.objects.filter(pk=link_id).first()
    if link is None:
        return
    try:
        payments.payment_reconcile(link=link, event_type=event_type)
    except stripe_client.StripeTransientError as exc:
        delay = backoff_delay(self.request.retries + 1, base=payments.ISSUE_RETRY_BASE, cap=payments.ISSUE_RETRY_CAP)
        raise self.retry(countdown=delay.total_seconds(), exc=exc) from exc


@shared_task(name="checkout.reconcile_payments", queue=QUEUE_MAINTENANCE)
def reconcile_payments() -> None:
    """Beat: apply what Stripe's webhooks missed and expire sessions past their reservation."""
    reconciliation.payments_reconcile_due(now=timezone.now())


@shared_task(name="checkout.expire_session", queue=QUEUE_SERVICE, bind=True, max_retries=20)
def expire_session(self, session_id: str) -> None:
    """The order was abandoned: end its session at Stripe so it cannot be paid any more."""
    try:
        stripe_client.checkout_session_expire(session_id)
    except stripe_client.StripeTransientError as exc:
        raise self.retry(countdown=min(300, 5 * 2**self.request.retries), exc=exc) from exc


@shared_task(name="checkout.send_payment_reminders", queue=QUEUE_MAINTENANCE)
def send_payment_reminders() -> None:
    """Beat: remind each payment link left unused, once."""
    payment_reminders_send(now=timezone.now())
