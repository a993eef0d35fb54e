"""The one policy every send obeys, decided when a message enters the outbox and again
when a drain claims it (the customer may have said "stop", the window may have closed).

Window open: free-form is allowed. Window closed: an approved template of the
purpose, along its chain, and the customer's consent for the category; a
marketing message also stays under a share of the portfolio's messaging limit
(outbound.reach counts the users every template send reaches).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery

from outbound import reach
from outbound.models import MessageCategory, OutboundMessage
from templates_lib import services as templates
from templates_lib.models import Template, TemplateCategory
from waco.channels.models import PhoneNumber
from waco.contacts import services as contacts
from waco.contacts.models import SERVICE_WINDOW, ConsentAction, ConsentCategory, ConsentEntry, Contact, ServiceWindow

# Categories that need the customer's consent when we start the conversation.
CONSENT_FOR_CATEGORY = {
    MessageCategory.UTILITY: ConsentCategory.UTILITY,
    MessageCategory.MARKETING: ConsentCategory.MARKETING,
    MessageCategory.AUTHENTICATION: ConsentCategory.UTILITY,
}
# A template's category (Meta's words) as the message's.
CATEGORY_OF_TEMPLATE = {
    TemplateCategory.UTILITY: MessageCategory.UTILITY,
    TemplateCategory.MARKETING: MessageCategory.MARKETING,
    TemplateCategory.AUTHENTICATION: MessageCategory.AUTHENTICATION,
}


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
    template_version: int | None = None  # the number of the template's version rendered


@dataclass(frozen=True)
class Facts:
    """What the policy knows of the customer: the window with this number, consent per category."""

    window_open_until: datetime | None
    consent_granted: Callable[[str], bool]  # ConsentCategory -> currently granted

    def window_is_open(self, now: datetime) -> bool:
        return self.window_open_until is not None and now < self.window_open_until


def facts_read(*, contact: Contact, phone_number: PhoneNumber) -> Facts:
    """One customer's facts, read as they are needed (enqueue, fallback, re-send)."""
    return Facts(
        window_open_until=contacts.window_open_until(contact=contact, phone_number=phone_number),
        consent_granted=lambda category: contacts.consent_is_granted(contact=contact, category=category),
    )


def with_facts(messages: QuerySet) -> QuerySet:
    """Messages annotated with their customers' facts: one query for a whole claimed batch."""
    newest_consent = {  # newest wins, ordered as contacts.consent_current orders
        f"policy_consent_{category}": Subquery(
            ConsentEntry.objects.filter(contact=OuterRef("contact"), category=category)
            .order_by("-recorded_at", "-id")
            .values("action")[:1]
        )
        for category in ConsentCategory.values
    }
    window = ServiceWindow.objects.filter(contact=OuterRef("contact"), phone_number=OuterRef("phone_number"))
    return messages.annotate(policy_last_inbound_at=Subquery(window.values("last_inbound_at")[:1]), **newest_consent)


def facts_of(message: OutboundMessage) -> Facts:
    """The facts `with_facts` read for this message."""
    last_inbound = message.policy_last_inbound_at
    actions = {category: getattr(message, f"policy_consent_{category}") for category in ConsentCategory.values}
    return Facts(
        window_open_until=last_inbound + SERVICE_WINDOW if last_inbound else None,
        consent_granted=lambda category: actions.get(category) == ConsentAction.OPT_IN,
    )


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
    facts: Facts | None = None,
) -> Decision:
    """What to send for this purpose now, or PolicyRefusal.

    `window_closed` forces the template path (Meta said 131047 although our
    window looked open); `exclude_templates` skips templates Meta refused;
    `facts` are the customer's, when the caller read them already (a claimed batch).
    """
    _check_authentication_recipient(category=category, contact=contact)
    facts = facts or facts_read(contact=contact, phone_number=phone_number)
    free_form = content is not None and not window_closed and facts.window_is_open(now)
    if not free_form and category == MessageCategory.SERVICE:
        raise PolicyRefusal("the service window is closed and a service reply has no template")
    _check_consent(category=category, facts=facts, business_initiated=not free_form)
    if free_form:
        return Decision(content=content)
    decision = _template_decision(
        phone_number=phone_number, purpose=purpose, params=template_params or {}, exclude=exclude_templates
    )
    _count_reach(phone_number=phone_number, contact_id=contact.pk, category=category, now=now)
    return decision


