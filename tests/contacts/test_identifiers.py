"""How the storefront names a contact: wa_id, BSUID, or a phone number in any format."""

import pytest

from tests.contacts.factories import ContactFactory
from waco.contacts import services
from waco.contacts.identifiers import ContactIdentifier, identifier_parse
from waco.contacts.models import Contact, ContactAlias


@pytest.mark.parametrize(
    ("written", "region", "wa_id"),
    [
        ("971501230077", None, "971501230077"),  # a wa_id is taken as it is
        ("5215512345678", None, "5215512345678"),  # Meta's Mexican form, not a "possible" number for libphonenumber
        ("551187654321", None, "551187654321"),  # an old Brazilian account without the ninth digit
        ("+971 50 123 0077", None, "971501230077"),
        ("+55 (11) 98765-4321", None, "5511987654321"),
        ("(415) 555-2671", "US", "14155552671"),
        ("050 123 0077", "AE", "971501230077"),
        ("٠٥٠١٢٣٠٠٧٧", "AE", "971501230077"),  # Arabic-Indic digits, as a Gulf storefront may store them
        (" +44 7911 123456 ", "AE", "447911123456"),  # a country code wins over the default region
    ],
)
def test_wa_ids_and_written_numbers_become_wa_ids(written, region, wa_id):
    assert identifier_parse(written, region=region) == ContactIdentifier(wa_id=wa_id)


def test_a_bsuid_is_a_user_id():
    assert identifier_parse("US.13491208655302741918", region=None) == ContactIdentifier(
        user_id="US.13491208655302741918"
    )


@pytest.mark.parametrize(
    ("written", "region", "says"),
    [
        ("", "AE", "empty"),
        ("US.ENT.11815799212886844830", None, "parent business-scoped id"),
        ("hello", "AE", "neither a wa_id"),
        ("050 123 0077", None, "no default region (WACO_DEFAULT_PHONE_REGION)"),
        ("+1 415", None, "too short"),
        ("99912345678", None, "is not a wa_id"),
        ("0501230077", "AE", "is not a wa_id"),  # digits with a trunk 0 are no wa_id; written with a space they are
        ("4155552671", "US", "if it is a national number of US, send it with its country code (+1 415-555-2671)"),
        ("+1 555 555 5555", None, "not a valid number of US"),
    ],
)
def test_what_cannot_be_a_contact_is_refused_saying_why(written, region, says):
    with pytest.raises(services.ContactIdentifierInvalid, match=None) as refused:
        identifier_parse(written, region=region)
    assert says in str(refused.value)
    assert isinstance(refused.value, ValueError)


@pytest.mark.django_db
def test_contact_for_api_finds_by_wa_id_bsuid_written_number_and_alias(settings):
    settings.WACO_DEFAULT_PHONE_REGION = "AE"
    contact = ContactFactory(wa_id="971501230077", user_id="US.77")
    mexican = ContactFactory(wa_id="5215512345678")
    ContactAlias.objects.create(wa_id="525512345678", contact=mexican)

    assert services.contact_for_api("971501230077") == contact
    assert services.contact_for_api("US.77") == contact
    assert services.contact_for_api("050 123 0077") == contact
    assert services.contact_for_api("+52 55 1234 5678") == mexican  # as the storefront knows the number


@pytest.mark.django_db
def test_a_contact_own_wa_id_wins_over_an_alias():
    owner = ContactFactory(wa_id="551187654321")
    ContactAlias.objects.create(wa_id="551187654321", contact=ContactFactory())

    assert services.contact_for_api("551187654321") == owner


@pytest.mark.django_db
def test_an_unknown_number_is_not_found_unless_created():
    with pytest.raises(services.ContactNotFound, match="971501230078"):
        services.contact_for_api("+971 50 123 0078")
    assert not Contact.objects.exists()

    created, was_created = services.contact_for_api_created("+971 50 123 0078", create=True)
    again, created_again = services.contact_for_api_created("971501230078", create=True)

    assert (created.wa_id, was_created) == ("971501230078", True)
    assert (again, created_again) == (created, False)


@pytest.mark.django_db
def test_an_unknown_bsuid_is_never_created():
    with pytest.raises(services.ContactNotFound, match="US.404"):
        services.contact_for_api("US.404", create=True)
    assert not Contact.objects.exists()
