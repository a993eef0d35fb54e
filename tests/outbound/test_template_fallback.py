"""Outside the window the purpose's template goes instead, along its chain."""

import json

import pytest
from django.utils import timezone

from outbound import sending, services
from outbound.models import MessageCategory, MessageStatus
from tests.support.sandbox_shop import ORDER_UPDATE_PARAMS, approved_chain, sandbox_shop_wire
from waco.alerts.models import Alert
from waco.celery_config import QUEUE_SERVICE
from waco.contacts import services as contacts
from waco.sandbox import services as sandbox

CUSTOMER = "971501230003"
UPDATE = {"type": "text", "text": {"body": "Your order W-1042 has shipped."}}


@pytest.fixture
def shop(transactional_db, settings, live_server):
    shop = sandbox_shop_wire(settings, live_server)
    shop.consent(CUSTOMER)
    return shop


def order_update(shop, content=None):
    return services.message_enqueue(
        phone_number=shop.number,
        contact=shop.contact(CUSTOMER),
        category=MessageCategory.UTILITY,
        purpose="order_update",
        content=content,
        template_params=ORDER_UPDATE_PARAMS,
    )


def template_sent(shop) -> list[str]:
    return [b["template"]["name"] for b in shop.sent_bodies(to=CUSTOMER) if b["type"] == "template"]


def test_outside_the_window_an_update_goes_as_the_purposes_template(shop):
    approved_chain(shop, "order_shipped_v1")
    message = order_update(shop, content=UPDATE)
    assert message.status == MessageStatus.QUEUED and message.template_name == "order_shipped_v1"

    sending.outbox_drain(queue=QUEUE_SERVICE)

    [body] = shop.sent_bodies(to=CUSTOMER)
    assert body["template"]["components"][0]["parameters"][1]["text"] == "W-1042"
    message.refresh_from_db()
    assert message.status == MessageStatus.ACCEPTED


def test_no_usable_template_fails_the_message_and_alerts_staff(shop):
    message = order_update(shop, content=UPDATE)
    assert message.status == MessageStatus.FAILED
    assert message.needs_person
    assert "no usable template" in message.error_detail
    assert Alert.objects.filter(kind="unusable_purpose", resolved_at__isnull=True).exists()


def test_a_131047_failed_status_falls_back_to_the_purposes_template(shop):
    approved_chain(shop, "order_shipped_v1")
    # Waco believes the window is open; Meta (the sandbox) saw no message: free-form fails by status.
    contacts.window_touch(contact=shop.contact(CUSTOMER), phone_number=shop.number, inbound_at=timezone.now())
    message = order_update(shop, content=UPDATE)
    assert message.template_name == ""
    sending.outbox_drain(queue=QUEUE_SERVICE)

    shop.deliver_webhooks()  # failed with 131047
    message.refresh_from_db()
    assert (message.status, message.template_name) == (MessageStatus.QUEUED, "order_shipped_v1")
    sending.outbox_drain(queue=QUEUE_SERVICE)

    assert [b["type"] for b in shop.sent_bodies(to=CUSTOMER)] == ["text", "template"]
    assert template_sent(shop) == ["order_shipped_v1"]
    shop.deliver_webhooks()
    message.refresh_from_db()
    assert message.status in (MessageStatus.DELIVERED, MessageStatus.READ)


def test_a_template_paused_at_meta_falls_back_to_the_next_of_the_chain(shop):
    first, second = approved_chain(shop, "order_shipped_v1", "order_shipped_v2")
    sandbox.config_update(changes={"statuses": False})
    # Paused at Meta before Waco heard of it: the send itself is refused with 132015.
    sandbox.template_status_set(
        waba_id=shop.number.business_account.waba_id,
        name=first.name,
        language="en_US",
        status="PAUSED",
        reason="LOW_QUALITY",
    )
    message = order_update(shop)
    assert message.template_name == first.name

    sending.outbox_drain(queue=QUEUE_SERVICE)
    message.refresh_from_db()
    assert message.template_name == second.name
    sending.outbox_drain(queue=QUEUE_SERVICE)

    assert template_sent(shop) == [second.name]
    message.refresh_from_db()
    assert message.status == MessageStatus.ACCEPTED
    assert json.dumps(message.content).count(second.name) == 1


def test_a_template_paused_by_webhook_raises_an_alert(shop):
    (first,) = approved_chain(shop, "order_shipped_v1")
    sandbox.template_status_set(
        waba_id=shop.number.business_account.waba_id,
        name=first.name,
        language="en_US",
        status="PAUSED",
        reason="LOW_QUALITY",
    )
    shop.deliver_webhooks()
    kinds = set(Alert.objects.filter(resolved_at__isnull=True).values_list("kind", flat=True))
    assert {"template_stopped", "unusable_purpose"} <= kinds