def decide_template(
    *, phone_number: PhoneNumber, contact: Contact, template: Template, params: dict, now: datetime
) -> Decision:
    """A template the caller names (the REST API), or PolicyRefusal: consent for its category and,
    for marketing, the share of the messaging limit hold as for a purpose's template."""
    category = CATEGORY_OF_TEMPLATE[template.category]
    _check_authentication_recipient(category=category, contact=contact)
    if template.business_account_id != phone_number.business_account_id or not template.is_sendable:
        raise PolicyRefusal(f"template {template.name!r} [{template.language}] is {template.status}, not sendable")
    facts = facts_read(contact=contact, phone_number=phone_number)
    _check_consent(category=category, facts=facts, business_initiated=True)
    decision = _rendered(template, params)
    _count_reach(phone_number=phone_number, contact_id=contact.pk, category=category, now=now)
    return decision


def recheck(*, message: OutboundMessage, facts: Facts, now: datetime) -> Decision | None:
    """A queued message about to be sent, decided again with the customer's facts of now.

    None: it goes as decided at enqueue (its consent still holds). A Decision: the
    free-form message waited past the window's end, and a template stands in. Or
    PolicyRefusal: the customer opted out meanwhile, or no template can stand in.

    A template message was counted in the portfolio's reach when it was admitted: the share
    never refuses it here (a full share now is no reason to break the promise), its send only
    refreshes the user's time, so a send held back for hours still counts 24 h from leaving.
    """
    if message.template_name or facts.window_is_open(now):
        _check_consent(category=message.category, facts=facts, business_initiated=bool(message.template_name))
        if message.template_name:
            _count_reach(
                phone_number=message.phone_number,
                contact_id=message.contact_id,
                category=message.category,
                now=now,
                admitted=True,
            )
        return None
    return decide(
        phone_number=message.phone_number,
        contact=message.contact,
        category=message.category,
        purpose=message.purpose,
        content=None,
        template_params=message.template_params,
        now=now,
        window_closed=True,
        facts=facts,
    )


def _check_consent(*, category: str, facts: Facts, business_initiated: bool) -> None:
    # An open window does not make offers welcome: "stop" holds everywhere.
    if category == MessageCategory.MARKETING and not facts.consent_granted(ConsentCategory.MARKETING):
        raise PolicyRefusal("no marketing consent: the customer has not opted in, or opted out")
    consent = CONSENT_FOR_CATEGORY.get(MessageCategory(category))
    if business_initiated and consent not in (None, ConsentCategory.MARKETING) and not facts.consent_granted(consent):
        raise PolicyRefusal(f"no {consent} consent for a business-initiated message")


def _check_authentication_recipient(*, category: str, contact: Contact) -> None:
    """Meta sends authentication templates (one-time codes) only to a phone number, never to a BSUID."""
    if category == MessageCategory.AUTHENTICATION and not contact.wa_id:
        raise PolicyRefusal(
            "authentication templates need the customer's phone number; "
            "this customer is known only by a business-scoped user id (username)"
        )


def _template_decision(*, phone_number, purpose: str, params: dict, exclude: tuple[str, ...]) -> Decision:
    template = templates.purpose_resolve(
        business_account=phone_number.business_account, purpose_key=purpose, exclude_names=exclude
    )
    if template is None:
        raise PolicyRefusal(f"no usable template for purpose {purpose!r}", needs_person=True)
    return _rendered(template, params)


def _rendered(template: Template, params: dict) -> Decision:
    try:
        rendered = templates.template_render(template=template, params=params)
    except templates.TemplateRenderError as exc:
        raise PolicyRefusal(f"template {template.name!r} cannot be rendered: {exc}", needs_person=True) from exc
    return Decision(
        content={"type": "template", "template": rendered},
        template_name=template.name,
        template_version=template.current_version.number,
    )


def _count_reach(
    *, phone_number: PhoneNumber, contact_id: int, category: str, now: datetime, admitted: bool = False
) -> None:
    """Count a business-initiated (template) send among the portfolio's unique users of 24 h.

    Every category takes Meta's messaging limit; marketing may use only a share of it,
    leaving room for receipts and codes, and is refused past it, or when the count cannot
    be read (fail closed). Utility and authentication are counted, never refused here, and
    so is a message `admitted` already (its send, at recheck).
    """
    account = phone_number.business_account
    limit = account.messaging_limit
    if limit is None:  # unlimited: nothing to stay under, no set to grow
        return
    if category != MessageCategory.MARKETING or admitted:
        reach.reach_record(business_account=account, contact_id=contact_id, now=now)
        return
    share = settings.WACO_MARKETING_LIMIT_SHARE
    try:
        counted = reach.reach_admit(
            business_account=account, contact_id=contact_id, allowed=int(limit * share), now=now
        )
    except reach.ReachUnknown as error:
        raise PolicyRefusal(
            f"marketing held back: the messaging limit's use cannot be counted now ({error})"
        ) from error
    if not counted:
        raise PolicyRefusal(f"marketing would exceed {share:.0%} of the messaging limit ({limit} users/24 h)")
