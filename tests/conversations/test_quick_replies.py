"""Quick replies: a shop's saved answers, kept in the admin and picked on the conversation page with the
customer's name and last order filled."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from checkout.models import Order
from conversations import staff
from conversations.models import QuickReply, ThreadState
from tests.channels.factories import BusinessAccountFactory
from tests.checkout.factories import OrderFactory
from tests.conversations.factories import ThreadFactory
from waco.contacts import services as contacts

pytestmark = pytest.mark.django_db


def in_handoff_with_window(**contact):
    thread = ThreadFactory(state=ThreadState.HANDOFF, **{f"contact__{k}": v for k, v in contact.items()})
    contacts.window_touch(
        contact=thread.contact, phone_number=thread.phone_number, inbound_at=timezone.now() - timedelta(hours=1)
    )
    return thread


def an_order(thread, reference, *, minutes_ago):
    order = OrderFactory(reference=reference, phone_number=thread.phone_number, contact=thread.contact)
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))
    return order


def test_placeholders_are_filled_with_the_customers_name_and_latest_order():
    thread = in_handoff_with_window(name="Amal Mansour", profile_name="Amal")
    account = thread.phone_number.business_account
    QuickReply.objects.create(business_account=account, title="Where", text="Hi {name}, {last_order} ships today.")
    QuickReply.objects.create(business_account=BusinessAccountFactory(), title="Other shop", text="not ours")
    an_order(thread, "W0000001", minutes_ago=60)
    an_order(thread, "W0000002", minutes_ago=5)
    [reply] = staff.quick_replies_for(thread=thread)
    assert (reply.title, reply.text) == ("Where", "Hi Amal Mansour, W0000002 ships today.")


def test_a_customer_with_no_name_and_no_order_gets_the_placeholders_left_out():
    thread = in_handoff_with_window(name="", profile_name="")
    QuickReply.objects.create(
        business_account=thread.phone_number.business_account, title="Hi", text="Hello {name}! Order: {last_order}"
    )
    assert staff.quick_replies_for(thread=thread)[0].text == "Hello ! Order: "


def test_the_picker_is_on_the_page_with_the_text_filled(admin_client):
    thread = in_handoff_with_window(name="Amal")
    QuickReply.objects.create(business_account=thread.phone_number.business_account, title="Hello", text="Hi {name}")
    page = admin_client.get(reverse("admin:conversations_thread_change", args=[thread.pk])).content.decode()
    assert 'id="quick-reply"' in page and 'data-text="Hi Amal"' in page and ">Hello</option>" in page


def test_the_admin_keeps_quick_replies_and_refuses_an_unknown_placeholder(admin_client):
    account = BusinessAccountFactory()
    url = reverse("admin:conversations_quickreply_add")
    refused = admin_client.post(url, {"business_account": account.pk, "title": "Typo", "text": "Hi {nmae}"})
    assert refused.status_code == 200 and "Unknown placeholder(s) {nmae}" in refused.content.decode()
    saved = admin_client.post(url, {"business_account": account.pk, "title": "Hi", "text": "Hi {name} ({last_order})"})
    assert saved.status_code == 302
    assert QuickReply.objects.get().text == "Hi {name} ({last_order})"
    assert admin_client.get(reverse("admin:conversations_quickreply_changelist")).status_code == 200
