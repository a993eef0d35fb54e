"""The dialogue, message by message: what the customer sends, what state and replies follow."""

from datetime import timedelta

import pytest
from django.db.models import F

from catalog.models import Variant
from catalog.stock import available_one
from checkout.models import Order, OrderStatus
from conversations.models import Cart, CartLine, Direction, ThreadMessage, ThreadState, ThreadTransition
from conversations.services import thread_transition
from outbound.models import OutboundMessage
from tests.catalog.factories import CategoryFactory, ProductFactory, VariantFactory
from tests.channels.factories import PhoneNumberFactory
from tests.support.chat import Chat, body, buttons, rows
from waco.alerts.models import Alert
from waco.contacts import services as contacts
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentSource

pytestmark = pytest.mark.django_db


@pytest.fixture
def number():
    return PhoneNumberFactory(verified_name="Layla Boutique")


@pytest.fixture
def abaya(number):
    """A product with three sizes: M and L in stock at different prices, S sold out."""
    category = CategoryFactory(business_account=number.business_account, name="Abayas")
    product = ProductFactory(category=category, name="Linen Abaya", description="Light linen.")
    return {
        size: VariantFactory(
            product=product, sku=f"ABY-{size}", attributes={"size": size}, price_minor=price, on_hand=stock
        )
        for size, price, stock in (("S", 300_00, 0), ("M", 320_00, 4), ("L", 340_00, 10))
    }


@pytest.fixture
def chat(number):
    return Chat(number)


def a_day_passes():
    """The customer's last message is now 25 hours old (their service window closed)."""
    ThreadMessage.objects.filter(direction=Direction.INBOUND).update(sent_at=F("sent_at") - timedelta(hours=25))


def test_hi_gets_the_menu_and_the_offers_question_once(chat):
    first = chat.says("hi")
    assert "Welcome to Layla Boutique" in body(first[0])
    assert [b[0] for b in buttons(first[0])] == ["cats:1", "cart", "agent"]
    assert [b[0] for b in buttons(first[1])] == ["consent:yes", "consent:no"]
    again = chat.says("Hello!")
    assert len(again) == 1 and "Welcome" in body(again[0])


def test_keywords_in_five_languages_reach_their_intents(chat, abaya):
    assert "Welcome" in body(chat.says("مرحبا")[0])
    assert "Welcome" in body(chat.says("Olá")[0])
    assert "Your cart is empty" in body(chat.says("السلة")[0])
    assert "Your cart is empty" in body(chat.says("कार्ट")[0])
    assert "Your cart is empty" in body(chat.says("kikapu")[0])
    assert "Your cart is empty" in body(chat.says("Carrinho")[0])


def test_unknown_text_gets_help_with_the_menu(chat):
    reply = chat.says("do you deliver to Sharjah tomorrow?")
    assert "did not understand" in body(reply[0])
    assert [b[0] for b in buttons(reply[0])] == ["cats:1", "cart", "agent"]


def test_a_reply_id_that_is_not_ours_gets_help(chat):
    assert "did not understand" in body(chat.taps("DROP TABLE;--")[0])


def test_browse_to_a_product_card_with_live_prices_and_stock(chat, abaya):
    category = abaya["M"].product.category
    categories = chat.taps("cats:1")[0]
    assert rows(categories) == [(f"cat:{category.pk}:1", "Abayas", "")]
    products = chat.picks(f"cat:{category.pk}:1")[0]
    assert rows(products) == [(f"prod:{abaya['M'].product.pk}", "Linen Abaya", "from 320.00 AED")]
    card = chat.picks(f"prod:{abaya['M'].product.pk}")[0]
    text = body(card)
    assert (
        "S: 300.00 AED (sold out)" in text and "M: 320.00 AED (4 left)" in text and "L: 340.00 AED (in stock)" in text
    )
    assert buttons(card)[0] == (f"opts:{abaya['M'].product.pk}", "Choose & add")
    options = chat.taps(f"opts:{abaya['M'].product.pk}")[0]
    assert [r[0] for r in rows(options)] == [f"add:{abaya['M'].pk}", f"add:{abaya['L'].pk}"]  # no sold-out row


