"""/api/v1/contacts: details, consent, windows and batches, as a storefront or CRM uses them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.channels.factories import BusinessAccountFactory, PhoneNumberFactory
from tests.contacts.factories import ContactFactory
from waco.api.models import ApiAudit
from waco.contacts import services
from waco.contacts.details import ContactDetails, contact_details_put
from waco.contacts.models import ConsentEntry, Contact, ContactAlias

pytestmark = pytest.mark.django_db

AMAL = "971501230077"
DETAILS = {
    "name": "Amal Al Mansoori",
    "language": "ar",
    "time_zone": "Asia/Dubai",
    "tags": ["vip", "abayas"],
    "attributes": {"loyalty_tier": "gold", "lifetime_orders": 7, "newsletter": True, "note": None},
}


def test_put_creates_a_contact_for_a_new_number_then_says_unchanged_then_updated(api_client):
    created = api_client.put("/api/v1/contacts/+971 50 123 0077", DETAILS)
    again = api_client.put(f"/api/v1/contacts/{AMAL}", DETAILS)
    changed = api_client.put(f"/api/v1/contacts/{AMAL}", {**DETAILS, "tags": ["vip"]})

    assert (created.status_code, created.json()["result"]) == (201, "created")
    assert (again.status_code, again.json()["result"]) == (200, "unchanged")
    assert (changed.status_code, changed.json()["result"]) == (200, "updated")
    contact = Contact.objects.get()
    assert (contact.wa_id, contact.name, contact.language, contact.time_zone) == (AMAL, *list(DETAILS.values())[:3])
    assert (contact.tags, contact.attributes) == (["vip"], DETAILS["attributes"])
    assert changed.json()["contact"] == AMAL and changed.json()["attributes"] == DETAILS["attributes"]


def test_put_replaces_every_detail_and_never_touches_what_whatsapp_says(api_client):
    ContactFactory(wa_id=AMAL, profile_name="Amal", name="Old", tags=["old"], attributes={"x": 1})

    answer = api_client.put(f"/api/v1/contacts/{AMAL}", {"name": "Amal M.", "language": "pt-br"})

    contact = Contact.objects.get()
    assert answer.json()["result"] == "updated"
    assert (contact.profile_name, contact.name, contact.language) == ("Amal", "Amal M.", "pt_BR")
    assert (contact.tags, contact.attributes, contact.time_zone) == ([], {}, "")


def test_true_for_1_is_a_change():
    ContactFactory(wa_id=AMAL, attributes={"newsletter": 1})

    assert contact_details_put(AMAL, ContactDetails(attributes={"newsletter": True})).result == "updated"


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"time_zone": "Dubai"}, "/time_zone"),
        ({"time_zone": "../../etc/passwd"}, "/time_zone"),
        ({"language": "arabic"}, "/language"),
        ({"tags": ["x" * 65]}, "/tags/0"),
        ({"tags": [f"t{n}" for n in range(51)]}, "/tags"),
        ({"attributes": {"sizes": ["M", "L"]}}, "/attributes"),
        ({"attributes": {"bad key": 1}}, "/attributes"),
        ({"attributes": ["not", "an", "object"]}, "/attributes"),
        ({"attributes": {"note": "a\x00b"}}, "/attributes"),
    ],
)
def test_a_bad_detail_is_a_422_pointing_at_it_and_creates_nothing(api_client, body, pointer):
    answer = api_client.put(f"/api/v1/contacts/{AMAL}", body)

    assert answer.status_code == 422
    assert answer["Content-Type"] == "application/problem+json"
    assert [error["pointer"] for error in answer.json()["errors"]] == [pointer]
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("identifier", "says"),
    [
        ("hello", "neither a wa_id"),
        ("050 123 0077", "WACO_DEFAULT_PHONE_REGION"),
        ("4155552671", "is not a wa_id"),
        ("US.ENT.11815799212886844830", "parent business-scoped id"),
    ],
)
@pytest.mark.parametrize("method", ["get", "put"])
def test_an_identifier_that_names_no_one_is_a_clear_422_with_a_pointer(api_client, identifier, says, method):
    answer = getattr(api_client, method)(f"/api/v1/contacts/{identifier}", {} if method == "put" else None)

    assert answer.status_code == 422
    problem = answer.json()
    assert problem["type"] == "urn:waco:problem:invalid-contact"
    assert says in problem["detail"]
    assert problem["errors"] == [{"pointer": "/contact", "detail": problem["detail"]}]
    assert not Contact.objects.exists()


def test_a_number_without_country_code_is_read_in_the_default_region(api_client, settings):
    settings.WACO_DEFAULT_PHONE_REGION = "AE"

    assert api_client.put("/api/v1/contacts/050 123 0077", {}).json()["wa_id"] == AMAL


def test_unknown_contacts_are_404_and_a_bsuid_is_never_created(api_client):
    assert api_client.get(f"/api/v1/contacts/{AMAL}").status_code == 404
    assert api_client.put("/api/v1/contacts/US.13491208655302741918", DETAILS).status_code == 404
    assert not Contact.objects.exists()


def test_get_shows_consent_and_only_the_windows_of_numbers_the_key_may_see(api_client_factory):
    mine, theirs = BusinessAccountFactory(), BusinessAccountFactory()
    my_number, their_number = PhoneNumberFactory(business_account=mine), PhoneNumberFactory(business_account=theirs)
    contact = ContactFactory(wa_id=AMAL, user_id="AE.77", profile_name="Amal")
    now = timezone.now()
    services.window_touch(contact=contact, phone_number=my_number, inbound_at=now - timedelta(hours=2))
    services.window_touch(contact=contact, phone_number=their_number, inbound_at=now)
    services.consent_record(
        contact=contact, category="utility", action="opt_in", source="checkout", recorded_at=now, reference="W1"
    )
    client = api_client_factory(scopes=["contacts:read"], accounts=[mine])

    answer = client.get("/api/v1/contacts/AE.77").json()

    assert answer["contact"] == AMAL and answer["user_id"] == "AE.77"
    assert answer["consent"]["utility"]["granted"] is True
    assert answer["consent"]["utility"]["source"] == "checkout"
    assert answer["consent"]["marketing"] == {
        "granted": False,
        "action": None,
        "source": None,
        "reference": None,
        "proof": None,
        "recorded_at": None,
    }
    [window] = answer["windows"]
    assert (window["phone_number"], window["account"], window["open"]) == (my_number.graph_id, mine.waba_id, True)
    assert window["open_until"].startswith((now + timedelta(hours=22)).strftime("%Y-%m-%dT%H"))


def test_a_closed_window_shows_as_closed_with_its_end(api_client):
    contact = ContactFactory(wa_id=AMAL)
    services.window_touch(
        contact=contact, phone_number=PhoneNumberFactory(), inbound_at=timezone.now() - timedelta(days=2)
    )

    [window] = api_client.get(f"/api/v1/contacts/{AMAL}").json()["windows"]

    assert window["open"] is False and window["open_until"] is not None


def test_a_number_meta_knows_otherwise_finds_its_contact_and_is_listed(api_client):
    contact = ContactFactory(wa_id="551187654321")
    ContactAlias.objects.create(wa_id="5511987654321", contact=contact)

    answer = api_client.get("/api/v1/contacts/+55 11 98765-4321").json()

    assert (answer["contact"], answer["known_as"]) == ("551187654321", ["5511987654321"])


# ---- scopes


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", f"/api/v1/contacts/{AMAL}", None),
        ("put", f"/api/v1/contacts/{AMAL}", DETAILS),
        ("post", f"/api/v1/contacts/{AMAL}/consent", {"category": "marketing", "action": "opt_in", "source": "form"}),
        ("post", "/api/v1/contacts/batch", {"contacts": [{"contact": AMAL, **DETAILS}]}),
    ],
)
def test_each_operation_needs_its_scope(api_client_factory, client, method, path, body):
    ContactFactory(wa_id=AMAL)
    needed = "contacts:read" if method == "get" else "contacts:write"
    other = "contacts:write" if method == "get" else "contacts:read"

    without_key = getattr(client, method)(path, body, content_type="application/json")
    refused = getattr(api_client_factory(scopes=[other, "catalog:write"]), method)(path, body)
    allowed = getattr(api_client_factory(scopes=[needed]), method)(path, body)

    assert without_key.status_code == 401 and without_key["WWW-Authenticate"].startswith("Bearer")
    assert refused.status_code == 403 and needed in refused.json()["detail"]
    assert allowed.status_code in (200, 201)
    assert ConsentEntry.objects.count() == (1 if path.endswith("consent") else 0)


def test_a_key_limited_to_one_account_still_finds_and_writes_every_contact(api_client_factory):
    ContactFactory(wa_id=AMAL)
    client = api_client_factory(scopes=["contacts:read", "contacts:write"], accounts=[BusinessAccountFactory()])

    assert client.get(f"/api/v1/contacts/{AMAL}").status_code == 200
    assert client.put(f"/api/v1/contacts/{AMAL}", DETAILS).json()["result"] == "updated"
    assert ApiAudit.objects.filter(method="PUT", status=200).exists()


def test_put_answers_the_contact_as_get_shows_it_with_the_result(api_client):
    contact = ContactFactory(wa_id=AMAL)
    services.window_touch(contact=contact, phone_number=PhoneNumberFactory(), inbound_at=timezone.now())

    put = api_client.put(f"/api/v1/contacts/{AMAL}", DETAILS).json()
    shown = api_client.get(f"/api/v1/contacts/{AMAL}").json()

    assert put.pop("result") == "updated"
    assert put == shown and len(put["windows"]) == 1
