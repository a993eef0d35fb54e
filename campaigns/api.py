"""Campaigns under /api/v1/ (built on waco.api): create one, list and read them with their totals, start,
pause, resume or cancel one, and page through its recipients' outcomes.

Thin, like the admin's pages (campaigns.admin_views): creating is campaigns.services.campaign_create,
every status change campaigns.services.campaign_transition with cause `api`; a start or a resume rings a
worker after commit, which expands the audience and sends. Totals are the outcomes rollup's
(campaigns.outcomes.campaign_totals), never a scan of recipients. A campaign of an account the key may
not see does not exist for it (404). Refusals: 422 for the body (field errors as JSON pointers), 409 when
the campaign's status does not allow the transition.
"""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from campaigns import api_docs as docs
from campaigns.control import campaign_press
from campaigns.models import Campaign, CampaignCause, CampaignStatus
from campaigns.outcomes import campaign_totals
from campaigns.serializers import (
    COST_CURRENCY,
    CampaignCreateSerializer,
    CampaignDetailSerializer,
    CampaignFilterSerializer,
    CampaignSerializer,
    PauseSerializer,
    RecipientFilterSerializer,
    RecipientSerializer,
)
from campaigns.services import CampaignTransitionRefused, campaign_create
from templates_lib.models import Template
from waco.api.problems import Problem
from waco.api.scoping import visible
from waco.api.views import ApiView
from waco.channels.models import PhoneNumber

READ, WRITE = "campaigns:read", "campaigns:write"
# campaign_create's error keys -> the body's fields they point at.
POINTERS = {"phone_number": "/from", "quiet_start": "/quiet_hours", "quiet_end": "/quiet_hours"}


def campaigns_visible(request):
    campaigns = Campaign.objects.select_related("business_account", "phone_number", "template")
    return visible(campaigns, request)


def campaign_found(request, campaign_id: int) -> Campaign:
    return get_object_or_404(campaigns_visible(request), pk=campaign_id)


def totals_of(campaign: Campaign) -> dict:
    """The rollup's counts (campaigns.outcomes); a draft has none yet (it expands when it starts), as in the admin."""
    if campaign.status == CampaignStatus.DRAFT:
        counts, skipped, cost, revenue, counted_at = {}, {}, 0, 0, None
    else:
        totals = campaign_totals(campaign)
        counts, skipped, cost, revenue, counted_at = (
            totals.counts,
            totals.skipped,
            totals.cost,
            totals.revenue_minor,
            totals.counted_at,
        )
    return {
        "counts": counts,
        "skipped": skipped,
        "cost": cost,
        "cost_currency": COST_CURRENCY,
        "revenue_minor": revenue,
        "counted_at": counted_at,
    }


def campaign_answer(request, campaign_id: int) -> dict:
    """The campaign as GET /campaigns/{id} shows it, read again (after a write: its new status)."""
    campaign = campaign_found(request, campaign_id)
    return CampaignDetailSerializer(campaign, context={"totals": totals_of(campaign)}).data


def sender_number(request, graph_id: str | None) -> PhoneNumber:
    """The number named by its phone number id among the key's accounts' (404), or the only one there is."""
    numbers = visible(PhoneNumber.objects.select_related("business_account").order_by("pk"), request)
    if graph_id:
        number = numbers.filter(graph_id=graph_id).first()
        if number is None:
            raise Problem(404, "Not Found", detail=f"No phone number {graph_id}.", type_suffix="unknown-number")
        return number
    candidates = list(numbers[:2])
    if len(candidates) == 1:
        return candidates[0]
    detail = "name the sending number in `from`" if candidates else "the key can see no phone number"
    raise Problem(422, "Number required", detail=detail, errors=[{"pointer": "/from", "detail": detail}])


def template_named(number: PhoneNumber, name: str, language: str | None) -> Template:
    """The number's account's template by name, in `language` or its only one. Whether it may be
    broadcast (approved, its category) is campaign_create's to say."""
    templates = Template.objects.filter(business_account_id=number.business_account_id, name=name)
    if language:
        templates = templates.filter(language=language)
    found = list(templates.order_by("language")[:2])  # one per (account, name, language)
    if not found:
        where = f" in {language}" if language else ""
        raise _body_refused("/template", f"No template {name!r}{where} in the number's business account.")
    if len(found) > 1:
        raise _body_refused("/language", f"The template {name!r} has several languages: name one.")
    return found[0]


def _body_refused(pointer: str, detail: str) -> Problem:
    return Problem(
        422, "Validation failed", detail="The request body has errors.", errors=[{"pointer": pointer, "detail": detail}]
    )


