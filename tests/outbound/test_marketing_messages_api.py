"""Meta's Marketing Messages API: an account that has it sends marketing templates to
/<number>/marketing_messages, routed by the category Meta last completed; everything else
(utility templates, free-form replies) keeps going to /messages. Asserted at the sandbox."""

import json
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from outbound import sending, services
from outbound.models import GraphEdge, MessageCategory, MessageStatus, OutboundMessage
from templates_lib import services as templates
from templates_lib.models import TemplateCategory
from tests.support.drain import wait_drained
from tests.support.payloads import envelope
from tests.support.sandbox_shop import ORDER_UPDATE_PARAMS, sandbox_shop_wire
from tests.support.webhooks import post_webhook
from tests.templates_lib.factories import BODY, PARAMETERS, PurposeFactory
from tests.workers import wait_until
from waco.celery_config import QUEUE_MARKETING, QUEUE_SERVICE
from waco.contacts import services as contacts
from waco.contacts.models import ConsentCategory, ServiceWindow
from waco.ingest import inbox
from waco.sandbox import services as sandbox

CUSTOMER = "971501230042"


@pytest.fixture
def shop(transactional_db, settings, live_server, monkeypatch):
    """The shop on the sandbox with a marketing and a utility template approved, and a customer who
    opted in to both; the account is on the Marketing Messages API unless a test turns it off."""
    shop = sandbox_shop_wire(settings, live_server)
    shop.account.marketing_messages_api = True
    shop.account.save()
    shop.offer, shop.receipt = (
        approved(shop, name, category)
        for name, category in (("summer_sale", TemplateCategory.MARKETING), ("order_shipped", TemplateCategory.UTILITY))
    )
    shop.consent(CUSTOMER, ConsentCategory.MARKETING)
    shop.consent(CUSTOMER, ConsentCategory.UTILITY)
    monkeypatch.setenv("WACO_GRAPH_API_BASE", settings.WACO_GRAPH_API_BASE)  # for a worker, when a test starts one
    yield shop
    shop.close()


def approved(shop, name, category):
    draft = templates.template_create_draft(
        business_account=shop.account,
        name=name,
        language="en_US",
        category=category,
        components=BODY,
        parameters=PARAMETERS,
    )
    template = templates.template_submit(template=draft)
    shop.deliver_webhooks()  # the sandbox's review approves it by webhook
    template.refresh_from_db()
    return template


def template_message(shop, template):
    category = MessageCategory(template.category.lower())
    return services.message_enqueue(
        phone_number=shop.number,
        contact=shop.contact(CUSTOMER),
        category=category,
        purpose="promotion" if category == MessageCategory.MARKETING else "order_update",
        template=template,
        template_params=ORDER_UPDATE_PARAMS,
    )


def edges_at_the_sandbox(shop) -> dict[str, str]:
    """Each wamid the sandbox accepted, with the edge it came through."""
    config = sandbox.config_get()
    return {
        item["wamid"]: edge
        for edge in GraphEdge.values
        for item in sandbox.outbox_list(config=config, to=CUSTOMER, edge=edge)
    }


def drain_all():
    return sending.outbox_drain(queue=QUEUE_MARKETING) + sending.outbox_drain(queue=QUEUE_SERVICE)


def deliver_category_update(client, shop, template, *, impending: bool):
    """Meta's template_category_update webhook, signed, to Waco's endpoint and processed: a notice
    that the category will change to UTILITY (impending), or the change to UTILITY done (completed)."""
    if impending:  # the current category in new_category, the coming one in correct_category
        change = {"new_category": "MARKETING", "correct_category": "UTILITY"}
    else:
        change = {"previous_category": "MARKETING", "new_category": "UTILITY"}
    value = {
        "message_template_id": int(template.meta_template_id),
        "message_template_name": template.name,
        "message_template_language": template.language,
        **change,
    }
    body = envelope("template_category_update", value, waba_id=shop.account.waba_id, time=int(time.time()) + 1)
    assert post_webhook(client, json.dumps(body).encode()).status_code == 200
    inbox.inbox_drain()
    template.refresh_from_db()


def test_a_marketing_template_goes_to_marketing_messages(shop):
    message = template_message(shop, shop.offer)

    assert drain_all() == 1

    message.refresh_from_db()
    assert message.status == MessageStatus.ACCEPTED
    assert edges_at_the_sandbox(shop) == {message.wamid: "marketing_messages"}
    assert message.graph_edge == GraphEdge.MARKETING_MESSAGES