def test_long_lists_are_paged_past_ten_rows(chat, number):
    for n in range(12):
        product = ProductFactory(
            category__business_account=number.business_account, category__name=f"Cat {n:02d}", category__position=n
        )
        VariantFactory(product=product)
    first = rows(chat.taps("cats:1")[0])
    assert len(first) == 10 and first[-1][:2] == ("cats:2", "More…")
    second = rows(chat.picks("cats:2")[0])
    assert [title for _, title, _ in second] == ["Cat 09", "Cat 10", "Cat 11"]


def test_two_variants_make_a_cart_totalled_at_live_prices(chat, abaya):
    chat.says("hi")
    chat.picks(f"add:{abaya['M'].pk}")
    reply = chat.picks(f"add:{abaya['L'].pk}")[0]
    assert "Total: 660.00 AED" in body(reply)
    assert [b[0] for b in buttons(reply)] == ["checkout", "cats:1", "rmlist"]
    assert chat.thread.state == ThreadState.BUILDING_CART
    Variant.objects.filter(pk=abaya["L"].pk).update(price_minor=350_00)
    assert "Total: 670.00 AED" in body(chat.says("cart")[0])


def test_the_kept_cart_is_summarised_even_when_beat_already_left_the_cart_state(chat, abaya):
    chat.picks(f"add:{abaya['M'].pk}")
    a_day_passes()
    thread_transition(thread=chat.thread, name="expire_window", cause="window")  # beat's expiry job
    reply = chat.says("hi")[0]
    assert "Welcome back" in body(reply) and "Total: 320.00 AED" in body(reply)


def test_an_order_message_after_the_window_closed_is_applied(chat, abaya):
    chat.picks(f"add:{abaya['M'].pk}")
    a_day_passes()
    reply = chat.orders([{"product_retailer_id": "ABY-L", "quantity": 1, "item_price": 340, "currency": "AED"}])[0]
    assert "Total: 340.00 AED" in body(reply)
    assert chat.thread.state == ThreadState.BUILDING_CART


def test_an_out_of_stock_variant_cannot_be_added(chat, abaya):
    reply = chat.picks(f"add:{abaya['S'].pk}")[0]
    assert "could not add that: Linen Abaya S is sold out" in body(reply)
    assert not CartLine.objects.exists()
    assert chat.thread.state == ThreadState.BROWSING


def test_adding_beyond_stock_is_refused_and_the_cart_keeps_what_it_had(chat, abaya):
    for _ in range(4):
        chat.picks(f"add:{abaya['M'].pk}")
    reply = chat.picks(f"add:{abaya['M'].pk}")[0]
    assert "only 4 of Linen Abaya M left" in body(reply)
    assert CartLine.objects.get().quantity == 4


def test_removing_the_last_line_returns_to_browsing(chat, abaya):
    chat.picks(f"add:{abaya['M'].pk}")
    assert rows(chat.taps("rmlist")[0]) == [(f"rm:{abaya['M'].pk}", "Linen Abaya M", "1 in cart")]
    reply = chat.picks(f"rm:{abaya['M'].pk}")[0]
    assert "Removed Linen Abaya M" in body(reply) and "Your cart is empty" in body(reply)
    assert chat.thread.state == ThreadState.BROWSING


def test_an_order_message_is_charged_at_the_live_price_and_says_so(chat, abaya):
    reply = chat.orders(
        [
            {"product_retailer_id": "ABY-M", "quantity": 2, "item_price": 300, "currency": "AED"},  # stale price
            {"product_retailer_id": "ABY-L", "quantity": 1, "item_price": 340, "currency": "AED"},
        ]
    )[0]
    text = body(reply)
    assert "Linen Abaya M: the catalog showed 300.00 AED; today's price is 320.00 AED" in text
    assert "Linen Abaya L: the catalog" not in text
    assert "Total: 980.00 AED" in text  # 2 x 320 + 340
    assert chat.thread.state == ThreadState.BUILDING_CART


def test_an_order_message_leaves_out_what_cannot_be_sold(chat, abaya):
    text = body(
        chat.orders(
            [
                {"product_retailer_id": "GONE-1", "quantity": 1, "item_price": 10, "currency": "AED"},
                {"product_retailer_id": "ABY-S", "quantity": 1, "item_price": 300, "currency": "AED"},
                {"product_retailer_id": "ABY-M", "quantity": 9, "item_price": 320, "currency": "AED"},
            ]
        )[0]
    )
    assert "GONE-1 is not sold any more" in text
    assert "Linen Abaya S: not added, Linen Abaya S is sold out" in text
    assert "Linen Abaya M: only 4 left, so 4 went in your cart" in text
    assert "Total: 1280.00 AED" in text


