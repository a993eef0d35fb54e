"""Named behaviours of parsing the messages field: message contents and statuses."""

from datetime import UTC, datetime
from decimal import Decimal

from tests.support.payloads import change_message, only, webhook
from waco.cloud_api import messages as m
from waco.cloud_api.errors import ErrorClass
from waco.cloud_api.events import (
    MessageErrorEvent,
    MessageEvent,
    StatusEvent,
    UnsupportedEvent,
    UserPreferenceEvent,
)
from waco.cloud_api.webhooks import parse_delivery

# --- messages ---------------------------------------------------------------------------


def test_order_message_yields_items_with_quantities_and_prices():
    event = only(parse_delivery(webhook("pywa__message__order.json")), MessageEvent)
    assert isinstance(event.content, m.OrderContent)
    assert event.content.catalog_id == "354160437058781"
    items = event.content.product_items
    assert [(i.product_retailer_id, i.quantity, i.item_price, i.currency) for i in items] == [
        ("HAMBURGER", 3, Decimal("30"), "ILS"),
        ("FRENCH_FRIES", 2, Decimal("35"), "ILS"),
        ("SODA", 2, Decimal("10"), "ILS"),
    ]


def test_order_item_price_keeps_decimal_places_without_float_noise():
    body = webhook("pywa__message__order.json")
    items = body["entry"][0]["changes"][0]["value"]["messages"][0]["order"]["product_items"]
    items[0]["item_price"], items[1]["item_price"] = 12.1, "9.90"
    event = parse_delivery(body)[0]
    assert [item.item_price for item in event.content.product_items][:2] == [
        Decimal("12.1"),
        Decimal("9.90"),
    ]


def test_text_message_yields_body_sender_and_aware_utc_timestamp():
    event = only(parse_delivery(webhook("pywa__message__text.json")), MessageEvent)
    assert event.content == m.TextContent(body="Body Text")
    assert event.dedupe_key == "message:wamid.xyzxyz"
    assert event.phone_number_id == "1122334455667"
    assert event.display_phone_number == "972123456789"
    assert event.sender.wa_id == "972987654321"
    assert event.sender.name == "Test Name"
    assert event.timestamp == datetime(2023, 10, 11, 16, 53, 43, tzinfo=UTC)


def test_username_only_message_is_keyed_on_user_id_without_wa_id():
    name = "whatsapp-api-js__bsuid_incoming_message_with_username_has_parent_bsuid.json"
    event = only(parse_delivery(webhook(name)), MessageEvent)
    assert event.sender.wa_id is None
    assert event.sender.user_id == "US.13491208655302741918"
    assert event.sender.parent_user_id == "US.ENT.506847293015824"
    assert event.sender.username == "@testusername"


def test_contact_of_another_user_does_not_lend_its_ids():
    events = parse_delivery(webhook("pywa__user_marketing_preferences__resume.json"))
    event = only(events, UserPreferenceEvent)
    assert event.user.wa_id == "16505551234"
    assert event.user.user_id is None
    assert event.user.name is None


def test_button_reply_yields_reply_id_and_title():
    event = only(parse_delivery(webhook("wa-cloud-api-types__button_reply.json")), MessageEvent)
    assert event.content == m.ButtonReplyContent(reply_id="confirm_order", title="Yes, I confirm")


def test_list_reply_yields_reply_id_title_and_description():
    event = parse_delivery(webhook("pywa__callback_selection__description.json"))[0]
    assert event.content == m.ListReplyContent(reply_id="callback_data", title="title", description="description")
    assert event.context.id == "wamid.xyzxyz"


def test_template_quick_reply_yields_payload():
    event = parse_delivery(webhook("pywa__callback_button__quick_reply_without_context.json"))[0]
    assert event.content == m.ButtonContent(payload="callback_data", text="title")
    assert event.context is None


def test_flow_reply_decodes_response_json_and_flow_token():
    event = parse_delivery(webhook("pywa__flow_completion__completion.json"))[0]
    assert isinstance(event.content, m.FlowReplyContent)
    assert event.content.response["delivery_rating"] == "4"
    assert event.content.flow_token == "AQAAAAACS5FpgQ_cAAAAAD0QI3s."


def test_flow_reply_with_broken_response_json_keeps_the_text():
    body = webhook("pywa__flow_completion__completion.json")
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    message["interactive"]["nfm_reply"]["response_json"] = "{not json"
    content = parse_delivery(body)[0].content
    assert (content.response_json, content.response, content.flow_token) == ("{not json", None, None)


def test_call_permission_reply_yields_response_and_expiry():
    content = parse_delivery(webhook("pywa__call_permission_update__accept.json"))[0].content
    assert content.response == "accept"
    assert content.expires_at == datetime.fromtimestamp(1753186982, tz=UTC)


def test_edited_message_yields_original_id_and_new_content():
    content = parse_delivery(webhook("pywa__edited_message__image.json"))[0].content
    assert isinstance(content, m.EditContent)
    assert content.original_message_id.startswith("wamid.HBgLMTQxMjU1NTA4Mjk")
    assert isinstance(content.content, m.ImageContent)
    assert content.content.caption == "Updated image caption"


