"""The bot's messages: Graph message objects built from live catalog and cart reads.

Pure functions: no queries of their own beyond what they are handed, no sends.
Every price and stock figure comes from the rows passed in, read in the same
transaction that queues the reply: variants carry `available` (catalog.stock,
through catalog.selectors), cart lines their `units_left`.
"""

from dataclasses import dataclass
from datetime import UTC

from django.conf import settings

from catalog.models import Category, Product, Variant
from conversations.carts import CartSummary

# WhatsApp's limits on interactive messages (docs/cloud-api.md; checked by the sandbox too).
MAX_BODY = 1024
MAX_BUTTON_TITLE = 20
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_ROWS = 10
MAX_HEADER_TEXT = 60


@dataclass(frozen=True)
class Reply:
    content: dict  # {"type": ..., <type>: {...}}: what outbound sends
    text: str  # what staff read in the thread


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def text_reply(body: str) -> Reply:
    return Reply({"type": "text", "text": {"body": body[:4096]}}, body)


def buttons_reply(body: str, buttons: list[tuple[str, str]], *, image_url: str = "", header: str = "") -> Reply:
    """Up to three reply buttons of (id, title) under a body, with an image or text header."""
    interactive = {
        "type": "button",
        "body": {"text": _cut(body, MAX_BODY)},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": bid, "title": _cut(title, MAX_BUTTON_TITLE)}}
                for bid, title in buttons[:3]
            ]
        },
    }
    if image_url:
        interactive["header"] = {"type": "image", "image": {"link": image_url}}
    elif header:
        interactive["header"] = {"type": "text", "text": _cut(header, MAX_HEADER_TEXT)}
    titles = " | ".join(title for _, title in buttons[:3])
    return Reply({"type": "interactive", "interactive": interactive}, f"{body}\n[{titles}]")


def list_reply(body: str, button: str, section: str, rows: list[tuple[str, str, str]]) -> Reply:
    """One section of at most ten rows of (id, title, description)."""
    interactive = {
        "type": "list",
        "body": {"text": _cut(body, MAX_BODY)},
        "action": {
            "button": _cut(button, MAX_BUTTON_TITLE),
            "sections": [
                {
                    "title": _cut(section, 24),
                    "rows": [
                        {
                            "id": rid,
                            "title": _cut(title, MAX_ROW_TITLE),
                            **({"description": _cut(desc, MAX_ROW_DESCRIPTION)} if desc else {}),
                        }
                        for rid, title, desc in rows[:MAX_ROWS]
                    ],
                }
            ],
        },
    }
    listed = "\n".join(f"- {title}" + (f": {desc}" if desc else "") for _, title, desc in rows[:MAX_ROWS])
    return Reply({"type": "interactive", "interactive": interactive}, f"{body}\n{listed}")


def _paged_rows(rows: list[tuple[str, str, str]], *, has_more: bool, more_id: str) -> list[tuple[str, str, str]]:
    """Ten rows fit; when more follow, the tenth becomes 'More…'."""
    if has_more or len(rows) > MAX_ROWS:
        return rows[: MAX_ROWS - 1] + [(more_id, "More…", "The next page")]
    return rows


MENU_BUTTONS = [("cats:1", "Browse products"), ("cart", "My cart"), ("agent", "Talk to a person")]


def menu(shop_name: str, *, greeting: str = "") -> Reply:
    body = greeting or f"Welcome to {shop_name}. What would you like to do?"
    return buttons_reply(body, MENU_BUTTONS)


def help_menu(shop_name: str) -> Reply:
    return menu(
        shop_name,
        greeting=(
            "Sorry, I did not understand that. Tap a button below, or type *menu*, *cart*, "
            "*checkout* or *agent* at any time."
        ),
    )


def categories_page(categories: list[Category], *, page: int, page_size: int = MAX_ROWS - 1) -> Reply:
    """Categories, nine per page when more follow."""
    start = (page - 1) * page_size
    chunk = categories[start : start + MAX_ROWS]
    has_more = len(categories) > start + MAX_ROWS
    rows = [(f"cat:{c.pk}:1", c.name, "") for c in chunk]
    if not rows:
        return buttons_reply("The shop has nothing on sale right now. Please check back soon.", MENU_BUTTONS[1:])
    rows = _paged_rows(rows, has_more=has_more, more_id=f"cats:{page + 1}")
    return list_reply("Choose a category.", "Categories", "Categories", rows)


