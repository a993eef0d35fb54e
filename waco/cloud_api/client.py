"""The Graph API client: every HTTP call Waco makes to Meta goes through here.

One requests.Session per process, shared by every GraphClient: its connection
pool is what keeps TLS handshakes off the send path. The bearer token belongs
to the client instance (one system-user token per business account).

Every failure raises a GraphError subclass (see errors.py). Whether a failed
request may have reached Meta is recorded on it as `may_have_left`:
- refused / unreachable / connect timeout: it did not leave; resending is safe;
- read timeout, reset after sending, 5xx without a Graph error body: it may
  have been accepted, so the send path must reconcile by status webhook
  (biz_opaque_callback_data) rather than send again.
"""

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from waco.cloud_api.errors import ErrorClass, GraphError, error_for_class, error_from_graph
from waco.cloud_api.values import as_dict, as_id, as_int, as_str, dicts

# Connect fast (3 s plus a little, past the TCP retransmit), but give Meta time to answer.
DEFAULT_TIMEOUT = (3.05, 10)
# Media can be 100 MB (documents): reading it takes longer than a JSON answer.
MEDIA_TIMEOUT = (3.05, 60)
# Meta's size limits per media kind (docs/cloud-api.md); stickers: 100 KB static, 500 KB animated.
MEDIA_MAX_BYTES = {
    "image": 5 * 1024 * 1024,
    "audio": 16 * 1024 * 1024,
    "video": 16 * 1024 * 1024,
    "document": 100 * 1024 * 1024,
    "sticker": 500 * 1024,
}
# Sized for a worker's concurrency (threads or gevent greenlets) sending to one host.
POOL_MAXSIZE = 64
# Templates are capped at 250 per WABA; pages of 100 need three, so ten is a safe stop.
MAX_TEMPLATE_PAGES = 10
# Where a send goes: /messages, or the Marketing Messages API's edge, which takes marketing templates only.
EDGE_MESSAGES = "messages"
EDGE_MARKETING_MESSAGES = "marketing_messages"
SEND_EDGES = (EDGE_MESSAGES, EDGE_MARKETING_MESSAGES)
DEFAULT_PHONE_FIELDS = (
    "id",
    "display_phone_number",
    "verified_name",
    "quality_rating",
    "throughput",
    "messaging_limit_tier",
)

# Without a Graph error body, the HTTP status is all there is to classify by.
_STATUS_CLASSES = {
    401: ErrorClass.AUTH,
    403: ErrorClass.AUTH,
    408: ErrorClass.TRANSIENT,
    429: ErrorClass.RATE,
}

# Raised while connecting (the TLS handshake and the proxy come before the request).
_NOT_SENT_ERRORS = (
    requests.ConnectTimeout,
    requests.exceptions.SSLError,
    requests.exceptions.ProxyError,
)

_session: requests.Session | None = None
_session_pid: int | None = None
_session_lock = threading.Lock()


def get_session() -> requests.Session:
    """The process's shared session, created on first use.

    Re-created after a fork (Celery prefork, gunicorn): sockets inherited from
    the parent must not be shared between processes.
    """
    global _session, _session_pid
    pid = os.getpid()
    if _session is not None and _session_pid == pid:
        return _session
    with _session_lock:
        if _session is None or _session_pid != pid:
            session = requests.Session()
            # No automatic retries: whether a retry is safe depends on the call, decided above us.
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=POOL_MAXSIZE, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            _session, _session_pid = session, pid
    return _session


def close_session() -> None:
    """Close the pooled connections (tests: a kept-alive socket pins a live server's thread)."""
    global _session
    with _session_lock:
        if _session is not None:
            _session.close()
        _session = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SendResult:
    """Meta accepted the message. Accepted is not delivered: statuses follow by webhook."""

    wamid: str
    input: str | None = None
    wa_id: str | None = None
    user_id: str | None = None
    message_status: str | None = None  # "accepted", or "held_for_quality_assessment"
    raw: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaInfo:
    """Where to download a media id. The URL lives only minutes: download at once."""

    id: str | None
    url: str
    mime_type: str | None = None
    sha256: str | None = None
    file_size: int | None = None
    raw: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class PhoneNumberInfo:
    id: str | None = None
    display_phone_number: str | None = None
    verified_name: str | None = None
    quality_rating: str | None = None  # GREEN, YELLOW, RED, UNKNOWN
    throughput_level: str | None = None  # throughput.level: STANDARD, HIGH, ...
    messaging_limit_tier: str | None = None  # TIER_250 ... TIER_UNLIMITED
    raw: Any = field(default=None, compare=False, repr=False)


def _left_before_sending(exc: requests.ConnectionError) -> bool:
    """True when the connection failed before any byte of the request was sent."""
    if isinstance(exc, _NOT_SENT_ERRORS):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    # Refused, unreachable, DNS failure (NameResolutionError is a NewConnectionError).
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _http_error(response: requests.Response) -> GraphError:
    status = response.status_code
    body = _json_or_none(response)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        # Meta answered with a reason: it did not act on the request.
        return error_from_graph(body, http_status=status)
    text = response.text[:200] if response.content else ""
    if status >= 500:
        return error_for_class(
            ErrorClass.TRANSIENT,
            f"HTTP {status} without a Graph error body: {text}",
            http_status=status,
            may_have_left=True,
        )
    error_class = _STATUS_CLASSES.get(status, ErrorClass.UNCLASSIFIED)
    return error_for_class(error_class, f"HTTP {status} without a Graph error body: {text}", http_status=status)


