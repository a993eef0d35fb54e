"""The thread admin (conversation, window, cart, take over, reply, hand back) and the keyword table."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from catalog.models import Variant
from conversations import carts
from conversations.models import Direction, InboundMedia, Keyword, MediaStatus, ThreadMessage, ThreadState
from outbound.models import MessageStatus, OutboundMessage
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.checkout.factories import OrderFactory
from tests.conversations.factories import ThreadFactory, ThreadMessageFactory
from tests.outbound.factories import OutboundMessageFactory
from tests.templates_lib.factories import PurposeFactory, PurposeTemplateFactory, TemplateFactory
from waco.contacts import services as contacts
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentSource

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_outbox_drain(monkeypatch):
    monkeypatch.setattr("outbound.services.outbox_ring", lambda *a, **k: None)


def window_opened(thread, *, hours_ago: float = 0):
    contacts.window_touch(
        contact=thread.contact, phone_number=thread.phone_number, inbound_at=timezone.now() - timedelta(hours=hours_ago)
    )
    return thread


def page_url(thread):
    return reverse("admin:conversations_thread_change", args=[thread.pk])


def post_url(thread, name):
    return reverse(f"admin:conversations_thread_{name}", args=[thread.pk])


# --- the list ---------------------------------------------------------------------------


def test_the_list_shows_state_and_window_and_filters_threads_with_a_person(admin_client):
    with_person = window_opened(ThreadFactory(state=ThreadState.HANDOFF, contact__profile_name="Amina"))
    ThreadMessageFactory(thread=with_person)
    ThreadFactory(state=ThreadState.BROWSING, contact__profile_name="Bilal")
    page = admin_client.get(reverse("admin:conversations_thread_changelist")).content.decode()
    assert "Amina" in page and "Bilal" in page
    assert page.count('class="window-badge"') == 2 and ">open</span>" in page and ">closed</span>" in page

    handoff = admin_client.get(reverse("admin:conversations_thread_changelist"), {"state": "handoff"})
    assert "Amina" in handoff.content.decode() and "Bilal" not in handoff.content.decode()
    assert "With a person" in handoff.content.decode()
    found = admin_client.get(reverse("admin:conversations_thread_changelist"), {"q": with_person.contact.wa_id})
    assert "Amina" in found.content.decode() and "Bilal" not in found.content.decode()


def test_threads_are_not_added_or_deleted_in_the_admin(admin_client):
    thread = ThreadFactory()
    assert admin_client.get(reverse("admin:conversations_thread_add")).status_code == 403
    assert admin_client.get(reverse("admin:conversations_thread_delete", args=[thread.pk])).status_code == 403


def test_list_actions_take_over_and_hand_back(admin_client):
    bot, person = ThreadFactory(state=ThreadState.BROWSING), ThreadFactory(state=ThreadState.HANDOFF)
    url = reverse("admin:conversations_thread_changelist")
    response = admin_client.post(url, {"action": "take_over", "_selected_action": [bot.pk, person.pk]}, follow=True)
    assert "Took over 1 thread(s)." in response.content.decode()
    assert "already with a person" in response.content.decode()
    bot.refresh_from_db()
    assert bot.state == ThreadState.HANDOFF
    admin_client.post(url, {"action": "hand_back", "_selected_action": [bot.pk, person.pk]})
    bot.refresh_from_db(), person.refresh_from_db()
    assert (bot.state, person.state) == (ThreadState.BROWSING, ThreadState.BROWSING)


# --- the change page ----------------------------------------------------------------------


def test_the_page_shows_the_conversation_both_ways_with_statuses_and_media(admin_client, settings):
    settings.MEDIA_URL = "/media/"
    thread = window_opened(ThreadFactory(state=ThreadState.HANDOFF))
    ThreadMessageFactory(thread=thread, text="Do you have it in M?")
    failed = OutboundMessageFactory(
        phone_number=thread.phone_number,
        contact=thread.contact,
        status=MessageStatus.FAILED,
        error_detail="(#131026) Message undeliverable",
    )
    ThreadMessageFactory(thread=thread, direction=Direction.OUTBOUND, wamid=None, outbound=failed, text="Yes we do")
    read = OutboundMessageFactory(phone_number=thread.phone_number, contact=thread.contact, status=MessageStatus.READ)
    ThreadMessageFactory(
        thread=thread, direction=Direction.OUTBOUND, wamid=None, outbound=read, text="Shall I hold one?"
    )
    photo = ThreadMessageFactory(thread=thread, type="image", text="this one")
    InboundMedia.objects.create(
        message=photo, media_id="m1", status=MediaStatus.STORED, mime_type="image/jpeg", file="inbound/2025/06/m1.jpg"
    )
    voice = ThreadMessageFactory(thread=thread, type="audio", text="")
    InboundMedia.objects.create(message=voice, media_id="m2", status=MediaStatus.FAILED, error="media id expired")

    page = admin_client.get(page_url(thread)).content.decode()
    order = [page.index(s) for s in ("Do you have it in M?", "Yes we do", "Shall I hold one?", "this one")]
    assert order == sorted(order)
    assert "Failed: (#131026) Message undeliverable" in page
    assert ">Read</span>" in page
    # Customers' files are private: served by the admin to those who may read the thread, never from MEDIA_URL.
    assert f'href="/admin/conversations/thread/{thread.pk}/media/{photo.pk}/"' in page
    assert "/media/inbound/" not in page
    assert "media id expired" in page


def test_the_page_shows_the_window_the_transitions_and_the_cart_at_live_prices(admin_client):
    thread = window_opened(ThreadFactory(state=ThreadState.BROWSING), hours_ago=1)
    variant = VariantFactory(product=ProductFactory(name="Linen Abaya"), sku="AB-M", price_minor=32050, currency="AED")
    carts.cart_line_add(thread=thread, variant=variant, quantity=2)
    Variant.objects.filter(pk=variant.pk).update(price_minor=29900)  # the catalog changed since
    admin_client.post(post_url(thread, "take"))
    until = contacts.window_open_until(contact=thread.contact, phone_number=thread.phone_number)

    page = admin_client.get(page_url(thread)).content.decode()
    assert f"Service window open until {until:%Y-%m-%d %H:%M} UTC" in page
    assert re.search(r'id="window-left" data-until="[^"]+">22\xa0hours, 5\d\xa0minutes left<', page)  # a countdown
    assert "Linen Abaya M" in page and "299.00 AED" in page and "598.00 AED" in page
    assert "hand_to_person" in page and "by admin" in page
    # open window: a live textarea (not required: an attachment may go alone) and a file input
    assert '<textarea name="text" id="reply-text" rows="4" maxlength="4096" dir="auto"' in page
    assert 'type="file" name="attachment"' in page


def test_with_the_window_closed_the_textarea_is_disabled_and_templates_are_offered(admin_client):
    thread = window_opened(ThreadFactory(state=ThreadState.HANDOFF), hours_ago=26)
    PurposeTemplateFactory(
        purpose=PurposeFactory(key="staff_followup"),
        template=TemplateFactory(business_account=thread.phone_number.business_account, name="order_followup"),
    )
    page = admin_client.get(page_url(thread)).content.decode()
    assert "Service window closed since" in page
    assert 'id="reply-text" rows="3" disabled' in page
    assert "only within\n        24 hours" in page
    assert 'name="purpose" value="staff_followup"' in page and "order_followup" in page
    assert 'name="param:customer"' in page and 'name="param:order_id"' in page


def test_the_customers_chat_is_linked_when_the_sandbox_is_installed(admin_client):
    thread = ThreadFactory(contact__wa_id="971500000001", contact__profile_name="Amina K")
    page = admin_client.get(page_url(thread)).content.decode()
    assert 'href="/demo/chat/?wa_id=971500000001&amp;name=Amina+K"' in page
    assert "Open this customer's chat" in page


def test_the_thread_lists_the_customers_orders_and_each_order_leads_back_to_the_thread(admin_client, viewer):
    thread = ThreadFactory()
    placed = OrderFactory(contact=thread.contact, phone_number=thread.phone_number, total_minor=320_00)
    elsewhere = OrderFactory(contact=thread.contact)  # another shop's order: not this thread's business

    page = admin_client.get(page_url(thread)).content.decode()
    order_url = reverse("admin:checkout_order_change", args=[placed.pk])
    assert f'<a href="{order_url}">{placed.reference}</a>' in page and "320.00 AED" in page
    assert elsewhere.reference not in page

    order_page = admin_client.get(order_url).content.decode()
    back = reverse("admin:conversations_thread_for_order", args=[placed.reference])
    assert f'href="{back}"' in order_page
    assert admin_client.get(back)["Location"] == page_url(thread)
    assert viewer.get(back)["Location"] == page_url(thread)  # reading the thread is enough
    assert admin_client.get(reverse("admin:conversations_thread_for_order", args=["W-NONE"])).status_code == 404
    assert admin_client.post(back).status_code == 405


# --- posts ------------------------------------------------------------------------------------


def test_a_reply_post_is_queued_and_listed_with_its_author(admin_client):
    thread = window_opened(ThreadFactory(state=ThreadState.HANDOFF))
    response = admin_client.post(post_url(thread, "reply"), {"text": "It ships today.", "nonce": "0" * 32}, follow=True)
    assert response.redirect_chain[-1][0] == page_url(thread) + "#action-result"
    page = response.content.decode()
    assert "Queued for sending." in page
    message = OutboundMessage.objects.get()
    assert message.status == MessageStatus.QUEUED
    assert ThreadMessage.objects.get(outbound=message).staff_user.username == "admin"
    assert "It ships today." in page and ">Queued</span>" in page
    admin_client.post(post_url(thread, "reply"), {"text": "It ships today.", "nonce": "0" * 32})  # a double submit
    assert OutboundMessage.objects.count() == 1


def test_a_reply_post_outside_the_window_is_refused_with_the_rule(admin_client):
    thread = window_opened(ThreadFactory(state=ThreadState.HANDOFF), hours_ago=25)
    page = admin_client.post(post_url(thread, "reply"), {"text": "Hello?"}, follow=True).content.decode()
    assert "The service window closed at" in page and "Send an approved template instead." in page
    assert not OutboundMessage.objects.exists() and not ThreadMessage.objects.exists()


def test_a_template_post_parses_the_parameters_and_queues_it(admin_client):
    thread = window_opened(ThreadFactory(state=ThreadState.HANDOFF), hours_ago=25)
    contacts.consent_record(
        contact=thread.contact,
        category=ConsentCategory.UTILITY,
        action=ConsentAction.OPT_IN,
        source=ConsentSource.CHECKOUT,
        recorded_at=timezone.now(),
    )
    PurposeTemplateFactory(
        purpose=PurposeFactory(key="staff_followup"),
        template=TemplateFactory(business_account=thread.phone_number.business_account),
    )
    data = {"purpose": "staff_followup", "param:customer": "Amina", "param:order_id": "A-7"}
    page = admin_client.post(post_url(thread, "send_template"), data, follow=True).content.decode()
    assert "Queued for sending." in page
    assert OutboundMessage.objects.get().template_params == {"customer": "Amina", "order_id": "A-7"}
    assert "Hi Amina, your order A-7 has shipped." in page


def test_a_template_refused_by_the_send_path_shows_the_reason(admin_client):
    thread = ThreadFactory(state=ThreadState.HANDOFF)  # no consent
    PurposeTemplateFactory(
        purpose=PurposeFactory(key="staff_followup"),
        template=TemplateFactory(business_account=thread.phone_number.business_account),
    )
    data = {"purpose": "staff_followup", "param:customer": "Amina", "param:order_id": "A-7"}
    page = admin_client.post(post_url(thread, "send_template"), data, follow=True).content.decode()
    assert "Not sent: no utility consent" in page
    assert OutboundMessage.objects.get().status == MessageStatus.FAILED


def test_take_over_and_hand_back_buttons(admin_client):
    thread = window_opened(ThreadFactory(state=ThreadState.BUILDING_CART))
    page = admin_client.post(post_url(thread, "take"), follow=True).content.decode()
    assert "You have this thread now" in page and 'id="hand-back"' in page
    page = admin_client.post(post_url(thread, "hand_back"), follow=True).content.decode()
    assert "Handed back" in page and 'id="take-over"' in page
    thread.refresh_from_db()
    assert thread.state == ThreadState.BROWSING
    assert "back with the" in OutboundMessage.objects.get().content["text"]["body"]


def test_a_refused_button_says_why_and_changes_nothing(admin_client):
    thread = ThreadFactory(state=ThreadState.BROWSING)
    page = admin_client.post(post_url(thread, "hand_back"), follow=True).content.decode()
    assert "not with a person" in page
    assert not thread.transitions.exists()


def test_the_post_views_take_posts_only(admin_client):
    thread = ThreadFactory(state=ThreadState.HANDOFF)
    assert admin_client.get(post_url(thread, "reply")).status_code == 405
    assert admin_client.get(post_url(thread, "take")).status_code == 405


def test_staff_without_change_permission_read_but_cannot_act(viewer):
    thread = window_opened(ThreadFactory(state=ThreadState.HANDOFF))
    ThreadMessageFactory(thread=thread, text="Anyone there?")
    page = viewer.get(page_url(thread))
    assert page.status_code == 200
    assert "Anyone there?" in page.content.decode() and 'id="reply-form"' not in page.content.decode()
    for name, data in [("reply", {"text": "hi"}), ("take", {}), ("hand_back", {}), ("send_template", {})]:
        assert viewer.post(post_url(thread, name), data).status_code == 403
    thread.refresh_from_db()
    assert thread.state == ThreadState.HANDOFF
    assert not OutboundMessage.objects.exists()


def test_staff_without_any_thread_permission_are_denied(client):
    client.force_login(get_user_model().objects.create_user("nobody", password="x", is_staff=True))
    thread = ThreadFactory()
    assert client.get(page_url(thread)).status_code == 403
    assert client.post(post_url(thread, "take")).status_code == 403


# --- keywords ---------------------------------------------------------------------------------


def add_keyword(client, word, intent="agent", language="es"):
    return client.post(
        reverse("admin:conversations_keyword_add"), {"word": word, "intent": intent, "language": language}
    )


def test_a_keyword_is_stored_normalised(admin_client):
    assert add_keyword(admin_client, "  ¡Ayúdame,  POR favor! ").status_code == 302
    assert Keyword.objects.get(language="es").word == "ayudame por favor"


def test_a_keyword_that_normalises_to_nothing_is_refused(admin_client):
    response = add_keyword(admin_client, "¿!?")
    assert response.status_code == 200
    assert "empty once punctuation and accents are removed" in response.content.decode()
    assert not Keyword.objects.filter(language="es").exists()


def test_a_duplicate_keyword_is_refused_after_normalising(admin_client):
    Keyword.objects.create(word="socorro", intent="agent", language="pt")
    response = add_keyword(admin_client, "SOCORRO!", intent="menu")
    assert "“socorro” is already a keyword (for “Talk to a person”)" in response.content.decode()
    assert Keyword.objects.get(word="socorro").intent == "agent"


def test_editing_a_keyword_keeps_its_own_word(admin_client):
    keyword = Keyword.objects.create(word="socorro", intent="agent", language="pt")
    url = reverse("admin:conversations_keyword_change", args=[keyword.pk])
    assert admin_client.post(url, {"word": "Socorro", "intent": "menu", "language": "pt"}).status_code == 302
    keyword.refresh_from_db()
    assert (keyword.word, keyword.intent) == ("socorro", "menu")
