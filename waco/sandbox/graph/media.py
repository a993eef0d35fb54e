"""Media: uploads, customer-sent files, and short-lived download URLs like Meta's.

GET /{media-id} answers a URL that works only with the bearer token and only
until it expires (config media_url_ttl_seconds, 300 s by default), so Waco's
download path meets the same constraints as against Meta.
"""

import hashlib
import math
import secrets
import struct
import time
import zlib
from urllib.parse import urlencode

from django.utils.crypto import constant_time_compare, salted_hmac

from waco.sandbox.graph.errors import GraphError
from waco.sandbox.models import BusinessAccount, Media

MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")

# Meta's upload limits per media kind.
MAX_BYTES = {
    "image": 5 * 1024 * 1024,
    "video": 16 * 1024 * 1024,
    "audio": 16 * 1024 * 1024,
    "document": 100 * 1024 * 1024,
    "sticker": 500 * 1024,
}

DEFAULT_MIME = {
    "image": "image/png",
    "video": "video/mp4",
    "audio": "audio/ogg",
    "document": "application/pdf",
    "sticker": "image/webp",
}


def new_media_id() -> str:
    # Meta's media ids are long decimal numbers.
    return str(secrets.randbelow(9 * 10**15) + 10**15)


def media_kind(mime_type: str) -> str:
    """The Meta media kind a MIME type falls under, for the size limit."""
    if mime_type == "image/webp":
        return "sticker"
    major = mime_type.split("/", 1)[0]
    return {"image": "image", "video": "video", "audio": "audio"}.get(major, "document")


def media_store(*, account: BusinessAccount, content: bytes, mime_type: str) -> Media:
    """Keep bytes under a fresh media id; over Meta's size limit -> 131053."""
    limit = MAX_BYTES[media_kind(mime_type)]
    if len(content) > limit:
        raise GraphError(131053, f"Media file size {len(content)} exceeds the {limit} byte limit for {mime_type}")
    return Media.objects.create(
        media_id=new_media_id(),
        account=account,
        mime_type=mime_type,
        sha256=hashlib.sha256(content).hexdigest(),
        file_size=len(content),
        content=content,
    )


def _png(width: int = 8, height: int = 8, rgb: tuple = (37, 211, 102)) -> bytes:
    """A tiny valid PNG (WhatsApp green), so a downloaded customer image really opens."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def placeholder(kind: str) -> tuple[bytes, str]:
    """Stand-in bytes for a customer file sent without content: a real PNG for images."""
    if kind == "image":
        return _png(), "image/png"
    return f"sandbox placeholder {kind}".encode(), DEFAULT_MIME[kind]


def _url_hash(media_id: str, expires: int) -> str:
    return salted_hmac("waco.sandbox.graph.media", f"{media_id}:{expires}", algorithm="sha256").hexdigest()


def media_url(*, media: Media, base_url: str, ttl_seconds: float) -> str:
    """A signed URL valid for ttl_seconds; time.time() so tests can travel past it."""
    expires = math.ceil(time.time() + ttl_seconds)  # a 1 s URL lives at least 1 s
    query = urlencode({"mid": media.media_id, "expires": expires, "hash": _url_hash(media.media_id, expires)})
    return f"{base_url}?{query}"


def media_describe(*, media: Media, base_url: str, ttl_seconds: float) -> dict:
    """The GET /{media-id} answer."""
    return {
        "messaging_product": "whatsapp",
        "url": media_url(media=media, base_url=base_url, ttl_seconds=ttl_seconds),
        "mime_type": media.mime_type,
        "sha256": media.sha256,
        "file_size": media.file_size,
        "id": media.media_id,
    }


class MediaDownloadError(Exception):
    def __init__(self, http_status: int, message: str):
        self.http_status = http_status
        super().__init__(message)


def media_download(*, mid: str, expires: str, url_hash: str, token: str | None) -> Media:
    """The bytes behind a signed URL, for the holder of the owning account's token."""
    if not (mid and expires.isdigit() and url_hash) or not constant_time_compare(
        url_hash, _url_hash(mid, int(expires))
    ):
        raise MediaDownloadError(404, "URL signature mismatch")
    if time.time() > int(expires):
        raise MediaDownloadError(404, "URL signature expired")
    media = Media.objects.select_related("account").filter(media_id=mid).first()
    if media is None:
        raise MediaDownloadError(404, "Media not found")
    if not token or not constant_time_compare(token, media.account.access_token):
        raise MediaDownloadError(401, "A valid bearer token is required to download media")
    return media
