"""Every real webhook body in tests/fixtures/webhooks/ parses into the events its content implies.

The folder is walked: a new file is covered without a code change. The checks
below read the raw JSON independently of the parser and compare.
"""

import json
from datetime import UTC
from decimal import Decimal

import pytest

from tests.support.payloads import WEBHOOKS, load, webhook_files
from waco.cloud_api import messages as m
from waco.cloud_api.events import (
    EVENT_KINDS,
    CallEvent,
    MessageEchoEvent,
    MessageErrorEvent,
    MessageEvent,
    StatusEvent,
    UnsupportedEvent,
)
from waco.cloud_api.webhooks import DOCUMENTED_FIELDS, parse_delivery

FILES = webhook_files()
# Fields whose value names the business number in metadata; the rest are account-level.
NUMBER_SCOPED_FIELDS = {"messages", "smb_message_echoes", "user_preferences", "calls"}


def test_the_webhook_fixture_folder_is_found_and_full():
    assert WEBHOOKS.is_dir(), f"{WEBHOOKS} missing"
    assert len(FILES) >= 100


# --- what each message type's content must say, read from the raw message -------------


def check_text(raw, content):
    assert content.body == raw["text"]["body"]


def check_media(raw, content):
    body = raw[raw["type"]]
    assert content.media_id == body["id"]
    assert content.mime_type == body.get("mime_type")
    assert content.sha256 == body.get("sha256")
    assert content.caption == body.get("caption")
    assert content.url == body.get("url")
    if raw["type"] == "audio":
        assert content.voice is body.get("voice", False)
    if raw["type"] == "sticker":
        assert content.animated is body.get("animated", False)
    if raw["type"] == "document":
        assert content.filename == body.get("filename")


def check_location(raw, content):
    body = raw["location"]
    assert content.latitude == float(body["latitude"])
    assert content.longitude == float(body["longitude"])
    assert content.name == body.get("name")
    assert content.address == body.get("address")


def check_contacts(raw, content):
    assert [card.formatted_name for card in content.contacts] == [
        card["name"]["formatted_name"] for card in raw["contacts"]
    ]
    assert [[phone.phone for phone in card.phones] for card in content.contacts] == [
        [phone["phone"] for phone in card["phones"]] for card in raw["contacts"]
    ]


def check_reaction(raw, content):
    assert content.message_id == raw["reaction"]["message_id"]
    assert content.removed is (not raw["reaction"].get("emoji"))


def check_button(raw, content):
    assert (content.payload, content.text) == (raw["button"]["payload"], raw["button"]["text"])


def check_interactive(raw, content):
    kind = raw["interactive"]["type"]
    reply = raw["interactive"][kind]
    assert content.interactive_type == kind
    if kind in ("button_reply", "list_reply"):
        assert (content.reply_id, content.title) == (reply["id"], reply["title"])
    if kind == "list_reply":
        assert content.description == reply.get("description")
    if kind == "nfm_reply":
        assert content.response == json.loads(reply["response_json"])
        assert content.flow_token == content.response.get("flow_token")
    if kind == "call_permission_reply":
        assert content.response == reply["response"]


def check_order(raw, content):
    order = raw["order"]
    assert content.catalog_id == order["catalog_id"]
    assert [
        (item.product_retailer_id, item.quantity, item.item_price, item.currency) for item in content.product_items
    ] == [
        (item["product_retailer_id"], item["quantity"], Decimal(str(item["item_price"])), item["currency"])
        for item in order["product_items"]
    ]


def check_system(raw, content):
    assert content.system_type == raw["system"]["type"]
    assert content.body == raw["system"]["body"]
    assert content.new_wa_id == raw["system"].get("wa_id")


def check_edit(raw, content):
    inner = raw["edit"]["message"]
    assert content.original_message_id == raw["edit"]["original_message_id"]
    check_content(inner, content.content)


def check_revoke(raw, content):
    assert content.original_message_id == raw["revoke"]["original_message_id"]


def check_unsupported(raw, content):
    assert isinstance(content, m.UnsupportedContent)
    assert content.original_type == "unsupported"
    assert content.raw is raw


CONTENT_CHECKS = {
    "text": check_text,
    "image": check_media,
    "video": check_media,
    "audio": check_media,
    "document": check_media,
    "sticker": check_media,
    "location": check_location,
    "contacts": check_contacts,
    "reaction": check_reaction,
    "button": check_button,
    "interactive": check_interactive,
    "order": check_order,
    "system": check_system,
    "edit": check_edit,
    "revoke": check_revoke,
    "unsupported": check_unsupported,
}


def check_content(raw, content):
    message_type = raw["type"]
    if message_type != "unsupported" and message_type not in raw:
        # A documented type without its object (Meta says why in errors[]): kept, flagged.
        assert isinstance(content, m.UnsupportedContent)
        assert content.original_type == message_type
        return
    assert content.type == ("interactive" if message_type == "interactive" else message_type)
    CONTENT_CHECKS[message_type](raw, content)


# --- what each item of a change must yield ------------------------------------------


def check_message(raw, event):
    assert isinstance(event, MessageEvent)
    assert event.message_id == raw["id"]
    assert raw.get("from") in (None, event.sender.wa_id)
    assert raw.get("from_user_id") in (None, event.sender.user_id)
    assert event.sender.wa_id or event.sender.user_id
    if event.timestamp is not None:
        assert event.timestamp.tzinfo == UTC
        assert int(event.timestamp.timestamp()) == int(raw["timestamp"])
    context = raw.get("context")
    assert (event.context is None) is (context is None)
    if context:
        assert event.context.id == context.get("id")
        assert event.context.forwarded is context.get("forwarded", False)
        assert event.context.frequently_forwarded is context.get("frequently_forwarded", False)
    if "referral" in raw:
        assert event.referral.source_id == raw["referral"]["source_id"]
        assert event.referral.ctwa_clid == raw["referral"]["ctwa_clid"]
    assert [error.code for error in event.errors] == [e["code"] for e in raw.get("errors", [])]
    check_content(raw, event.content)