def test_a_utility_template_and_a_free_form_reply_still_go_to_messages(shop):
    shop.customer_says(CUSTOMER)
    receipt = template_message(shop, shop.receipt)
    reply = services.message_enqueue(
        phone_number=shop.number,
        contact=shop.contact(CUSTOMER),
        category=MessageCategory.SERVICE,
        purpose="reply",
        content={"type": "text", "text": {"body": "Your cart has 2 items"}},
    )
    offer = template_message(shop, shop.offer)

    assert drain_all() == 3

    receipt.refresh_from_db(), reply.refresh_from_db(), offer.refresh_from_db()
    assert edges_at_the_sandbox(shop) == {
        receipt.wamid: "messages",
        reply.wamid: "messages",
        offer.wamid: "marketing_messages",
    }
    assert [m.graph_edge for m in (receipt, reply, offer)] == ["messages", "messages", "marketing_messages"]


def test_with_the_setting_off_every_message_goes_to_messages(shop):
    shop.account.marketing_messages_api = False
    shop.account.save()
    offer, receipt = template_message(shop, shop.offer), template_message(shop, shop.receipt)

    assert drain_all() == 2

    offer.refresh_from_db(), receipt.refresh_from_db()
    assert edges_at_the_sandbox(shop) == {offer.wamid: "messages", receipt.wamid: "messages"}
    assert offer.graph_edge == receipt.graph_edge == GraphEdge.MESSAGES


def test_a_completed_recategorisation_to_utility_sends_the_template_to_messages(shop, client):
    queued = template_message(shop, shop.offer)  # queued as marketing, recategorised before it leaves

    deliver_category_update(client, shop, shop.offer, impending=False)
    assert (shop.offer.category, shop.offer.category_pending) == (TemplateCategory.UTILITY, "")
    assert drain_all() == 1

    queued.refresh_from_db()
    assert queued.status == MessageStatus.ACCEPTED
    assert edges_at_the_sandbox(shop) == {queued.wamid: "messages"}


def test_an_impending_recategorisation_does_not_change_the_route(shop, client):
    deliver_category_update(client, shop, shop.offer, impending=True)
    assert (shop.offer.category, shop.offer.category_pending) == (TemplateCategory.MARKETING, TemplateCategory.UTILITY)
    message = template_message(shop, shop.offer)

    assert drain_all() == 1

    message.refresh_from_db()
    assert edges_at_the_sandbox(shop) == {message.wamid: "marketing_messages"}


def test_a_marketing_template_standing_in_for_a_late_free_form_offer_goes_to_marketing_messages(shop):
    purpose = PurposeFactory(key="promotion", category=TemplateCategory.MARKETING)
    templates.purpose_chain_set(purpose=purpose, business_account=shop.account, templates=[shop.offer])
    contact, now = shop.contact(CUSTOMER), timezone.now()
    contacts.window_touch(contact=contact, phone_number=shop.number, inbound_at=now)
    offer = services.message_enqueue(
        phone_number=shop.number,
        contact=contact,
        category=MessageCategory.MARKETING,
        purpose="promotion",
        content={"type": "text", "text": {"body": "20% off linen today"}},
        template_params=ORDER_UPDATE_PARAMS,
    )
    ServiceWindow.objects.filter(contact=contact).update(last_inbound_at=now - timedelta(hours=25))  # it waited

    assert drain_all() == 1

    offer.refresh_from_db()
    assert (offer.status, offer.template_name) == (MessageStatus.ACCEPTED, "summer_sale")
    assert edges_at_the_sandbox(shop) == {offer.wamid: "marketing_messages"}


def test_the_claim_brings_the_template_category_without_a_query_per_message(shop):
    shop.number.throughput_mps = 1000  # a burst of 50: the whole batch is granted
    shop.number.save()
    counts = {}
    for size in (1, 6):
        OutboundMessage.objects.update(status=MessageStatus.FAILED)  # the last round's are out of the way
        for _ in range(size):
            template_message(shop, shop.offer)
        with CaptureQueriesContext(connection) as queries:
            claimed, _ = sending.outbox_claim(queue=QUEUE_MARKETING, now=timezone.now())
        counts[size] = len(queries)
        assert [m.send_template_category for m in claimed] == [TemplateCategory.MARKETING] * size
    assert counts[1] == counts[6], counts


@pytest.mark.worker
def test_a_worker_sends_the_marketing_template_to_marketing_messages_over_http(shop, worker_log):
    offer = template_message(shop, shop.offer)  # rings the marketing drain, which the worker runs
    receipt = template_message(shop, shop.receipt)

    wait_until(
        lambda: (
            OutboundMessage.objects.filter(pk__in=[offer.pk, receipt.pk], status=MessageStatus.ACCEPTED).count() == 2
        ),
        message="both sends, accepted by the sandbox",
    )
    wait_drained()

    offer.refresh_from_db(), receipt.refresh_from_db()
    assert edges_at_the_sandbox(shop) == {offer.wamid: "marketing_messages", receipt.wamid: "messages"}
    assert (offer.graph_edge, receipt.graph_edge) == (GraphEdge.MARKETING_MESSAGES, GraphEdge.MESSAGES)
