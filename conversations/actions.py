"""The dialogue's actions, one per request name: browse, cart, checkout, handoff, consent.

Each runs under the thread's row lock, inside the webhook event's transaction.
"""

from django.utils import timezone

from catalog import selectors as catalog
from catalog.models import Category, Product, Variant
from catalog.money import amount_format
from checkout import payments as checkout_payments
from checkout import services as checkout
from checkout.models import LinkStatus
from conversations import replies, staff
from conversations.carts import CartRefusal, cart_line_add, cart_line_remove, cart_summary, thread_stock_holder
from conversations.catalog_orders import order_to_cart
from conversations.models import Cart, CartLine, Thread, ThreadState
from conversations.turn import Turn
from waco.alerts.models import AlertSeverity
from waco.alerts.services import alert_raise
from waco.contacts import services as contacts
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentSource


def _menu(turn: Turn) -> None:
    turn.say(replies.menu(turn.shop_name))
    _ask_consent_once(turn)


def unknown(turn: Turn) -> None:
    turn.say(replies.help_menu(turn.shop_name))


def _media(turn: Turn) -> None:
    turn.say(replies.media_received(turn.event.type or "", turn.shop_name))


def _categories(turn: Turn) -> None:
    categories = list(catalog.categories_for(business_account=turn.account))
    turn.say(replies.categories_page(categories, page=turn.request.page))


def _category(turn: Turn) -> None:
    category = Category.objects.filter(pk=turn.request.arg, business_account=turn.account).first()
    if category is None:
        return _categories(turn)
    page = catalog.products_in(category=category, page=turn.request.page)
    turn.say(replies.products_page(category, page.items, page=turn.request.page, has_more=page.has_more))


def _product_by_id(turn: Turn, product_id=None) -> Product | None:
    """The product with its variants' availability, counting what this customer holds."""
    return catalog.product_with_stock(
        business_account=turn.account,
        product_id=product_id or turn.request.arg,
        holder=thread_stock_holder(turn.thread),
    )


def _product(turn: Turn, product: Product | None = None) -> None:
    product = product or _product_by_id(turn)
    if product is None or not product.active:
        return turn.say(
            replies.menu(turn.shop_name, greeting="Sorry, that product is no longer sold. What else can I show you?")
        )
    turn.say(replies.product_card(product))


def _product_question(turn: Turn) -> None:
    variant = catalog.variant_by_retailer_id(business_account=turn.account, retailer_id=str(turn.request.arg))
    _product(turn, _product_by_id(turn, variant.product_id) if variant else None)


def _options(turn: Turn) -> None:
    product = _product_by_id(turn)
    if product is None or not product.active:
        return _product(turn, product)
    turn.say(replies.variant_choice(product))


def _leave_payment(turn: Turn) -> None:
    """Back to the cart from a payment step: the unpaid order ends, its stock and Stripe session with it."""
    if turn.thread.state != ThreadState.AWAITING_PAYMENT:
        return
    order = checkout.order_pending(contact=turn.thread.contact, phone_number=turn.thread.phone_number)
    if order is not None:
        checkout_payments.order_abandon(order=order, cause="customer")
    turn.move("return_to_cart")


def _after_cart_change(turn: Turn) -> None:
    """The cart changed: an open payment step is void; the state follows the cart."""
    _leave_payment(turn)
    has_lines = CartLine.objects.filter(cart__thread=turn.thread).exists()
    if has_lines and turn.thread.state == ThreadState.BROWSING:
        turn.move("start_cart")
    elif not has_lines and turn.thread.state == ThreadState.BUILDING_CART:
        turn.move("empty_cart")


def _fulfilment_in_progress(turn: Turn) -> bool:
    if turn.thread.state != ThreadState.AWAITING_FULFILLMENT:
        return False
    turn.say(
        replies.buttons_reply(
            "Your paid order is being prepared. You can start a new cart once it has been delivered.",
            [("agent", "Talk to a person")],
        )
    )
    return True


def _add(turn: Turn) -> None:
    if _fulfilment_in_progress(turn):
        return
    variant = (
        Variant.objects.filter(pk=turn.request.arg, product__business_account=turn.account)
        .select_related("product")
        .first()
    )
    if variant is None:
        return unknown(turn)
    try:
        cart_line_add(thread=turn.thread, variant=variant, quantity=1)
        note = f"Added {variant.display_name}."
    except CartRefusal as refusal:
        note = f"Sorry, I could not add that: {refusal.reason}."
    turn.thread.refresh_from_db()
    _after_cart_change(turn)
    turn.show_cart(note)


def _remove(turn: Turn) -> None:
    variant = (
        Variant.objects.filter(pk=turn.request.arg, product__business_account=turn.account)
        .select_related("product")
        .first()
    )
    removed = variant is not None and cart_line_remove(thread=turn.thread, variant=variant)
    if removed:
        _after_cart_change(turn)
    note = f"Removed {variant.display_name}." if removed else "That item was not in your cart."
    turn.show_cart(note)