class MediaStream:
    """An open media download: the headers now, the bytes as they are read.

    Close it (or use `with`) so the pooled connection goes back to the pool.
    """

    def __init__(self, response: requests.Response):
        self._response = response
        # Without parameters ("audio/ogg; codecs=opus" -> "audio/ogg"), lower case.
        self.content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower() or None
        self.content_length = as_int(response.headers.get("Content-Length"))

    def chunks(self, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
        try:
            yield from self._response.iter_content(chunk_size=chunk_size)
        except requests.RequestException as exc:
            # An idempotent read: a retry is safe.
            raise error_for_class(ErrorClass.TRANSIENT, f"media download broke off: {exc}") from exc

    def close(self) -> None:
        self._response.close()

    def __enter__(self) -> "MediaStream":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class GraphClient:
    """Calls to the Graph API with one access token.

    `base_url` and `version` default to settings.WACO_GRAPH_API_BASE and
    settings.WACO_GRAPH_API_VERSION (the sandbox in the demo, Meta in production).
    """

    def __init__(
        self,
        access_token: str,
        *,
        base_url: str | None = None,
        version: str | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ):
        self.access_token = access_token
        self.base_url = (base_url or settings.WACO_GRAPH_API_BASE).rstrip("/")
        self.version = (version or settings.WACO_GRAPH_API_VERSION).strip("/")
        self.timeout = timeout
        self._session = session

    def __repr__(self) -> str:  # never the token
        return f"GraphClient(base_url={self.base_url!r}, version={self.version!r})"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{self.version}/{path.lstrip('/')}"

    # --- transport ---------------------------------------------------------------

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        session = self._session or get_session()
        headers = {"Authorization": f"Bearer {self.access_token}", **kwargs.pop("headers", {})}
        kwargs.setdefault("timeout", self.timeout)
        try:
            response = session.request(method, url, headers=headers, **kwargs)
        except requests.ConnectionError as exc:
            # ConnectTimeout is a ConnectionError too, and is caught here.
            left = not _left_before_sending(exc)
            raise error_for_class(
                ErrorClass.TRANSIENT,
                f"connection failed ({'outcome unknown' if left else 'not sent'}): {exc}",
                may_have_left=left,
            ) from exc
        except requests.Timeout as exc:
            # A read timeout: the request went out, Meta may have acted on it.
            raise error_for_class(
                ErrorClass.TRANSIENT,
                f"no answer in time, outcome unknown: {exc}",
                may_have_left=True,
            ) from exc
        except requests.RequestException as exc:
            # An invalid URL or similar: raised before anything was sent.
            raise error_for_class(ErrorClass.REQUEST, f"request not sent: {exc}") from exc
        if not response.ok:
            raise _http_error(response)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> dict:
        response = self._send(method, self.url(path), **kwargs)
        body = _json_or_none(response)
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            raise error_from_graph(body, http_status=response.status_code)
        if not isinstance(body, dict):
            # A 2xx we cannot read: the call may have taken effect.
            raise error_for_class(
                ErrorClass.UNCLASSIFIED,
                f"HTTP {response.status_code} with a body that is not a JSON object",
                http_status=response.status_code,
                may_have_left=True,
            )
        return body

    # --- messages ----------------------------------------------------------------

    def send_message(self, phone_number_id: str, payload: dict, *, edge: str = EDGE_MESSAGES) -> SendResult:
        """POST /{phone_number_id}/messages, or /marketing_messages for a marketing template of an
        account on Meta's Marketing Messages API (same body, same answer, same errors).
        messaging_product and recipient_type are added."""
        if edge not in SEND_EDGES:
            raise ValueError(f"not a send edge: {edge!r}")
        body = self._json(
            "POST",
            f"{phone_number_id}/{edge}",
            json={"messaging_product": "whatsapp", "recipient_type": "individual", **payload},
        )
        messages = dicts(body.get("messages"))
        wamid = as_id(messages[0].get("id")) if messages else None
        if wamid is None:
            raise error_for_class(
                ErrorClass.UNCLASSIFIED,
                "send answered without a message id",
                http_status=200,
                may_have_left=True,
                raw=body,
            )
        contacts = dicts(body.get("contacts"))
        contact = contacts[0] if contacts else {}
        return SendResult(
            wamid=wamid,
            input=as_str(contact.get("input")),
            wa_id=as_id(contact.get("wa_id")),
            user_id=as_id(contact.get("user_id")),
            message_status=as_str(messages[0].get("message_status")),
            raw=body,
        )

    def mark_read(self, phone_number_id: str, message_id: str, typing_indicator: bool = False) -> bool:
        """Blue ticks for an inbound message, optionally with "typing..." for up to 25 s."""
        payload: dict = {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": message_id,
        }
        if typing_indicator:
            payload["typing_indicator"] = {"type": "text"}
        body = self._json("POST", f"{phone_number_id}/messages", json=payload)
        return body.get("success") is True

    # --- media -------------------------------------------------------------------

    def get_media_url(self, media_id: str) -> MediaInfo:
        body = self._json("GET", media_id)
        url = as_str(body.get("url"))
        if url is None:
            raise error_for_class(
                ErrorClass.UNCLASSIFIED,
                "media lookup answered without a url",
                http_status=200,
                raw=body,
            )
        return MediaInfo(
            id=as_id(body.get("id")),
            url=url,
            mime_type=as_str(body.get("mime_type")),
            sha256=as_str(body.get("sha256")),
            file_size=as_int(body.get("file_size")),
            raw=body,
        )

    def upload_media(self, phone_number_id: str, *, content: bytes, mime_type: str, filename: str) -> str:
        """POST /{phone_number_id}/media (multipart): the media id to send, valid 30 days."""
        body = self._json(
            "POST",
            f"{phone_number_id}/media",
            data={"messaging_product": "whatsapp", "type": mime_type},
            files={"file": (filename, content, mime_type)},
            timeout=MEDIA_TIMEOUT,
        )
        media_id = as_id(body.get("id"))
        if media_id is None:
            raise error_for_class(
                ErrorClass.UNCLASSIFIED, "media upload answered without an id", http_status=200, raw=body
            )
        return media_id

    def open_media(self, url: str) -> MediaStream:
        """Start downloading a media URL (with the bearer token), for a caller that streams
        the bytes somewhere and checks them as they come, rather than holding them all."""
        return MediaStream(self._send("GET", url, stream=True, timeout=MEDIA_TIMEOUT))

    # --- phone numbers -----------------------------------------------------------

    def get_phone_number(
        self, phone_number_id: str, fields: tuple[str, ...] | list[str] = DEFAULT_PHONE_FIELDS
    ) -> PhoneNumberInfo:
        body = self._json("GET", phone_number_id, params={"fields": ",".join(fields)})
        return PhoneNumberInfo(
            id=as_id(body.get("id")),
            display_phone_number=as_id(body.get("display_phone_number")),
            verified_name=as_str(body.get("verified_name")),
            quality_rating=as_str(body.get("quality_rating")),
            throughput_level=as_str(as_dict(body.get("throughput")).get("level")),
            messaging_limit_tier=as_str(body.get("messaging_limit_tier")),
            raw=body,
        )

    # --- tokens ------------------------------------------------------------------

    def debug_token(self, input_token: str, *, app_access_token: str) -> dict:
        """GET /debug_token: what Meta knows of `input_token` (the answer's `data`: is_valid,
        expires_at with 0 for never, scopes, ...). Asked with the app's access token
        ("<app id>|<app secret>"), sent in the header rather than the URL."""
        try:
            body = self._json(
                "GET",
                "debug_token",
                params={"input_token": input_token},
                headers={"Authorization": f"Bearer {app_access_token}"},
            )
        except GraphError as exc:
            # A connection error's text quotes the URL, and so the token in its query: cut it out.
            exc.message = exc.message.replace(input_token, "<input_token>")
            exc.args = (exc.message,)
            raise exc from None
        data = body.get("data")
        if not isinstance(data, dict):
            raise error_for_class(ErrorClass.UNCLASSIFIED, "debug_token answered without data", http_status=200)
        return data

    # --- templates ---------------------------------------------------------------

    def list_templates(self, waba_id: str, *, limit: int = 100, fields: str | None = None) -> list[dict]:
        """Every template of the WABA, following the paging cursors."""
        params: dict = {"limit": limit}
        if fields:
            params["fields"] = fields
        templates: list[dict] = []
        for _page in range(MAX_TEMPLATE_PAGES):
            body = self._json("GET", f"{waba_id}/message_templates", params=params)
            templates.extend(dicts(body.get("data")))
            paging = as_dict(body.get("paging"))
            after = as_str(as_dict(paging.get("cursors")).get("after"))
            if not paging.get("next") or not after:
                break
            params = {**params, "after": after}
        return templates

    def create_template(self, waba_id: str, body: dict) -> dict:
        """Submit a template for review: answers {id, status, category}."""
        return self._json("POST", f"{waba_id}/message_templates", json=body)

    def delete_template(self, waba_id: str, name: str, *, hsm_id: str | None = None) -> bool:
        """Delete every language of `name`, or only the one with `hsm_id`."""
        params = {"name": name, **({"hsm_id": hsm_id} if hsm_id else {})}
        body = self._json("DELETE", f"{waba_id}/message_templates", params=params)
        return body.get("success") is True

    # --- catalog -----------------------------------------------------------------

    def catalog_batch(self, catalog_id: str, requests: list[dict], *, item_type: str = "PRODUCT_ITEM") -> dict:
        """Create/update/delete catalog items (items_batch). Answers {"handles": [...]}."""
        return self._json("POST", f"{catalog_id}/items_batch", json={"item_type": item_type, "requests": requests})
