"""Human handoff: staff take a thread, reply from the admin, and hand it back to the bot.

Callable without HTTP. A refusal raises StaffRefusal before anything is stored;
a refusal of the send path itself (consent, a template Meta would refuse) is
stored by outbound as a failed message, as every refused send is, and comes
back as that message so the thread shows what was not sent and why.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from checkout.models import Order
from conversations import services
from conversations.models import QuickReply, Thread, ThreadNote, ThreadState, TransitionCause
from outbound import attachments
from outbound.models import MessageCategory, OutboundMessage
from templates_lib import services as templates
from templates_lib.models import Purpose, Template, TemplateCategory
from templates_lib.params import ParamSpec, TemplateDefinitionError, specs_parse
from waco.alerts.services import alert_acknowledge, alert_resolve_link
from waco.contacts import services as contacts

# WhatsApp refuses a text body longer than this.
TEXT_LIMIT = 4096
# An internal note is for staff; long enough for a summary, short enough to read in the transcript.
NOTE_LIMIT = 4000
# Staff send utility and marketing templates by hand; one-time passcodes are the system's alone.
STAFF_TEMPLATE_CATEGORIES = {
    TemplateCategory.UTILITY: MessageCategory.UTILITY,
    TemplateCategory.MARKETING: MessageCategory.MARKETING,
}


# The alert raised when a customer asks for a person (conversations.actions); it links to the thread's page.
HANDOFF_ALERT = "handoff"


def thread_admin_path(thread: Thread) -> str:
    """The conversation page in the admin: where a handoff alert sends staff."""
    return reverse("admin:conversations_thread_change", args=[thread.pk])


class StaffRefusal(Exception):
    """The staff action does not fit the thread now; nothing changed. str() is what staff read."""


class WindowClosed(StaffRefusal):
    """Free-form text is not allowed outside the service window; `closed_at` is None if it never opened."""

    def __init__(self, message: str, *, closed_at: datetime | None):
        super().__init__(message)
        self.closed_at = closed_at


@dataclass(frozen=True)
class WindowStatus:
    is_open: bool
    until: datetime | None  # when it closes (open) or closed (closed); None: the customer never wrote

    @property
    def text(self) -> str:
        if self.until is None:
            return "closed: the customer has never written to this number"
        return f"open until {_shop_time(self.until)}" if self.is_open else f"closed since {_shop_time(self.until)}"


@dataclass(frozen=True)
class TemplateOffer:
    """A template staff may send: the one its purpose's chain would send now."""

    purpose: Purpose
    template: Template
    params: list[ParamSpec]

    @property
    def body(self) -> str:
        body = next((c for c in self.template.current_version.components if c.get("type", "").upper() == "BODY"), {})
        return body.get("text", "")


def _shop_time(moment: datetime) -> str:
    """In the shop's time zone (settings.TIME_ZONE), as the transcript shows its messages."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


def _who(user) -> str:
    return f"by {user.get_username()}"


def window_status(*, thread: Thread, now: datetime | None = None) -> WindowStatus:
    until = contacts.window_open_until(contact=thread.contact, phone_number=thread.phone_number)
    return WindowStatus(is_open=until is not None and (now or timezone.now()) < until, until=until)


@transaction.atomic
def thread_take(*, thread: Thread, user, now: datetime | None = None) -> Thread:
    """Staff take the thread: the bot goes silent until they hand it back, and the thread is theirs."""
    try:
        thread = services.thread_transition(
            thread=thread, name="hand_to_person", cause=TransitionCause.STAFF, detail=_who(user), actor=user, now=now
        )
    except services.ThreadTransitionRefused as exc:  # the only state it refuses from is handoff
        raise StaffRefusal("This thread is already with a person.") from exc
    return _assign(thread, user)


def thread_assign(*, thread: Thread, assignee) -> Thread:
    """Give the thread to a staff member (None: to nobody); the inbox's "mine" and "unassigned" follow."""
    if assignee is not None and not assignee.is_active:
        raise StaffRefusal(f"{assignee.get_username()} is not an active staff member.")
    return _assign(thread, assignee)


def _assign(thread: Thread, assignee) -> Thread:
    Thread.objects.filter(pk=thread.pk).update(assigned_to=assignee)
    thread.assigned_to = assignee
    return thread


