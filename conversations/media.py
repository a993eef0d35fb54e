"""Customers' media: downloaded by a worker after the event's transaction, never under the thread lock.

The webhook gives a media id (it lives 7 days); GET /{media-id} gives a URL
that lives minutes. So every attempt asks for the URL afresh, streams the bytes
through a size cap and a SHA-256 into a temporary file, checks the type, and
only then puts the file into Django's storage and marks the row stored.

Retries are Celery countdowns (the model has no next-attempt time). A lease
flag per media says "a task is queued or scheduled for it", so beat re-dispatches
only downloads whose task was lost, never one that is waiting out its backoff.
"""

import base64
import binascii
import hashlib
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from conversations.models import InboundMedia, MediaStatus
from waco.alerts.models import AlertSeverity
from waco.alerts.services import alert_raise
from waco.backoff import backoff_delay
from waco.cloud_api.client import MEDIA_MAX_BYTES as MAX_BYTES
from waco.cloud_api.client import GraphClient, MediaInfo
from waco.cloud_api.errors import GraphError
from waco.dispatch import send_task_or_log
from waco.flags import flag_clear, flag_set_if_absent

logger = logging.getLogger(__name__)

RETRY_BASE = timedelta(seconds=15)
# Far below the broker's visibility timeout (1 h), so a countdown never makes a task run twice.
RETRY_CAP = timedelta(minutes=5)
# A queued or running download holds its lease this long past its countdown: longer than
# the task's hard time limit (conversations.tasks), so beat never doubles a live attempt.
LEASE_GRACE = timedelta(minutes=5)
# Beat leaves fresh rows alone: their on-commit dispatch is seconds old.
LOST_AFTER = timedelta(minutes=2)
REDISPATCH_BATCH = 500
# The lookaside URL answers these once it has expired (or was never valid): ask for a fresh one.
URL_GONE_STATUSES = {401, 403, 404}
HEAD_BYTES = 64
SPOOL_IN_MEMORY_BYTES = 1024 * 1024
# Names a CDN may serve instead of the real type; then the declared type decides.
GENERIC_TYPES = {"application/octet-stream", "binary/octet-stream"}
TYPE_ALIASES = {"image/jpg": "image/jpeg", "audio/mp3": "audio/mpeg", "audio/x-m4a": "audio/mp4"}


# --- what we accept: Meta's supported types, each with its magic bytes -----------------------


def _starts(*prefixes: bytes) -> Callable[[bytes], bool]:
    return lambda head: head.startswith(prefixes)


def _iso_media(head: bytes) -> bool:  # MP4, M4A, 3GP: a box of type "ftyp" first
    return head[4:8] == b"ftyp"


def _mpeg_frame(head: bytes) -> bool:  # MP3 frames and AAC ADTS both start with a sync word
    return len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0