def test_revoked_message_yields_original_id():
    content = parse_delivery(webhook("pywa__deleted_message__revoke.json"))[0].content
    assert content == m.RevokeContent(original_message_id="<ORIGINAL_WHATSAPP_MESSAGE_ID>")


def test_reaction_with_empty_emoji_is_a_removal():
    content = parse_delivery(webhook("pywa__message__unreaction_empty.json"))[0].content
    assert content.removed and content.message_id == "wamid.yzxyzx="


def test_referral_and_forwarding_are_read():
    referral = parse_delivery(webhook("pywa__message__referral.json"))[0].referral
    assert (referral.source_type, referral.ctwa_clid) == ("ad or post", "CTWA_CLID")
    context = parse_delivery(webhook("pywa__message__forwarded_many_times.json"))[0].context
    assert context.frequently_forwarded and not context.forwarded


def test_question_about_a_product_carries_the_referred_product():
    body = change_message(
        webhook("pywa__message__text.json"),
        context={
            "from": "972123456789",
            "id": "wamid.prod",
            "referred_product": {"catalog_id": "354160437058781", "product_retailer_id": "SODA"},
        },
    )
    context = parse_delivery(body)[0].context
    assert context.referred_product == m.ReferredProduct(catalog_id="354160437058781", product_retailer_id="SODA")


def test_location_given_as_strings_becomes_floats():
    content = parse_delivery(webhook("wa-cloud-api-types__location_message.json"))[0].content
    assert (content.latitude, content.longitude) == (37.7749, -122.4194)


def test_system_number_change_yields_new_wa_id():
    content = parse_delivery(webhook("pywa__system__phone_number_change.json"))[0].content
    assert content == m.SystemContent(
        system_type="user_changed_number",
        body="User A changed from 972987654321 to 972912345678",
        new_wa_id="972912345678",
    )


def test_meta_unsupported_message_keeps_raw_and_its_error():
    event = parse_delivery(webhook("pywa__message__unsupported_with_type.json"))[0]
    assert isinstance(event.content, m.UnsupportedContent)
    assert "pool" in event.content.reason
    assert [(e.code, e.error_class) for e in event.errors] == [(131051, ErrorClass.RECIPIENT)]


def test_unknown_message_type_is_unsupported_content_keeping_the_raw_message():
    body = change_message(webhook("pywa__message__text.json"), type="hologram", hologram={"x": 1})
    event = only(parse_delivery(body), MessageEvent)
    assert isinstance(event.content, m.UnsupportedContent)
    assert event.content.original_type == "hologram"
    assert event.content.raw["hologram"] == {"x": 1}


def test_unknown_interactive_type_is_unsupported_content():
    body = change_message(
        webhook("wa-cloud-api-types__button_reply.json"),
        interactive={"type": "carousel_reply", "carousel_reply": {"id": "x"}},
    )
    assert parse_delivery(body)[0].content.original_type == "interactive"


def test_message_without_id_is_unsupported_event():
    body = change_message(webhook("pywa__message__text.json"), id=None)
    event = only(parse_delivery(body), UnsupportedEvent)
    assert event.reason == "message without an id"
    assert event.raw["text"] == {"body": "Body Text"}


def test_value_level_errors_yield_message_error_events_next_to_the_message():
    events = parse_delivery(webhook("pywa__message__interactive_message_with_err.json"))
    assert [event.kind for event in events] == ["message", "message_error"]
    error = events[1]
    assert isinstance(error, MessageErrorEvent)
    assert (error.error.code, error.error.error_class) == (131000, ErrorClass.TRANSIENT)
    assert error.error.details == "Unsupported webhook payload"


# --- statuses ---------------------------------------------------------------------------


def test_failed_status_yields_error_codes_and_details():
    event = only(parse_delivery(webhook("pywa__message_status__failed.json")), StatusEvent)
    assert event.status == "failed"
    assert event.dedupe_key == "status:wamid.xyzxyz:failed"
    assert [(e.code, e.title) for e in event.errors] == [(130472, "User's number is part of an experiment")]
    assert event.errors[0].error_class == ErrorClass.UNCLASSIFIED


def test_sent_status_yields_pricing_and_callback_data():
    event = parse_delivery(webhook("pywa__message_status__with_tracker.json"))[0]
    assert event.biz_opaque_callback_data == "some data"
    assert (event.pricing.category, event.pricing.billable, event.pricing.pricing_model) == (
        "service",
        True,
        "CBP",
    )


def test_v25_status_has_pricing_type_and_recipient_user_id():
    name = "whatsapp-api-js__bsuid_sent_status_with_username_has_parent_bsuid_was_sent_to_bsuid.json"
    event = parse_delivery(webhook(name))[0]
    assert (event.pricing.pricing_model, event.pricing.type, event.pricing.category) == (
        "PMP",
        "regular",
        "marketing",
    )
    assert (event.recipient.wa_id, event.recipient.user_id) == (None, "US.13491208655302741918")


def test_status_without_conversation_or_pricing_parses():
    event = parse_delivery(webhook("whatsapp-api-js__v25_read.json"))[0]
    assert (event.status, event.pricing, event.conversation) == ("read", None, None)


def test_undocumented_status_is_unsupported_event():
    body = webhook("pywa__message_status__sent.json")
    body["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] = "warning"
    assert "not documented" in only(parse_delivery(body), UnsupportedEvent).reason
