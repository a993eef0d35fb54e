"""The dialogue end to end: customers type into the sandbox, a real worker answers,
and the answers are read from the sandbox's outbox as Meta would have sent them."""

import hashlib
import os
import time

import pytest

from catalog.models import Variant
from conversations import services as threads
from conversations.models import CartLine, InboundMedia, MediaStatus, ThreadMessage, ThreadState
from outbound.models import MessageCategory, MessageStatus
from tests.support.drain import wait_drained
from tests.support.shopper import Shopper, reply_ids, text_of
from tests.workers import wait_until
from waco.contacts import services as contacts
from waco.contacts.models import ConsentAction, ConsentCategory
from waco.sandbox import services as sandbox
from waco.sandbox.graph.media import placeholder

pytestmark = pytest.mark.worker


def test_a_customer_shops_from_hi_to_a_cart_at_live_prices(worker_shop):
    amal, v = Shopper(worker_shop, "971501110001"), worker_shop.variants
    menu, question = amal.says("hi", replies=2)
    assert "Welcome" in text_of(menu) and reply_ids(menu) == ["cats:1", "cart", "agent"]
    assert reply_ids(question) == ["consent:yes", "consent:no"]
    [categories] = amal.taps("cats:1")
    [products] = amal.taps(reply_ids(categories)[0])
    assert text_of(products).startswith("Abayas")
    [card] = amal.taps(reply_ids(products)[0])
    assert "M: 320.00 AED (4 left)" in text_of(card) and "S: 300.00 AED (sold out)" in text_of(card)
    [options] = amal.taps(reply_ids(card)[0])
    assert reply_ids(options) == [f"add:{v['M'].pk}", f"add:{v['L'].pk}"]
    amal.taps(f"add:{v['M'].pk}")
    [cart] = amal.taps(f"add:{v['L'].pk}")
    assert "Total: 660.00 AED" in text_of(cart)

    Variant.objects.filter(pk=v["L"].pk).update(price_minor=355_00)  # the system of record changed it
    [cart] = amal.says("cart")
    assert "L: 355.00 AED" in text_of(cart) and "Total: 675.00 AED" in text_of(cart)

    [refused] = amal.taps(f"add:{v['S'].pk}")
    assert "Linen Abaya S is sold out" in text_of(refused)

    [ordered] = amal.sends(
        {
            "type": "order",
            "order": {
                "catalog_id": "400000000000001",
                "product_items": [
                    {"product_retailer_id": "ABY-M", "quantity": 1, "item_price": 300, "currency": "AED"}
                ],
            },
        }
    )
    assert "the catalog showed 300.00 AED; today's price is 320.00 AED" in text_of(ordered)
    assert "Total: 320.00 AED" in text_of(ordered)
    assert [(line.variant.sku, line.quantity) for line in CartLine.objects.all()] == [("ABY-M", 1)]
    wait_until(lambda: all(m["read"] for m in _inbound_marks(worker_shop, amal)), message="every message marked read")


def _state(message) -> str:
    message.refresh_from_db()
    return f"{message.status} attempts={message.attempts} {message.error_class} {message.error_detail} next={message.next_attempt_at}"


def _inbound_marks(worker_shop, shopper) -> list[dict]:
    import json

    from django.test import Client

    return json.loads(Client().get("/sandbox/customer/messages", {"from": shopper.wa_id}).content)


def test_duplicated_and_reordered_deliveries_change_nothing(worker_shop):
    sandbox.config_update(changes={"inbound_duplicate_rate": 1.0, "inbound_reorder_rate": 0.5, "reorder_delay_ms": 300})
    noor, v = Shopper(worker_shop, "971501110002", "Noor"), worker_shop.variants
    for reply_id in (f"add:{v['M'].pk}", f"add:{v['L'].pk}", f"add:{v['M'].pk}"):
        noor.send(
            {"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": reply_id, "title": "x"}}}
        )
    time.sleep(0.4)  # past reorder_delay_ms: the held-back deliveries come due
    sandbox.deliveries_flush(horizon_seconds=5)
    wait_until(lambda: len(noor.outbox()) >= 3, timeout=30, message="three replies")
    sandbox.deliveries_flush(horizon_seconds=5)
    wait_drained()  # every duplicate has been handled: any answer to one is in the outbox now
    assert len(noor.outbox()) == 3
    assert noor.inbound_count() == 3
    assert sorted((line.variant.sku, line.quantity) for line in CartLine.objects.all()) == [("ABY-L", 1), ("ABY-M", 2)]


