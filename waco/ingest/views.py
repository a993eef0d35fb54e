"""Meta's webhook: verify, store in one INSERT, acknowledge. No other work here."""

import hmac

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from waco.cloud_api.signature import SIGNATURE_HEADER, verify_signature
from waco.cloud_api.webhooks import WebhookEnvelopeError, decode_envelope
from waco.ingest import inbox, signatures
from waco.ingest.models import DeliverySource

# Meta's bodies are usually a few KB but are reported to reach 3 MB; Django's
# DATA_UPLOAD_MAX_MEMORY_SIZE (settings) is raised to the same figure.
MAX_BODY_BYTES = 3 * 1024 * 1024
# What we keep of the request: enough to re-verify and to debug, no cookies.
STORED_HEADERS = ("Content-Type", "User-Agent", SIGNATURE_HEADER)


def error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def reject_oversized(request) -> JsonResponse | None:
    """Check Content-Length before reading: Django's own limit would answer 400."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return error(400, "invalid Content-Length")
    if length > MAX_BODY_BYTES:
        return error(413, f"body over {MAX_BODY_BYTES} bytes")
    return None


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp_webhook(request):
    if request.method == "GET":
        return verify_subscription(request)
    if rejected := reject_oversized(request):
        return rejected
    body = request.body
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature:
        signatures.signature_failed(source=DeliverySource.META)
        return error(401, f"missing {SIGNATURE_HEADER}")
    if not verify_signature(body, signature, settings.WACO_META_APP_SECRETS):
        signatures.signature_failed(source=DeliverySource.META)
        return error(403, f"{SIGNATURE_HEADER} does not match the body")
    try:
        decode_envelope(body)
        text = body.decode("utf-8")
    except (WebhookEnvelopeError, UnicodeDecodeError) as exc:
        return error(400, str(exc))
    inbox.delivery_receive(
        source=DeliverySource.META,
        body=text,
        headers={name: request.headers[name] for name in STORED_HEADERS if name in request.headers},
    )
    return HttpResponse("ok", content_type="text/plain")


def verify_subscription(request):
    """Meta's handshake: echo hub.challenge when hub.verify_token is ours."""
    mode = request.GET.get("hub.mode")
    token = request.GET.get("hub.verify_token", "")
    challenge = request.GET.get("hub.challenge")
    if mode != "subscribe" or challenge is None:
        return error(400, "expected hub.mode=subscribe with hub.verify_token and hub.challenge")
    if not hmac.compare_digest(token.encode(), settings.WACO_META_VERIFY_TOKEN.encode()):
        return error(403, "hub.verify_token does not match")
    return HttpResponse(challenge, content_type="text/plain")
