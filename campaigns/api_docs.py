"""The campaigns API's OpenAPI documentation (drf-spectacular): each constant is the keyword arguments of
one operation's @extend_schema in campaigns.api. The scope is added to each description by waco.api.schema.
"""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse

from campaigns.serializers import (
    CampaignCreateSerializer,
    CampaignDetailSerializer,
    CampaignFilterSerializer,
    CampaignSerializer,
    PauseSerializer,
    RecipientFilterSerializer,
    RecipientSerializer,
)
from waco.api.problems import PROBLEM_CONTENT_TYPE
from waco.api.schema import ProblemSerializer

TAGS = ["campaigns"]


def problem(status: int, description: str) -> dict:
    """An operation's own wording for one of its problem responses."""
    return {(status, PROBLEM_CONTENT_TYPE): OpenApiResponse(response=ProblemSerializer, description=description)}


REFUSED_409 = problem(
    409,
    "The campaign's status does not allow this change, e.g. pausing a draft (or the same Idempotency-Key is "
    "still in progress).",
)

CAMPAIGN_EXAMPLE = {
    "id": 42,
    "account": "102290129340398",
    "from": "106540352242922",
    "name": "Winter sale",
    "template": {"name": "winter_sale", "language": "en_US", "category": "MARKETING"},
    "transactional": False,
    "params": {},
    "segment": {"tags_any": ["vip"], "ordered_within_days": 90},
    "status": "running",
    "paused_reason": "",
    "starts_at": None,
    "ends_at": "2026-12-14T20:00:00Z",
    "quiet_hours": {"start": "21:00", "end": "09:00"},
    "frequency_cap_hours": 24,
    "attribution_days": 7,
    "created_at": "2026-12-07T09:00:00Z",
    "updated_at": "2026-12-07T09:05:00Z",
}
TOTALS_EXAMPLE = {
    "counts": {
        "pending": 1180,
        "skipped": 96,
        "sent": 310,
        "delivered": 1604,
        "read": 512,
        "replied": 41,
        "ordered": 9,
        "failed": 12,
    },
    "skipped": {"no_consent": 71, "frequency_cap": 25},
    "cost": "30.217500",
    "cost_currency": "USD",
    "revenue_minor": 288000,
    "counted_at": "2026-12-07T09:40:02Z",
}
DETAIL_EXAMPLE = {**CAMPAIGN_EXAMPLE, "totals": TOTALS_EXAMPLE}
DRAFT_EXAMPLE = {
    **CAMPAIGN_EXAMPLE,
    "status": "draft",
    "updated_at": "2026-12-07T09:00:00Z",
    "totals": {
        **TOTALS_EXAMPLE,
        "counts": {},
        "skipped": {},
        "cost": "0.000000",
        "revenue_minor": 0,
        "counted_at": None,
    },
}
RECIPIENT_EXAMPLE = {
    "id": 90211,
    "contact": {"id": 5012, "wa_id": "971501230077", "bsuid": None},
    "status": "ordered",
    "skip_reason": "",
    "error_code": None,
    "error_title": "",
    "cost": "0.018750",
    "sent_at": "2026-12-07T09:06:12Z",
    "status_at": "2026-12-07T09:07:40Z",
    "replied_at": "2026-12-07T09:20:03Z",
    "ordered_at": "2026-12-07T10:02:55Z",
    "order": {"reference": "WK7M2Q9PX", "currency": "AED"},
    "revenue_minor": 64000,
    "updated_at": "2026-12-07T10:02:55Z",
}

CAMPAIGN_LIST = {
    "summary": "List campaigns, newest first (cursor pages)",
    "description": "Only campaigns of the business accounts the key may see; filter by `status`. "
    "The totals are on GET /campaigns/{id}.",
    "tags": TAGS,
    "parameters": [CampaignFilterSerializer],
    "responses": {200: CampaignSerializer(many=True)},
    "examples": [OpenApiExample("A page of campaigns", value=CAMPAIGN_EXAMPLE, response_only=True)],
}

