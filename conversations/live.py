"""The conversation page's transcript, and what changed in it since the page last asked.

Callable without HTTP: the thread's admin page renders `transcript` and polls `live_changes`
(conversations.admin.ThreadAdmin.live_view) with the cursor the last answer gave.

The cursor is the highest message and note id seen plus a time: rows whose id is higher, rows
recorded since that time (a transaction that took an id before an other one but committed after
it) and messages whose outbox row changed since then (a status tick, a failure) come back. The
time lags the answer's by OVERLAP, so a row committed while the answer was read is sent again
rather than missed; the page replaces a row it already shows. Each poll reads a fixed number of
queries, however long the thread.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import chain

from django.core.files import File
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from conversations import inbox
from conversations.models import Direction, MediaStatus, Thread, ThreadMessage, ThreadNote
from outbound.models import MessageStatus

# The page shows the newest messages; older ones stay in the database.
MESSAGES_SHOWN = 200
# At most this many rows per poll: a burst is read over the next polls.
ROWS_PER_POLL = 100
# How far back each poll looks again for rows committed late.
OVERLAP = timedelta(seconds=10)
# How often the page asks (milliseconds): a change shows within two seconds.
POLL_INTERVAL_MS = 1000
# Files the page shows as pictures; anything else (a PDF, a customer's document) downloads.
INLINE_MIME_TYPES = {"image/jpeg", "image/png", "image/webp", "image/gif"}


@dataclass(frozen=True)
class Cursor:
    after: int = 0  # the highest message id the page has
    notes_after: int = 0  # the highest note id the page has
    since: datetime | None = None  # rows recorded or changed since then come back too

    def as_query(self) -> dict:
        query = {"after": self.after, "notes_after": self.notes_after}
        if self.since is not None:
            query["since"] = self.since.isoformat()
        return query


def cursor_parse(query) -> Cursor:
    """The cursor from the page's query string; what does not parse counts as nothing seen yet."""

    def number(name: str) -> int:
        try:
            return max(0, int(query.get(name, 0)))
        except (TypeError, ValueError):
            return 0

    try:
        since = parse_datetime(query.get("since", "") or "")
    except ValueError:
        since = None
    if since is not None and timezone.is_naive(since):
        since = None  # the page sends the time it was given, with its offset
    return Cursor(after=number("after"), notes_after=number("notes_after"), since=since)


@dataclass
class Transcript:
    rows: list[dict]
    messages_hidden: int
    cursor: Cursor


@dataclass
class LiveChanges:
    rows: list[dict] = field(default_factory=list)  # new or changed, oldest first
    cursor: Cursor = field(default_factory=Cursor)
    state: str = ""
    state_label: str = ""


def message_row(message: ThreadMessage) -> dict:
    """One message as the page shows it: who, when, what, and for ours how far it got."""
    inbound = message.direction == Direction.INBOUND
    row = {
        "key": f"m-{message.pk}",
        "kind": "message",
        "inbound": inbound,
        "at": message.sent_at,
        "type": message.type,
        "text": message.text,
        "who": "customer" if inbound else (message.staff_user or "bot"),
    }
    out = message.outbound
    if out is not None:
        row.update(
            status=out.status,
            status_label=out.get_status_display(),
            template_name=out.template_name,
            error=out.error_detail if out.status == MessageStatus.FAILED else "",
            outbound_pk=out.pk,
        )
    media = getattr(message, "media", None)  # a customer's file, downloaded by a worker
    if media is not None:
        stored = media.status == MediaStatus.STORED and bool(media.file)
        row["media"] = _media_row(message, stored, media.mime_type or media.declared_mime_type)
        row["media"].update(status=media.get_status_display(), error=media.error)
    elif out is not None and out.media is not None:  # staff's file, uploaded to Meta when sent
        row["media"] = _media_row(message, True, out.media.mime_type)
        row["media"].update(filename=out.media.filename)
    return row


