"""The Graph API send path: checks in Meta's order, then acceptance and statuses.

A send is refused synchronously for a bad token (190), a malformed body (100),
a missing or unapproved template (132001, 132015, 132016), a parameter count
mismatch (132000), the number's throughput (130429), the pair limit (131056)
or an injected error. Otherwise it is accepted and its fate comes later, by
status webhooks: sent, delivered, read, or failed (131047 outside the window,
131049 over the marketing limit, or an injected asynchronous error); a BSUID
in `to` gets none (see waco.sandbox.graph.addressing).

POST /{phone-number-id}/marketing_messages (Meta's Marketing Messages API) is the
same send for marketing templates only: a body that is not a template is refused
with 100, a template of another category with 131055; each send records the edge
it came through (SentMessage.edge, the outbox's `edge` filter).
"""

import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from waco.sandbox.config import Config
from waco.sandbox.delivery import delivery_enqueue
from waco.sandbox.faults import fault_roll
from waco.sandbox.graph import faults
from waco.sandbox.graph.addressing import Addressee, addressee_for
from waco.sandbox.graph.errors import GraphError, webhook_error
from waco.sandbox.graph.media import MEDIA_TYPES
from waco.sandbox.graph.message_templates import template_for_send, template_params_check
from waco.sandbox.graph.outbox import lean_outbox
from waco.sandbox.graph.ratelimit import bucket_take
from waco.sandbox.graph.validation import is_mark_read, validate_mark_read, validate_send
from waco.sandbox.graph.webhooks import new_wamid, status_body
from waco.sandbox.models import (
    DeliveryKind,
    InboundMessage,
    Media,
    PhoneNumber,
    SentMessage,
    ServiceWindow,
    Template,
)

SERVICE_WINDOW = timedelta(hours=24)
MARKETING_WINDOW = timedelta(hours=24)
# Free inside the window: service replies and utility templates (PMP pricing since 2025-07).
FREE_IN_WINDOW = ("service", "utility")
EDGE_MESSAGES = "messages"
EDGE_MARKETING_MESSAGES = "marketing_messages"
# The Marketing Messages API refuses what is not a marketing template (code and wording as partners report Meta's).
NOT_A_TEMPLATE = "Message must be a template message."
NOT_MARKETING = "Only marketing templates may be sent through the Marketing Messages API."


def message_post(
    *, number: PhoneNumber, payload: dict, raw_body: bytes, config: Config, edge: str = EDGE_MESSAGES
) -> dict:
    """POST /{phone-number-id}/messages: a send, or marking a customer's message read; or
    POST /{phone-number-id}/marketing_messages: a marketing template's send."""
    if is_mark_read(payload) and edge == EDGE_MESSAGES:
        return _mark_read(number=number, payload=payload)
    kind = validate_send(payload)
    if edge == EDGE_MARKETING_MESSAGES:
        _marketing_body_check(payload, kind)
    template = _template_check(number, payload) if kind == "template" else None
    if edge == EDGE_MARKETING_MESSAGES and template.category != "MARKETING":
        raise GraphError(131055, NOT_MARKETING)
    if kind in MEDIA_TYPES and payload[kind].get("id"):
        _media_check(number, payload[kind]["id"])
    addressee = addressee_for(number, payload)
    _limits_check(number, addressee.customer or payload["to"], config)
    code = faults.sync_error_pick(config)
    if code is not None:
        raise GraphError(code)
    wamid = new_wamid()
    lean = config["lean"]
    if lean:
        lean_outbox.record(
            config=config,
            phone_number_id=number.phone_number_id,
            addressee=addressee,
            wamid=wamid,
            raw_body=raw_body,
            edge=edge,
        )
    if not lean or config["lean_statuses"]:
        # Lean mode writes no send row; its statuses, when wanted, still go through the outbox table.
        _accept(
            number=number,
            payload=payload,
            raw_body=None if lean else raw_body,
            wamid=wamid,
            addressee=addressee,
            template=template,
            config=config,
            edge=edge,
        )
    return {
        "messaging_product": "whatsapp",
        "contacts": [addressee.response_contact],
        "messages": [{"id": wamid, "message_status": "accepted"}],
    }


def _marketing_body_check(payload: dict, kind: str) -> None:
    if kind != "template":
        raise GraphError(100, NOT_A_TEMPLATE)
    sharing = payload.get("message_activity_sharing")
    if sharing is not None and not isinstance(sharing, bool):
        raise GraphError(100, "Param message_activity_sharing must be a boolean.")


def _template_check(number: PhoneNumber, payload: dict) -> Template:
    spec = payload["template"]
    template = template_for_send(account=number.account, name=spec["name"], language=spec["language"]["code"])
    template_params_check(template=template, send_components=spec.get("components", []))
    return template


def _media_check(number: PhoneNumber, media_id: str) -> None:
    if not Media.objects.filter(account=number.account, media_id=media_id).exists():
        raise GraphError(100, f"Invalid parameter: media id {media_id} does not exist for this business.")


