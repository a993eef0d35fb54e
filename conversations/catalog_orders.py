"""A cart sent from WhatsApp's catalog (an `order` message) becomes the thread's cart.

The catalog's live price wins over the `item_price` the customer's phone showed,
and the customer is told when they differ; stock is checked line by line.
"""

from decimal import Decimal, InvalidOperation

from catalog import selectors as catalog
from catalog.money import amount_format, currency_exponent
from catalog.stock import available_one
from conversations.carts import CartRefusal, cart_line_add, thread_stock_holder
from conversations.models import CartLine, Thread
from waco.cloud_api.messages import OrderContent, ProductItem


def shown_price_minor(item: ProductItem) -> int | None:
    """The unit price the customer saw, in minor units of its currency; None if absent or odd."""
    if item.item_price is None or not item.currency:
        return None
    try:
        scaled = Decimal(item.item_price) * (Decimal(10) ** currency_exponent(item.currency))
    except (InvalidOperation, TypeError):
        return None
    return int(scaled.to_integral_value()) if scaled >= 0 else None


def order_to_cart(*, thread: Thread, order: OrderContent) -> list[str]:
    """Replace the cart with the order's lines; return what the customer must be told."""
    account = thread.phone_number.business_account
    notes: list[str] = []
    CartLine.objects.filter(cart__thread=thread).delete()
    for item in order.product_items:
        retailer_id = item.product_retailer_id or ""
        variant = (
            catalog.variant_by_retailer_id(business_account=account, retailer_id=retailer_id) if retailer_id else None
        )
        if variant is None or not (variant.active and variant.product.active):
            notes.append(f"• {retailer_id or 'An item'} is not sold any more and was left out.")
            continue
        name = variant.display_name
        shown = shown_price_minor(item)
        if shown is not None and (item.currency.upper() != variant.currency or shown != variant.price_minor):
            notes.append(
                f"• {name}: the catalog showed {amount_format(shown, item.currency)}; "
                f"today's price is {variant.price_display}, and that is what you pay."
            )
        quantity = max(1, item.quantity or 1)
        left = available_one(variant=variant, holder=thread_stock_holder(thread))
        if 0 < left < quantity:
            notes.append(f"• {name}: only {left} left, so {left} went in your cart.")
            quantity = left
        try:
            cart_line_add(thread=thread, variant=variant, quantity=quantity)
        except CartRefusal as refusal:
            notes.append(f"• {name}: not added, {refusal.reason}.")
    return notes
