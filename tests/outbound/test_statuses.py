"""Statuses arrive in any order, twice, or before our send's response: one final state."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outbound.models import MessageStatus, OutboundMessage, ParkedStatus
from tests.ingest.factories import DeliveryFactory
from tests.outbound.factories import OutboundMessageFactory
from waco.ingest import services as ingest
from waco.ingest.models import Delivery, InboxEvent

WAMID = "wamid.HBgLOTcxNTAxMjMwMDAxFQIAERgSQ0"
FINAL_RANK = {"sent": 1, "delivered": 2, "read": 3}


def status_body(message, status: str, *, with_callback: bool = True, timestamp: int = 1_700_000_000) -> str:
    item = {
        "id": WAMID,
        "status": status,
        "timestamp": str(timestamp),
        "recipient_id": message.recipient,
        "pricing": {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"},
    }
    if with_callback:
        item["biz_opaque_callback_data"] = str(message.pk)
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "1", "phone_number_id": message.phone_number.graph_id},
        "statuses": [item],
    }
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
        }
    )


def deliver(body: str) -> None:
    delivery = DeliveryFactory(body=body)
    assert ingest.delivery_process(delivery_id=delivery.pk).failed == 0


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    statuses=st.lists(st.sampled_from(["sent", "delivered", "read"]), min_size=1, max_size=6),
    before_response=st.booleans(),
)
def test_statuses_in_any_order_and_duplicated_reach_the_highest_state(statuses, before_response):
    for model in (InboxEvent, Delivery, ParkedStatus, OutboundMessage):  # examples share one transaction
        model.objects.all().delete()
    message = OutboundMessageFactory(
        status=MessageStatus.SENDING if before_response else MessageStatus.ACCEPTED,
        wamid=None if before_response else WAMID,
    )
    for status in statuses:
        deliver(status_body(message, status))
    message.refresh_from_db()
    assert message.wamid == WAMID
    assert message.status == max(statuses, key=FINAL_RANK.__getitem__)
    assert message.pricing_category == "utility"


@pytest.mark.django_db
def test_a_status_for_an_unknown_wamid_is_parked_and_applied_when_the_wamid_appears():
    from outbound.statuses import messages_accepted

    message = OutboundMessageFactory(status=MessageStatus.SENDING)
    deliver(status_body(message, "delivered", with_callback=False))
    assert ParkedStatus.objects.filter(wamid=WAMID).count() == 1

    messages_accepted(accepted=[(message.pk, WAMID)])

    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert not ParkedStatus.objects.exists()


@pytest.mark.django_db
def test_read_is_never_undone_by_a_late_delivered():
    message = OutboundMessageFactory(status=MessageStatus.ACCEPTED, wamid=WAMID)
    deliver(status_body(message, "read"))
    deliver(status_body(message, "delivered"))
    deliver(status_body(message, "sent"))
    message.refresh_from_db()
    assert message.status == MessageStatus.READ
