"""Whom a send reaches: a phone in `to`, or a business-scoped user id (BSUID) in `recipient`.

As on Meta: `to` wins when both are given; a BSUID in `to` is answered 200 with
a message id and then dropped (Chatwoot PR #15150, devlooped/WhatsApp PR #440),
so nobody gets it and no status follows; the answer names a BSUID send's
`user_id` and omits its `wa_id`.
"""

from dataclasses import dataclass

from django.db.models import Q

from waco.sandbox.graph.validation import is_bsuid
from waco.sandbox.graph.wa_ids import wa_id_for
from waco.sandbox.models import PhoneNumber, ServiceWindow


@dataclass(frozen=True)
class Addressee:
    """Whom a send reaches, as the sandbox resolves its `to` or `recipient`."""

    to: str  # `to` as Meta reads it (a phone's canonical digits, see wa_ids), "" when absent
    recipient: str  # `recipient` as sent (a BSUID), "" when absent
    customer: str  # the ServiceWindow key of whoever gets it; "" when Meta drops it
    sent_to: str = ""  # `to` exactly as sent: Meta's answer echoes it as `input`

    @property
    def wa_id(self) -> str | None:
        """The customer's phone, for statuses' recipient_id: none for a username-only customer."""
        return self.customer if self.customer and not is_bsuid(self.customer) else None

    @property
    def response_contact(self) -> dict:
        # Meta omits wa_id for a BSUID send and answers user_id instead.
        if self.recipient and not self.to:
            return {"input": self.recipient, "user_id": self.recipient}
        return {"input": self.sent_to or self.to, **({"wa_id": self.wa_id} if self.customer else {})}


def addressee_for(number: PhoneNumber, payload: dict) -> Addressee:
    """The customer a send's `to` or `recipient` names; a BSUID is matched to a customer who
    wrote with it (and maybe a phone), else it stands for a customer the sandbox has not met."""
    recipient = payload.get("recipient") or ""
    if payload.get("to") is not None:
        to = payload["to"]
        if is_bsuid(to):
            return Addressee(to=to, recipient=recipient, customer="", sent_to=to)
        return Addressee(to=wa_id_for(to), recipient=recipient, customer=wa_id_for(to), sent_to=to)
    windows = ServiceWindow.objects.filter(number=number).filter(Q(wa_id=recipient) | Q(user_id=recipient))
    customer = windows.order_by("-last_inbound_at").values_list("wa_id", flat=True).first()
    return Addressee(to="", recipient=recipient, customer=customer or recipient)
