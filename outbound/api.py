"""Messages under /api/v1/: send one (the workers send it), read how it went."""

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from outbound.models import MessageStatus, OutboundMessage
from outbound.selectors import about
from outbound.send_requests import SendRefused, message_request
from outbound.serializers import MessageQueuedSerializer, MessageSendSerializer, MessageSerializer
from waco.api.problems import Problem
from waco.api.scoping import visible
from waco.api.views import ApiView
from waco.channels.models import PhoneNumber
from waco.contacts.api import contact_filter

TAGS = ["Messages"]
ACCOUNT = "phone_number__business_account"
# `?subject=type:id`: what the sender said a message is about (outbound.models' subject_type and subject_id).
SUBJECT_PATTERN = r"^[a-z_]+:"
SUBJECT_HELP = (
    "What the messages are about, as `type:id`: `order:<reference>` (an order's payment links, reminders, "
    "receipt and updates), `thread:<thread id>` (the replies in a thread), `api:<reference>` (the message "
    "sent with that `reference`). Exact on both parts."
)

MESSAGE_EXAMPLE = {
    "id": 4711,
    "account": "200000000000001",
    "from": "100000000000101",
    "to": "971501230001",
    "status": "delivered",
    "category": "utility",
    "purpose": "order_update",
    "reference": "shipment-8841",
    "decision": {"kind": "template", "template": "order_shipped", "language": "en_US", "version": 2},
    "times": {
        "queued": "2026-12-07T07:00:00Z",
        "sent": "2026-12-07T07:00:01Z",
        "delivered": "2026-12-07T07:00:03Z",
        "read": None,
        "failed": None,
    },
    "error": None,
    "updated_at": "2026-12-07T07:00:03Z",
}

QUEUED_EXAMPLE = {
    **MESSAGE_EXAMPLE,
    "status": "queued",
    "times": {"queued": "2026-12-07T07:00:00Z", "sent": None, "delivered": None, "read": None, "failed": None},
    "updated_at": "2026-12-07T07:00:00Z",
    "duplicate": False,
}


class MessagesView(ApiView):
    read_scope, write_scope = "messages:read", "messages:send"
    ordering = ("-updated_at", "-id")

    @extend_schema(
        summary="Send a message to a customer",
        description=(
            "By purpose (its chain of templates), by template name and language, or as free-form `text` inside "
            "the customer's 24-hour service window, through the send policy (window, consent, limits, fallback). "
            "Answers 202 once the message is queued: workers send it; follow it with GET /messages/{id}. "
            "A refusal (no consent, window closed, unknown template, missing parameter) is a 422 and queues "
            "nothing. A `reference` seen before answers the first message again."
        ),
        tags=TAGS,
        request=MessageSendSerializer,
        responses={202: MessageQueuedSerializer},
        examples=[
            OpenApiExample(
                "By purpose",
                request_only=True,
                value={
                    "to": "971501230001",
                    "purpose": "order_update",
                    "parameters": {"customer": "Amal", "order_id": "W7K3Q9P2"},
                    "reference": "shipment-8841",
                },
            ),
            OpenApiExample("Queued", response_only=True, status_codes=["202"], value=QUEUED_EXAMPLE),
        ],
    )
    def post(self, request):
        body = MessageSendSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        numbers = visible(PhoneNumber.objects.all(), request)
        try:
            accepted = message_request(request=body.send_request(), numbers=numbers)
        except SendRefused as refusal:
            if refusal.not_found:
                raise Problem(404, "Not Found", detail=refusal.reason) from refusal
            errors = [{"pointer": refusal.pointer, "detail": refusal.reason}] if refusal.pointer else None
            raise Problem(
                422, "Message refused", detail=refusal.reason, errors=errors, type_suffix="message-refused"
            ) from refusal
        message = _messages(request).get(pk=accepted.message.pk)
        answer = MessageQueuedSerializer(message, context={"duplicate": accepted.duplicate})
        return Response(answer.data, status=202)

    @extend_schema(
        summary="List messages",
        description="Newest change first, in cursor pages; filter by customer, subject, status and change time.",
        tags=TAGS,
        parameters=[
            OpenApiParameter("contact", OpenApiTypes.STR, description="The customer: wa_id, BSUID or phone number."),
            OpenApiParameter("subject", OpenApiTypes.STR, pattern=SUBJECT_PATTERN, description=SUBJECT_HELP),
            OpenApiParameter("status", OpenApiTypes.STR, enum=MessageStatus.values),
            OpenApiParameter("updated_since", OpenApiTypes.DATETIME, description="Changed at or after this time."),
        ],
        responses={200: MessageSerializer(many=True)},
        examples=[OpenApiExample("A page", response_only=True, value=MESSAGE_EXAMPLE)],
    )
    def get(self, request):
        filters = MessageFilters(data=request.query_params.dict())  # a plain dict: a blank value is refused
        filters.is_valid(raise_exception=True)
        return self.paginate(filters.apply(_messages(request)), MessageSerializer)


class MessageView(ApiView):
    read_scope, write_scope = "messages:read", "messages:send"  # read-only: a write answers 405

    @extend_schema(
        summary="Show a message: its status, each step's time and its error",
        description="Times of queued, sent, delivered, read and failed (null until reached); "
        "the error's code and title when it failed.",
        tags=TAGS,
        responses={200: MessageSerializer},
        examples=[OpenApiExample("Delivered", response_only=True, value=MESSAGE_EXAMPLE)],
    )
    def get(self, request, message_id: int):
        return Response(MessageSerializer(get_object_or_404(_messages(request), pk=message_id)).data)


class MessageFilters(serializers.Serializer):
    contact = serializers.CharField(required=False)
    subject = serializers.RegexField(
        SUBJECT_PATTERN,
        required=False,
        trim_whitespace=False,
        error_messages={"invalid": "Give the subject as type:id, for example order:W7K3Q9P2."},
    )
    status = serializers.ChoiceField(choices=MessageStatus.choices, required=False)
    updated_since = serializers.DateTimeField(required=False)

    def apply(self, messages):
        data = self.validated_data
        if "contact" in data:
            messages = messages.filter(contact_filter(data["contact"]))
        if "subject" in data:
            subject_type, subject_id = data["subject"].split(":", 1)
            messages = messages.filter(about(subject_type=subject_type, subject_id=subject_id))
        if "status" in data:
            messages = messages.filter(status=data["status"])
        if "updated_since" in data:
            messages = messages.filter(updated_at__gte=data["updated_since"])
        return messages


def _messages(request):
    messages = OutboundMessage.objects.select_related("phone_number__business_account")
    return visible(messages, request, account_field=ACCOUNT)


urlpatterns = [
    path("messages", MessagesView.as_view(), name="api-messages"),
    path("messages/<int:message_id>", MessageView.as_view(), name="api-message"),
]
