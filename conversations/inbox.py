"""The staff inbox: which threads want a person, in which order, and what staff have read.

Callable without HTTP: the admin's inbox page (conversations.admin.InboxAdmin) and the admin
index's counts read it. The list reads the thread row only: its last message, the customer's
last message and how long they have waited are kept on Thread by `message_noted`, which runs
wherever a ThreadMessage is written.

- needs reply: with a person (handoff), or a thread a staff member has, not resolved, whose last
  message is the customer's;
- mine: assigned to the user, not resolved; unassigned: with a person and nobody has it;
- resolved: handed back by staff and not with a person again; all: every thread.
"""

import contextlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

import phonenumbers
from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from checkout.models import Order
from conversations.models import Direction, Thread, ThreadMessage, ThreadState
from waco.contacts.identifiers import (
    ContactIdentifierInvalid,
    default_region,
    identifier_parse,
    phone_number_normalise,
)

TABS = {
    "needs_reply": "Needs reply",
    "mine": "Mine",
    "unassigned": "Unassigned",
    "all": "All",
    "resolved": "Resolved",
}
DEFAULT_TAB = "needs_reply"
PAGE_SIZE = 50
PREVIEW_LENGTH = 200
# Fewer digits than this match too many numbers to be worth a substring search.
MIN_SEARCH_DIGITS = 4
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NOT_DIGITS = re.compile(r"[\s+()./-]")


# --- keeping the thread row current ----------------------------------------------------


def message_noted(message: ThreadMessage) -> None:
    """Keep the thread's last message, the customer's last one and their wait, in one UPDATE.

    The row is read as it is in the database, not as the caller's instance says: a reply of the bot
    after the handoff in the same turn sees the thread with a person. A customer's message starts the
    wait (unless they already wait); an answer ends it. An answer is a staff member's message, or any
    message of ours while the bot has the thread: with a person, the bot's "someone will answer" and an
    order's updates are no answer. Messages recorded late (Meta's time is older) do not displace a newer
    last message.
    """
    at = message.sent_at
    newer = Q(last_message_at__isnull=True) | Q(last_message_at__lte=at)
    fields = {
        "last_message_at": Case(When(newer, then=Value(at)), default=F("last_message_at")),
        "last_message_direction": Case(When(newer, then=Value(message.direction)), default=F("last_message_direction")),
        "last_message_preview": Case(
            When(newer, then=Value(_preview(message.text))), default=F("last_message_preview")
        ),
    }
    if message.direction == Direction.INBOUND:
        fields["last_customer_message_at"] = Case(
            When(Q(last_customer_message_at__isnull=True) | Q(last_customer_message_at__lt=at), then=Value(at)),
            default=F("last_customer_message_at"),
        )
        fields["waiting_since"] = Least(Coalesce(F("waiting_since"), Value(at)), Value(at))
    elif message.staff_user_id is not None:
        fields["waiting_since"] = Value(None)
    else:
        fields["waiting_since"] = Case(When(state=ThreadState.HANDOFF, then=F("waiting_since")), default=Value(None))
    Thread.objects.filter(pk=message.thread_id).update(**fields)


def _preview(text: str) -> str:
    return " ".join(text.split())[:PREVIEW_LENGTH]


def thread_mark_read(*, thread: Thread, now: datetime | None = None) -> None:
    """Staff opened the thread: its customer's messages so far are read."""
    now = now or timezone.now()
    Thread.objects.filter(pk=thread.pk).update(staff_read_at=now)
    thread.staff_read_at = now


# --- the tabs ----------------------------------------------------------------------------


def _resolved() -> Q:
    return Q(resolved_at__isnull=False) & ~Q(state=ThreadState.HANDOFF)


def tab_filters(user) -> dict[str, Q]:
    """Each tab's condition on Thread, for this staff user."""
    return {
        "needs_reply": Q(state=ThreadState.HANDOFF)
        | (Q(assigned_to__isnull=False) & Q(last_message_direction=Direction.INBOUND) & ~_resolved()),
        "mine": Q(assigned_to=user) & ~_resolved(),
        "unassigned": Q(assigned_to__isnull=True) & Q(state=ThreadState.HANDOFF),
        "all": Q(),
        "resolved": _resolved(),
    }


def tab_counts(*, user, search: str = "") -> dict[str, int]:
    """How many threads each tab holds (of those the search finds), in one query."""
    filters = tab_filters(user)
    counts = {key: Count("pk", filter=condition) if condition else Count("pk") for key, condition in filters.items()}
    return _searched(Thread.objects.all(), search).aggregate(**counts)


def tab_count(*, user, tab: str) -> int:
    """How many threads one tab holds (the admin index's "threads to reply")."""
    return Thread.objects.filter(tab_filters(user)[tab]).count()


