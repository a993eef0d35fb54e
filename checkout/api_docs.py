"""The orders API's OpenAPI documentation (drf-spectacular): summaries, bodies and one example per operation.

Kept apart from checkout.api so that the views stay short; each constant is the
keyword arguments of one operation's @extend_schema.
"""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, PolymorphicProxySerializer

from checkout.serializers import (
    EVENT_SERIALIZERS,
    OrderFilterSerializer,
    OrderPatchSerializer,
    OrderSerializer,
    OrderWriteResultSerializer,
)
from waco.api.problems import PROBLEM_CONTENT_TYPE
from waco.api.schema import ProblemSerializer

TAGS = ["orders"]


def problem(status: int, description: str) -> dict:
    """An operation's own wording for one of its problem responses."""
    return {(status, PROBLEM_CONTENT_TYPE): OpenApiResponse(response=ProblemSerializer, description=description)}


ORDER_EXAMPLE = {
    "reference": "WK7M2Q9PX",
    "external_reference": "SHOP-1001",
    "account": "102290129340398",
    "status": "shipped",
    "status_history": [
        {"from_status": "", "to_status": "pending_payment", "cause": "customer", "changed_at": "2026-12-07T09:00:00Z"},
        {
            "from_status": "pending_payment",
            "to_status": "paid",
            "cause": "payment",
            "changed_at": "2026-12-07T09:03:10Z",
        },
        {"from_status": "paid", "to_status": "packed", "cause": "api", "changed_at": "2026-12-07T11:20:00Z"},
        {"from_status": "packed", "to_status": "shipped", "cause": "api", "changed_at": "2026-12-07T15:45:00Z"},
    ],
    "currency": "AED",
    "total_minor": 64000,
    "lines": [
        {"sku": "ABY-M", "name": "Linen Abaya M", "quantity": 2, "unit_price_minor": 32000, "line_total_minor": 64000}
    ],
    "customer": {"wa_id": "971501234567", "bsuid": None, "name": "Amal"},
    "paid_at": "2026-12-07T09:03:10Z",
    "carrier": "DHL",
    "tracking_url": "https://track.example/DHL123",
    "cancel_reason": "",
    "payment_links": [
        {
            "attempt": 1,
            "status": "paid",
            "url": None,
            "expires_at": "2026-12-07T09:40:00Z",
            "amount_paid_minor": 64000,
            "created_at": "2026-12-07T09:00:00Z",
            "settled_at": "2026-12-07T09:03:10Z",
        }
    ],
    "refunds": [],
    "created_at": "2026-12-07T09:00:00Z",
    "updated_at": "2026-12-07T15:45:00Z",
}

ORDER_LIST = {
    "summary": "List orders, latest change first (cursor pages)",
    "description": "Only orders of the business accounts the key may see. "
    "Poll with `updated_since` for what changed; follow `next` for more. An order that changes while you "
    "page moves to the front, so the next poll with `updated_since` brings it.",
    "tags": TAGS,
    "parameters": [OrderFilterSerializer],
    "responses": {200: OrderSerializer(many=True)},
    "examples": [
        OpenApiExample(
            "A page of orders",
            value=ORDER_EXAMPLE,  # drf-spectacular wraps it in a list and the cursor page
            response_only=True,
        )
    ],
}

ORDER_GET = {
    "summary": "Read one order: lines, customer, status history, payment links, refunds",
    "description": "An order of a business account the key may not see answers 404.",
    "tags": TAGS,
    "responses": {200: OrderSerializer},
    "examples": [OpenApiExample("A shipped order", value=ORDER_EXAMPLE, response_only=True)],
}

ORDER_PATCH = {
    "summary": "Set the order system's own id for an order (external_reference)",
    "description": "Unique within the business account (409 when another order has it); blank clears it. "
    "The same value again answers `unchanged`.",
    "tags": TAGS,
    "request": OrderPatchSerializer,
    "responses": {
        200: OrderWriteResultSerializer,
        **problem(
            409,
            "Another order of the business account has this external_reference (or the same "
            "Idempotency-Key is still in progress).",
        ),
    },
    "examples": [
        OpenApiExample("Name the order", value={"external_reference": "SHOP-1001"}, request_only=True),
        OpenApiExample("Named", value={**ORDER_EXAMPLE, "result": "updated"}, response_only=True),
    ],
}

EVENT_BODY = PolymorphicProxySerializer(
    component_name="OrderEvent",
    serializers=EVENT_SERIALIZERS,
    resource_type_field_name="event",
)

ORDER_EVENT = {
    "summary": "Report a fulfilment event: packed, shipped, out_for_delivery, delivered, cancelled, refunded",
    "description": "The customer is told in the thread. `shipped` needs `carrier` and "
    "`tracking_url`; `cancelled` needs `reason` (a paid order that has not shipped is refunded in full at "
    "Stripe); `refunded` takes `amount_minor` (all that is left when absent). The same event again (same "
    "details) changes nothing and answers `already_applied`. 409: the order's status does not allow the "
    "event; 422: the details are wrong; 503: Stripe could not be reached, retry (it cannot refund twice).",
    "tags": TAGS,
    "request": EVENT_BODY,
    "responses": {
        200: OrderWriteResultSerializer,
        **problem(
            409,
            "The order's status does not allow the event now, e.g. delivered before shipped (or the "
            "same Idempotency-Key is still in progress).",
        ),
        **problem(422, "The event's details are wrong (field errors as JSON pointers), or Stripe refused."),
        **problem(503, "Stripe could not be reached: retry after `Retry-After` seconds; it cannot refund twice."),
    },
    "examples": [
        OpenApiExample(
            "Shipped",
            value={"event": "shipped", "carrier": "DHL", "tracking_url": "https://track.example/DHL123"},
            request_only=True,
        ),
        OpenApiExample("Applied", value={**ORDER_EXAMPLE, "result": "applied"}, response_only=True),
    ],
}