def _limits_check(number: PhoneNumber, customer: str, config: Config) -> None:
    if faults.throttle_burst_take(config):
        raise GraphError(130429)
    rate = config.number(number.phone_number_id)["messages_per_second"]
    if not bucket_take(("throughput", config.generation, number.phone_number_id), rate_per_second=rate, capacity=rate):
        raise GraphError(130429)
    pair_key = ("pair", config.generation, number.phone_number_id, customer)
    if not bucket_take(pair_key, rate_per_second=config.pair_rate_per_minute / 60, capacity=config.pair_burst):
        raise GraphError(131056)


def _mark_read(*, number: PhoneNumber, payload: dict) -> dict:
    validate_mark_read(payload)
    now = timezone.now()
    message = InboundMessage.objects.filter(number=number, wamid=payload["message_id"]).first()
    if message is None:
        raise GraphError(100, f"Invalid parameter message_id: no message {payload['message_id']} to this number.")
    message.read_at = message.read_at or now
    if payload.get("typing_indicator"):
        message.typing_at = now
    message.save(update_fields=["read_at", "typing_at"])
    return {"success": True}


def pricing_for(*, category: str, window_open: bool) -> dict:
    free = window_open and category in FREE_IN_WINDOW
    return {
        "billable": not free,
        "pricing_model": "PMP",
        "type": "free_customer_service" if free else "regular",
        "category": category,
    }


def _accept(*, number, payload, raw_body, wamid, addressee: Addressee, template, config, edge) -> None:
    """Record an accepted send and queue its statuses, all in one transaction."""
    now = timezone.now()
    category = template.category.lower() if template else "service"
    with transaction.atomic():
        if raw_body is not None:
            SentMessage.objects.create(
                wamid=wamid,
                number=number,
                to=addressee.to,
                recipient=addressee.recipient,
                customer=addressee.customer,
                body=raw_body.decode("utf-8", errors="replace"),
                category=category,
                edge=edge,
                created_at=now,
            )
        if not addressee.customer:
            return  # dropped: accepted, never delivered, no status
        window = ServiceWindow.objects.filter(number=number, wa_id=addressee.customer).first()
        window_open = window is not None and window.last_inbound_at >= now - SERVICE_WINDOW
        # Statuses name the BSUID when the sandbox knows it, or when the send named it.
        user_id = (window.user_id if window else "") or (addressee.recipient if not addressee.to else "")
        failure = _failure_code(
            number=number, customer=addressee.customer, category=category, window_open=window_open, config=config
        )
        if config["statuses"]:
            statuses_enqueue(
                number=number,
                wamid=wamid,
                wa_id=addressee.wa_id,
                user_id=user_id or None,
                name=window.name if window else None,
                pricing=pricing_for(category=category, window_open=window_open),
                callback_data=payload.get("biz_opaque_callback_data"),
                failure_code=failure,
                config=config,
            )


def _failure_code(*, number, customer, category, window_open, config) -> int | None:
    """Why an accepted send will fail later, as Meta reports it: by a failed status."""
    if category == "service" and not window_open:
        return 131047
    limit = config["marketing_limit_per_user"]
    if category == "marketing" and limit is not None:
        since = timezone.now() - MARKETING_WINDOW
        recent = SentMessage.objects.filter(customer=customer, category="marketing", created_at__gte=since).count()
        if recent > limit:
            return 131049
    return faults.async_error_pick(config)


def statuses_enqueue(*, number, wamid, wa_id, name, pricing, callback_data, failure_code, config, user_id=None) -> None:
    """Queue sent, delivered, read (or one failed) webhooks, with the configured faults."""
    delays = config["status_delays_ms"]
    if failure_code is not None:
        plan = [("failed", delays["sent"])]
    else:
        plan = [("sent", delays["sent"]), ("delivered", delays["delivered"])]
        if config["read_receipts"]:
            plan.append(("read", delays["read"]))
    if fault_roll(config, "status_reorder", config["status_reorder_rate"]):
        # Newest first: each status takes the delay of its mirror, rows are created in that order.
        plan = list(zip([s for s, _ in reversed(plan)], [d for _, d in plan], strict=True))
    for status, delay_ms in plan:
        if fault_roll(config, "status_drop", config["status_drop_rate"]):
            continue
        body = status_body(
            number=number,
            wamid=wamid,
            status=status,
            recipient_id=wa_id,
            recipient_user_id=user_id,
            timestamp=int(time.time() + delay_ms / 1000),
            name=name,
            pricing=None if status == "failed" else pricing,
            callback_data=callback_data,
            errors=[webhook_error(failure_code)] if status == "failed" else None,
        )
        copies = 2 if fault_roll(config, "status_duplicate", config["status_duplicate_rate"]) else 1
        for _ in range(copies):
            delivery_enqueue(
                kind=DeliveryKind.STATUS, body=body, ref=wamid, status=status, delay_seconds=delay_ms / 1000
            )
