"""Named behaviours of parsing account-level fields, echoes, calls and the envelope."""

import copy
import json
from datetime import UTC, datetime

import pytest

from tests.support.payloads import envelope, only, webhook
from waco.cloud_api import messages as m
from waco.cloud_api.events import (
    AccountAlertEvent,
    AccountReviewEvent,
    BusinessCapabilityEvent,
    PhoneNumberNameEvent,
    PhoneNumberQualityEvent,
    TemplateCategoryEvent,
    TemplateQualityEvent,
    TemplateStatusEvent,
    UnsupportedEvent,
)
from waco.cloud_api.webhooks import (
    WebhookEnvelopeError,
    decode_envelope,
    parse_delivery,
    parse_delivery_bytes,
    parse_envelope_or_raise,
)

# --- account-level fields ------------------------------------------------------------


def test_rejected_template_yields_reason_and_detail():
    events = parse_delivery(webhook("pywa__template_status_update__rejected.json"))
    event = only(events, TemplateStatusEvent)
    assert (event.event, event.reason, event.category) == ("REJECTED", "INVALID_FORMAT", "MARKETING")
    assert event.rejection_detail.startswith("Your template has parameters")
    assert event.dedupe_key == "template_status:1689556908129835:REJECTED:1751247548"
    assert event.phone_number_id is None


def test_disabled_template_yields_disable_date():
    event = parse_delivery(webhook("wa-cloud-api-types__template_disabled.json"))[0]
    assert event.disable_date == datetime.fromtimestamp(1739400000, tz=UTC)


def test_template_quality_published_under_the_status_field_is_read_as_quality():
    events = parse_delivery(webhook("wa-cloud-api-types__template_quality_update.json"))
    event = only(events, TemplateQualityEvent)
    assert (event.previous_quality_score, event.new_quality_score) == ("GREEN", "YELLOW")


def test_template_category_impending_and_completed_are_told_apart():
    impending = parse_delivery(webhook("wa-cloud-api-types__template_category_impending.json"))[0]
    completed = parse_delivery(webhook("wa-cloud-api-types__template_category_completed.json"))[0]
    assert isinstance(impending, TemplateCategoryEvent) and impending.impending
    assert not completed.impending and completed.previous_category == "UTILITY"


def test_template_event_without_entry_time_is_keyed_on_its_content():
    body = webhook("pywa__template_status_update__approved.json")
    del body["entry"][0]["time"]
    key = parse_delivery(body)[0].dedupe_key
    assert key.startswith("template_status:1689556908129832:APPROVED:h")
    assert key == parse_delivery(copy.deepcopy(body))[0].dedupe_key


def test_user_marketing_stop_yields_a_preference_event():
    body = webhook("pywa__user_marketing_preferences__resume.json")
    body["entry"][0]["changes"][0]["value"]["user_preferences"][0]["value"] = "stop"
    event = parse_delivery(body)[0]
    assert (event.kind, event.category, event.value) == ("user_preferences", "marketing_messages", "stop")
    assert event.phone_number_id == "106540352242922"
    assert event.dedupe_key == ("user_preferences:106540352242922:16505551234:marketing_messages:stop:1731705721")


def test_phone_number_quality_update_yields_event_and_limits():
    value = {
        "display_phone_number": "15550783881",
        "event": "FLAGGED",
        "current_limit": "TIER_10K",
        "max_daily_conversations_per_business": "TIER_10K",
    }
    event = only(parse_delivery(envelope("phone_number_quality_update", value)), PhoneNumberQualityEvent)
    assert (event.event, event.current_limit, event.old_limit) == ("FLAGGED", "TIER_10K", None)
    assert event.phone_number_id is None and event.display_phone_number == "15550783881"
    assert event.dedupe_key == "phone_number_quality:15550783881:FLAGGED:1751247548"


