"""Threads under /api/v1/, read-only, for a CRM: the conversation's state and its messages both ways."""

from datetime import datetime

from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from conversations.models import Direction, Thread, ThreadMessage, ThreadState
from outbound.models import MessageStatus
from waco.api.scoping import visible
from waco.api.views import ApiView
from waco.contacts.api import contact_filter
from waco.contacts.models import SERVICE_WINDOW, ServiceWindow

TAGS = ["Threads"]
ACCOUNT = "phone_number__business_account"


class ThreadContactSerializer(serializers.Serializer):
    wa_id = serializers.CharField(allow_null=True)
    user_id = serializers.CharField(allow_null=True, help_text="The business-scoped user id (BSUID), if known.")
    profile_name = serializers.CharField()


class ThreadSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="phone_number.business_account.waba_id")
    phone_number = serializers.CharField(source="phone_number.graph_id", help_text="The number's phone number id.")
    contact = ThreadContactSerializer()
    state = serializers.ChoiceField(choices=ThreadState.choices)
    window_open_until = serializers.SerializerMethodField(help_text="Free-form replies are allowed until then.")

    class Meta:
        model = Thread
        fields = ["id", "account", "phone_number", "contact", "state", "window_open_until", "created_at"]
        fields += ["updated_at"]

    def get_window_open_until(self, thread: Thread) -> datetime | None:
        return thread.last_inbound_at + SERVICE_WINDOW if thread.last_inbound_at else None


class ThreadMessageSerializer(serializers.ModelSerializer):
    direction = serializers.ChoiceField(choices=Direction.choices, help_text="in: from the customer; out: ours.")
    message_id = serializers.IntegerField(
        source="outbound_id", allow_null=True, help_text="Ours: its id at GET /messages/{id}."
    )
    status = serializers.ChoiceField(
        source="outbound.status", choices=MessageStatus.choices, allow_null=True, default=None
    )

    class Meta:
        model = ThreadMessage
        fields = ["id", "direction", "type", "text", "sent_at", "status", "message_id"]


THREAD_EXAMPLE = {
    "id": 31,
    "account": "200000000000001",
    "phone_number": "100000000000101",
    "contact": {"wa_id": "971501230001", "user_id": None, "profile_name": "Amal"},
    "state": "awaiting_payment",
    "window_open_until": "2026-12-08T06:58:00Z",
    "created_at": "2026-12-01T10:00:00Z",
    "updated_at": "2026-12-07T06:58:10Z",
}


class ThreadsView(ApiView):
    read_scope = write_scope = "threads:read"  # read-only: a write answers 405 (there is no write scope)
    ordering = ("-updated_at", "-id")

    @extend_schema(
        summary="List threads",
        description="A thread is one customer with one business number. Filter by customer; newest change "
        "first, in cursor pages.",
        tags=TAGS,
        parameters=[
            OpenApiParameter("contact", OpenApiTypes.STR, description="The customer: wa_id, BSUID or phone number."),
            OpenApiParameter("updated_since", OpenApiTypes.DATETIME, description="Changed at or after this time."),
        ],
        responses={200: ThreadSerializer(many=True)},
        examples=[OpenApiExample("A page", response_only=True, value=THREAD_EXAMPLE)],
    )
    def get(self, request):
        filters = ThreadFilters(data=request.query_params.dict())  # a plain dict: a blank value is refused
        filters.is_valid(raise_exception=True)
        return self.paginate(filters.apply(_threads(request)), ThreadSerializer)


class ThreadView(ApiView):
    read_scope = write_scope = "threads:read"  # read-only: a write answers 405 (there is no write scope)

    @extend_schema(
        summary="Show a thread",
        description="Its state, its customer and until when the service window is open.",
        tags=TAGS,
        responses={200: ThreadSerializer},
        examples=[OpenApiExample("A thread", response_only=True, value=THREAD_EXAMPLE)],
    )
    def get(self, request, thread_id: int):
        return Response(ThreadSerializer(get_object_or_404(_threads(request), pk=thread_id)).data)


class ThreadMessagesView(ApiView):
    read_scope = write_scope = "threads:read"  # read-only: a write answers 405 (there is no write scope)
    ordering = ("sent_at", "id")

    @extend_schema(
        summary="List a thread's messages",
        description="Both directions, oldest first, in cursor pages: the text a person reads, the type, and "
        "for ours the delivery status.",
        tags=TAGS,
        responses={200: ThreadMessageSerializer(many=True)},
        examples=[
            OpenApiExample(
                "A page",
                response_only=True,
                value={
                    "id": 904,
                    "direction": "out",
                    "type": "text",
                    "text": "Your order W7K3Q9P2 has shipped.",
                    "sent_at": "2026-12-07T06:58:12Z",
                    "status": "delivered",
                    "message_id": 4711,
                },
            )
        ],
    )
    def get(self, request, thread_id: int):
        thread = get_object_or_404(_threads(request), pk=thread_id)
        messages = ThreadMessage.objects.filter(thread=thread).select_related("outbound")
        return self.paginate(messages, ThreadMessageSerializer)


class ThreadFilters(serializers.Serializer):
    contact = serializers.CharField(required=False)
    updated_since = serializers.DateTimeField(required=False)

    def apply(self, threads):
        data = self.validated_data
        if "contact" in data:
            threads = threads.filter(contact_filter(data["contact"]))
        if "updated_since" in data:
            threads = threads.filter(updated_at__gte=data["updated_since"])
        return threads


def _threads(request):
    window = ServiceWindow.objects.filter(contact=OuterRef("contact"), phone_number=OuterRef("phone_number"))
    threads = Thread.objects.select_related("contact", "phone_number__business_account").annotate(
        last_inbound_at=Subquery(window.values("last_inbound_at")[:1])
    )
    return visible(threads, request, account_field=ACCOUNT)


urlpatterns = [
    path("threads", ThreadsView.as_view(), name="api-threads"),
    path("threads/<int:thread_id>", ThreadView.as_view(), name="api-thread"),
    path("threads/<int:thread_id>/messages", ThreadMessagesView.as_view(), name="api-thread-messages"),
]
