"""Orders under /api/v1/ (built on waco.api): read them, name them, report their fulfilment.

Thin: parse, call checkout.storefront, serialize. An order of an account the key may
not see does not exist for it (404). Event refusals: 409 when the order's status does
not allow the event (the body is fine; the order is not in the state for it), 422 when
the body's details are wrong, 503 when Stripe could not be reached (a retry cannot move
money twice). A repeated event answers 200 with result "already_applied".
"""

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from checkout import api_docs as docs
from checkout.fulfilment import FulfilmentNotAllowed, FulfilmentRefused, FulfilmentRetryLater
from checkout.models import Order
from checkout.serializers import (
    OrderFilterSerializer,
    OrderPatchSerializer,
    OrderSerializer,
    event_serializer_for,
)
from checkout.storefront import (
    ExternalReferenceTaken,
    FulfilmentEvent,
    order_event_report,
    order_external_reference_set,
)
from waco.api.problems import Problem
from waco.api.scoping import visible
from waco.api.views import ApiView

STRIPE_RETRY_AFTER_SECONDS = 30
REFERENCE_MAX_LENGTH = Order._meta.get_field("reference").max_length


def orders_visible(request):
    """The orders the key may see, with what the order body shows fetched in a few queries."""
    orders = Order.objects.select_related("business_account", "contact").prefetch_related(
        "lines", "changes", "payment_links", "refunds"
    )
    return visible(orders, request)


def order_found(request, reference: str) -> Order:
    if not reference.isalnum() or len(reference) > REFERENCE_MAX_LENGTH:  # never a reference (NUL included)
        raise Http404
    return get_object_or_404(orders_visible(request), reference=reference)


def order_body(request, order: Order, result: str) -> dict:
    """The order as GET shows it (read again, with its new history), and what the request did."""
    fresh = order_found(request, order.reference)
    return {**OrderSerializer(fresh).data, "result": result}


class OrderList(ApiView):
    read_scope, write_scope = "orders:read", "orders:write"
    ordering = ("-updated_at", "-id")  # the latest changes first

    @extend_schema(**docs.ORDER_LIST)
    def get(self, request):
        query = OrderFilterSerializer(data=request.query_params.dict())  # a plain dict: a blank value is refused
        query.is_valid(raise_exception=True)
        orders = orders_visible(request)
        if "status" in query.validated_data:
            orders = orders.filter(status=query.validated_data["status"])
        if "updated_since" in query.validated_data:
            orders = orders.filter(updated_at__gte=query.validated_data["updated_since"])
        if "external_reference" in query.validated_data:
            orders = orders.filter(external_reference=query.validated_data["external_reference"])
        return self.paginate(orders, OrderSerializer)


class OrderDetail(ApiView):
    read_scope, write_scope = "orders:read", "orders:write"

    @extend_schema(**docs.ORDER_GET)
    def get(self, request, reference: str):
        return Response(OrderSerializer(order_found(request, reference)).data)

    @extend_schema(**docs.ORDER_PATCH)
    def patch(self, request, reference: str):
        order = order_found(request, reference)
        body = OrderPatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            order, changed = order_external_reference_set(
                order=order, external_reference=body.validated_data["external_reference"]
            )
        except ExternalReferenceTaken as exc:
            raise Problem(
                409,
                "External reference taken",
                detail=f"Order {exc.reference} of this business account already has this external_reference.",
                type_suffix="external-reference-taken",
            ) from exc
        return Response(order_body(request, order, "updated" if changed else "unchanged"))


class OrderEvents(ApiView):
    read_scope, write_scope = "orders:read", "orders:write"

    @extend_schema(**docs.ORDER_EVENT)
    def post(self, request, reference: str):
        order = order_found(request, reference)
        body = event_serializer_for(request.data)
        body.is_valid(raise_exception=True)
        event = FulfilmentEvent(name=body.validated_data.pop("event"), **body.validated_data)
        try:
            order, applied = order_event_report(order=order, event=event, by_name=request.auth.name)
        except FulfilmentNotAllowed as exc:
            raise Problem(409, "Event not allowed now", detail=exc.message, type_suffix="event-not-allowed") from exc
        except FulfilmentRetryLater as exc:
            raise Problem(
                503,
                "Stripe unavailable",
                detail=exc.message,
                type_suffix="stripe-unavailable",
                headers={"Retry-After": str(STRIPE_RETRY_AFTER_SECONDS)},
            ) from exc
        except FulfilmentRefused as exc:
            raise Problem(422, "Event refused", detail=exc.message, type_suffix="event-refused") from exc
        return Response(order_body(request, order, "applied" if applied else "already_applied"))


urlpatterns = [
    path("orders", OrderList.as_view(), name="api-orders"),
    path("orders/<str:reference>", OrderDetail.as_view(), name="api-order"),
    path("orders/<str:reference>/events", OrderEvents.as_view(), name="api-order-events"),
]