def test_a_product_question_shows_that_products_card(chat, abaya):
    reply = chat.asks_about("ABY-L", "Is this available in L?")[0]
    assert "*Linen Abaya*" in body(reply) and "L: 340.00 AED (in stock)" in body(reply)


def test_checkout_places_the_order_at_live_prices_and_reserves_the_stock(chat, abaya):
    chat.picks(f"add:{abaya['M'].pk}")
    chat.picks(f"add:{abaya['M'].pk}")
    reply = chat.taps("checkout")[0]
    order = Order.objects.get()
    assert f"Order {order.reference} (640.00 AED) is reserved for you for 40 minutes" in body(reply)
    assert chat.thread.state == ThreadState.AWAITING_PAYMENT
    assert [(line.sku, line.quantity, line.unit_price_minor) for line in order.lines.all()] == [("ABY-M", 2, 320_00)]
    assert available_one(variant=abaya["M"]) == 2
    assert (
        contacts.consent_current(contact=chat.thread.contact, category=ConsentCategory.UTILITY).source
        == ConsentSource.CHECKOUT
    )


def test_back_to_the_cart_ends_the_unpaid_order_and_frees_its_stock(chat, abaya):
    chat.picks(f"add:{abaya['M'].pk}")
    chat.taps("checkout")
    assert "Total: 320.00 AED" in body(chat.taps("back")[0])
    assert chat.thread.state == ThreadState.BUILDING_CART
    assert Order.objects.get().status == OrderStatus.EXPIRED
    assert available_one(variant=abaya["M"]) == 4


def test_a_price_change_since_the_cart_was_shown_needs_a_second_checkout(chat, abaya):
    chat.picks(f"add:{abaya['M'].pk}")  # shown at 320.00
    Variant.objects.filter(pk=abaya["M"].pk).update(price_minor=330_00)
    reply = chat.taps("checkout")[0]
    assert "Your cart changed since you last saw it" in body(reply) and "Total: 330.00 AED" in body(reply)
    assert not Order.objects.exists() and chat.thread.state == ThreadState.BUILDING_CART
    chat.taps("checkout")
    assert Order.objects.get().total_minor == 330_00


def test_checkout_tapped_twice_does_not_place_a_second_order(chat, abaya):
    chat.picks(f"add:{abaya['M'].pk}")
    chat.taps("checkout")
    again = chat.taps("checkout")[0]
    assert "being prepared" in body(again)
    assert Order.objects.count() == 1


def test_checkout_with_an_empty_cart_shows_the_cart(chat):
    assert "Your cart is empty" in body(chat.says("checkout")[0])
    assert chat.thread.state == ThreadState.BROWSING


def test_agent_stops_the_bot_until_staff_hand_back(chat, abaya):
    reply = chat.says("agent")[0]
    assert "A person from the shop will answer" in body(reply)
    assert chat.thread.state == ThreadState.HANDOFF
    assert Alert.objects.filter(kind="handoff").exists()
    assert chat.says("hi") == [] and chat.picks(f"add:{abaya['M'].pk}") == []
    assert not CartLine.objects.exists()
    thread_transition(thread=chat.thread, name="hand_back", cause="staff")
    assert "Welcome" in body(chat.says("hi")[0])


def test_stop_records_a_marketing_opt_out_and_yes_an_opt_in(chat):
    reply = chat.says("STOP")[0]
    contact = chat.thread.contact
    assert not contacts.consent_is_granted(contact=contact, category=ConsentCategory.MARKETING)
    assert contacts.consent_current(contact=contact, category=ConsentCategory.MARKETING).source == ConsentSource.THREAD
    assert buttons(reply) == [("consent:yes", "Get offers again")]
    chat.taps("consent:yes")
    entry = contacts.consent_current(contact=contact, category=ConsentCategory.MARKETING)
    assert (entry.action, entry.source) == (ConsentAction.OPT_IN, ConsentSource.THREAD)
    assert entry.reference.startswith("message:wamid.")


