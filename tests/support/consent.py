"""A contact who said yes (consent recorded in the ledger, as a reply in the thread records it),
and the send policy's decision on a marketing message to them."""

from django.utils import timezone

from outbound import policy
from outbound.models import MessageCategory
from waco.contacts import services as contacts
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentSource


def opted_in(contact, *categories):
    """The contact, opted in to `categories` (marketing and utility if none are named)."""
    for category in categories or (ConsentCategory.MARKETING, ConsentCategory.UTILITY):
        contacts.consent_record(
            contact=contact,
            category=category,
            action=ConsentAction.OPT_IN,
            source=ConsentSource.THREAD,
            recorded_at=timezone.now(),
        )
    return contact


# The order_update test template's parameters (tests.templates_lib.factories.PARAMETERS).
MARKETING_PARAMS = {"customer": "Amal", "order_id": "A-1"}


def decide_marketing(number, contact, *, now=None) -> policy.Decision:
    """A marketing message of the purpose "cart_recovery", decided by the policy (or refused)."""
    return policy.decide(
        phone_number=number,
        contact=contact,
        category=MessageCategory.MARKETING,
        purpose="cart_recovery",
        content=None,
        template_params=MARKETING_PARAMS,
        now=now or timezone.now(),
    )
