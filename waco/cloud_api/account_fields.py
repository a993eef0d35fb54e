"""Parsers for the account-level fields: templates, phone numbers, the account.

Each reads one change value into one event; a value missing what the event's
dedupe key needs becomes an UnsupportedEvent with the reason.
"""

from waco.cloud_api.events import (
    AccountAlertEvent,
    AccountReviewEvent,
    AccountUpdateEvent,
    BusinessCapabilityEvent,
    Event,
    PhoneNumberNameEvent,
    PhoneNumberQualityEvent,
    TemplateButton,
    TemplateCategoryEvent,
    TemplateComponentsEvent,
    TemplateQualityEvent,
    TemplateStatusEvent,
)
from waco.cloud_api.fields import Change
from waco.cloud_api.values import as_dict, as_id, as_int, as_str, as_timestamp, dicts

# --- templates ----------------------------------------------------------------------


def _template_common(value: dict) -> dict:
    return {
        "template_id": as_id(value.get("message_template_id")),
        "template_name": as_str(value.get("message_template_name")),
        "language": as_str(value.get("message_template_language")),
    }


def parse_template_status(value: dict, change: Change) -> list[Event]:
    # A published example carries quality fields under this field; read it as what it says.
    if "event" not in value and "new_quality_score" in value:
        return parse_template_quality(value, change)
    common, event = _template_common(value), as_str(value.get("event"))
    if common["template_id"] is None or event is None:
        return [change.unsupported(value, "template status without a template id or event")]
    return [
        TemplateStatusEvent(
            **change.common(value),
            **common,
            event=event,
            reason=as_str(value.get("reason")),
            category=as_str(value.get("message_template_category")),
            rejection_detail=as_str(as_dict(value.get("rejection_info")).get("reason")),
            disable_date=as_timestamp(as_dict(value.get("disable_info")).get("disable_date")),
        )
    ]


def parse_template_quality(value: dict, change: Change) -> list[Event]:
    common, score = _template_common(value), as_str(value.get("new_quality_score"))
    if common["template_id"] is None or score is None:
        return [change.unsupported(value, "template quality without a template id or score")]
    return [
        TemplateQualityEvent(
            **change.common(value),
            **common,
            previous_quality_score=as_str(value.get("previous_quality_score")),
            new_quality_score=score,
        )
    ]


def _template_button(button: dict) -> TemplateButton:
    return TemplateButton(
        type=as_str(button.get("message_template_button_type")),
        text=as_str(button.get("message_template_button_text")),
        url=as_str(button.get("message_template_button_url")),
        phone_number=as_str(button.get("message_template_button_phone_number")),
    )


def parse_template_components(value: dict, change: Change) -> list[Event]:
    common = _template_common(value)
    if common["template_id"] is None:
        return [change.unsupported(value, "template components without a template id")]
    buttons = dicts(value.get("message_template_buttons"))
    return [
        TemplateComponentsEvent(
            **change.common(value),
            **common,
            title=as_str(value.get("message_template_title")),
            body=as_str(value.get("message_template_element")),
            footer=as_str(value.get("message_template_footer")),
            buttons=tuple(_template_button(button) for button in buttons),
        )
    ]


def parse_template_category(value: dict, change: Change) -> list[Event]:
    common, new_category = _template_common(value), as_str(value.get("new_category"))
    if common["template_id"] is None or new_category is None:
        return [change.unsupported(value, "template category without a template id or category")]
    return [
        TemplateCategoryEvent(
            **change.common(value),
            **common,
            previous_category=as_str(value.get("previous_category")),
            new_category=new_category,
            correct_category=as_str(value.get("correct_category")),
        )
    ]


# --- phone numbers and account ------------------------------------------------------


def parse_phone_number_quality(value: dict, change: Change) -> list[Event]:
    event = as_str(value.get("event"))
    if event is None:
        return [change.unsupported(value, "phone number quality update without an event")]
    return [
        PhoneNumberQualityEvent(
            **change.common(value),
            display_phone_number=as_id(value.get("display_phone_number")),
            event=event,
            current_limit=as_id(value.get("current_limit")),
            old_limit=as_id(value.get("old_limit")),
            max_daily_conversations_per_business=as_id(value.get("max_daily_conversations_per_business")),
        )
    ]


def parse_phone_number_name(value: dict, change: Change) -> list[Event]:
    decision = as_str(value.get("decision"))
    if decision is None:
        return [change.unsupported(value, "phone number name update without a decision")]
    return [
        PhoneNumberNameEvent(
            **change.common(value),
            display_phone_number=as_id(value.get("display_phone_number")),
            decision=decision,
            requested_verified_name=as_str(value.get("requested_verified_name")),
            rejection_reason=as_str(value.get("rejection_reason")),
        )
    ]


def parse_account_update(value: dict, change: Change) -> list[Event]:
    event = as_str(value.get("event"))
    if event is None:
        return [change.unsupported(value, "account update without an event")]
    return [AccountUpdateEvent(**change.common(value), event=event)]


def parse_account_review(value: dict, change: Change) -> list[Event]:
    decision = as_str(value.get("decision"))
    if decision is None:
        return [change.unsupported(value, "account review update without a decision")]
    return [AccountReviewEvent(**change.common(value), decision=decision)]


def parse_account_alert(value: dict, change: Change) -> list[Event]:
    info = as_dict(value.get("alert_info"))
    alert_type = as_str(info.get("alert_type"))
    if alert_type is None:
        return [change.unsupported(value, "account alert without alert_info.alert_type")]
    return [
        AccountAlertEvent(
            **change.common(value),
            entity_type=as_str(value.get("entity_type")),
            entity_id=as_id(value.get("entity_id")),
            alert_severity=as_str(info.get("alert_severity")),
            alert_status=as_str(info.get("alert_status")),
            alert_type=alert_type,
            alert_description=as_str(info.get("alert_description")),
        )
    ]


def parse_business_capability(value: dict, change: Change) -> list[Event]:
    names = (
        "max_daily_conversation_per_phone",
        "max_daily_conversations_per_business",
        "max_phone_numbers_per_business",
        "max_phone_numbers_per_waba",
    )
    limits = {name: as_int(value.get(name)) for name in names}
    if all(limit is None for limit in limits.values()):
        return [change.unsupported(value, "business capability update without any limit")]
    return [BusinessCapabilityEvent(**change.common(value), **limits)]