def _remove_list(turn: Turn) -> None:
    summary = cart_summary(thread=turn.thread)
    turn.say(replies.remove_choice(summary)) if summary.lines else turn.show_cart()


def _cart(turn: Turn) -> None:
    turn.show_cart()


def _back(turn: Turn) -> None:
    _leave_payment(turn)
    turn.show_cart()


def _checkout(turn: Turn) -> None:
    """Place the order at live prices and stock; the payment link follows once Stripe has the session."""
    if _fulfilment_in_progress(turn):
        return
    thread = turn.thread
    if thread.state == ThreadState.AWAITING_PAYMENT:
        return _payment_again(turn)
    summary = cart_summary(thread=thread)
    lines = [checkout.WantedLine(line.variant, line.quantity) for line in summary.lines if line.available]
    if not lines:
        return turn.show_cart("There is nothing in your cart that can be bought right now." if summary.lines else "")
    seen = Cart.objects.filter(thread=thread).values_list("seen_total_minor", flat=True).first()
    try:
        order, _ = checkout.order_place(
            contact=thread.contact, phone_number=thread.phone_number, lines=lines, seen_total_minor=seen
        )
    except checkout.PricesChanged:
        return turn.show_cart(build=replies.cart_changed_at_checkout)
    except checkout.CheckoutRefusal as refusal:
        return turn.say(replies.checkout_refused(summary, refusal.reason))
    if thread.state == ThreadState.BROWSING:  # a kept cart after the window closed
        turn.move("start_cart")
    turn.move("request_payment")
    minutes = int(checkout.link_lifetime().total_seconds() // 60)
    turn.say(replies.order_placed(order.reference, amount_format(order.total_minor, order.currency), minutes))


def _payment_again(turn: Turn) -> None:
    """Checkout tapped again while a link is out: send that link again rather than a second order."""
    order = checkout.order_pending(contact=turn.thread.contact, phone_number=turn.thread.phone_number)
    link = checkout.order_open_link(order=order) if order else None
    if link is None:  # the attempt ended meanwhile: back to the cart, from where a new order starts
        turn.move("return_to_cart")
        return _checkout(turn)
    if link.status != LinkStatus.OPEN:
        return turn.say(replies.payment_pending(order.reference))
    turn.say(
        replies.pay_link(
            reference=order.reference,
            total_display=amount_format(order.total_minor, order.currency),
            url=checkout_payments.link_url(link),
            expires_at=replies.clock(link.expires_at),
        )
    )


def _order(turn: Turn) -> None:
    if _fulfilment_in_progress(turn):
        return
    notes = order_to_cart(thread=turn.thread, order=turn.event.content)
    turn.thread.refresh_from_db()
    _after_cart_change(turn)
    intro = "Here is your order from the catalog, at today's prices."
    turn.show_cart("\n".join([intro, *notes]))


def _agent(turn: Turn) -> None:
    turn.move("hand_to_person")
    alert_raise(
        kind=staff.HANDOFF_ALERT,
        subject=f"{turn.thread.contact} on {turn.thread.phone_number.display_phone_number}",
        detail="The customer asked for a person; the bot is silent until staff hand the thread back.",
        severity=AlertSeverity.WARNING,
        link=staff.thread_admin_path(turn.thread),
    )
    turn.say(replies.handed_to_person())


def record_consent(turn: Turn, *, granted: bool) -> None:
    contacts.consent_record(
        contact=turn.thread.contact,
        category=ConsentCategory.MARKETING,
        action=ConsentAction.OPT_IN if granted else ConsentAction.OPT_OUT,
        source=ConsentSource.THREAD,
        recorded_at=turn.at,
        reference=f"message:{turn.wamid}",
    )


def _stop(turn: Turn) -> None:
    record_consent(turn, granted=False)
    turn.say(replies.stop_confirmed())


def _consent(turn: Turn) -> None:
    granted = turn.request.name == "consent_yes"
    record_consent(turn, granted=granted)
    turn.say(replies.consent_confirmed(granted))


def _ask_consent_once(turn: Turn) -> None:
    """Ask about offers once per thread, and never someone who already answered anywhere."""
    if turn.thread.consent_asked_at is not None:
        return
    if contacts.consent_current(contact=turn.thread.contact, category=ConsentCategory.MARKETING) is None:
        turn.say(replies.consent_question())
    Thread.objects.filter(pk=turn.thread.pk).update(consent_asked_at=timezone.now())


ACTIONS = {
    "menu": _menu,
    "unknown": unknown,
    "media": _media,
    "categories": _categories,
    "category": _category,
    "product": _product,
    "product_question": _product_question,
    "options": _options,
    "add": _add,
    "remove": _remove,
    "remove_list": _remove_list,
    "cart": _cart,
    "back": _back,
    "checkout": _checkout,
    "order": _order,
    "agent": _agent,
    "stop": _stop,
    "consent_yes": _consent,
    "consent_no": _consent,
}