def check_status(raw, event):
    assert isinstance(event, StatusEvent)
    assert (event.message_id, event.status) == (raw["id"], raw["status"])
    # What the status names wins; contacts[] may complete the other identity.
    assert raw.get("recipient_id") in (None, event.recipient.wa_id)
    assert raw.get("recipient_user_id") in (None, event.recipient.user_id)
    assert event.recipient.wa_id or event.recipient.user_id
    assert event.biz_opaque_callback_data == raw.get("biz_opaque_callback_data")
    assert [error.code for error in event.errors] == [e["code"] for e in raw.get("errors", [])]
    assert [error.details for error in event.errors] == [e["error_data"]["details"] for e in raw.get("errors", [])]
    pricing = raw.get("pricing")
    assert (event.pricing is None) is (pricing is None)
    if pricing:
        assert event.pricing.category == pricing["category"]
        assert event.pricing.billable is pricing["billable"]
        assert event.pricing.type == pricing.get("type")
    assert (event.conversation is None) is ("conversation" not in raw)
    assert event.timestamp.tzinfo == UTC


def check_value_error(raw, event):
    assert isinstance(event, MessageErrorEvent)
    assert event.error.code == raw["code"]
    assert event.error.details == raw["error_data"]["details"]


def check_echo(raw, event):
    assert isinstance(event, MessageEchoEvent)
    assert event.message_id == raw["id"]
    assert event.to.wa_id == raw["to"]
    assert raw.get("to_user_id") in (None, event.to.user_id)
    check_content(raw, event.content)


def check_preference(raw, event):
    assert event.kind == "user_preferences"
    assert (event.user.wa_id, event.category, event.value) == (
        raw["wa_id"],
        raw["category"],
        raw["value"],
    )
    assert event.timestamp.tzinfo == UTC


def check_call(raw, event):
    assert isinstance(event, CallEvent)
    assert event.call_id == raw["id"]
    assert event.status == raw.get("status")


# Items listed in a value, and what each becomes: (list key, check).
ITEM_CHECKS = {
    "messages": [("messages", check_message), ("statuses", check_status), ("errors", check_value_error)],
    "smb_message_echoes": [("message_echoes", check_echo)],
    "user_preferences": [("user_preferences", check_preference)],
    "calls": [("calls", check_call), ("statuses", check_call), ("errors", check_value_error)],
}


def check_template(value, event):
    assert event.template_id == str(value["message_template_id"])
    assert event.template_name == value["message_template_name"]
    assert event.language == value["message_template_language"]
    if event.kind == "template_status":
        assert (event.event, event.reason) == (value["event"], value.get("reason"))
    if event.kind == "template_quality":
        assert event.new_quality_score == value["new_quality_score"]
        assert event.previous_quality_score == value["previous_quality_score"]
    if event.kind == "template_components":
        assert event.body == value["message_template_element"]
        assert len(event.buttons) == len(value.get("message_template_buttons", []))
    if event.kind == "template_category":
        assert event.new_category == value["new_category"]
        assert event.previous_category == value.get("previous_category")


def check_account_update(value, event):
    assert event.kind == "account_update"
    assert event.event == value["event"]


# Account-level fields: one event per change, checked against the value.
VALUE_CHECKS = {
    "message_template_status_update": check_template,
    "message_template_quality_update": check_template,
    "message_template_components_update": check_template,
    "template_category_update": check_template,
    "account_update": check_account_update,
}


def expected_checks(change):
    """(raw item, check) pairs in the order the parser yields events for one change."""
    field, value = change["field"], change["value"]
    if field in ITEM_CHECKS:
        return [(item, check) for key, check in ITEM_CHECKS[field] for item in value.get(key, [])]
    return [(value, VALUE_CHECKS[field])]


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_fixture_yields_the_events_its_content_implies(path):
    body = load(path)
    events = parse_delivery(body)

    expected = []
    for entry in body["entry"]:
        for change in entry["changes"]:
            assert change["field"] in DOCUMENTED_FIELDS, "a fixture of an undocumented field"
            metadata = change["value"].get("metadata", {})
            for raw, check in expected_checks(change):
                expected.append((entry, change["field"], metadata, raw, check))

    assert len(events) == len(expected)
    for event, (entry, field, metadata, raw, check) in zip(events, expected, strict=True):
        # Documented fields never come out unsupported; Meta's `unsupported` type is a message.
        assert not isinstance(event, UnsupportedEvent), event.reason
        assert event.kind in EVENT_KINDS
        assert event.waba_id == str(entry["id"])
        assert event.change_field == field
        expected_number = metadata.get("phone_number_id") if field in NUMBER_SCOPED_FIELDS else None
        assert event.phone_number_id == expected_number
        assert event.raw is raw
        check(raw, event)


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_fixture_dedupe_keys_are_stable_across_redelivery_and_distinct(path):
    events = parse_delivery(load(path))
    first = [event.dedupe_key for event in events]
    again = [event.dedupe_key for event in parse_delivery(json.loads(path.read_bytes()))]
    assert first == again
    assert len(set(first)) == len(first)
    assert all(event.dedupe_key.startswith(event.kind + ":") for event in events)