def _webp(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


def _text(head: bytes) -> bool:
    return b"\x00" not in head


_ZIP = _starts(b"PK\x03\x04")  # Office Open XML is a zip
_OLE = _starts(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")  # legacy Office files


@dataclass(frozen=True)
class AcceptedType:
    kind: str  # the message type it arrives as (a document may carry any accepted type)
    extension: str
    looks_like: Callable[[bytes], bool]


ACCEPTED_TYPES = {
    "image/jpeg": AcceptedType("image", ".jpg", _starts(b"\xff\xd8\xff")),
    "image/png": AcceptedType("image", ".png", _starts(b"\x89PNG\r\n\x1a\n")),
    "image/webp": AcceptedType("sticker", ".webp", _webp),
    "audio/aac": AcceptedType("audio", ".aac", lambda h: h.startswith(b"ADIF") or _mpeg_frame(h)),
    "audio/amr": AcceptedType("audio", ".amr", _starts(b"#!AMR")),
    "audio/mpeg": AcceptedType("audio", ".mp3", lambda h: h.startswith(b"ID3") or _mpeg_frame(h)),
    "audio/mp4": AcceptedType("audio", ".m4a", _iso_media),
    "audio/ogg": AcceptedType("audio", ".ogg", _starts(b"OggS")),  # voice notes: Opus in Ogg
    "video/mp4": AcceptedType("video", ".mp4", _iso_media),
    "video/3gpp": AcceptedType("video", ".3gp", _iso_media),
    "application/pdf": AcceptedType("document", ".pdf", _starts(b"%PDF-")),
    "text/plain": AcceptedType("document", ".txt", _text),
    "text/csv": AcceptedType("document", ".csv", _text),
    "application/msword": AcceptedType("document", ".doc", _OLE),
    "application/vnd.ms-excel": AcceptedType("document", ".xls", _OLE),
    "application/vnd.ms-powerpoint": AcceptedType("document", ".ppt", _OLE),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": AcceptedType("document", ".docx", _ZIP),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": AcceptedType("document", ".xlsx", _ZIP),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": AcceptedType(
        "document", ".pptx", _ZIP
    ),
}


def _base_type(mime: str | None) -> str:
    # "Audio/OGG; codecs=opus" -> "audio/ogg"
    base = (mime or "").split(";")[0].strip().lower()
    return TYPE_ALIASES.get(base, base)


def media_type_choose(*, kind: str, declared: str | None, looked_up: str | None, served: str | None) -> str:
    """The one type the webhook, the media lookup and the download agree on, if we accept it
    for this kind of message; MediaRefused otherwise."""
    named = {_base_type(m) for m in (declared, looked_up, served)} - GENERIC_TYPES - {""}
    if len(named) != 1:
        raise MediaRefused(
            f"types disagree or are missing: declared {declared!r}, looked up {looked_up!r}, served {served!r}"
        )
    mime = named.pop()
    accepted = ACCEPTED_TYPES.get(mime)
    if accepted is None or (kind != "document" and accepted.kind != kind):
        raise MediaRefused(f"{mime} is not accepted for a {kind} message")
    return mime


def _hash_matches(expected: str, digest: bytes) -> bool:
    """Meta's sha256 has been seen both hex and base64 encoded [unconfirmed]: accept either."""
    expected = expected.strip()
    try:
        as_base64 = base64.b64decode(expected, validate=True)
    except (binascii.Error, ValueError):
        as_base64 = b""
    return constant_time_compare(expected.lower(), digest.hex()) or constant_time_compare(as_base64, digest)


# --- outcomes ------------------------------------------------------------------------------


class MediaRefused(Exception):
    """Permanent: too large, a type we do not accept, a media id Meta does not know. No retry."""


class MediaRetry(Exception):
    """Transient: Meta or the network failed, the URL expired, the bytes did not hash right."""


@dataclass(frozen=True)
class DownloadResult:
    status: str  # a MediaStatus value, or "skipped" when the row was not pending
    retry_in: timedelta | None = None  # set when the caller should try again after this long


@dataclass(frozen=True)
class _Fetched:
    mime_type: str
    size: int
    sha256: str


# --- dispatch ------------------------------------------------------------------------------


def _lease_key(media_pk: int) -> str:
    return f"waco:media:{media_pk}:lease"


def _lease_renew(media_pk: int, *, for_: timedelta) -> None:
    try:
        flag_clear(_lease_key(media_pk))
        flag_set_if_absent(_lease_key(media_pk), int(for_.total_seconds()) + 1)
    except Exception:  # Redis down: beat may double an attempt, which the stored-once update absorbs
        logger.warning("media lease for %s not renewed", media_pk, exc_info=True)


def _download_task():
    from conversations.tasks import download_media  # the task module imports this one

    return download_media


def _dispatch(media_pk: int) -> bool:
    _lease_renew(media_pk, for_=LEASE_GRACE)
    return send_task_or_log(_download_task(), media_pk)


def media_download_enqueue(media: InboundMedia) -> None:
    """Publish the download once the caller's transaction (the webhook event's) commits.

    A broker that is down only delays it: beat re-dispatches pending media.
    """
    media_pk = media.pk
    transaction.on_commit(lambda: _dispatch(media_pk))


def media_redispatch_lost(*, now: datetime) -> int:
    """Beat: publish again the downloads whose task was lost (broker down, worker killed).

    A row is lost when it is pending, older than LOST_AFTER and nobody holds its
    lease; taking the lease here keeps two beat runs from both publishing it. A
    row whose attempts are used up (its last worker died) is failed instead.
    """
    rows = (
        InboundMedia.objects.filter(status=MediaStatus.PENDING, message__recorded_at__lt=now - LOST_AFTER)
        .order_by("pk")
        .values_list("pk", "attempts")[:REDISPATCH_BATCH]
    )
    published = 0
    for media_pk, attempts in rows:
        if not flag_set_if_absent(_lease_key(media_pk), int(LEASE_GRACE.total_seconds())):
            continue  # queued, running, or waiting out its backoff
        if attempts >= settings.WACO_MEDIA_MAX_ATTEMPTS:
            _fail(InboundMedia.objects.get(pk=media_pk), "attempts used up; the last one never finished", alert=True)
            continue
        published += int(send_task_or_log(_download_task(), media_pk))
    return published


# --- the download --------------------------------------------------------------------------


def media_download(*, media_id_pk: int, now: datetime | None = None) -> DownloadResult:
    """One attempt at downloading a customer's media; the row says what came of it.

    Runs outside any transaction and reads the thread without locking it, so a
    slow download never holds up the conversation. Returns `retry_in` when the
    caller should try again (a fresh URL is fetched then).
    """
    started = InboundMedia.objects.filter(pk=media_id_pk, status=MediaStatus.PENDING).update(attempts=F("attempts") + 1)
    if not started:
        return DownloadResult(status="skipped")  # stored or failed already, or gone
    media = InboundMedia.objects.select_related("message__thread__phone_number__business_account").get(pk=media_id_pk)
    _lease_renew(media.pk, for_=LEASE_GRACE)  # a slow queue must not let beat double this attempt
    client = GraphClient(access_token=media.message.thread.phone_number.business_account.access_token)
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES) as spool:
        try:
            fetched = _fetch(media=media, client=client, into=spool)
        except MediaRefused as refusal:
            _fail(media, str(refusal), alert=False)
            return DownloadResult(status=MediaStatus.FAILED)
        except MediaRetry as problem:
            return _retry_or_fail(media, str(problem))
        except GraphError as error:  # neither transient nor an expired URL: a token or request problem
            _fail(media, f"Graph refused: {error}", alert=True)
            return DownloadResult(status=MediaStatus.FAILED)
        return _store(media=media, fetched=fetched, spool=spool, now=now or timezone.now())


