"""Thin HTTP views of the sandbox Stripe's API, answering in Stripe's shapes and errors."""

import base64
import binascii
import secrets
from functools import wraps

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from waco.sandbox.stripe import api
from waco.sandbox.stripe.errors import StripeApiError, unrecognized_url
from waco.sandbox.stripe.events import DEFAULT_LIMIT, MAX_LIMIT, event_get, event_object, events_list
from waco.sandbox.stripe.idempotency import ApiResponse, idempotent_call
from waco.sandbox.stripe.objects import refund_object, session_object
from waco.sandbox.stripe.params import as_bool, as_int, as_list, request_params

# Expansions a session retrieve understands; Stripe refuses others with a 400 too.
SESSION_EXPANSIONS = frozenset({"payment_intent", "payment_intent.latest_charge"})


def _api_key(request) -> str | None:
    """Bearer (stripe-python) or Basic with the key as user name (curl -u sk_test_...:)."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value).decode().split(":", 1)[0] or None
        except (binascii.Error, UnicodeDecodeError):
            return None
    return None


def _authenticate(request) -> None:
    key = _api_key(request)
    if key is None:
        raise StripeApiError(
            "You did not provide an API key. You need to provide your API key in the Authorization "
            "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            http_status=401,
            stored=False,
        )
    if not secrets.compare_digest(key.encode(), settings.WACO_STRIPE_SECRET_KEY.encode()):
        raise StripeApiError(f"Invalid API Key provided: {key[:8]}{'*' * 4}{key[-4:]}", http_status=401, stored=False)


def _answer(response: ApiResponse, request) -> JsonResponse:
    answer = JsonResponse(response.body, status=response.status)
    answer["Request-Id"] = "req_" + secrets.token_hex(7)
    key = request.headers.get("Idempotency-Key")
    if key:
        answer["Idempotency-Key"] = key
    if response.replayed:
        answer["Idempotent-Replayed"] = "true"
    return answer


def stripe_endpoint(*methods):
    """Authenticated, method-checked, StripeApiError answered in Stripe's shape."""

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                if request.method not in methods:
                    raise unrecognized_url(request.method, request.path)
                _authenticate(request)
                return _answer(view(request, *args, **kwargs), request)
            except StripeApiError as exc:
                return _answer(ApiResponse(exc.http_status, exc.body()), request)

        return wrapper

    return decorate


def _host(request) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _idempotent(request, operation) -> ApiResponse:
    params = request_params(request.POST)
    return idempotent_call(
        key=request.headers.get("Idempotency-Key"),
        endpoint=f"{request.method} {request.path}",
        params=params,
        operation=lambda: operation(params),
    )


def _expansions(params: dict) -> frozenset:
    expand = frozenset(as_list(params.get("expand", []), "expand"))
    unknown = expand - SESSION_EXPANSIONS
    if unknown:
        raise StripeApiError(f"This property cannot be expanded ({sorted(unknown)[0]}).", param="expand")
    return expand


@stripe_endpoint("POST")
def checkout_sessions(request):
    host = _host(request)
    return _idempotent(
        request,
        lambda params: session_object(api.checkout_session_create(params=params), host=host),
    )


@stripe_endpoint("GET")
def checkout_session_detail(request, session_id):
    expand = _expansions(request_params(request.GET))
    session = api.checkout_session_get(session_id)
    return ApiResponse(200, session_object(session, host=_host(request), expand=expand))


@stripe_endpoint("POST")
def checkout_session_expire(request, session_id):
    key = request.headers.get("Idempotency-Key")
    return _idempotent(
        request,
        lambda params: session_object(api.checkout_session_expire(session_id=session_id, idempotency_key=key)),
    )


@stripe_endpoint("POST")
def refunds(request):
    key = request.headers.get("Idempotency-Key")
    return _idempotent(request, lambda params: refund_object(api.refund_create(params=params, idempotency_key=key)))


@stripe_endpoint("GET")
def events(request):
    params = request_params(request.GET)
    delivery_success = params.get("delivery_success")
    page, has_more = events_list(
        type=params.get("type") or None,
        types=as_list(params["types"], "types") if "types" in params else None,
        delivery_success=None if delivery_success is None else as_bool(delivery_success, "delivery_success"),
        created=params.get("created"),
        limit=as_int(params.get("limit", DEFAULT_LIMIT), "limit", minimum=1, maximum=MAX_LIMIT),
        starting_after=params.get("starting_after") or None,
        ending_before=params.get("ending_before") or None,
    )
    body = {
        "object": "list",
        "data": [event_object(event) for event in page],
        "has_more": has_more,
        "url": "/v1/events",
    }
    return ApiResponse(200, body)


@stripe_endpoint("GET")
def event_detail(request, event_id):
    return ApiResponse(200, event_object(event_get(event_id)))


@stripe_endpoint()
def unknown(request, rest):
    raise unrecognized_url(request.method, request.path)