def test_phone_number_name_update_yields_decision():
    value = {
        "display_phone_number": "15550783881",
        "decision": "REJECTED",
        "requested_verified_name": "Lucky Shrub",
        "rejection_reason": "NAME_FORMAT_UNACCEPTABLE",
    }
    event = only(parse_delivery(envelope("phone_number_name_update", value)), PhoneNumberNameEvent)
    assert (event.decision, event.rejection_reason) == ("REJECTED", "NAME_FORMAT_UNACCEPTABLE")


def test_account_review_alert_and_capability_updates_yield_their_events():
    review = parse_delivery(envelope("account_review_update", {"decision": "APPROVED"}))
    assert only(review, AccountReviewEvent).decision == "APPROVED"
    alert_value = {
        "entity_type": "BUSINESS",
        "entity_id": "506914307656634",
        "alert_info": {
            "alert_severity": "WARNING",
            "alert_status": "ACTIVE",
            "alert_type": "INCREASED_CAPABILITIES_ELIGIBILITY_NEED_MORE_INFO",
            "alert_description": "Additional verification is required",
        },
    }
    alert = only(parse_delivery(envelope("account_alerts", alert_value)), AccountAlertEvent)
    assert (alert.alert_severity, alert.entity_id) == ("WARNING", "506914307656634")
    capability_value = {"max_daily_conversations_per_business": 2000, "max_phone_numbers_per_waba": 25}
    capability = only(parse_delivery(envelope("business_capability_update", capability_value)), BusinessCapabilityEvent)
    assert capability.max_daily_conversations_per_business == 2000
    assert capability.max_phone_numbers_per_waba == 25


def test_message_echo_of_an_edit_yields_the_new_text():
    event = parse_delivery(webhook("pywa__outgoing_message__edit.json"))[0]
    assert event.kind == "message_echo"
    assert event.content.content == m.TextContent(body="Text was edited")


def test_calls_field_yields_call_events_and_its_errors():
    events = parse_delivery(webhook("pywa__call_terminate__call_terminate.json"))
    assert [event.kind for event in events] == ["call", "message_error"]
    assert (events[0].event, events[0].status, events[0].duration) == ("terminate", "COMPLETED", 120)


# --- envelope -------------------------------------------------------------------------


def test_several_entries_and_changes_in_one_delivery_all_yield_events_in_order():
    parts = [
        webhook("pywa__message__text.json"),
        webhook("pywa__message_status__read.json"),
        webhook("pywa__template_status_update__approved.json"),
    ]
    entry = copy.deepcopy(parts[0]["entry"][0])
    entry["changes"].append(parts[1]["entry"][0]["changes"][0])
    body = {"object": "whatsapp_business_account", "entry": [entry, parts[2]["entry"][0]]}
    events = parse_delivery(body)
    assert [event.kind for event in events] == ["message", "status", "template_status"]
    assert events[2].waba_id == "102290129340398"


def test_unknown_field_is_unsupported_event_keeping_the_raw_change():
    value = {"some": "thing"}
    event = only(parse_delivery(envelope("security", value)), UnsupportedEvent)
    assert event.raw == {"field": "security", "value": value}
    assert event.change_field == "security"
    assert "not documented" in event.reason
    again = only(parse_delivery(envelope("security", value)), UnsupportedEvent)
    assert event.dedupe_key == again.dedupe_key


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'{"object": "page", "entry": []}', b"", "\ud800"],
    ids=["not-json", "list", "wrong-object", "empty", "lone-surrogate"],
)
def test_view_entry_point_rejects_bodies_that_are_not_a_waba_envelope(body):
    with pytest.raises(WebhookEnvelopeError):
        parse_envelope_or_raise(body)
    events = parse_delivery_bytes(body)
    assert [event.kind for event in events] == ["unsupported"]


def test_view_entry_point_accepts_raw_bytes_and_returns_the_decoded_envelope():
    raw = json.dumps(webhook("pywa__message__text.json")).encode()
    assert decode_envelope(raw)["object"] == "whatsapp_business_account"
    assert [event.kind for event in parse_envelope_or_raise(raw)] == ["message"]


def test_empty_entry_list_yields_no_events():
    assert parse_delivery({"object": "whatsapp_business_account", "entry": []}) == []
