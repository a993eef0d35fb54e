"""The events API's OpenAPI documentation: each constant is one operation's @extend_schema arguments."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter

from waco.events.serializers import (
    EndpointSerializer,
    EndpointWithSecretSerializer,
    EndpointWriteSerializer,
    EventPageSerializer,
    EventQuerySerializer,
)

TAGS = ["webhooks"]
SCOPE = "Scope: `webhooks:manage`."

ENDPOINT_EXAMPLE = {
    "id": 3,
    "url": "https://shop.example/hooks/waco",
    "description": "Order system",
    "event_types": ["order.paid", "order.cancelled", "stock.released"],
    "accounts": [],
    "enabled": True,
    "disabled_reason": "",
    "failing_since": None,
    "previous_secret_expires_at": None,
    "created_at": "2026-12-07T09:00:00Z",
    "updated_at": "2026-12-07T09:00:00Z",
}
SECRET_EXAMPLE = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
EVENT_EXAMPLE = {
    "id": "evt_01KBT7Q3M6V4R8X2N9JZC5HDEW",
    "type": "order.paid",
    "timestamp": "2026-12-07T09:03:10.412Z",
    "subject": "order:WK7M2Q9PX",
    "sequence": 2,
    "data": {"reference": "WK7M2Q9PX", "status": "paid", "total_minor": 64000, "currency": "AED"},
}

ENDPOINT_LIST = {
    "summary": "List webhook endpoints",
    "description": f"Cursor pages, newest first. {SCOPE}",
    "tags": TAGS,
    "responses": {200: EndpointSerializer(many=True)},
}
ENDPOINT_CREATE = {
    "summary": "Create a webhook endpoint",
    "description": "Events of the chosen types are posted to the URL, signed as Standard Webhooks specifies "
    "(`webhook-id`, `webhook-timestamp`, `webhook-signature`). The answer carries the signing secret: it is "
    f"shown this once. {SCOPE}",
    "tags": TAGS,
    "request": EndpointWriteSerializer,
    "responses": {201: EndpointWithSecretSerializer},
    "examples": [
        OpenApiExample(
            "An order system",
            request_only=True,
            value={"url": ENDPOINT_EXAMPLE["url"], "event_types": ENDPOINT_EXAMPLE["event_types"]},
        ),
        OpenApiExample("Created", response_only=True, value={**ENDPOINT_EXAMPLE, "secret": SECRET_EXAMPLE}),
    ],
}
ENDPOINT_GET = {
    "summary": "Read a webhook endpoint",
    "description": f"Never its secret. {SCOPE}",
    "tags": TAGS,
    "responses": {200: EndpointSerializer},
    "examples": [OpenApiExample("An endpoint", value=ENDPOINT_EXAMPLE)],
}
ENDPOINT_PATCH = {
    "summary": "Change a webhook endpoint",
    "description": f"Any of url, event_types, accounts, description, enabled. Enabling it again (after three "
    f"days of failures disabled it) starts its failure count afresh. {SCOPE}",
    "tags": TAGS,
    "request": EndpointWriteSerializer(partial=True),
    "responses": {200: EndpointSerializer},
    "examples": [OpenApiExample("Enable again", request_only=True, value={"enabled": True})],
}
ENDPOINT_DELETE = {
    "summary": "Delete a webhook endpoint",
    "description": f"With its deliveries and their attempts. {SCOPE}",
    "tags": TAGS,
    "responses": {204: None},
}
ENDPOINT_ROTATE = {
    "summary": "Rotate an endpoint's signing secret",
    "description": "A new secret, shown in this answer only. For 24 hours the previous secret signs too (two "
    f"`v1,` signatures in `webhook-signature`), so the receiver can switch without missing an event. {SCOPE}",
    "tags": TAGS,
    "request": None,
    "responses": {200: EndpointWithSecretSerializer},
    "examples": [
        OpenApiExample(
            "Rotated",
            value={
                **ENDPOINT_EXAMPLE,
                "previous_secret_expires_at": "2026-12-08T09:00:00Z",
                "secret": SECRET_EXAMPLE,
            },
        )
    ],
}
EVENT_LIST = {
    "summary": "Catch up on events",
    "description": "The events after `after` (an event id), oldest first, exactly as their deliveries post them: "
    "a receiver back from an outage asks with the last id it has until `next` is null. Events of the last few "
    "seconds, and those made after a transaction still open began, are left for the next call, so a transaction "
    "committing late is never skipped. Order events of one "
    f"subject by `sequence`. {SCOPE}",
    "tags": TAGS,
    "parameters": [
        OpenApiParameter(name, location=OpenApiParameter.QUERY, required=False, type=str, description=field.help_text)
        for name, field in EventQuerySerializer().fields.items()
    ],
    "responses": {200: EventPageSerializer},
    "examples": [OpenApiExample("A page", value={"results": [EVENT_EXAMPLE], "next": None})],
}
