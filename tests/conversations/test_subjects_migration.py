"""The messages sent before subjects existed get theirs from their dedupe keys, read once by a migration."""

import importlib

import pytest
from django.apps import apps

from conversations.models import Cart, Direction
from tests.checkout.factories import OrderFactory, paid_order
from tests.conversations.factories import ThreadFactory, ThreadMessageFactory
from tests.outbound.factories import OutboundMessageFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("conversations.migrations.0007_outbound_subjects_from_dedupe_keys")


def test_each_old_key_format_gives_its_message_the_subject_its_sender_now_sets(monkeypatch):
    monkeypatch.setattr(migration, "BATCH", 3)  # several batches
    order = paid_order()
    link = order.payment_links.get()
    neighbour = OrderFactory(contact=order.contact, phone_number=order.phone_number)
    thread = ThreadFactory(contact=order.contact, phone_number=order.phone_number)
    cart = Cart.objects.create(thread=thread)
    expected = {
        f"order_update:{order.pk}:packed": ("order", order.reference),
        f"order_receipt:{order.pk}": ("order", order.reference),
        f"payment_refunded:{order.pk}": ("order", order.reference),
        f"payment_link:{link.pk}": ("order", order.reference),
        f"payment_reminder:{link.pk}": ("order", order.reference),
        f"payment_ended:{link.pk}": ("order", order.reference),
        f"order_receipt:{neighbour.pk}": ("order", neighbour.reference),
        f"cart_recovery:{cart.pk}:1765000000": ("cart", str(cart.pk)),
        f"staff-reply:{thread.pk}:0f1e2d3c4b5a69788796a5b4c3d2e1f0": ("thread", str(thread.pk)),
        f"staff-template:{thread.pk}:00112233445566778899aabbccddeeff": ("thread", str(thread.pk)),
        f"order_receipt:{neighbour.pk + 1000}": ("", ""),  # the order is gone: nothing to name
        "something-else:12": ("", ""),
    }
    messages = {key: OutboundMessageFactory(dedupe_key=key) for key in expected}
    bot_reply = OutboundMessageFactory()  # no key, kept in the thread
    ThreadMessageFactory(thread=thread, direction=Direction.OUTBOUND, wamid=None, outbound=bot_reply)
    loose = OutboundMessageFactory()  # no key, no thread
    named = OutboundMessageFactory(
        dedupe_key=f"order_receipt:{neighbour.pk}:x", subject_type="order", subject_id="KEPT"
    )

    migration.subjects_fill(apps, None)

    for key, message in messages.items():
        message.refresh_from_db()
        assert (key, message.subject_type, message.subject_id) == (key, *expected[key])
    for message in (bot_reply, loose, named):
        message.refresh_from_db()
    assert (bot_reply.subject_type, bot_reply.subject_id) == ("thread", str(thread.pk))
    assert (loose.subject_type, loose.subject_id) == ("", "")
    assert (named.subject_type, named.subject_id) == ("order", "KEPT")


@pytest.mark.parametrize("key", [None, "", "order_receipt", "order_receipt:", "order_receipt:abc", "staff-reply::x"])
def test_a_key_without_a_number_names_nothing(key):
    assert migration.key_parse(key) is None
