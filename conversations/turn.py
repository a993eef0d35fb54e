"""One inbound message being answered: the locked thread, what was asked, and how to reply."""

from dataclasses import dataclass
from datetime import datetime

from conversations import replies, services
from conversations.carts import cart_summary
from conversations.intents import Request
from conversations.models import Cart, Thread, TransitionCause
from conversations.services import thread_transition


@dataclass
class Turn:
    """One inbound message being answered: the locked thread and what it asked."""

    thread: Thread
    request: Request
    wamid: str
    at: datetime  # Meta's timestamp of the message
    event: object

    @property
    def account(self):
        return self.thread.phone_number.business_account

    @property
    def shop_name(self) -> str:
        return self.thread.phone_number.verified_name or self.account.name

    def move(self, name: str, cause: str = TransitionCause.CUSTOMER) -> None:
        self.thread = thread_transition(thread=self.thread, name=name, cause=cause, detail=self.wamid)

    def say(self, reply: replies.Reply) -> None:
        services.thread_reply(thread=self.thread, content=reply.content, text=reply.text)

    def show_cart(self, note: str = "", *, build=replies.cart) -> None:
        """Say the cart at today's prices and remember the total shown: checkout holds the customer to it."""
        summary = cart_summary(thread=self.thread)
        Cart.objects.filter(thread=self.thread).update(seen_total_minor=summary.total_minor if summary.lines else None)
        self.say(build(summary, note=note) if note else build(summary))
