"""Webhook endpoints and the event log under /api/v1/ (built on waco.api). Scope: webhooks:manage.

A key limited to some business accounts sees and makes only endpoints limited to accounts it can see
(an endpoint for every account would carry other accounts' events), and reads their events and the
events of no account (a contact's consent).
"""

import json
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from waco.api.problems import Problem
from waco.api.scoping import visible
from waco.api.views import ApiView
from waco.channels.models import BusinessAccount
from waco.events import api_docs as docs
from waco.events import services
from waco.events.models import Event, WebhookEndpoint
from waco.events.serializers import (
    EndpointSerializer,
    EndpointWithSecretSerializer,
    EndpointWriteSerializer,
    EventQuerySerializer,
)

SCOPE = "webhooks:manage"


def endpoints_visible(request):
    endpoints = WebhookEndpoint.objects.prefetch_related("business_accounts")
    ids = request.auth.account_ids()
    if ids is None:
        return endpoints
    limited = WebhookEndpoint.business_accounts.through.objects.values("webhookendpoint_id")
    return endpoints.filter(pk__in=limited).exclude(business_accounts__in=BusinessAccount.objects.exclude(pk__in=ids))


def accounts_named(request, waba_ids: list[str] | None) -> list[BusinessAccount] | None:
    """The accounts an endpoint is limited to: those named (each visible to the key), or, for a limited key
    naming none, all of the key's. None: leave them (PATCH without `accounts`)."""
    if waba_ids is None:
        return None
    accounts = visible(BusinessAccount.objects.order_by("pk"), request, account_field="pk")
    if not waba_ids:
        return list(accounts) if request.auth.account_ids() is not None else []
    found = list(accounts.filter(waba_id__in=waba_ids))
    unknown = sorted(set(waba_ids) - {a.waba_id for a in found})
    if unknown:
        raise Problem(
            404, "Not Found", detail=f"No business account {', '.join(unknown)}.", type_suffix="unknown-account"
        )
    return found


def _refused(exc) -> Problem:
    errors = [{"pointer": f"/{field}", "detail": " ".join(m)} for field, m in exc.message_dict.items()]
    return Problem(422, "Endpoint refused", detail="; ".join(e["detail"] for e in errors), errors=errors)


class EndpointList(ApiView):
    read_scope = write_scope = SCOPE

    @extend_schema(**docs.ENDPOINT_LIST)
    def get(self, request):
        return self.paginate(endpoints_visible(request), EndpointSerializer)

    @extend_schema(**docs.ENDPOINT_CREATE)
    def post(self, request):
        body = EndpointWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        fields = dict(body.validated_data)
        accounts = accounts_named(request, fields.pop("accounts", []))
        try:
            endpoint, _ = services.endpoint_create(**fields, business_accounts=accounts)
        except ValidationError as exc:
            raise _refused(exc) from exc
        return Response(EndpointWithSecretSerializer(endpoint).data, 201)


class EndpointDetail(ApiView):
    read_scope = write_scope = SCOPE

    @extend_schema(**docs.ENDPOINT_GET)
    def get(self, request, endpoint_id: int):
        return Response(EndpointSerializer(get_object_or_404(endpoints_visible(request), pk=endpoint_id)).data)

    @extend_schema(**docs.ENDPOINT_PATCH)
    def patch(self, request, endpoint_id: int):
        endpoint = get_object_or_404(endpoints_visible(request), pk=endpoint_id)
        body = EndpointWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        fields = dict(body.validated_data)
        accounts = accounts_named(request, fields.pop("accounts", None))
        try:
            endpoint = services.endpoint_update(endpoint=endpoint, business_accounts=accounts, **fields)
        except ValidationError as exc:
            raise _refused(exc) from exc
        return Response(EndpointSerializer(endpoint).data)

    @extend_schema(**docs.ENDPOINT_DELETE)
    def delete(self, request, endpoint_id: int):
        get_object_or_404(endpoints_visible(request), pk=endpoint_id).delete()
        return Response(status=204)


class EndpointRotate(ApiView):
    read_scope = write_scope = SCOPE

    @extend_schema(**docs.ENDPOINT_ROTATE)
    def post(self, request, endpoint_id: int):
        endpoint = get_object_or_404(endpoints_visible(request), pk=endpoint_id)
        services.endpoint_rotate(endpoint=endpoint)  # the endpoint now holds the new secret
        return Response(EndpointWithSecretSerializer(endpoint).data)


class EventList(ApiView):
    read_scope = write_scope = SCOPE

    @extend_schema(**docs.EVENT_LIST)
    def get(self, request):
        query = EventQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        q = query.validated_data
        # Read before the events: a transaction committing in between was open then or began later,
        # so its events lie past the cutoff.
        settled = services.events_settled_before(timezone.now())
        events = Event.objects.filter(created_at__lt=settled).order_by("id")
        ids = request.auth.account_ids()
        if ids is not None:
            events = events.filter(business_account__in=ids) | events.filter(business_account__isnull=True)
        if "after" in q:
            events = events.filter(id__gt=q["after"])
        if "type" in q:
            events = events.filter(type=q["type"])
        if "subject" in q:
            events = events.filter(subject=q["subject"])
        page = list(events.values_list("id", "body")[: q["limit"] + 1])
        more, page = len(page) > q["limit"], page[: q["limit"]]
        following = None
        if more:
            query = urlencode({**request.query_params.dict(), "after": page[-1][0]})
            following = f"{request.build_absolute_uri(request.path)}?{query}"
        return Response({"results": [json.loads(body) for _, body in page], "next": following})


urlpatterns = [
    path("webhook-endpoints", EndpointList.as_view()),
    path("webhook-endpoints/<int:endpoint_id>", EndpointDetail.as_view()),
    path("webhook-endpoints/<int:endpoint_id>/rotate", EndpointRotate.as_view()),
    path("events", EventList.as_view()),
]
