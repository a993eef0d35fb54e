"""The dialogue: one inbound message -> at most one transition and its replies.

Runs inside the webhook event's transaction (ingest applies handlers there), so
the dedupe key, the thread's message, the transition and the queued replies
commit together or not at all. The thread row is locked for the whole turn, so
two messages of one customer are handled one after the other.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from catalog import selectors as catalog
from catalog.money import amount_format
from checkout import payments as checkout_payments
from checkout import services as checkout
from checkout.models import LinkStatus
from catalog.models import Category, Product, Variant
from conversations import replies, services
from conversations.carts import CartRefusal, cart_line_add, cart_line_remove, cart_summary
from conversations.catalog_orders import order_to_cart
from conversations.intents import Request, request_from
from conversations.models import CART_STATES, Cart, CartLine, Direction, InboundMedia, Thread, ThreadMessage, ThreadState, TransitionCause
from conversations.services import thread_transition
from outbound.models import AlertSeverity
from outbound.services import alert_raise
from waco.channels.models import PhoneNumber
from waco.cloud_api import messages as m
from waco.contacts import services as contacts
from waco.contacts.handlers import contact_from_identity
from waco.contacts.models import SERVICE_WINDOW, ConsentAction, ConsentCategory, ConsentSource
from waco.dispatch import send_task_or_log

# Requests that still make sense after the window closed; anything else first sees the kept cart.
FRESH_REQUESTS = frozenset({"order", "stop", "agent", "consent_yes", "consent_no", "product_question"})


@dataclass
class Turn:
    """One inbound message being answered: the locked thread and what it asked."""

    thread: Thread
    request: Request
    wamid: str
    at: datetime  # Meta's timestamp of the message
    event: object

    @property
    def account(self):
        return self.thread.phone_number.business_account

    @property
    def shop_name(self) -> str:
        return self.thread.phone_number.verified_name or self.account.name

    def move(self, name: str, cause: str = TransitionCause.CUSTOMER) -> None:
        self.thread = thread_transition(thread=self.thread, name=name, cause=cause, detail=self.wamid)

    def say(self, reply: replies.Reply) -> None:
        services.thread_reply(thread=self.thread, content=reply.content, text=reply.text)

    def show_cart(self, note: str = "", *, build=replies.cart) -> None:
        """Say the cart at today's prices and remember the total shown: checkout holds the customer to it."""
        summary = cart_summary(thread=self.thread)
        Cart.objects.filter(thread=self.thread).update(seen_total_minor=summary.total_minor if summary.lines else None)
        self.say(build(summary, note=note) if note else build(summary))


def message_handle(*, event, phone_number: PhoneNumber, now: datetime | None = None) -> None:
    """Record the customer's message, mark it read, and answer it (unless a person has the thread)."""
    now = now or timezone.now()
    contact = contact_from_identity(event.sender)
    if contact is None:
        return
    thread = services.thread_for(contact=contact, phone_number=phone_number)
    thread = Thread.objects.select_for_update().select_related("phone_number__business_account", "contact").get(pk=thread.pk)
    at = event.timestamp or now
    previous_inbound = (
        ThreadMessage.objects.filter(thread=thread, direction=Direction.INBOUND).order_by("-sent_at").values_list("sent_at", flat=True).first()
    )
    recorded = services.thread_message_record_inbound(
        thread=thread, wamid=event.message_id, type=event.type or "", text=inbound_text(event.content),
        payload=event.raw or {}, sent_at=at,
    )
    if recorded is None:  # the same wamid under another delivery: already answered
        return
    if isinstance(event.content, m.MediaContent) and event.content.media_id:
        _media_record(recorded, event.content)
    request = request_from(event)
    if request.name == "silent":
        return
    _mark_read_on_commit(phone_number, event.message_id)
    turn = Turn(thread=thread, request=request, wamid=event.message_id, at=at, event=event)
    if thread.state == ThreadState.HANDOFF:
        if request.name in ("stop", "consent_yes", "consent_no"):
            _record_consent(turn, granted=request.name == "consent_yes")  # staff see it; the bot stays quiet
        return
    if not contacts.window_is_open(contact=contact, phone_number=phone_number, now=now):
        return  # handled too late to reply free-form; the message is kept for staff
    if previous_inbound and at - previous_inbound > SERVICE_WINDOW and thread.state in CART_STATES:
        turn.move("expire_window", cause=TransitionCause.WINDOW)
        if request.name not in FRESH_REQUESTS:
            turn.show_cart(build=replies.window_reopened)
            return
    ACTIONS.get(request.name, _unknown)(turn)


