"""A customer who shows the shop only a username (no phone, a business-scoped user id):
they write through the sandbox, a real worker answers, and the answer reaches them."""

import pytest

from conversations.models import Direction, ThreadMessage
from outbound.models import MessageStatus, OutboundMessage
from tests.support.shopper import Shopper, text_of
from tests.workers import wait_until
from waco.sandbox import services as sandbox

pytestmark = pytest.mark.worker

BSUID = "AE.8817365409921873645"


class UsernameOnlyShopper(Shopper):
    """Known to the shop by their BSUID alone: webhooks carry `from_user_id`, never `from`."""

    def __init__(self, shop, user_id: str, name: str = "Zara"):
        super().__init__(shop, wa_id="", name=name)
        self.user_id = user_id

    def outbox(self) -> list[dict]:
        return sandbox.outbox_list(config=sandbox.config_get(), recipient=self.user_id)

    def send(self, message: dict) -> None:
        sandbox.customer_message_send(
            user_id=self.user_id,
            username="@zara",
            name=self.name,
            message=message,
            phone_number_id=self.shop.number.graph_id,
        )
        sandbox.deliveries_flush(horizon_seconds=5)


def test_a_username_only_customer_says_hi_and_gets_the_shops_reply(worker_shop):
    zara = UsernameOnlyShopper(worker_shop, BSUID)
    menu, question = zara.says("hi", replies=2)

    assert "Welcome" in text_of(menu)
    for sent in (menu, question):
        assert "to" not in sent and (sent["recipient"], sent["recipient_type"]) == (BSUID, "individual")
    assert (
        ThreadMessage.objects.filter(
            thread__contact__user_id=BSUID, thread__contact__wa_id=None, direction=Direction.INBOUND
        ).count()
        == 1
    )

    def replies_delivered():
        sandbox.deliveries_flush(horizon_seconds=5)
        replies = OutboundMessage.objects.filter(recipient=BSUID)
        done = (MessageStatus.DELIVERED, MessageStatus.READ)
        return replies.count() == 2 and all(m.status in done for m in replies) and list(replies)

    wait_until(replies_delivered, timeout=30, message="both replies delivered to the username-only customer")
    assert {s["status"] for s in zara.outbox()} <= {"delivered", "read"}
