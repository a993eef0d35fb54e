"""Messages asked for from outside (the REST API's POST /messages).

One request names the customer, optionally the number, and what to say: a purpose
(its chain of templates), a template by name, or free-form text. It goes through
the one send path (outbound.services.message_enqueue and its policy) and the
outbox's workers send it. A refusal is answered and stores nothing: the caller
hears the reason at once, unlike the thread's replies, which keep theirs.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.dispatch import Signal
from django.utils import timezone

from outbound import policy, services
from outbound.models import MessageCategory, OutboundMessage
from templates_lib.models import Purpose, Template
from waco.channels.models import PhoneNumber
from waco.contacts import services as contacts

# The purpose of free-form text and named templates sent through the API (no chain of its own).
API_PURPOSE = "api_message"
# A message's subject when the caller gave its own reference (outbound.selectors.messages_about).
API_SUBJECT = "api"

# Sent when a requested message entered the outbox: kwargs message, text (what a person reads).
# Conversations keeps it in the customer's thread.
api_message_queued = Signal()


class SendRefused(Exception):
    """The message was not queued; `reason` says why, `pointer` names the field at fault, if one is.

    `not_found`: the request named a number the caller may not use (or none such), which an API
    answers like any object outside the caller's accounts.
    """

    def __init__(self, reason: str, *, pointer: str = "", not_found: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.pointer = pointer
        self.not_found = not_found


@dataclass(frozen=True)
class SendRequest:
    to: str  # wa_id, BSUID or a phone number
    from_number: str = ""  # the sending number's phone number id; empty: the only one there is
    purpose: str = ""
    template: str = ""
    language: str = ""
    params: dict = field(default_factory=dict)
    text: str = ""
    reference: str = ""  # the caller's id for this message: a second request with it is the first message


@dataclass(frozen=True)
class SendAccepted:
    message: OutboundMessage
    duplicate: bool  # the reference named a message queued before: nothing new was queued


@transaction.atomic  # the message and its place in the thread, or neither
def message_request(
    *, request: SendRequest, numbers: QuerySet[PhoneNumber], now: datetime | None = None
) -> SendAccepted:
    """Queue the requested message from one of `numbers` (those the caller may use), or SendRefused."""
    now = now or timezone.now()
    number = sender_number(numbers=numbers, graph_id=request.from_number)
    dedupe_key = f"api:{number.business_account_id}:{request.reference}" if request.reference else None
    if dedupe_key and (earlier := OutboundMessage.objects.filter(dedupe_key=dedupe_key).first()):
        return SendAccepted(message=earlier, duplicate=True)
    contact = _contact(request.to)
    category, purpose, template, content = _what(request, number)
    try:
        message = services.message_enqueue(
            phone_number=number,
            contact=contact,
            category=category,
            purpose=purpose,
            content=content,
            template=template,
            template_params=request.params,
            dedupe_key=dedupe_key,
            subject_type=API_SUBJECT if request.reference else "",
            subject_id=request.reference[:64],
            keep_refusal=False,
            now=now,
        )
    except policy.PolicyRefusal as refusal:
        raise SendRefused(refusal.reason) from refusal
    text = request.text or f"[template {message.template_name}]"
    api_message_queued.send(sender=OutboundMessage, message=message, text=text)
    return SendAccepted(message=message, duplicate=False)


def sender_number(*, numbers: QuerySet[PhoneNumber], graph_id: str) -> PhoneNumber:
    """The number named by its phone number id, or the only one of `numbers`."""
    numbers = numbers.select_related("business_account")
    if graph_id:
        number = numbers.filter(graph_id=graph_id).first()
        if number is None:
            raise SendRefused(f"no phone number {graph_id!r}", pointer="/from", not_found=True)
        return number
    candidates = list(numbers[:2])
    if len(candidates) != 1:
        many = "several phone numbers: name one" if candidates else "no phone number to send from"
        raise SendRefused(f"{many} in `from`", pointer="/from")
    return candidates[0]


def _contact(identifier: str):
    try:
        return contacts.contact_for_api(identifier)
    except contacts.ContactIdentifierInvalid as exc:
        raise SendRefused(str(exc), pointer="/to") from exc
    except contacts.ContactNotFound as exc:
        raise SendRefused(
            f"no customer {identifier!r}: they have not written, and no consent was recorded for them",
            pointer="/to",
        ) from exc


def _what(request: SendRequest, number: PhoneNumber) -> tuple[str, str, Template | None, dict | None]:
    """(category, purpose, template, free-form content) of the request."""
    if request.text:
        return MessageCategory.SERVICE, API_PURPOSE, None, {"type": "text", "text": {"body": request.text}}
    if request.template:
        template = _named_template(request, number)
        return policy.CATEGORY_OF_TEMPLATE[template.category], API_PURPOSE, template, None
    purpose = Purpose.objects.filter(key=request.purpose).first()
    if purpose is None:
        raise SendRefused(f"no purpose {request.purpose!r}", pointer="/purpose")
    return policy.CATEGORY_OF_TEMPLATE[purpose.category], purpose.key, None, None


def _named_template(request: SendRequest, number: PhoneNumber) -> Template:
    templates = Template.objects.filter(business_account=number.business_account, name=request.template)
    if request.language:
        templates = templates.filter(language=request.language)
    found = list(templates.select_related("current_version")[:2])
    if not found:
        language = f" in {request.language}" if request.language else ""
        raise SendRefused(f"no template {request.template!r}{language} on this account", pointer="/template")
    if len(found) > 1:
        raise SendRefused(f"template {request.template!r} has several languages: name one", pointer="/language")
    return found[0]