def inbound_text(content) -> str:
    """What staff read for a customer's message."""
    if isinstance(content, m.TextContent):
        return content.body
    if isinstance(content, (m.ButtonReplyContent, m.ListReplyContent)):
        return f"[tapped] {content.title or content.reply_id or ''}"
    if isinstance(content, m.ButtonContent):
        return f"[tapped] {content.text or content.payload or ''}"
    if isinstance(content, m.OrderContent):
        count = sum(item.quantity or 1 for item in content.product_items)
        return f"[catalog order: {count} item(s)] {content.text or ''}".strip()
    if isinstance(content, m.MediaContent):
        return f"[{content.type}] {content.caption or ''}".strip()
    if isinstance(content, m.LocationContent):
        return f"[location] {content.name or ''} {content.address or ''}".strip()
    if isinstance(content, m.ReactionContent):
        return f"[reaction] {content.emoji or '(removed)'}"
    return f"[{content.type}]"


def _media_record(message: ThreadMessage, content: m.MediaContent) -> None:
    from conversations.media import media_download_enqueue

    media = InboundMedia.objects.create(
        message=message, media_id=content.media_id, declared_mime_type=content.mime_type or "",
        declared_sha256=content.sha256 or "",
    )
    media_download_enqueue(media)


def _mark_read_on_commit(phone_number: PhoneNumber, wamid: str) -> None:
    from outbound.tasks import mark_read

    transaction.on_commit(lambda: send_task_or_log(mark_read, phone_number.pk, wamid))


# --- actions: one per request name ------------------------------------------------------


def _menu(turn: Turn) -> None:
    turn.say(replies.menu(turn.shop_name))
    _ask_consent_once(turn)


def _unknown(turn: Turn) -> None:
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


def _product_by_id(turn: Turn) -> Product | None:
    return Product.objects.filter(pk=turn.request.arg, business_account=turn.account).prefetch_related("variants").first()


def _product(turn: Turn, product: Product | None = None) -> None:
    product = product or _product_by_id(turn)
    if product is None or not product.active:
        return turn.say(replies.menu(turn.shop_name, greeting="Sorry, that product is no longer sold. What else can I show you?"))
    turn.say(replies.product_card(product))


def _product_question(turn: Turn) -> None:
    variant = catalog.variant_by_retailer_id(business_account=turn.account, retailer_id=str(turn.request.arg))
    _product(turn, Product.objects.filter(pk=variant.product_id).prefetch_related("variants").first() if variant else None)


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
    turn.say(replies.buttons_reply(
        "Your paid order is being prepared. You can start a new cart once it has been delivered.",
        [("agent", "Talk to a person")],
    ))
    return True


def _add(turn: Turn) -> None:
    if _fulfilment_in_progress(turn):
        return
    variant = Variant.objects.filter(pk=turn.request.arg, product__business_account=turn.account).select_related("product").first()
    if variant is None:
        return _unknown(turn)
    try:
        cart_line_add(thread=turn.thread, variant=variant, quantity=1)
        note = f"Added {variant.display_name}."
    except CartRefusal as refusal:
        note = f"Sorry, I could not add that: {refusal.reason}."
    turn.thread.refresh_from_db()
    _after_cart_change(turn)
    turn.show_cart(note)


def _remove(turn: Turn) -> None:
    variant = Variant.objects.filter(pk=turn.request.arg, product__business_account=turn.account).select_related("product").first()
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
        order, _ = checkout.order_place(contact=thread.contact, phone_number=thread.phone_number, lines=lines,
                                        seen_total_minor=seen)
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
    from checkout.payments import link_url

    turn.say(replies.pay_link(reference=order.reference, total_display=amount_format(order.total_minor, order.currency),
                              url=link_url(link), expires_at=link.expires_at.strftime("%H:%M UTC")))


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
        kind="handoff", subject=f"{turn.thread.contact} on {turn.thread.phone_number.display_phone_number}",
        detail="The customer asked for a person; the bot is silent until staff hand the thread back.",
        severity=AlertSeverity.WARNING,
    )
    turn.say(replies.handed_to_person())


def _record_consent(turn: Turn, *, granted: bool) -> None:
    contacts.consent_record(
        contact=turn.thread.contact, category=ConsentCategory.MARKETING,
        action=ConsentAction.OPT_IN if granted else ConsentAction.OPT_OUT, source=ConsentSource.THREAD,
        recorded_at=turn.at, reference=f"message:{turn.wamid}",
    )


def _stop(turn: Turn) -> None:
    _record_consent(turn, granted=False)
    turn.say(replies.stop_confirmed())


def _consent(turn: Turn) -> None:
    granted = turn.request.name == "consent_yes"
    _record_consent(turn, granted=granted)
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
    "unknown": _unknown,
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
