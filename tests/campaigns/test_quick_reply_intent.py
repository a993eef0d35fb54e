"""A campaign template's quick-reply buttons carry the campaign and what the tap asks for: chosen as an
intent when the campaign is made, sent as the button's payload, read back by the dialogue."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from campaigns.expansion import campaign_expand
from campaigns.models import CampaignStatus, RecipientStatus
from campaigns.services import campaign_create
from conversations.intents import Request, campaign_of_payload, reply_request
from conversations.models import Thread
from conversations.services import thread_message_record_inbound
from templates_lib.models import TemplateCategory
from templates_lib.rendering import render
from tests.campaigns.factories import PARAMS, CampaignFactory, opted_in_contact, sent_recipient
from tests.channels.factories import PhoneNumberFactory
from tests.templates_lib.factories import BODY, PARAMETERS, TemplateFactory

pytestmark = pytest.mark.django_db

BUTTONS = {
    "type": "BUTTONS",
    "buttons": [{"type": "QUICK_REPLY", "text": "Shop the sale"}, {"type": "QUICK_REPLY", "text": "No more offers"}],
}
BUTTON_PARAMETERS = [
    {"component": "button", "index": 0, "sub_type": "quick_reply", "name": "shop", "type": "payload"},
    {"component": "button", "index": 1, "sub_type": "quick_reply", "name": "unsubscribe", "type": "payload"},
]
INTENTS = {"shop": {"source": "intent", "value": "menu"}, "unsubscribe": {"source": "intent", "value": "stop"}}


@pytest.fixture
def number():
    return PhoneNumberFactory()


@pytest.fixture
def template(number):
    return TemplateFactory(
        business_account=number.business_account,
        category=TemplateCategory.MARKETING,
        components=[*BODY, BUTTONS],
        parameters=PARAMETERS + BUTTON_PARAMETERS,
    )


def create(number, template, params):
    return campaign_create(
        business_account=number.business_account, phone_number=number, name="Sale", template=template, params=params
    )


def test_each_recipient_s_buttons_carry_the_campaign_and_the_intent_to_meta(number, template):
    contact = opted_in_contact(name="Amal")
    campaign = create(number, template, dict(PARAMS) | INTENTS)
    campaign_expand(campaign=campaign)
    params = campaign.recipients.get(contact=contact).params
    assert (params["shop"], params["unsubscribe"]) == (f"cmp:{campaign.pk}:menu", f"cmp:{campaign.pk}:stop")

    version = template.current_version
    sent = render(
        name=template.name,
        language=template.language,
        components=version.components,
        parameters=version.parameters,
        params=params,
    )
    buttons = [c for c in sent["components"] if c["type"] == "button"]
    assert buttons == [
        {
            "type": "button",
            "sub_type": "quick_reply",
            "index": "0",
            "parameters": [{"type": "payload", "payload": f"cmp:{campaign.pk}:menu"}],
        },
        {
            "type": "button",
            "sub_type": "quick_reply",
            "index": "1",
            "parameters": [{"type": "payload", "payload": f"cmp:{campaign.pk}:stop"}],
        },
    ]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        (INTENTS | {"shop": {"source": "intent", "value": "free money"}}, "shop: an intent is one of Waco's replies"),
        (INTENTS | {"shop": {"source": "constant", "value": "menu"}}, "shop: a quick-reply button takes an intent"),
        (
            INTENTS | {"customer": {"source": "intent", "value": "menu"}},
            "customer: a quick-reply button takes an intent",
        ),
        (INTENTS | {"shop": {"source": "intent", "value": "cmp:9:menu"}}, "shop: an intent is one of Waco's replies"),
    ],
)
def test_a_button_takes_a_known_intent_and_only_a_button_does(number, template, params, error):
    with pytest.raises(ValidationError) as refused:
        create(number, template, dict(PARAMS) | params)
    assert any(error in message for message in refused.value.messages), refused.value.messages


def test_the_dialogue_reads_the_tap_as_its_intent_and_knows_the_campaign():
    assert reply_request("cmp:12:menu") == Request("menu", campaign=12)
    assert reply_request("cmp:12:stop") == Request("stop", campaign=12)
    assert reply_request("cmp:12:prod:7") == Request("product", arg=7, campaign=12)
    assert reply_request("cmp:12:cmp:13:menu").name == "unknown"  # never nested
    assert reply_request("menu") == Request("menu")  # Waco's own buttons are unchanged
    assert (campaign_of_payload("cmp:12:menu"), campaign_of_payload("menu")) == (12, None)


def test_a_tap_on_an_older_campaign_s_button_is_its_reply_not_the_latest_campaign_s():
    older = CampaignFactory(status=CampaignStatus.RUNNING)
    later = CampaignFactory(status=CampaignStatus.RUNNING, phone_number=older.phone_number)
    sent = RecipientStatus.SENT
    first = sent_recipient(older, status=sent, sent_at=timezone.now() - timedelta(days=2))
    second = sent_recipient(later, contact=first.contact, status=sent, sent_at=timezone.now() - timedelta(hours=1))
    thread = Thread.objects.create(contact=first.contact, phone_number=older.phone_number)
    tapped = {"type": "button", "button": {"payload": f"cmp:{older.pk}:menu", "text": "Shop the sale"}}
    with transaction.atomic():
        thread_message_record_inbound(
            thread=thread,
            wamid="wamid.tap.1",
            type="button",
            text="Shop the sale",
            payload=tapped,
            sent_at=timezone.now(),
        )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (RecipientStatus.REPLIED, RecipientStatus.SENT)