def _create_refused(error: ValidationError) -> Problem:
    errors = [
        {"pointer": POINTERS.get(field, f"/{field}"), "detail": message}
        for field, messages in error.message_dict.items()
        for message in messages
    ]
    return Problem(422, "Validation failed", detail="The campaign cannot be made as asked.", errors=errors)


class CampaignList(ApiView):
    read_scope, write_scope = READ, WRITE

    @extend_schema(**docs.CAMPAIGN_LIST)
    def get(self, request):
        query = CampaignFilterSerializer(data=request.query_params.dict())  # a plain dict: a blank value is refused
        query.is_valid(raise_exception=True)
        return self.paginate(campaigns_visible(request).filter(**query.validated_data), CampaignSerializer)

    @extend_schema(**docs.CAMPAIGN_CREATE)
    def post(self, request):
        body = CampaignCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        number = sender_number(request, data.get("from"))
        template = template_named(number, data["template"], data.get("language"))
        quiet = data.get("quiet_hours")
        options = {"quiet_hours": (quiet["start"], quiet["end"])} if quiet else {}
        try:
            campaign = campaign_create(
                business_account=number.business_account,
                phone_number=number,
                name=data["name"],
                template=template,
                params=data["params"],
                segment=data["segment"],
                transactional=data["transactional"],
                starts_at=data.get("starts_at"),
                ends_at=data.get("ends_at"),
                frequency_cap_hours=data["frequency_cap_hours"],
                cause=CampaignCause.API,
                **options,
            )
        except ValidationError as error:
            raise _create_refused(error) from error
        return Response(campaign_answer(request, campaign.pk), status=201)


class CampaignDetail(ApiView):
    read_scope, write_scope = READ, WRITE  # read-only: a write answers 405

    @extend_schema(**docs.CAMPAIGN_GET)
    def get(self, request, campaign_id: int):
        return Response(campaign_answer(request, campaign_id))


class CampaignTransition(ApiView):
    """POST /campaigns/{id}/<transition>: one status change, as the admin's buttons make it."""

    read_scope, write_scope = READ, WRITE
    transition = ""

    def apply(self, request, campaign_id: int, *, detail: str = "") -> Response:
        campaign = campaign_found(request, campaign_id)
        try:
            campaign_press(campaign=campaign, name=self.transition, cause=CampaignCause.API, detail=detail)
        except (CampaignTransitionRefused, ValidationError) as error:
            text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            raise Problem(409, "Transition refused", detail=text, type_suffix="transition-refused") from error
        return Response(campaign_answer(request, campaign_id))


class CampaignStart(CampaignTransition):
    transition = "start"

    @extend_schema(**docs.CAMPAIGN_START)
    def post(self, request, campaign_id: int):
        return self.apply(request, campaign_id)


class CampaignPause(CampaignTransition):
    transition = "pause"

    @extend_schema(**docs.CAMPAIGN_PAUSE)
    def post(self, request, campaign_id: int):
        body = PauseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reason = body.validated_data.get("reason", "").strip() or f"Paused through the API by {request.auth.name}"
        return self.apply(request, campaign_id, detail=reason)


class CampaignResume(CampaignTransition):
    transition = "resume"

    @extend_schema(**docs.CAMPAIGN_RESUME)
    def post(self, request, campaign_id: int):
        return self.apply(request, campaign_id)


class CampaignCancel(CampaignTransition):
    transition = "cancel"

    @extend_schema(**docs.CAMPAIGN_CANCEL)
    def post(self, request, campaign_id: int):
        return self.apply(request, campaign_id)


class CampaignRecipients(ApiView):
    read_scope, write_scope = READ, WRITE  # read-only: a write answers 405
    ordering = "id"  # the order expansion wrote them in

    @extend_schema(**docs.RECIPIENT_LIST)
    def get(self, request, campaign_id: int):
        campaign = campaign_found(request, campaign_id)
        query = RecipientFilterSerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        recipients = campaign.recipients.select_related("contact", "order").filter(**query.validated_data)
        return self.paginate(recipients, RecipientSerializer)


urlpatterns = [
    path("campaigns", CampaignList.as_view(), name="api-campaigns"),
    path("campaigns/<int:campaign_id>", CampaignDetail.as_view(), name="api-campaign"),
    path("campaigns/<int:campaign_id>/start", CampaignStart.as_view(), name="api-campaign-start"),
    path("campaigns/<int:campaign_id>/pause", CampaignPause.as_view(), name="api-campaign-pause"),
    path("campaigns/<int:campaign_id>/resume", CampaignResume.as_view(), name="api-campaign-resume"),
    path("campaigns/<int:campaign_id>/cancel", CampaignCancel.as_view(), name="api-campaign-cancel"),
    path("campaigns/<int:campaign_id>/recipients", CampaignRecipients.as_view(), name="api-campaign-recipients"),
]
