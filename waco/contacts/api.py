"""This app's resources under /api/v1/ (built on waco.api): contacts, their details and consent.

Contacts belong to the merchant, not to a business account: any key with the scope finds
any contact, but the service windows it is shown are those of its accounts' numbers only.
"""

from django.db.models import Q
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from waco.api.problems import Problem, pointer_errors
from waco.api.scoping import visible
from waco.api.views import ApiView
from waco.contacts import api_docs as docs
from waco.contacts import services
from waco.contacts.details import DETAIL_FIELDS, contact_details_put, contacts_details_put
from waco.contacts.models import ConsentAction, ConsentSource, Contact, ServiceWindow
from waco.contacts.serializers import (
    ConsentInSerializer,
    ConsentResultSerializer,
    ContactBatchEnvelopeSerializer,
    ContactBatchItemSerializer,
    ContactBatchResultSerializer,
    ContactDetailsInSerializer,
    ContactSerializer,
)

CONTACT_FIELDS = ("wa_id", "user_id", "username", "profile_name", *DETAIL_FIELDS, "created_at", "updated_at")


def contact_problem(error: Exception) -> Problem:
    """An identifier naming no one is a 422 pointing at the `{contact}` of the path; an unknown one a 404."""
    if isinstance(error, services.ContactIdentifierInvalid):
        errors = [{"pointer": "/contact", "detail": str(error)}]
        return Problem(422, "Invalid contact", detail=str(error), type_suffix="invalid-contact", errors=errors)
    return Problem(404, "Not Found", detail=str(error))


def contact_found(identifier: str, *, create: bool = False) -> tuple[Contact, bool]:
    try:
        return services.contact_for_api_created(identifier, create=create)
    except (services.ContactIdentifierInvalid, services.ContactNotFound) as error:
        raise contact_problem(error) from error


def contact_filter(identifier: str) -> Q:
    """Filter rows of other apps by `?contact=` (wa_id, BSUID or phone number): a malformed one is
    a 422 at /contact; an unknown customer has no rows (an empty list, not a 404)."""
    try:
        return Q(contact=services.contact_for_api(identifier))
    except services.ContactIdentifierInvalid as exc:
        raise serializers.ValidationError({"contact": str(exc)}) from exc
    except services.ContactNotFound:
        return Q(pk__in=[])


def contact_answer(request, contact: Contact, **extra) -> dict:
    """The contact as GET shows it, windows limited to the key's accounts."""
    windows = ServiceWindow.objects.filter(contact=contact).select_related("phone_number__business_account")
    windows = visible(windows, request, account_field="phone_number__business_account").order_by("phone_number_id")
    answer = {
        **{name: getattr(contact, name) for name in CONTACT_FIELDS},
        "contact": contact.wa_id or contact.user_id,
        "known_as": sorted(contact.aliases.values_list("wa_id", flat=True)),
        "consent": consent_states(contact),
        "windows": list(windows),
    }
    return {**ContactSerializer(answer, context={"now": timezone.now()}).data, **extra}


def consent_states(contact: Contact) -> dict:
    states = {}
    for category, entry in services.consent_by_category(contact=contact).items():
        states[category] = {
            "granted": entry is not None and entry.action == ConsentAction.OPT_IN,
            **{name: getattr(entry, name, None) for name in ("action", "source", "reference", "proof", "recorded_at")},
        }
    return states


class ContactDetail(ApiView):
    read_scope, write_scope = "contacts:read", "contacts:write"

    @extend_schema(**docs.CONTACT_GET)
    def get(self, request, contact: str):
        found, _ = contact_found(contact)
        return Response(contact_answer(request, found))

    @extend_schema(**docs.CONTACT_PUT)
    def put(self, request, contact: str):
        body = ContactDetailsInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            put = contact_details_put(contact, body.details())
        except (services.ContactIdentifierInvalid, services.ContactNotFound) as error:
            raise contact_problem(error) from error
        answer = contact_answer(request, put.contact, result=put.result)  # ContactWriteResultSerializer's shape
        return Response(answer, status=201 if put.result == "created" else 200)


class ContactConsent(ApiView):
    read_scope, write_scope = "contacts:read", "contacts:write"

    @extend_schema(**docs.CONSENT_POST)
    def post(self, request, contact: str):
        body = ConsentInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        found, created = contact_found(contact, create=True)
        data = body.validated_data
        entry = services.consent_record(
            contact=found,
            category=data["category"],
            action=data["action"],
            source=ConsentSource.API,
            recorded_at=data.get("recorded_at") or timezone.now(),
            reference=data["source"],
            proof=data["proof"],
        )
        answer = {
            "contact": found.wa_id or found.user_id,
            "entry": entry,
            "consent": consent_states(found),
            "created": created,
        }
        return Response(ConsentResultSerializer(answer).data, status=201)


class ContactBatch(ApiView):
    read_scope, write_scope = "contacts:read", "contacts:write"

    @extend_schema(**docs.CONTACT_BATCH)
    def post(self, request):
        envelope = ContactBatchEnvelopeSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        results, items, positions = [], [], []
        for index, raw in enumerate(envelope.validated_data["contacts"]):
            identifier = raw.get("contact") if isinstance(raw, dict) else None
            results.append({"contact": identifier if isinstance(identifier, str) else None})
            body = ContactBatchItemSerializer(data=raw)
            if not body.is_valid():
                results[index].update(result="invalid", errors=pointer_errors(body.errors, f"/contacts/{index}"))
                continue
            items.append((body.validated_data["contact"], body.details()))
            positions.append(index)
        for index, put in zip(positions, contacts_details_put(items), strict=True):
            results[index]["result"] = put.result
            if put.contact is not None:
                results[index].update(wa_id=put.contact.wa_id, user_id=put.contact.user_id)
            if put.errors:
                errors = [{"pointer": f"/contacts/{index}/{name}", "detail": text} for name, text in put.errors]
                results[index]["errors"] = errors
        return Response(ContactBatchResultSerializer({"results": results}).data)


urlpatterns = [
    path("contacts/batch", ContactBatch.as_view(), name="api-contacts-batch"),
    path("contacts/<str:contact>", ContactDetail.as_view(), name="api-contact"),
    path("contacts/<str:contact>/consent", ContactConsent.as_view(), name="api-contact-consent"),
]