def products_page(category: Category, products: list[Product], *, page: int, has_more: bool) -> Reply:
    """Products of a category with their live lowest price and availability."""
    rows = [(f"prod:{p.pk}", p.name, _price_and_stock_line(p)) for p in products]
    if not rows:
        return buttons_reply(
            f"Nothing in {category.name} right now.", [("cats:1", "Other categories"), ("cart", "My cart")]
        )
    rows = _paged_rows(rows, has_more=has_more, more_id=f"cat:{category.pk}:{page + 1}")
    return list_reply(f"{category.name}: choose a product.", "Products", _cut(category.name, 24), rows)


def _live_variants(product: Product) -> list[Variant]:
    """Active options in the order the shop listed them (S, M, L rather than by SKU), each with `available`."""
    return sorted((v for v in product.variants.all() if v.active), key=lambda v: v.pk)


def _price_and_stock_line(product: Product) -> str:
    variants = _live_variants(product)
    in_stock = [v for v in variants if v.available > 0]
    if not variants:
        return "Not available"
    cheapest = min(in_stock or variants, key=lambda v: v.price_minor)
    prefix = "from " if len({v.price_minor for v in variants}) > 1 else ""
    return f"{prefix}{cheapest.price_display}" + ("" if in_stock else " · sold out")


def _variant_label(variant: Variant) -> str:
    values = [str(v) for v in (variant.attributes or {}).values()]
    return " ".join(values) or variant.product.name


def _stock_words(units: int) -> str:
    if units <= 0:
        return "sold out"
    return f"{units} left" if units <= 5 else "in stock"


def product_card(product: Product) -> Reply:
    """Waco's own card: name, description, every option with today's price and stock."""
    variants = _live_variants(product)
    lines = [f"*{product.name}*"]
    if product.description:
        lines.append(_cut(product.description, 400))
    lines += [f"• {_variant_label(v)}: {v.price_display} ({_stock_words(v.available)})" for v in variants]
    in_stock = [v for v in variants if v.available > 0]
    if len(in_stock) == 1 and len(variants) == 1:
        add = (f"add:{in_stock[0].pk}", "Add to cart")
    elif in_stock:
        add = (f"opts:{product.pk}", "Choose & add")
    else:
        lines.append("Sold out for now.")
        add = None
    buttons = ([add] if add else []) + [(f"cat:{product.category_id}:1", "Back to list"), ("cart", "My cart")]
    image = next((v.image_url for v in variants if v.image_url), "") or next(iter(product.image_urls or []), "")
    return buttons_reply("\n".join(lines), buttons, image_url=absolute_url(image))


def absolute_url(url: str) -> str:
    """Meta fetches header images itself: a path on our site needs our public address."""
    return f"{settings.WACO_PUBLIC_URL}{url}" if url.startswith("/") else url


def variant_choice(product: Product) -> Reply:
    """The options that can be bought now; sold-out ones are not offered."""
    rows = [
        (f"add:{v.pk}", _variant_label(v), f"{v.price_display} · {_stock_words(v.available)}")
        for v in _live_variants(product)
        if v.available > 0
    ]
    if not rows:
        return buttons_reply(
            f"{product.name} is sold out for now.",
            [(f"cat:{product.category_id}:1", "Back to list"), ("cart", "My cart")],
        )
    return list_reply(f"{product.name}: which one?", "Options", "Options", rows[:MAX_ROWS])


def cart_lines_text(summary: CartSummary) -> list[str]:
    lines = []
    for line in summary.lines:
        amount = line.variant.price_display if line.quantity == 1 else f"{line.quantity} × {line.variant.price_display}"
        state = (
            "" if line.available else f" — not available now ({_stock_words(line.units_left)}), left out of the total"
        )
        lines.append(f"• {line.variant.display_name}: {amount}{state}")
    return lines


def cart(summary: CartSummary, *, note: str = "") -> Reply:
    """The cart at today's prices, with checkout, more shopping and removal."""
    if not summary.lines:
        body = (note + "\n\n" if note else "") + "Your cart is empty."
        return buttons_reply(body, [("cats:1", "Browse products"), ("agent", "Talk to a person")])
    lines = ([note, ""] if note else []) + [
        "*Your cart*",
        *cart_lines_text(summary),
        "",
        f"*Total: {summary.total_display}*",
    ]
    buttons = [("checkout", "Checkout"), ("cats:1", "Add more"), ("rmlist", "Remove an item")]
    if not any(line.available for line in summary.lines):
        buttons[0] = ("agent", "Talk to a person")
    return buttons_reply("\n".join(lines), buttons)