def hand_back_text(thread: Thread) -> str:
    shop = thread.phone_number.verified_name or thread.phone_number.business_account.name
    return f"You are back with the {shop} assistant. Send “menu” to see what we have."


@transaction.atomic
def thread_hand_back(*, thread: Thread, user, now: datetime | None = None) -> Thread:
    """Return the thread to the bot, from the menu; tell the customer when the window allows a text."""
    now = now or timezone.now()
    try:
        thread = services.thread_transition(
            thread=thread, name="hand_back", cause=TransitionCause.STAFF, detail=_who(user), actor=user, now=now
        )
    except services.ThreadTransitionRefused as exc:
        raise StaffRefusal("This thread is not with a person: there is nothing to hand back.") from exc
    # Staff are done: the thread is resolved and nobody waits for a person (until a new handoff).
    Thread.objects.filter(pk=thread.pk).update(resolved_at=now, waiting_since=None)
    thread.resolved_at, thread.waiting_since = now, None
    alert_resolve_link(kind=HANDOFF_ALERT, link=thread_admin_path(thread))  # the customer has had their person
    if window_status(thread=thread, now=now).is_open:
        text = hand_back_text(thread)
        services.thread_reply(thread=thread, content={"type": "text", "text": {"body": text}}, text=text, now=now)
    return thread


def note_add(*, thread: Thread, user, text: str) -> ThreadNote:
    """Staff's internal note on the thread, in any state: stored and shown to staff, never sent."""
    text = text.strip()
    if not text:
        raise StaffRefusal("The note is empty.")
    if len(text) > NOTE_LIMIT:
        raise StaffRefusal(f"The note is {len(text)} characters; notes take at most {NOTE_LIMIT}.")
    return ThreadNote.objects.create(thread=thread, author=user, text=text)


# What a quick reply may hold, filled per customer by quick_replies_for.
QUICK_REPLY_PLACEHOLDERS = ("{name}", "{last_order}")
_PLACEHOLDER = re.compile(r"\{[^{}\s]*\}")


def quick_reply_unknown_placeholders(text: str) -> list[str]:
    """The {placeholders} in a quick reply's text that are not filled (a typo would reach the customer)."""
    return sorted({found for found in _PLACEHOLDER.findall(text) if found not in QUICK_REPLY_PLACEHOLDERS})


@dataclass(frozen=True)
class QuickReplyFilled:
    pk: int
    title: str
    text: str


def quick_replies_for(*, thread: Thread) -> list[QuickReplyFilled]:
    """The shop's quick replies with this customer's {name} and {last_order} filled (two queries).

    A customer with no name, or no order with the shop, gets the placeholder left out.
    """
    contact = thread.contact
    account_id = thread.phone_number.business_account_id
    replies = list(QuickReply.objects.filter(business_account_id=account_id).order_by("title"))
    if not replies:
        return []
    last_order = (
        Order.objects.filter(contact=contact, business_account_id=account_id)
        .order_by("-created_at", "-pk")
        .values_list("reference", flat=True)
        .first()
    )
    values = {"{name}": contact.name or contact.profile_name or "", "{last_order}": last_order or ""}
    filled = []
    for reply in replies:
        text = reply.text
        for placeholder, value in values.items():
            text = text.replace(placeholder, value)
        filled.append(QuickReplyFilled(pk=reply.pk, title=reply.title, text=text))
    return filled


def _locked_in_handoff(thread: Thread) -> Thread:
    """The thread, locked, refusing unless staff have it: the bot and a person never talk at once."""
    locked = Thread.objects.select_for_update().select_related("contact", "phone_number").get(pk=thread.pk)
    if locked.state != ThreadState.HANDOFF:
        raise StaffRefusal("Take the thread over first: the bot is answering this customer.")
    return locked


