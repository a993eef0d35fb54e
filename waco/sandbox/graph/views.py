"""Thin HTTP views: parse, call one operation, shape the answer.

Graph API views answer errors in Meta's shape; the outbox and customer views,
which Meta has no equivalent of, answer {"error": "<message>"} with 400.
"""

import base64
import binascii
import json
from functools import wraps

from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from waco.sandbox.config import config_get
from waco.sandbox.graph import catalog, faults, message_templates, nodes, send
from waco.sandbox.graph.customers import CustomerInputError, customer_message_send
from waco.sandbox.graph.errors import GraphError
from waco.sandbox.graph.media import MediaDownloadError, media_describe, media_download, media_store
from waco.sandbox.graph.outbox import DEFAULT_LIMIT, outbox_list
from waco.sandbox.graph.wa_ids import wa_id_for
from waco.sandbox.models import InboundMessage, Media, PhoneNumber


def _token(request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.GET.get("access_token") or request.POST.get("access_token") or None


def _graph_payload(request) -> dict:
    """A JSON body, or a form whose JSON-looking values are decoded (Graph accepts both)."""
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        payload = {}
        for key, value in request.POST.items():
            try:
                payload[key] = json.loads(value) if value[:1] in "[{" else value
            except ValueError:
                raise GraphError(100, f"Param {key} is not valid JSON.") from None
        return payload
    try:
        payload = json.loads(request.body or b"null")
    except ValueError:
        raise GraphError(100, "The request body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise GraphError(100, "The request body must be a JSON object.")
    return payload


def graph_endpoint(view):
    """Injected latency and 5xx first, then the view; GraphError answered in Meta's shape."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        config = config_get()
        faults.latency_apply(config)
        try:
            faults.server_error_check(config)
            return JsonResponse(view(request, config, *args, **kwargs))
        except GraphError as exc:
            return JsonResponse(exc.body(), status=exc.http_status)

    return wrapper


# --- Graph nodes: GET /{version}/{id}, DELETE /{version}/{id} ------------------------


def _media_url_base(request) -> str:
    return request.build_absolute_uri(reverse("sandbox:media-download"))


def _node_get(request, config, node_id):
    token, fields = _token(request), request.GET.get("fields", "")
    media = Media.objects.select_related("account").filter(media_id=node_id).first()
    if media is not None:
        nodes.account_authorize(media.account, token)
        return media_describe(
            media=media, base_url=_media_url_base(request), ttl_seconds=config["media_url_ttl_seconds"]
        )
    if PhoneNumber.objects.filter(phone_number_id=node_id).exists():
        return nodes.phone_number_read(number=nodes.number_get(node_id, token), fields=fields, config=config)
    return nodes.account_read(account=nodes.account_get(node_id, token), fields=fields)


def _node_delete(request, config, node_id):
    media = Media.objects.select_related("account").filter(media_id=node_id).first()
    if media is None:
        raise nodes.missing_node(node_id)
    nodes.account_authorize(media.account, _token(request))
    media.delete()
    return {"success": True}


NODE_HANDLERS = {"GET": _node_get, "DELETE": _node_delete}
# Graph paths that are not object ids.
DEBUG_TOKEN = "debug_token"


@graph_endpoint
def graph_node(request, config, version, node_id):
    if node_id == DEBUG_TOKEN and request.method == "GET":
        return nodes.token_debug(
            input_token=request.GET.get("input_token", ""), access_token=_token(request), now=timezone.now()
        )
    handler = NODE_HANDLERS.get(request.method)
    if handler is None:
        raise nodes.missing_node(node_id)
    return handler(request, config, node_id)


# --- Graph edges: /{version}/{id}/{edge} --------------------------------------------------


def _messages_post(request, config, node_id, edge=send.EDGE_MESSAGES):
    number = nodes.number_get(node_id, _token(request))
    payload = _graph_payload(request)
    # The outbox shows the body as received; a form-encoded send is kept as its JSON.
    raw = request.body if request.content_type == "application/json" else json.dumps(payload).encode()
    return send.message_post(number=number, payload=payload, raw_body=raw, config=config, edge=edge)


def _marketing_messages_post(request, config, node_id):
    return _messages_post(request, config, node_id, edge=send.EDGE_MARKETING_MESSAGES)


def _media_post(request, config, node_id):
    number = nodes.number_get(node_id, _token(request))
    upload = request.FILES.get("file")
    if request.POST.get("messaging_product") != "whatsapp":
        raise GraphError(100, "The parameter messaging_product is required and must be whatsapp.")
    if upload is None:
        raise GraphError(100, "The parameter file is required.")
    mime = request.POST.get("type") or upload.content_type or "application/octet-stream"
    media = media_store(account=number.account, content=upload.read(), mime_type=mime)
    return {"id": media.media_id}


def _templates_get(request, config, node_id):
    account = nodes.account_get(node_id, _token(request))
    limit = request.GET.get("limit", "25")
    if not limit.isdigit() or not 1 <= int(limit) <= 1000:
        raise GraphError(100, "Param limit must be an integer from 1 to 1000.")
    return message_templates.templates_list(
        account=account,
        name=request.GET.get("name", ""),
        status=request.GET.get("status", ""),
        limit=int(limit),
        after=request.GET.get("after", ""),
        page_url=request.build_absolute_uri(request.path),
    )


def _templates_post(request, config, node_id):
    account = nodes.account_get(node_id, _token(request))
    template = message_templates.template_create(account=account, payload=_graph_payload(request), config=config)
    return {"id": template.template_id, "status": template.status, "category": template.category}


def _templates_delete(request, config, node_id):
    account = nodes.account_get(node_id, _token(request))
    message_templates.template_delete(
        account=account, name=request.GET.get("name", ""), hsm_id=request.GET.get("hsm_id", "")
    )
    return {"success": True}


def _phone_numbers_get(request, config, node_id):
    account = nodes.account_get(node_id, _token(request))
    return nodes.account_numbers(account=account, fields=request.GET.get("fields", ""), config=config)


def _items_batch_post(request, config, node_id):
    nodes.catalog_account_get(node_id, _token(request))
    return catalog.catalog_items_batch(catalog_id=node_id, payload=_graph_payload(request))


def _batch_status_get(request, config, node_id):
    nodes.catalog_account_get(node_id, _token(request))
    return catalog.catalog_batch_status(catalog_id=node_id, handle=request.GET.get("handle", ""))


def _products_get(request, config, node_id):
    nodes.catalog_account_get(node_id, _token(request))
    return catalog.catalog_products(catalog_id=node_id)


EDGE_HANDLERS = {
    ("POST", "messages"): _messages_post,
    ("POST", "marketing_messages"): _marketing_messages_post,
    ("POST", "media"): _media_post,
    ("GET", "message_templates"): _templates_get,
    ("POST", "message_templates"): _templates_post,
    ("DELETE", "message_templates"): _templates_delete,
    ("GET", "phone_numbers"): _phone_numbers_get,
    ("POST", "items_batch"): _items_batch_post,
    ("GET", "check_batch_request_status"): _batch_status_get,
    ("GET", "products"): _products_get,
}


@graph_endpoint
def graph_edge(request, config, version, node_id, edge):
    handler = EDGE_HANDLERS.get((request.method, edge))
    if handler is None:
        raise GraphError(100, f"Unsupported {request.method.lower()} request on edge {edge}.")
    return handler(request, config, node_id)


# --- sandbox-only endpoints ---------------------------------------------------------------


def _bad_request(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=400)


def _json_object(request) -> dict:
    try:
        payload = json.loads(request.body or b"null")
    except ValueError:
        raise CustomerInputError("the body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise CustomerInputError("the body must be a JSON object")
    return payload


def _int_param(request, name: str, default: int) -> int:
    value = request.GET.get(name, "")
    if not value:
        return default
    if not value.isdigit():
        raise CustomerInputError(f"{name} must be a non-negative integer")
    return int(value)


@csrf_exempt
def outbox(request):
    """GET /sandbox/graph/outbox?to=&recipient=&edge=&since_id=&limit=: sends, oldest first."""
    if request.method != "GET":
        return _bad_request("use GET")
    try:
        since_id, limit = _int_param(request, "since_id", 0), _int_param(request, "limit", DEFAULT_LIMIT)
    except CustomerInputError as exc:
        return _bad_request(str(exc))
    to = wa_id_for(request.GET.get("to", "")) if request.GET.get("to") else ""
    recipient, edge = request.GET.get("recipient", ""), request.GET.get("edge", "")
    items = outbox_list(config=config_get(), to=to, recipient=recipient, edge=edge, since_id=since_id, limit=limit)
    return JsonResponse(items, safe=False)


def _inbound_list(request) -> JsonResponse:
    rows = InboundMessage.objects.filter(wa_id=wa_id_for(request.GET.get("from", ""))).order_by("id")
    since_id = _int_param(request, "since_id", 0)
    return JsonResponse(
        [
            {
                "id": r.wamid,
                "inbound_id": r.id,
                "type": r.type,
                "created_at": r.created_at.isoformat(),
                "read": r.read_at is not None,
                "typing": r.typing_at is not None,
            }
            for r in rows.filter(id__gt=since_id)
        ],
        safe=False,
    )


@csrf_exempt
def customer_messages(request):
    """POST: a customer sends a message; GET ?from=<wa_id or BSUID>: their messages and read marks.

    POST {"from": wa_id, "message": ...}; a username-only customer sends "user_id"
    (their BSUID) instead of "from"; a customer with both may send both.
    """
    try:
        if request.method == "GET":
            return _inbound_list(request)
        if request.method != "POST":
            return _bad_request("use POST to send, GET to list")
        payload = _json_object(request)
        if ("from" not in payload and "user_id" not in payload) or "message" not in payload:
            raise CustomerInputError('"from" (or "user_id") and "message" are required')
        media_bytes = None
        if payload.get("media_base64") is not None:
            try:
                media_bytes = base64.b64decode(payload["media_base64"], validate=True)
            except (binascii.Error, TypeError, ValueError):
                raise CustomerInputError("media_base64 is not valid base64") from None
        record = customer_message_send(
            wa_id=payload.get("from"),
            user_id=payload.get("user_id"),
            username=payload.get("username") or "",
            message=payload["message"],
            name=payload.get("name") or "",
            phone_number_id=payload.get("phone_number_id"),
            media_bytes=media_bytes,
        )
    except CustomerInputError as exc:
        return _bad_request(str(exc))
    return JsonResponse({"id": record.wamid})


def media_file(request):
    """The short-lived media URL: bytes for the bearer of the owning account's token."""
    try:
        media = media_download(
            mid=request.GET.get("mid", ""),
            expires=request.GET.get("expires", ""),
            url_hash=request.GET.get("hash", ""),
            token=_token(request),
        )
    except MediaDownloadError as exc:
        return JsonResponse({"error": str(exc)}, status=exc.http_status)
    return HttpResponse(bytes(media.content), content_type=media.mime_type)