# --- search ------------------------------------------------------------------------------


def _digits(text: str) -> str:
    """The digits of a number written for people, in any script ("٠٥٥" too); '' if it has other characters."""
    stripped = _NOT_DIGITS.sub("", text)
    if not stripped or not all(ch.isdigit() for ch in stripped):
        return ""
    return "".join(str(unicodedata.digit(ch)) for ch in stripped)


def _wa_ids(search: str) -> set[str]:
    """The wa_ids a phone number as staff type it may mean: as given, and as a national number of the
    default region ("0559871234" in AE is 971559871234)."""
    found = set()
    with contextlib.suppress(ContactIdentifierInvalid):
        found.add(identifier_parse(search).wa_id)  # None for a BSUID
    if _digits(search):
        with contextlib.suppress(ContactIdentifierInvalid):
            found.add(phone_number_normalise(search, region=default_region()))
    return found - {None}


def search_filter(search: str) -> Q:
    """Threads whose customer, order or messages match what staff typed: a phone number in any
    format, a BSUID, a name, an order's reference, or words of a message."""
    search = search.strip()
    if not search:
        return Q()
    condition = (
        Q(contact__name__icontains=search)
        | Q(contact__profile_name__icontains=search)
        | Q(contact__username__icontains=search)
        | Q(contact__user_id__iexact=search)
        | Q(Exists(ThreadMessage.objects.filter(thread=OuterRef("pk"), text__icontains=search)))
        | Q(
            Exists(
                Order.objects.filter(contact=OuterRef("contact"), phone_number=OuterRef("phone_number")).filter(
                    Q(reference__iexact=search) | Q(external_reference__iexact=search)
                )
            )
        )
    )
    wa_ids = _wa_ids(search)
    if wa_ids:
        condition |= Q(contact__wa_id__in=wa_ids)
    digits = _digits(search).lstrip("0")
    if len(digits) >= MIN_SEARCH_DIGITS:  # part of a number: "987 1234"
        condition |= Q(contact__wa_id__contains=digits)
    if len(search) >= MIN_SEARCH_DIGITS and "." in search:  # part of a BSUID: "US.1349"
        condition |= Q(contact__user_id__istartswith=search)
    return condition


def _searched(threads: QuerySet, search: str) -> QuerySet:
    return threads.filter(search_filter(search)) if search.strip() else threads


# --- the page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    count: int
    current: bool


@dataclass(frozen=True)
class InboxPage:
    tab: str
    search: str
    tabs: list[Tab]
    page: Page  # of Thread rows, each with `unread`


def inbox_threads(*, user, tab: str = DEFAULT_TAB, search: str = "") -> QuerySet:
    """The tab's threads, longest wait first, then the liveliest; each with `unread`, the customer's
    messages since staff last opened the thread."""
    unread = (
        ThreadMessage.objects.filter(
            thread=OuterRef("pk"),
            direction=Direction.INBOUND,
            recorded_at__gt=Coalesce(OuterRef("staff_read_at"), Value(_EPOCH)),
        )
        .order_by()
        .values("thread")
        .annotate(n=Count("pk"))
        .values("n")
    )
    threads = (
        Thread.objects.filter(tab_filters(user)[tab])
        .select_related("contact", "phone_number", "assigned_to")
        .annotate(unread=Coalesce(Subquery(unread, output_field=IntegerField()), 0))
        .order_by(F("waiting_since").asc(nulls_last=True), F("last_message_at").desc(nulls_last=True), "-pk")
    )
    return _searched(threads, search)


def inbox_page(*, user, tab: str = DEFAULT_TAB, search: str = "", page: int | str = 1) -> InboxPage:
    """One page of a tab, with every tab's count: three queries whatever the number of threads."""
    tab = tab if tab in TABS else DEFAULT_TAB
    search = search.strip()
    counts = tab_counts(user=user, search=search)
    paginator = Paginator(inbox_threads(user=user, tab=tab, search=search), PAGE_SIZE)
    paginator.count = counts[tab]  # known already: no COUNT query of its own
    return InboxPage(
        tab=tab,
        search=search,
        tabs=[Tab(key, label, counts[key], key == tab) for key, label in TABS.items()],
        page=paginator.get_page(page),
    )


def customer_label(thread: Thread) -> tuple[str, str]:
    """The customer as staff know them (name, else WhatsApp's profile name) and their number or BSUID."""
    contact = thread.contact
    name = contact.name or contact.profile_name or contact.username
    if contact.wa_id:
        try:
            number = phonenumbers.format_number(
                phonenumbers.parse(f"+{contact.wa_id}"), phonenumbers.PhoneNumberFormat.INTERNATIONAL
            )
        except phonenumbers.NumberParseException:
            number = f"+{contact.wa_id}"
    else:
        number = contact.user_id or ""
    return name, number
