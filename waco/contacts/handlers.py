"""Contacts' part of every webhook: who wrote, when, and what they consented to."""

from waco.cloud_api.events import MessageEvent, UserPreferenceEvent
from waco.contacts import services
from waco.contacts.models import ConsentAction, ConsentCategory, ConsentSource
from waco.ingest.registry import HandlerOrder, register

# Messages that Meta or the app generates rather than the customer writing to
# us: they must not open or extend the service window. When unsure we leave the
# window shorter, since sending outside it breaks Meta's rules.
NOT_CUSTOMER_INITIATED = frozenset({"system", "revoke", "edit"})

# user_preferences values for category marketing_messages.
MARKETING_PREFERENCE_ACTIONS = {
    "stop": ConsentAction.OPT_OUT,
    "resume": ConsentAction.OPT_IN,
    "signup": ConsentAction.OPT_IN,  # through a sign-up link
}


def contact_from_identity(identity):
    if not (identity.wa_id or identity.user_id):
        return None
    return services.contact_resolve(
        wa_id=identity.wa_id,
        user_id=identity.user_id,
        parent_user_id=identity.parent_user_id,
        username=identity.username,
        profile_name=identity.name,
    )


@register("message", order=HandlerOrder.IDENTITY)
def inbound_message_updates_identity_and_window(event: MessageEvent, *, phone_number) -> None:
    contact = contact_from_identity(event.sender)
    if contact is None or event.timestamp is None or event.type in NOT_CUSTOMER_INITIATED:
        return
    services.window_touch(contact=contact, phone_number=phone_number, inbound_at=event.timestamp)


@register("user_preferences", order=HandlerOrder.IDENTITY)
def marketing_preference_updates_consent(event: UserPreferenceEvent, *, phone_number) -> None:
    action = MARKETING_PREFERENCE_ACTIONS.get(event.value or "")
    contact = contact_from_identity(event.user)
    if event.category != "marketing_messages" or action is None or contact is None:
        return
    services.consent_record(
        contact=contact,
        category=ConsentCategory.MARKETING,
        action=action,
        source=ConsentSource.WHATSAPP,
        recorded_at=event.timestamp or event.entry_time,
        reference=f"user_preferences:{event.value}",
    )