def test_stop_in_swahili_and_arabic(chat, number):
    chat.says("acha")
    assert (
        contacts.consent_current(contact=chat.thread.contact, category=ConsentCategory.MARKETING).action
        == ConsentAction.OPT_OUT
    )
    other = Chat(number, wa_id="971509999999")
    other.says("إيقاف")
    assert (
        contacts.consent_current(contact=other.thread.contact, category=ConsentCategory.MARKETING).action
        == ConsentAction.OPT_OUT
    )


def test_a_duplicate_delivery_is_answered_once(chat, abaya):
    message = chat.body(
        {
            "type": "interactive",
            "interactive": {"type": "list_reply", "list_reply": {"id": f"add:{abaya['M'].pk}", "title": "M"}},
        }
    )
    assert len(chat.deliver(message)) == 1
    assert chat.deliver(message) == []
    assert CartLine.objects.get().quantity == 1
    assert ThreadMessage.objects.filter(direction=Direction.INBOUND).count() == 1


def test_every_inbound_message_is_kept_with_metas_timestamp(chat):
    chat.says("hi", timestamp=1_700_000_000)  # processed long after: the window is closed, no reply
    message = ThreadMessage.objects.get(direction=Direction.INBOUND)
    assert int(message.sent_at.timestamp()) == 1_700_000_000 and message.text == "hi"
    assert not ThreadMessage.objects.filter(direction=Direction.OUTBOUND).exists()


def test_replies_are_queued_in_the_outbox_and_kept_in_the_thread(chat):
    replies = chat.says("hi")
    assert all(r.outbound.status == "queued" and r.outbound.category == "service" for r in replies)
    assert OutboundMessage.objects.count() == len(replies)


def test_reactions_are_kept_but_not_answered(chat):
    chat.says("hi")
    assert chat.send({"type": "reaction", "reaction": {"message_id": "wamid.X", "emoji": "👍"}}) == []


def test_after_the_window_closed_the_kept_cart_is_summarised_first(chat, abaya):
    chat.picks(f"add:{abaya['M'].pk}")
    a_day_passes()
    Variant.objects.filter(pk=abaya["M"].pk).update(price_minor=310_00)
    reply = chat.taps(f"add:{abaya['L'].pk}")[0]  # an old button, tapped a day later
    assert "Welcome back" in body(reply) and "Total: 310.00 AED" in body(reply)
    assert CartLine.objects.count() == 1  # the stale tap was not applied
    assert ThreadTransition.objects.filter(transition="expire_window", cause="window").count() == 1
    assert chat.thread.state == ThreadState.BROWSING
    assert Cart.objects.get().lines.count() == 1


def test_a_product_list_reads_prices_in_a_fixed_number_of_queries(chat, number, django_assert_max_num_queries):
    category = CategoryFactory(business_account=number.business_account, name="Scarves")
    for n in range(8):
        VariantFactory(product=ProductFactory(category=category, name=f"Scarf {n}"))
    chat.says("hi")
    with django_assert_max_num_queries(36):  # 35 here; a query per product would make it 42
        reply = chat.picks(f"cat:{category.pk}:1")[0]
    assert len(rows(reply)) == 8


@pytest.mark.django_db(transaction=True)  # receipts are owed when each turn really commits
def test_a_batchs_messages_are_marked_read_by_one_task(number, monkeypatch):
    """A task per message would hold a worker process through each of Meta's answers."""
    import json

    from outbound import read_receipts
    from waco.ingest import inbox
    from waco.ingest.services import deliveries_process

    published = []
    monkeypatch.setattr(read_receipts, "send_task_or_log", lambda task, *args: published.append((task.name, args)))
    chats = [Chat(number, wa_id=f"97150000000{n}") for n in range(3)]
    bodies = [chat.body({"type": "text", "text": {"body": "hi"}}) for chat in chats]
    ids = [inbox.delivery_receive(source="meta", body=json.dumps(b), headers={}) for b in bodies]
    deliveries_process(delivery_ids=ids)
    wamids = [b["entry"][0]["changes"][0]["value"]["messages"][0]["id"] for b in bodies]
    assert published == [("outbound.mark_read_many", (number.pk, wamids))]