def _media_row(message: ThreadMessage, stored: bool, mime: str) -> dict:
    url = reverse("admin:conversations_thread_media", args=[message.thread_id, message.pk]) if stored else ""
    return {"url": url, "mime": mime, "inline": stored and mime in INLINE_MIME_TYPES, "status": "", "error": ""}


@dataclass(frozen=True)
class StoredFile:
    file: File
    mime_type: str
    filename: str


def message_file(*, thread: Thread, message_id: int) -> StoredFile | None:
    """The stored file of one of the thread's messages (the customer's or staff's), or None."""
    message = _messages(thread).filter(pk=message_id).first()
    if message is None:
        return None
    media = getattr(message, "media", None)
    if media is not None:
        if media.status != MediaStatus.STORED or not media.file:
            return None
        mime = media.mime_type or "application/octet-stream"
        return StoredFile(media.file, mime, media.file.name.rsplit("/", 1)[-1])
    out = message.outbound
    if out is not None and out.media is not None:
        return StoredFile(out.media.file, out.media.mime_type, out.media.filename)
    return None


def note_row(note: ThreadNote) -> dict:
    return {
        "key": f"n-{note.pk}",
        "kind": "note",
        "at": note.created_at,
        "text": note.text,
        "who": note.author or "staff",
    }


def _messages(thread: Thread):
    return ThreadMessage.objects.filter(thread=thread).select_related("outbound__media", "staff_user", "media")


def transcript(*, thread: Thread, now: datetime | None = None) -> Transcript:
    """The newest messages and the notes among them, oldest first, and the cursor to poll from."""
    now = now or timezone.now()
    newest = list(_messages(thread).order_by("-sent_at", "-pk")[: MESSAGES_SHOWN + 1])
    hidden = len(newest) > MESSAGES_SHOWN
    newest = newest[:MESSAGES_SHOWN]
    notes = ThreadNote.objects.filter(thread=thread).select_related("author")
    if hidden:  # notes older than the oldest message shown are hidden with it
        notes = notes.filter(created_at__gte=newest[-1].sent_at)
    notes = list(notes)
    rows = sorted(
        chain((message_row(m) for m in newest), (note_row(n) for n in notes)),
        key=lambda row: (row["at"], row["key"]),
    )
    messages_hidden = thread.messages.count() - MESSAGES_SHOWN if hidden else 0
    cursor = Cursor(
        after=max((m.pk for m in newest), default=0),
        notes_after=max((n.pk for n in notes), default=0),
        since=now - OVERLAP,
    )
    return Transcript(rows=rows, messages_hidden=messages_hidden, cursor=cursor)


def live_changes(*, thread: Thread, cursor: Cursor, now: datetime | None = None) -> LiveChanges:
    """What changed in the thread since `cursor`: three queries, however many messages it holds.

    New customer messages are read by the staff member watching the page.
    """
    now = now or timezone.now()
    changed = Q(pk__gt=cursor.after)
    noted = Q(pk__gt=cursor.notes_after)
    if cursor.since is not None:
        changed |= Q(recorded_at__gte=cursor.since) | Q(outbound__updated_at__gte=cursor.since)
        noted |= Q(created_at__gte=cursor.since)
    messages = list(_messages(thread).filter(changed).order_by("pk")[:ROWS_PER_POLL])
    notes = list(
        ThreadNote.objects.filter(thread=thread).filter(noted).select_related("author").order_by("pk")[:ROWS_PER_POLL]
    )
    if any(m.direction == Direction.INBOUND and m.pk > cursor.after for m in messages):
        inbox.thread_mark_read(thread=thread, now=now)
    rows = [message_row(m) for m in messages] + [note_row(n) for n in notes]
    rows.sort(key=lambda row: (row["at"], row["key"]))
    return LiveChanges(
        rows=rows,
        cursor=Cursor(
            after=max([cursor.after, *(m.pk for m in messages)]),
            notes_after=max([cursor.notes_after, *(n.pk for n in notes)]),
            since=now - OVERLAP,
        ),
        state=thread.state,
        state_label=thread.get_state_display(),
    )
