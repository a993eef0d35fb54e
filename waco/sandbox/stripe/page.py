"""The hosted checkout page at a session's `url`: the customer's side of Stripe Checkout."""

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from waco.sandbox.models import StripePaymentIntentStatus
from waco.sandbox.stripe import payments
from waco.sandbox.stripe.api import checkout_session_get
from waco.sandbox.stripe.errors import StripeApiError

# The page's buttons, each one operation of payments.
ACTIONS = {
    "pay": lambda session_id: payments.session_pay_card(session_id=session_id),
    "decline": lambda session_id: payments.session_pay_declined(session_id=session_id),
    "pay-delayed": lambda session_id: payments.session_pay_delayed(session_id=session_id),
    "settle-succeeded": lambda session_id: payments.session_delayed_settle(session_id=session_id, succeeded=True),
    "settle-failed": lambda session_id: payments.session_delayed_settle(session_id=session_id, succeeded=False),
    "expire": lambda session_id: payments.session_leave(session_id=session_id),
}
# After these the customer goes back to the shop, as Checkout redirects to success_url.
REDIRECT_TO_SUCCESS = {"pay", "pay-delayed"}


def _session_or_404(session_id: str):
    try:
        return checkout_session_get(session_id)
    except StripeApiError:
        raise Http404("No such Checkout Session") from None


def _success_url(session) -> str:
    # Stripe fills in this template variable, so the shop can look the session up.
    return session.success_url.replace("{CHECKOUT_SESSION_ID}", session.session_id)


def _render(request, session, *, notice: str = "", status: int = 200):
    intent = session.payment_intent
    context = {
        "session": session,
        "amount": f"{session.amount_total / 100:.2f}",
        "items": [{**item, "amount": f"{item['amount_total'] / 100:.2f}"} for item in session.line_items],
        "settling": intent is not None and intent.status == StripePaymentIntentStatus.PROCESSING,
        "notice": notice,
        # Template names cannot hold a dash: pay-delayed is urls.pay_delayed.
        "urls": {
            action.replace("-", "_"): reverse("sandbox:stripe-checkout-action", args=[session.session_id, action])
            for action in ACTIONS
        },
    }
    return render(request, "sandbox/stripe/checkout.html", context, status=status)


@require_GET
def checkout_page(request, session_id):
    return _render(request, _session_or_404(session_id))


@require_POST
def checkout_action(request, session_id, action):
    if action not in ACTIONS:
        raise Http404("No such action")
    _session_or_404(session_id)
    try:
        session = ACTIONS[action](session_id)
    except payments.PaymentRefused as exc:
        return _render(request, _session_or_404(session_id), notice=str(exc), status=409)
    if action in REDIRECT_TO_SUCCESS:
        return HttpResponseRedirect(_success_url(session))
    notice = payments.DECLINE_MESSAGE if action == "decline" else ""
    return _render(request, _session_or_404(session_id), notice=notice)
