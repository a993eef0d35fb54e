"""The contacts API's OpenAPI documentation (drf-spectacular): one @extend_schema's keywords per operation."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter

from waco.contacts.serializers import (
    ConsentInSerializer,
    ConsentResultSerializer,
    ContactBatchResultSerializer,
    ContactBatchSerializer,
    ContactDetailsInSerializer,
    ContactSerializer,
    ContactWriteResultSerializer,
)

TAGS = ["contacts"]

CONTACT_PATH = OpenApiParameter(
    "contact",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description=(
        "A wa_id (the digits of an E.164 number: `971501230077`), a BSUID (`US.13491208655302741918`), "
        "or a phone number written any way (`+971 50 123 0077`; without a country code it is read in the "
        "deployment's WACO_DEFAULT_PHONE_REGION). Anything else is a 422 pointing at `/contact`."
    ),
)

CONSENT_NOW = {
    "granted": True,
    "action": "opt_in",
    "source": "api",
    "reference": "checkout form",
    "proof": "Ticked 'Send me order updates on WhatsApp' at checkout, order W0001234",
    "recorded_at": "2026-12-07T08:59:00Z",
}
NEVER_ASKED = {"granted": False, "action": None, "source": None, "reference": None, "proof": None, "recorded_at": None}

CONTACT_EXAMPLE = {
    "contact": "971501230077",
    "wa_id": "971501230077",
    "user_id": "AE.13491208655302741918",
    "username": "",
    "profile_name": "Amal",
    "name": "Amal Al Mansoori",
    "language": "ar",
    "time_zone": "Asia/Dubai",
    "tags": ["vip", "abayas"],
    "attributes": {"loyalty_tier": "gold", "lifetime_orders": 7},
    "known_as": [],
    "consent": {"utility": CONSENT_NOW, "marketing": NEVER_ASKED},
    "windows": [
        {
            "account": "102290129340398",
            "phone_number": "106540352242922",
            "display_phone_number": "+971 4 123 4567",
            "open": True,
            "open_until": "2026-12-08T08:30:00Z",
            "last_inbound_at": "2026-12-07T08:30:00Z",
        }
    ],
    "created_at": "2026-11-02T10:00:00Z",
    "updated_at": "2026-12-07T09:00:00Z",
}

DETAILS_EXAMPLE = {
    "name": "Amal Al Mansoori",
    "language": "ar",
    "time_zone": "Asia/Dubai",
    "tags": ["vip", "abayas"],
    "attributes": {"loyalty_tier": "gold", "lifetime_orders": 7},
}

CONTACT_GET = {
    "summary": "Show a contact: details, current consent and service windows",
    "description": "Windows are listed only for numbers of the business accounts the key may see.",
    "tags": TAGS,
    "parameters": [CONTACT_PATH],
    "responses": {200: ContactSerializer},
    "examples": [OpenApiExample("Amal", value=CONTACT_EXAMPLE, response_only=True)],
}

CONTACT_PUT = {
    "summary": "Set a contact's name, language, time zone, tags and attributes",
    "description": (
        "Replaces the five details (a field left out becomes empty). A phone number not seen before "
        "creates the contact (201); an unknown BSUID is a 404. The same body again answers `unchanged`. "
        "`profile_name` (what WhatsApp shows) is never changed by this."
    ),
    "tags": TAGS,
    "parameters": [CONTACT_PATH],
    "request": ContactDetailsInSerializer,
    "responses": {200: ContactWriteResultSerializer, 201: ContactWriteResultSerializer},
    "examples": [
        OpenApiExample("Details", value=DETAILS_EXAMPLE, request_only=True),
        OpenApiExample("Updated", value={**CONTACT_EXAMPLE, "result": "updated"}, response_only=True),
    ],
}

CONSENT_POST = {
    "summary": "Record an opt-in or opt-out for one category",
    "description": (
        "Appends an entry to the contact's consent ledger (source `api`; your `source` is kept as its "
        "reference, with `proof`). The newest entry by `recorded_at` is the consent in force. An opt-out "
        "applies to messages already waiting: each is checked again just before it is sent. A phone "
        "number not seen before creates the contact."
    ),
    "tags": TAGS,
    "parameters": [CONTACT_PATH],
    "request": ConsentInSerializer,
    "responses": {201: ConsentResultSerializer},
    "examples": [
        OpenApiExample(
            "Marketing opt-out",
            value={"category": "marketing", "action": "opt_out", "source": "account settings", "proof": "Unticked"},
            request_only=True,
        ),
        OpenApiExample(
            "Recorded",
            value={
                "contact": "971501230077",
                "entry": {
                    "id": 812,
                    "category": "marketing",
                    "action": "opt_out",
                    "source": "api",
                    "reference": "account settings",
                    "proof": "Unticked",
                    "recorded_at": "2026-12-07T09:00:00Z",
                },
                "consent": {"utility": CONSENT_NOW, "marketing": {**NEVER_ASKED, "action": "opt_out"}},
                "created": False,
            },
            response_only=True,
        ),
    ],
}

CONTACT_BATCH = {
    "summary": "Set the details of up to 1,000 contacts",
    "description": (
        "Each item is a PUT /contacts/{contact} body with its `contact`; each is validated and applied on "
        "its own, and the answer lists one result per item in the request's order (`invalid` and "
        "`not_found` with their errors as pointers into this body)."
    ),
    "tags": TAGS,
    "request": ContactBatchSerializer,
    "responses": {200: ContactBatchResultSerializer},
    "examples": [
        OpenApiExample(
            "Two contacts",
            value={"contacts": [{"contact": "+971 50 123 0077", **DETAILS_EXAMPLE}, {"contact": "0501", "name": "X"}]},
            request_only=True,
        ),
        OpenApiExample(
            "Results",
            value={
                "results": [
                    {"contact": "+971 50 123 0077", "result": "created", "wa_id": "971501230077", "user_id": None},
                    {
                        "contact": "0501",
                        "result": "invalid",
                        "errors": [{"pointer": "/contacts/1/contact", "detail": "'0501' has no country code ..."}],
                    },
                ]
            },
            response_only=True,
        ),
    ],
}