def test_agent_stops_the_bot_until_staff_hand_back(worker_shop):
    sara = Shopper(worker_shop, "971501110003", "Sara")
    [handed] = sara.says("agent")
    assert "A person from the shop will answer" in text_of(handed)
    sara.send({"type": "text", "text": {"body": "hi"}})
    wait_until(lambda: sara.inbound_count() == 2, message="the second message to be recorded")
    wait_drained()
    assert len(sara.outbox()) == 1  # the bot stayed silent
    thread = ThreadMessage.objects.filter(thread__contact__wa_id=sara.wa_id).first().thread
    threads.thread_transition(thread=thread, name="hand_back", cause="staff")
    assert "Welcome" in text_of(sara.says("hi", replies=2)[0])


def test_after_stop_marketing_is_refused_and_after_yes_it_goes(worker_shop):
    huda = Shopper(worker_shop, "971501110004", "Huda")
    huda.says("hi", replies=2)
    [confirmed] = huda.says("stop")
    assert "no more offers" in text_of(confirmed)
    thread = ThreadMessage.objects.filter(thread__contact__wa_id=huda.wa_id).first().thread
    offer = {"type": "text", "text": {"body": "Eid offer: 20% off abayas"}}

    refused = threads.thread_reply(
        thread=thread, content=offer, text="offer", category=MessageCategory.MARKETING, purpose="cart_recovery"
    )
    assert refused.status == MessageStatus.FAILED and "no marketing consent" in refused.error_detail
    wait_drained()
    assert all("Eid offer" not in text_of(item) for item in huda.outbox())

    [thanks] = huda.taps("consent:yes")
    assert "We will send you offers" in text_of(thanks)
    assert (
        contacts.consent_current(contact=thread.contact, category=ConsentCategory.MARKETING).action
        == ConsentAction.OPT_IN
    )
    sent = threads.thread_reply(
        thread=thread, content=offer, text="offer", category=MessageCategory.MARKETING, purpose="cart_recovery"
    )
    assert sent.status == MessageStatus.QUEUED
    wait_until(
        lambda: any("Eid offer" in text_of(item) for item in huda.outbox()),
        message=lambda: f"the offer at the sandbox; the message now: {_state(sent)}",
    )
    assert ThreadMessage.objects.get(outbound=sent).thread == thread
    assert thread.state == ThreadState.BROWSING


def test_a_photo_is_acknowledged_and_stored_even_with_a_one_second_media_url(worker_shop):
    sandbox.config_update(changes={"media_url_ttl_seconds": 1})
    photo = placeholder("image")[0] + os.urandom(200_000)
    rana = Shopper(worker_shop, "971501110005", "Rana")
    seen = len(rana.outbox())
    sandbox.customer_message_send(
        wa_id=rana.wa_id,
        name=rana.name,
        message={"type": "image", "image": {"caption": "this one?"}},
        phone_number_id=worker_shop.number.graph_id,
        media_bytes=photo,
    )
    sandbox.deliveries_flush(horizon_seconds=5)
    wait_until(lambda: len(rana.outbox()) > seen, message="the acknowledgement")
    assert "we received your photo" in text_of(rana.outbox()[seen])
    media = wait_until(
        lambda: InboundMedia.objects.filter(status=MediaStatus.STORED).first(), message="the stored photo"
    )
    assert media.sha256 == hashlib.sha256(photo).hexdigest() and media.size == len(photo)
    assert media.file.read() == photo
