"""End-to-end checkout steps on the sandbox (Meta and Stripe over HTTP, a real worker): shared by the
checkout tests that need a paid order made the way a customer makes one."""

from checkout.models import Order, PaymentLink
from tests.support.shopper import text_of
from tests.workers import wait_until
from waco.sandbox import services as sandbox


def receipts(shopper) -> list[dict]:
    return [item for item in shopper.outbox() if "Payment received" in text_of(item)]


def checkout(worker_shop, shopper) -> tuple[Order, PaymentLink, str]:
    """Two Ms in the cart, checkout, and the payment link from the CTA button in the sandbox's outbox."""
    m = worker_shop.variants["M"]
    shopper.taps(f"add:{m.pk}")
    shopper.taps(f"add:{m.pk}")
    shopper.taps("checkout", replies=2)  # "reserved for you", then the link once Stripe has the session
    cta = wait_until(
        lambda: next((i for i in shopper.outbox() if i.get("interactive", {}).get("type") == "cta_url"), None),
        message="the payment link in the outbox",
    )
    url = cta["interactive"]["action"]["parameters"]["url"]
    order = Order.objects.get(contact__wa_id=shopper.wa_id)
    return order, order.payment_links.get(), url


def stripe_events_delivered() -> None:
    sandbox.deliveries_flush(horizon_seconds=5)
