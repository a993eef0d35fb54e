"""Purposes: an ordered chain of templates per account, resolved to the first usable one."""

import pytest

from templates_lib.models import Purpose, TemplateCategory, TemplateStatus
from templates_lib.selectors import purpose_chain, purposes_unserved
from templates_lib.services import purpose_chain_set, purpose_resolve
from tests.channels.factories import BusinessAccountFactory
from tests.templates_lib.factories import PurposeFactory, TemplateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    return BusinessAccountFactory()


def chain(account, *templates, key="order_update"):
    purpose = PurposeFactory(key=key)
    purpose_chain_set(purpose=purpose, business_account=account, templates=list(templates))
    return purpose


def resolve(account, key="order_update", **kwargs):
    return purpose_resolve(business_account=account, purpose_key=key, **kwargs)


def test_the_standard_purposes_are_seeded_with_their_categories():
    purposes = dict(Purpose.objects.values_list("key", "category"))
    assert purposes["order_update"] == TemplateCategory.UTILITY
    assert purposes["order_receipt"] == TemplateCategory.UTILITY
    assert purposes["payment_reminder"] == TemplateCategory.UTILITY
    assert purposes["opt_in_confirmation"] == TemplateCategory.UTILITY
    assert purposes["cart_recovery"] == TemplateCategory.MARKETING
    assert purposes["verification_code"] == TemplateCategory.AUTHENTICATION


def test_the_first_approved_template_of_the_chain_is_used(account):
    first, second = TemplateFactory(business_account=account), TemplateFactory(business_account=account)
    chain(account, first, second)
    assert resolve(account) == first


@pytest.mark.parametrize(
    "status",
    [
        TemplateStatus.PAUSED,
        TemplateStatus.REJECTED,
        TemplateStatus.DISABLED,
        TemplateStatus.SUBMITTED,
        TemplateStatus.DRAFT,
        TemplateStatus.ARCHIVED,
    ],
)
def test_an_unusable_template_is_skipped_and_the_chain_falls_back(account, status):
    unusable = TemplateFactory(business_account=account, status=status)
    fallback = TemplateFactory(business_account=account)
    chain(account, unusable, fallback)
    assert resolve(account) == fallback


def test_no_usable_template_resolves_to_none(account):
    chain(
        account,
        TemplateFactory(business_account=account, status=TemplateStatus.PAUSED),
        TemplateFactory(business_account=account, status=TemplateStatus.REJECTED),
    )
    assert resolve(account) is None
    assert resolve(account, key="no_such_purpose") is None
    assert purposes_unserved(business_account=account) == ["order_update"]


def test_the_requested_language_wins_then_the_same_base_language_then_chain_order(account):
    english = TemplateFactory(business_account=account, language="en_US")
    arabic = TemplateFactory(business_account=account, language="ar")
    british = TemplateFactory(business_account=account, language="en_GB")
    chain(account, english, arabic, british)

    assert resolve(account, language="ar") == arabic
    assert resolve(account, language="en_GB") == british
    assert resolve(account, language="en") == english
    assert resolve(account, language="fr") == english
    assert resolve(account, language="en-GB") == british


def test_a_paused_template_in_the_wanted_language_falls_back_to_another_language(account):
    english = TemplateFactory(business_account=account, language="en_US")
    arabic = TemplateFactory(business_account=account, language="ar", status=TemplateStatus.PAUSED)
    chain(account, arabic, english)
    assert resolve(account, language="ar") == english


def test_a_template_meta_recategorised_is_skipped_for_a_purpose_of_another_category(account):
    recategorised = TemplateFactory(business_account=account, category=TemplateCategory.MARKETING)
    utility = TemplateFactory(business_account=account)
    chain(account, recategorised, utility)
    assert resolve(account) == utility


def test_templates_meta_just_refused_can_be_excluded_by_name(account):
    first, second = TemplateFactory(business_account=account), TemplateFactory(business_account=account)
    chain(account, first, second)
    assert resolve(account, exclude_names=(first.name,)) == second


def test_chains_belong_to_one_business_account(account):
    other = BusinessAccountFactory()
    ours, theirs = TemplateFactory(business_account=account), TemplateFactory(business_account=other)
    purpose = chain(account, ours)
    purpose_chain_set(purpose=purpose, business_account=other, templates=[theirs])

    assert resolve(account) == ours and resolve(other) == theirs
    assert purpose_chain(business_account=account, purpose_key="order_update") == [ours]
    with pytest.raises(ValueError, match="belong to the business account"):
        purpose_chain_set(purpose=purpose, business_account=account, templates=[theirs])


def test_setting_a_chain_again_replaces_its_order(account):
    first, second = TemplateFactory(business_account=account), TemplateFactory(business_account=account)
    purpose = chain(account, first, second)
    purpose_chain_set(purpose=purpose, business_account=account, templates=[second, first])
    assert purpose_chain(business_account=account, purpose_key="order_update") == [second, first]
    assert resolve(account) == second
    assert list(first.purposes.values_list("key", flat=True)) == ["order_update"]