CAMPAIGN_CREATE = {
    "summary": "Create a campaign (a draft): one approved template to a segment of contacts",
    "description": "The number (`from`, its phone number id; default: the key's only number) decides the "
    "business account; the template is that account's, by name and language, approved, marketing or (with "
    "`transactional`) utility. `params` says where each template parameter's value comes from, `segment` "
    "which contacts it goes to; consent for the template's category is always required, and recipients "
    "without it are skipped with their reason. Nothing is sent until POST /campaigns/{id}/start. "
    "422: the body is wrong (each error points at its field).",
    "tags": TAGS,
    "request": CampaignCreateSerializer,
    "responses": {
        201: CampaignDetailSerializer,
        **problem(404, "No phone number with that id among the business accounts the key may see."),
        **problem(
            422,
            "The body is wrong: no such template, not approved, a utility template without `transactional`, a "
            "parameter without a source, an unknown segment filter, an end before the start (JSON pointers).",
        ),
    },
    "examples": [
        OpenApiExample(
            "To VIPs who ordered lately",
            request_only=True,
            value={
                "name": "Winter sale",
                "template": "winter_sale",
                "language": "en_US",
                "segment": {"tags_any": ["vip"], "ordered_within_days": 90},
                "ends_at": "2030-12-14T20:00:00Z",
            },
        ),
        OpenApiExample(
            "With a parameter from each contact",
            request_only=True,
            value={
                "name": "Restock",
                "from": "106540352242922",
                "template": "restock_notice",
                "language": "en_US",
                "params": {"customer": {"source": "field", "key": "name", "default": "there"}},
                "segment": {"attributes": {"size": "M"}, "countries": ["AE", "SA"]},
                "quiet_hours": {"start": "22:00", "end": "08:00"},
                "frequency_cap_hours": 48,
            },
        ),
        OpenApiExample("Created", response_only=True, status_codes=["201"], value=DRAFT_EXAMPLE),
    ],
}

CAMPAIGN_GET = {
    "summary": "Read a campaign: its settings, status, paused_reason and totals",
    "description": "The totals (recipients per status, skips per reason, cost, attributed revenue) are counted "
    "every few seconds while the campaign may change (`counted_at` says when); a draft has none yet, its "
    "audience is expanded when it starts.",
    "tags": TAGS,
    "responses": {200: CampaignDetailSerializer},
    "examples": [OpenApiExample("A running campaign", value=DETAIL_EXAMPLE, response_only=True)],
}


def _transition(summary: str, description: str, example: dict, request=None, examples=()) -> dict:
    return {
        "summary": summary,
        "description": f"{description} Answers the campaign as GET /campaigns/{{id}} shows it.",
        "tags": TAGS,
        "request": request,
        "responses": {200: CampaignDetailSerializer, **REFUSED_409},
        "examples": [*examples, OpenApiExample("Done", value=example, response_only=True)],
    }


CAMPAIGN_START = _transition(
    "Start a campaign",
    "A draft or scheduled campaign starts now (a `starts_at` still to come: it sends from then): a worker "
    "expands its audience into recipients and sends, paced and outside each recipient's quiet hours.",
    DETAIL_EXAMPLE,
)
CAMPAIGN_PAUSE = _transition(
    "Pause a running campaign",
    "No new message goes out until it is resumed; `reason` is kept as its paused_reason.",
    {**DETAIL_EXAMPLE, "status": "paused", "paused_reason": "Stock of the advertised line ran low"},
    request=PauseSerializer,
    examples=[
        OpenApiExample("Why", value={"reason": "Stock of the advertised line ran low"}, request_only=True),
    ],
)
CAMPAIGN_RESUME = _transition(
    "Resume a paused campaign",
    "It goes on where it stopped. A campaign paused by a safety trigger (the number's quality, its template, "
    "failures, opt-outs) never resumes by itself.",
    DETAIL_EXAMPLE,
)
CAMPAIGN_CANCEL = _transition(
    "Cancel a campaign",
    "For good: its pending recipients are never sent.",
    {**DETAIL_EXAMPLE, "status": "cancelled"},
)

RECIPIENT_LIST = {
    "summary": "List a campaign's recipients with their outcomes (cursor pages)",
    "description": "In the order they were added; filter by `status`. Each: the contact, its status (pending, "
    "skipped with its reason, sent, delivered, read, replied, ordered, failed with Meta's code and title), "
    "its cost, its times and the order attributed to it.",
    "tags": TAGS,
    "parameters": [RecipientFilterSerializer],
    "responses": {200: RecipientSerializer(many=True)},
    "examples": [OpenApiExample("A page of recipients", value=RECIPIENT_EXAMPLE, response_only=True)],
}
