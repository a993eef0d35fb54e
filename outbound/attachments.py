"""Files sent with a message: kept when staff attach them, uploaded to Meta by the worker at send time.

The web request only checks and stores the file; the upload is an HTTP call to Meta, so it
happens in the drain (outbound.sending), just before the message it belongs to. Meta keeps
an uploaded media id for 30 days: a message sent (or re-sent) later uploads the file again.
A failed upload means the message did not leave, whatever the upload's own outcome.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.files.uploadedfile import UploadedFile

from outbound.models import OutboundMedia, OutboundMessage
from waco.channels.models import PhoneNumber
from waco.cloud_api.client import MEDIA_MAX_BYTES, GraphClient
from waco.cloud_api.errors import ErrorClass, GraphError, error_for_class

# Meta's media ids live 30 days; a day's margin so an id never expires between upload and send.
MEDIA_ID_LIFETIME = timedelta(days=29)


@dataclass(frozen=True)
class AttachmentType:
    kind: str  # the WhatsApp message type it goes as
    mime_type: str


# What staff may attach: the types WhatsApp shows inline (images) or as a file (documents).
# Named by extension, checked against the file's first bytes where the format has a signature.
ATTACHMENT_TYPES = {
    "jpg": AttachmentType("image", "image/jpeg"),
    "jpeg": AttachmentType("image", "image/jpeg"),
    "png": AttachmentType("image", "image/png"),
    "pdf": AttachmentType("document", "application/pdf"),
    "txt": AttachmentType("document", "text/plain"),
    "doc": AttachmentType("document", "application/msword"),
    "xls": AttachmentType("document", "application/vnd.ms-excel"),
    "ppt": AttachmentType("document", "application/vnd.ms-powerpoint"),
    "docx": AttachmentType("document", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": AttachmentType("document", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pptx": AttachmentType("document", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
}
SIGNATURES = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "application/pdf": (b"%PDF-",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (b"PK\x03\x04",),
    "application/msword": (b"\xd0\xcf\x11\xe0",),
    "application/vnd.ms-excel": (b"\xd0\xcf\x11\xe0",),
    "application/vnd.ms-powerpoint": (b"\xd0\xcf\x11\xe0",),
}
# WhatsApp's caption limit for images and documents.
CAPTION_LIMIT = 1024


class AttachmentRefused(ValueError):
    """The file cannot go to WhatsApp as it is; str() says why, for staff. Nothing was stored."""


def attachment_type(upload: UploadedFile) -> AttachmentType:
    """What the file goes as, from its extension, checked against its bytes and Meta's size limits."""
    name = upload.name or ""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    found = ATTACHMENT_TYPES.get(extension)
    if found is None:
        allowed = ", ".join(sorted(ATTACHMENT_TYPES))
        raise AttachmentRefused(f"{name or 'The file'}: WhatsApp takes images and documents ({allowed}).")
    if not upload.size:
        raise AttachmentRefused(f"{name} is empty.")
    limit = MEDIA_MAX_BYTES[found.kind]
    if upload.size > limit:
        raise AttachmentRefused(f"{name} is {upload.size:,} bytes; WhatsApp takes {found.kind}s up to {limit:,} bytes.")
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if found.mime_type in SIGNATURES and not head.startswith(SIGNATURES[found.mime_type]):
        raise AttachmentRefused(f"{name} is not a {extension} file: its content does not match its name.")
    return found


def attachment_store(*, phone_number: PhoneNumber, upload: UploadedFile) -> tuple[OutboundMedia, AttachmentType]:
    """Check the file and keep it for the send; the caller's transaction keeps it with its message."""
    found = attachment_type(upload)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    filename = (upload.name or "attachment").rsplit("/", 1)[-1][-240:]
    media = OutboundMedia(
        phone_number=phone_number,
        filename=filename,
        mime_type=found.mime_type,
        size=upload.size,
        sha256=digest.hexdigest(),
    )
    media.file.save(filename, upload, save=False)
    media.save()
    return media, found


def attachment_content(*, kind: str, caption: str, filename: str) -> dict:
    """The message object staff's attachment goes as; the worker adds the media id."""
    body = {"caption": caption} if caption else {}
    if kind == "document":
        body["filename"] = filename
    return {"type": kind, kind: body}


def needs_upload(media: OutboundMedia, *, now: datetime) -> bool:
    return not media.media_id or media.uploaded_at is None or now - media.uploaded_at >= MEDIA_ID_LIFETIME


def content_with_media(message: OutboundMessage, client: GraphClient, *, now: datetime) -> dict:
    """The message's content with its file's media id, uploading the file first if Meta has no live id.

    Runs in a drain's sending thread: no database, only the file and the upload. The new id
    is set on `message.media` for the drain to record (uploads_record).
    """
    media, kind = message.media, message.content.get("type", "")
    if media is None or not isinstance(message.content.get(kind), dict):  # a template stood in: no file
        return message.content
    if needs_upload(media, now=now):
        try:
            with media.file.open("rb") as stored:
                content = stored.read()
        except OSError as exc:
            raise error_for_class(ErrorClass.REQUEST, f"the attachment {media.filename} is missing: {exc}") from exc
        try:
            media.media_id = client.upload_media(
                message.phone_number.graph_id, content=content, mime_type=media.mime_type, filename=media.filename
            )
        except GraphError as error:
            raise _upload_failed(error) from error
        media.uploaded_at = now
    return {**message.content, kind: {**message.content[kind], "id": media.media_id}}


def _upload_failed(error: GraphError) -> GraphError:
    """The same class of error, but one whose message surely did not leave: an unknown upload is not a send."""
    return error_for_class(
        error.error_class,
        f"media upload: {error.message}",
        code=error.code,
        subcode=error.subcode,
        http_status=error.http_status,
        may_have_left=False,
    )


def uploads_record(messages: list[OutboundMessage], *, since: datetime) -> None:
    """Keep the media ids this batch's uploads got, so a re-send within 30 days uploads nothing."""
    for media in {m.media for m in messages if m.media is not None and m.media.uploaded_at}:
        if media.uploaded_at >= since:
            OutboundMedia.objects.filter(pk=media.pk).update(media_id=media.media_id, uploaded_at=media.uploaded_at)
