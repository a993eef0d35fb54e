"""The one policy every send obeys, decided before a message enters the outbox.

Window open: free-form is allowed. Window closed: an approved template of the
purpose, along its chain, and the customer's consent for the category; a
marketing message also stays under a share of the portfolio's messaging limit.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from outbound.models import MessageCategory, MessageStatus, OutboundMessage
from waco.channels.models import PhoneNumber
from waco.contacts import services as contacts
from waco.contacts.models import ConsentCategory, Contact

# Categories that need the customer's consent when we start the conversation.
CONSENT_FOR_CATEGORY = {
    MessageCategory.UTILITY: ConsentCategory.UTILITY,
    MessageCategory.MARKETING: ConsentCategory.MARKETING,
    MessageCategory.AUTHENTICATION: ConsentCategory.UTILITY,
}
MESSAGING_LIMIT_WINDOW = timedelta(hours=24)


class PolicyRefusal(Exception):
    """The message may not be sent; `reason` says why, `needs_person` whether staff must act."""

    def __init__(self, reason: str, *, needs_person: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.needs_person = needs_person


@dataclass(frozen=True)
class Decision:
    content: dict  # the Graph message object to send
    template_name: str = ""  # set when a template stands in for free-form


def decide(
    *,
    phone_number: PhoneNumber,
    contact: Contact,
    category: str,
    purpose: str,
    content: dict | None,
    template_params: dict | None,
    now: datetime,
    exclude_templates: tuple[str, ...] = (),
    window_closed: bool = False,
) -> Decision:
    """What to send for this purpose now, or PolicyRefusal.

    `window_closed` forces the template path (Meta said 131047 although our
    window looked open); `exclude_templates` skips templates Meta refused.
    """
    window_open = not window_closed and contacts.window_is_open(contact=contact, phone_number=phone_number, now=now)
    if category == MessageCategory.MARKETING and not contacts.consent_is_granted(
        contact=contact, category=ConsentCategory.MARKETING
    ):  # an open window does not make offers welcome: "stop" holds everywhere
        raise PolicyRefusal("no marketing consent: the customer has not opted in, or opted out")
    if window_open and content is not None:
        return Decision(content=content)
    if category == MessageCategory.SERVICE:
        raise PolicyRefusal("the service window is closed and a service reply has no template")
    consent = CONSENT_FOR_CATEGORY[MessageCategory(category)]
    if not contacts.consent_is_granted(contact=contact, category=consent):
        raise PolicyRefusal(f"no {consent} consent for a business-initiated message")
    if category == MessageCategory.MARKETING:
        _check_marketing_share(phone_number=phone_number, contact=contact, now=now)
    return _template_decision(
        phone_number=phone_number, purpose=purpose, params=template_params or {}, exclude=exclude_templates
    )


def _template_decision(*, phone_number, purpose: str, params: dict, exclude: tuple[str, ...]) -> Decision:
    from templates_lib import services as templates

    template = templates.purpose_resolve(
        business_account=phone_number.business_account, purpose_key=purpose, exclude_names=exclude
    )
    if template is None:
        raise PolicyRefusal(f"no usable template for purpose {purpose!r}", needs_person=True)
    try:
        rendered = templates.template_render(template=template, params=params)
    except templates.TemplateRenderError as exc:
        raise PolicyRefusal(f"template {template.name!r} cannot be rendered: {exc}", needs_person=True) from exc
    return Decision(content={"type": "template", "template": rendered}, template_name=template.name)


def _check_marketing_share(*, phone_number: PhoneNumber, contact: Contact, now: datetime) -> None:
    """Marketing may use only a share of the portfolio's limit on unique users
    contacted outside the window in a moving 24 h, leaving room for receipts."""
    account = phone_number.business_account
    limit = account.messaging_limit
    if limit is None:
        return
    allowed = int(limit * settings.WACO_MARKETING_LIMIT_SHARE)
    recent = OutboundMessage.objects.filter(
        phone_number__business_account=account,
        created_at__gte=now - MESSAGING_LIMIT_WINDOW,
        template_name__gt="",  # business-initiated sends are the template sends
    ).exclude(status=MessageStatus.FAILED)
    users = set(recent.values_list("contact_id", flat=True).distinct())
    if contact.pk not in users and len(users) >= allowed:
        raise PolicyRefusal(
            f"marketing would exceed {settings.WACO_MARKETING_LIMIT_SHARE:.0%} of the messaging limit ({limit} users/24 h)"
        )