def _fetch(*, media: InboundMedia, client: GraphClient, into) -> _Fetched:
    """GET /{media-id} afresh, then stream the URL's bytes into `into`, checking as they come."""
    kind = media.message.type
    limit = MAX_BYTES.get(kind)
    if limit is None:
        raise MediaRefused(f"{kind!r} is not a media message type")
    info = _look_up(client, media.media_id)
    if info.file_size is not None and info.file_size > limit:
        raise MediaRefused(f"{info.file_size} bytes is over the {limit} byte limit for {kind}")
    digest, size, head = hashlib.sha256(), 0, b""
    try:
        with client.open_media(info.url) as stream:
            mime = media_type_choose(
                kind=kind, declared=media.declared_mime_type, looked_up=info.mime_type, served=stream.content_type
            )
            for chunk in stream.chunks():
                size += len(chunk)
                if size > limit:  # Meta's file_size may be missing or wrong: the stream is what counts
                    raise MediaRefused(f"more than {limit} bytes, the limit for {kind}")
                digest.update(chunk)
                into.write(chunk)
                head += chunk[: HEAD_BYTES - len(head)]
    except GraphError as error:
        if error.retryable or error.http_status in URL_GONE_STATUSES:
            raise MediaRetry(f"download failed: {error}") from error
        raise
    if not ACCEPTED_TYPES[mime].looks_like(head):
        raise MediaRefused(f"the bytes are not {mime}")
    for expected in filter(None, (media.declared_sha256, info.sha256)):
        if not _hash_matches(expected, digest.digest()):
            raise MediaRetry(f"SHA-256 {digest.hexdigest()} does not match Meta's {expected}")
    return _Fetched(mime_type=mime, size=size, sha256=digest.hexdigest())


def _look_up(client: GraphClient, media_id: str) -> MediaInfo:
    try:
        return client.get_media_url(media_id)
    except GraphError as error:
        if error.retryable:
            raise MediaRetry(f"media lookup failed: {error}") from error
        if error.code == 100:  # an unknown media id, or one past its 7 days: asking again will not help
            raise MediaRefused(f"Meta does not know media id {media_id}: {error}") from error
        raise


def _store(*, media: InboundMedia, fetched: _Fetched, spool, now: datetime) -> DownloadResult:
    media.file.save(f"{media.media_id}{ACCEPTED_TYPES[fetched.mime_type].extension}", File(spool), save=False)
    stored = InboundMedia.objects.filter(pk=media.pk, status=MediaStatus.PENDING).update(
        status=MediaStatus.STORED,
        file=media.file.name,
        mime_type=fetched.mime_type,
        size=fetched.size,
        sha256=fetched.sha256,
        stored_at=now,
        error="",
    )
    if not stored:  # an overlapping attempt finished first: keep its file, drop ours
        media.file.storage.delete(media.file.name)
        return DownloadResult(status="skipped")
    return DownloadResult(status=MediaStatus.STORED)


def _retry_or_fail(media: InboundMedia, problem: str) -> DownloadResult:
    if media.attempts >= settings.WACO_MEDIA_MAX_ATTEMPTS:
        _fail(media, f"gave up after {media.attempts} attempts: {problem}", alert=True)
        return DownloadResult(status=MediaStatus.FAILED)
    delay = backoff_delay(media.attempts, base=RETRY_BASE, cap=RETRY_CAP)
    InboundMedia.objects.filter(pk=media.pk, status=MediaStatus.PENDING).update(error=problem[:2000])
    _lease_renew(media.pk, for_=delay + LEASE_GRACE)  # beat must not re-dispatch it during the countdown
    return DownloadResult(status=MediaStatus.PENDING, retry_in=delay)


def _fail(media: InboundMedia, reason: str, *, alert: bool) -> None:
    """Failed for good. Staff hear of what they can act on (Meta or the token), not of a customer's
    oversized or odd file; the alert is one per number, refreshed, not one per file."""
    failed = InboundMedia.objects.filter(pk=media.pk, status=MediaStatus.PENDING).update(
        status=MediaStatus.FAILED, error=reason[:2000]
    )
    logger.warning("media %s (row %s) failed: %s", media.media_id, media.pk, reason)
    if failed and alert:
        alert_raise(
            kind="media_download_failed",
            subject=str(media.message.thread.phone_number),
            detail=f"media {media.media_id} (row {media.pk}): {reason}",
            severity=AlertSeverity.WARNING,
        )