@transaction.atomic
def staff_reply(
    *,
    thread: Thread,
    user,
    text: str,
    attachment: UploadedFile | None = None,
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> OutboundMessage:
    """A free-form text from staff, or an image or document with `text` as its caption, inside
    the service window only. The file is kept here; the worker uploads it to Meta when it sends.

    `dedupe_key` (one per rendered form) makes a double submit send once.
    """
    now = now or timezone.now()
    text = text.strip()
    if not text and attachment is None:
        raise StaffRefusal("The reply is empty.")
    limit = attachments.CAPTION_LIMIT if attachment is not None else TEXT_LIMIT
    if len(text) > limit:
        what = "a caption" if attachment is not None else "a text"
        raise StaffRefusal(f"The reply is {len(text)} characters; WhatsApp allows {limit} in {what}.")
    thread = _locked_in_handoff(thread)
    window = window_status(thread=thread, now=now)
    if not window.is_open:
        when = "has never opened" if window.until is None else f"closed at {_shop_time(window.until)}"
        raise WindowClosed(
            f"The service window {when}: free-form text is allowed only within 24 hours of the customer's "
            "last message. Send an approved template instead.",
            closed_at=window.until,
        )
    if dedupe_key and (sent := OutboundMessage.objects.filter(dedupe_key=dedupe_key).first()):
        return sent  # a double submit: the file is not stored twice either
    content, media = {"type": "text", "text": {"body": text}}, None
    if attachment is not None:
        try:
            media, found = attachments.attachment_store(phone_number=thread.phone_number, upload=attachment)
        except attachments.AttachmentRefused as exc:
            raise StaffRefusal(str(exc)) from exc
        content = attachments.attachment_content(kind=found.kind, caption=text, filename=media.filename)
        text = f"[{found.kind}: {media.filename}] {text}".strip()
    sent = services.thread_reply(
        thread=thread, content=content, text=text, staff_user=user, dedupe_key=dedupe_key, media=media, now=now
    )
    alert_acknowledge(kind=HANDOFF_ALERT, link=thread_admin_path(thread))  # a person has answered
    return sent


def templates_offered(*, thread: Thread) -> list[TemplateOffer]:
    """What staff may send outside the window: per purpose with a chain on the thread's
    account, the template the send path would pick now (its first approved one)."""
    account = thread.phone_number.business_account
    purposes = (
        Purpose.objects.filter(links__template__business_account=account, category__in=list(STAFF_TEMPLATE_CATEGORIES))
        .distinct()
        .order_by("key")
    )
    offers = []
    for purpose in purposes:
        template = templates.purpose_resolve(business_account=account, purpose_key=purpose.key)
        if template is None:
            continue
        try:
            specs = specs_parse(template.current_version.parameters or [])
        except TemplateDefinitionError:
            continue  # a template that cannot render is not offered; its admin page says why
        offers.append(TemplateOffer(purpose=purpose, template=template, params=specs))
    return offers


def _preview(offer: TemplateOffer, params: dict) -> str:
    """The body as the customer reads it, for the thread: text placeholders filled."""
    text = offer.body
    for spec in offer.params:
        if spec.component == "body" and spec.fills_placeholder:
            placeholder = spec.position if spec.position is not None else spec.name
            text = text.replace(f"{{{{{placeholder}}}}}", str(params.get(spec.key, "")))
    return f"[template {offer.template.name}] {text}"


@transaction.atomic
def staff_send_template(
    *,
    thread: Thread,
    user,
    purpose: str | None = None,
    template: Template | None = None,
    params: dict | None = None,
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> OutboundMessage:
    """An approved template, chosen by purpose or as offered, for when the window is closed.

    The values are checked here (nothing stored if they do not fit); the send path then
    checks consent and renders. Its refusal comes back as a failed message with error_detail.
    """
    params = params or {}
    thread = _locked_in_handoff(thread)
    offers = templates_offered(thread=thread)
    if template is not None:
        offer = next((o for o in offers if o.template.pk == template.pk), None)
        if offer is None:
            raise StaffRefusal(f"{template} is not the template any purpose would send now; choose one offered.")
    else:
        offer = next((o for o in offers if o.purpose.key == purpose), None)
        if offer is None:
            raise StaffRefusal(f"No approved template serves the purpose {purpose!r} on this account.")
    try:
        templates.template_render(template=offer.template, params=params)
    except templates.TemplateRenderError as exc:
        raise StaffRefusal(f"{offer.template.name}: {exc}") from exc
    return services.thread_reply(
        thread=thread,
        content=None,  # None, not {}: the policy must take the template path even if the window reopened
        text=_preview(offer, params),
        category=STAFF_TEMPLATE_CATEGORIES[offer.purpose.category],
        purpose=offer.purpose.key,
        template_params=params,
        staff_user=user,
        dedupe_key=dedupe_key,
        now=now,
    )