def remove_choice(summary: CartSummary) -> Reply:
    rows = [(f"rm:{line.variant.pk}", line.variant.display_name, f"{line.quantity} in cart") for line in summary.lines]
    return list_reply("Which item should I remove?", "Remove", "In your cart", rows[:MAX_ROWS])


def window_reopened(summary: CartSummary) -> Reply:
    return cart(summary, note="Welcome back! It has been a while, so here is the cart you kept, at today's prices.")


def handed_to_person() -> Reply:
    return text_reply("Thank you. A person from the shop will answer you here shortly.")


def stop_confirmed() -> Reply:
    return buttons_reply(
        "Done: you will get no more offers from us. Order updates you asked for still arrive.",
        [("consent:yes", "Get offers again")],
    )


def consent_question() -> Reply:
    return buttons_reply(
        "Would you like to hear about new arrivals and offers here on WhatsApp? You can stop at any time by typing *stop*.",
        [("consent:yes", "Yes, send offers"), ("consent:no", "No, thanks")],
    )


def consent_confirmed(granted: bool) -> Reply:
    if granted:
        return text_reply("Thank you! We will send you offers now and then. Type *stop* at any time to end them.")
    return text_reply("Understood: no offers. You can still shop here any time.")


MEDIA_WORDS = {"image": "photo", "video": "video", "audio": "voice note", "document": "document", "sticker": "sticker"}


def media_received(kind: str, shop_name: str) -> Reply:
    return menu(shop_name, greeting=f"Thank you, we received your {MEDIA_WORDS.get(kind, 'file')}. How can we help?")


# --- checkout ----------------------------------------------------------------------------


def order_placed(reference: str, total_display: str, minutes: int) -> Reply:
    return buttons_reply(
        f"Order {reference} ({total_display}) is reserved for you for {minutes} minutes. "
        "Your secure payment link follows in a moment.",
        [("back", "Back to cart")],
    )


def clock(moment) -> str:
    """A time customers in any country read the same way: 14:30 UTC."""
    return moment.astimezone(UTC).strftime("%H:%M UTC")


def pay_link(*, reference: str, total_display: str, url: str, expires_at: str, reminder: bool = False) -> Reply:
    """A CTA-URL button to our /pay/<token>/ address: no card details ever pass through the chat."""
    body = (
        f"A reminder: order {reference} ({total_display}) is reserved for you until {expires_at}. Pay securely with Stripe."
        if reminder
        else f"Order {reference}: {total_display}. Pay securely with Stripe before {expires_at}."
    )
    interactive = {
        "type": "cta_url",
        "body": {"text": body},
        "action": {
            "name": "cta_url",
            "parameters": {"display_text": _cut(f"Pay {total_display}", MAX_BUTTON_TITLE), "url": url},
        },
    }
    return Reply({"type": "interactive", "interactive": interactive}, f"{body}\n[Pay: {url}]")


def cart_changed_at_checkout(summary: CartSummary) -> Reply:
    return cart(
        summary,
        note="Your cart changed since you last saw it (a price or the stock). "
        "Here it is as it stands now: tap Checkout again to order at this total.",
    )


def checkout_refused(summary: CartSummary, reason: str) -> Reply:
    return cart(summary, note=f"Sorry, I could not place the order: {reason}.")


def payment_pending(reference: str) -> Reply:
    return buttons_reply(
        f"Your payment link for order {reference} is being prepared: it follows in a moment.",
        [("back", "Back to cart")],
    )


def receipt(*, reference: str, lines: list[str], total_display: str) -> Reply:
    body = "\n".join(
        [
            f"*Payment received, thank you!* Order {reference}:",
            *lines,
            f"*Total paid: {total_display}*",
            "",
            "We will tell you here when it ships.",
        ]
    )
    return text_reply(body)


def payment_ended(*, reference: str, reason: str) -> Reply:
    what = "has expired" if reason == "expired" else "did not go through"
    return buttons_reply(
        f"The payment for order {reference} {what}; nothing was charged. Your cart is kept.",
        [("checkout", "Get a new link"), ("cart", "My cart")],
    )
