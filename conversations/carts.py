"""Carts: lines by variant and quantity; prices and stock read live every time."""

from dataclasses import dataclass

from django.db import transaction

from catalog.models import Variant
from catalog.money import amount_format
from catalog.stock import availability_for, available_one
from checkout import services as checkout
from conversations.models import Cart, CartLine, Thread


class CartRefusal(Exception):
    """The line cannot go in the cart as asked; `reason` is what the customer is told."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CartLineView:
    variant: Variant
    quantity: int
    unit_price_minor: int
    line_total_minor: int
    units_left: int  # catalog.stock's available figure, counting what this customer holds
    available: bool  # active and enough stock right now


@dataclass(frozen=True)
class CartSummary:
    lines: list[CartLineView]
    total_minor: int
    currency: str

    @property
    def total_display(self) -> str:
        return amount_format(self.total_minor, self.currency) if self.currency else ""

    @property
    def unavailable(self) -> list[CartLineView]:
        return [line for line in self.lines if not line.available]


def thread_stock_holder(thread: Thread) -> str | None:
    """The stock the customer's unpaid order holds is theirs to see as available."""
    order = checkout.order_pending(contact=thread.contact, phone_number=thread.phone_number)
    return checkout.stock_holder(order) if order else None


@transaction.atomic
def cart_line_add(*, thread: Thread, variant: Variant, quantity: int = 1) -> CartLine:
    """Add `quantity` of a variant, refusing what the shop cannot sell now."""
    if quantity < 1:
        raise CartRefusal("the quantity must be at least 1")
    cart, _ = Cart.objects.get_or_create(thread=thread)
    live = Variant.objects.select_related("product").get(pk=variant.pk)
    line = CartLine.objects.select_for_update().filter(cart=cart, variant=live).first()
    wanted = quantity + (line.quantity if line else 0)
    if not (live.active and live.product.active):
        raise CartRefusal(f"{live.product.name} is no longer sold")
    available = available_one(variant=live, holder=thread_stock_holder(thread))
    if available == 0:
        raise CartRefusal(f"{live.display_name} is sold out")
    if available < wanted:
        raise CartRefusal(f"only {available} of {live.display_name} left")
    other = cart.lines.exclude(variant=live).select_related("variant").first()
    if other and other.variant.currency != live.currency:
        raise CartRefusal("a cart holds one currency")
    if line:
        line.quantity = wanted
        line.save(update_fields=["quantity"])
        return line
    return CartLine.objects.create(cart=cart, variant=live, quantity=quantity)


def cart_line_remove(*, thread: Thread, variant: Variant) -> bool:
    return CartLine.objects.filter(cart__thread=thread, variant=variant).delete()[0] > 0


def cart_summary(*, thread: Thread) -> CartSummary:
    """What the customer is shown: every line at today's price and stock."""
    lines = list(CartLine.objects.filter(cart__thread=thread).select_related("variant__product"))
    holder = thread_stock_holder(thread) if lines else None
    left = availability_for(variant_ids=[line.variant_id for line in lines], holder=holder) if lines else {}
    views = [
        CartLineView(
            variant=line.variant,
            quantity=line.quantity,
            unit_price_minor=line.variant.price_minor,
            line_total_minor=line.variant.price_minor * line.quantity,
            units_left=left.get(line.variant_id, 0),
            available=(
                line.variant.active and line.variant.product.active and left.get(line.variant_id, 0) >= line.quantity
            ),
        )
        for line in lines
    ]
    currency = views[0].variant.currency if views else ""
    return CartSummary(
        lines=views, total_minor=sum(v.line_total_minor for v in views if v.available), currency=currency
    )
