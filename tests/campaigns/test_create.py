"""campaign_create: a draft with its first history row, or a ValidationError naming what is wrong."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns.models import Audience, CampaignCause, CampaignStatus
from campaigns.services import campaign_create
from templates_lib.models import TemplateCategory, TemplateStatus
from tests.campaigns.factories import PARAMS
from tests.channels.factories import PhoneNumberFactory
from tests.templates_lib.factories import TemplateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def number():
    return PhoneNumberFactory()


def marketing_template(number, **kwargs):
    return TemplateFactory(business_account=number.business_account, category=TemplateCategory.MARKETING, **kwargs)


def create(number, template, **kwargs):
    values = {
        "business_account": number.business_account,
        "phone_number": number,
        "name": "Winter sale",
        "template": template,
        "params": dict(PARAMS),
    } | kwargs
    return campaign_create(**values)


def refusal(number, template, **kwargs) -> dict:
    with pytest.raises(ValidationError) as caught:
        create(number, template, **kwargs)
    return caught.value.message_dict


def test_a_campaign_is_created_as_a_draft_with_its_first_history_row(number, django_user_model):
    staff = django_user_model.objects.create_user("ops")
    campaign = create(number, marketing_template(number), segment={"tags_any": ["vip"]}, created_by=staff)
    assert campaign.status == CampaignStatus.DRAFT
    (change,) = campaign.changes.all()
    assert (change.from_state, change.to_state, change.cause, change.actor) == ("", "draft", CampaignCause.STAFF, staff)


def test_a_number_of_another_account_is_refused(number):
    other = PhoneNumberFactory()
    errors = refusal(number, marketing_template(number), phone_number=other)
    assert "another business account" in errors["phone_number"][0]


def test_a_template_of_another_account_is_refused(number):
    errors = refusal(number, marketing_template(PhoneNumberFactory()))
    assert "another business account" in errors["template"][0]


@pytest.mark.parametrize("status", [TemplateStatus.DRAFT, TemplateStatus.PAUSED, TemplateStatus.REJECTED])
def test_a_template_that_is_not_approved_is_refused(number, status):
    errors = refusal(number, marketing_template(number, status=status))
    assert "approved" in errors["template"][0]


def test_a_utility_template_is_refused_unless_the_campaign_is_transactional(number):
    template = TemplateFactory(business_account=number.business_account, category=TemplateCategory.UTILITY)
    assert "transactional" in refusal(number, template)["template"][0]
    assert create(number, template, transactional=True).transactional


def test_an_authentication_template_is_refused(number):
    template = TemplateFactory(business_account=number.business_account, category=TemplateCategory.AUTHENTICATION)
    assert "Authentication" in refusal(number, template, transactional=True)["template"][0]


def test_params_must_cover_every_parameter_of_the_template(number):
    errors = refusal(number, marketing_template(number), params={"customer": PARAMS["customer"]})
    assert errors["params"] == ["No source for the template's parameters: order_id."]


def test_params_naming_a_parameter_the_template_lacks_are_refused(number):
    params = dict(PARAMS) | {"discount": {"source": "constant", "value": "10%"}}
    assert "discount" in refusal(number, marketing_template(number), params=params)["params"][0]


@pytest.mark.parametrize(
    "source",
    [
        {"source": "somewhere"},
        {"source": "attribute"},
        {"source": "field", "key": "password"},
        {"source": "constant", "value": ""},
        {"source": "csv", "column": "code"},  # a segment has no CSV columns
    ],
)
def test_a_malformed_param_source_is_refused(number, source):
    errors = refusal(number, marketing_template(number), params=dict(PARAMS) | {"order_id": source})
    assert errors["params"][0].startswith("order_id: ")


def test_a_csv_source_is_accepted_for_a_csv_audience(number):
    params = dict(PARAMS) | {"order_id": {"source": "csv", "column": "code"}}
    assert create(number, marketing_template(number), params=params, audience=Audience.CSV).audience == "csv"


@pytest.mark.parametrize(
    "segment",
    [
        {"bought_twice": True},  # not a filter campaigns apply
        {"tags_all": "vip"},
        {"ordered_within_days": 0},
        {"countries": ["XX"]},
        {"attributes": {}},
    ],
)
def test_a_malformed_or_unknown_segment_filter_is_refused(number, segment):
    assert refusal(number, marketing_template(number), segment=segment)["segment"]


def test_an_end_before_the_start_is_refused(number):
    start = timezone.now()
    errors = refusal(number, marketing_template(number), starts_at=start, ends_at=start - timedelta(hours=1))
    assert errors["ends_at"]
