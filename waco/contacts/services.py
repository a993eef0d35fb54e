"""Customer identity, consent and the service window, callable without HTTP or Celery."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone

from waco.channels.models import PhoneNumber
from waco.contacts.identifiers import ContactIdentifierInvalid as ContactIdentifierInvalid  # raised by contact_for_api
from waco.contacts.identifiers import identifier_parse
from waco.contacts.models import (
    ConsentAction,
    ConsentCategory,
    ConsentEntry,
    Contact,
    ContactAlias,
    ServiceWindow,
)
from waco.events.models import EventType
from waco.events.services import event_record

# Sent inside the merging transaction, before `merged_id` is deleted, so apps
# that point at contacts (threads, orders) move their rows to `survivor`.
contact_merged = Signal()  # kwargs: survivor (Contact), merged_id (int)
# Sent inside consent_record's transaction when a category becomes granted or withdrawn (or gets its
# first word), so the apps above act with it (campaigns skip an opted-out customer's pending sends).
# kwargs: contact, category, granted (bool), entry (the ConsentEntry now current).
consent_changed = Signal()

# Two workers may create the same new contact at once; the loser retries the lookup.
_RESOLVE_ATTEMPTS = 3


def contact_resolve(
    *,
    wa_id: str | None = None,
    user_id: str | None = None,
    parent_user_id: str | None = None,
    username: str | None = None,
    profile_name: str | None = None,
) -> Contact:
    """The one contact for these identities, created or linked as needed.

    A message with both ids links a wa_id-only and a user_id-only contact into
    one (the wa_id contact survives); never two contacts for one person.
    """
    if not wa_id and not user_id:
        raise ValueError("a contact needs a wa_id or a user_id")
    for attempt in range(_RESOLVE_ATTEMPTS):
        try:
            with transaction.atomic():
                contact = _find_or_link(wa_id=wa_id, user_id=user_id)
                if contact is None:
                    contact = Contact.objects.create(wa_id=wa_id or None, user_id=user_id or None)
                _update_profile(
                    contact,
                    wa_id=wa_id,
                    user_id=user_id,
                    parent_user_id=parent_user_id,
                    username=username,
                    profile_name=profile_name,
                )
                return contact
        except IntegrityError:
            if attempt == _RESOLVE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def contact_find(*, wa_id: str | None = None, user_id: str | None = None) -> Contact | None:
    """The contact for these identities, read only (contact_resolve has made and linked it)."""
    if wa_id and (contact := Contact.objects.filter(wa_id=wa_id).first()):
        return contact
    return Contact.objects.filter(user_id=user_id).first() if user_id else None


# --- the storefront's names for contacts (the REST API) -----------------------------


class ContactNotFound(LookupError):
    """No contact has this wa_id, BSUID or number (and none was to be created)."""


def contact_for_api(identifier: str, *, create: bool = False) -> Contact:
    """The contact a storefront names by wa_id, BSUID or phone number (waco.contacts.identifiers).

    A number Meta answered under another wa_id finds its contact through its
    alias. With `create`, an unknown phone number becomes a new contact; an
    unknown BSUID never does (only Meta hands them out, in webhooks).
    Raises ContactIdentifierInvalid (a ValueError) or ContactNotFound.
    """
    return contact_for_api_created(identifier, create=create)[0]


def contact_for_api_created(identifier: str, *, create: bool = False) -> tuple[Contact, bool]:
    """contact_for_api, and whether this call created the contact."""
    parsed = identifier_parse(identifier)
    if parsed.user_id:
        if contact := Contact.objects.filter(user_id=parsed.user_id).first():
            return contact, False
        raise ContactNotFound(f"no contact has the BSUID {parsed.user_id}")
    if contact := contact_find_by_wa_id(parsed.wa_id):
        return contact, False
    if not create:
        raise ContactNotFound(f"no contact has the wa_id {parsed.wa_id}")
    try:
        with transaction.atomic():
            return Contact.objects.create(wa_id=parsed.wa_id), True
    except IntegrityError:  # created meanwhile by a webhook or a concurrent call
        return contact_find_by_wa_id(parsed.wa_id), False


def contact_find_by_wa_id(wa_id: str) -> Contact | None:
    """The contact whose wa_id this is, else the one Meta knows under another wa_id (ContactAlias)."""
    if contact := Contact.objects.filter(wa_id=wa_id).first():
        return contact
    alias = ContactAlias.objects.select_related("contact").filter(wa_id=wa_id).first()
    return alias.contact if alias else None


def contacts_for_wa_ids(wa_ids: list[str]) -> dict[str, Contact]:
    """The contact of each wa_id (its own, else through an alias), creating those nobody has yet.

    Three queries whatever the count: for a list imported in one go (a campaign's CSV)."""
    found = {contact.wa_id: contact for contact in Contact.objects.filter(wa_id__in=wa_ids)}
    for alias in ContactAlias.objects.select_related("contact").filter(wa_id__in=set(wa_ids) - set(found)):
        found[alias.wa_id] = alias.contact
    if missing := sorted(set(wa_ids) - set(found)):
        # ignore_conflicts: a webhook may create one of them meanwhile; the re-read finds it either way.
        Contact.objects.bulk_create([Contact(wa_id=wa_id) for wa_id in missing], ignore_conflicts=True)
        found |= {contact.wa_id: contact for contact in Contact.objects.filter(wa_id__in=missing)}
    return found


def _find_or_link(*, wa_id: str | None, user_id: str | None) -> Contact | None:
    by_wa = Contact.objects.select_for_update().filter(wa_id=wa_id).first() if wa_id else None
    by_user = Contact.objects.select_for_update().filter(user_id=user_id).first() if user_id else None
    if by_wa and by_user and by_wa.pk != by_user.pk:
        contacts_merge(survivor=by_wa, merged=by_user)
    return by_wa or by_user


# Filled in the survivor from the merged contact when the survivor has none.
_MERGE_FILLS = ("parent_user_id", "username", "profile_name", "name", "language", "time_zone")


def contacts_merge(*, survivor: Contact, merged: Contact) -> None:
    """One contact for one person: the ledger, windows, aliases and other apps' rows move to
    `survivor`, whose own details win (tags are joined, attributes it lacks are added)."""
    ConsentEntry.objects.filter(contact=merged).update(contact=survivor)
    for window in ServiceWindow.objects.filter(contact=merged):
        window_touch(contact=survivor, phone_number=window.phone_number, inbound_at=window.last_inbound_at)
    ContactAlias.objects.filter(contact=merged).update(contact=survivor)
    contact_merged.send(sender=Contact, survivor=survivor, merged_id=merged.pk)
    for name in _MERGE_FILLS:
        if not getattr(survivor, name):
            setattr(survivor, name, getattr(merged, name))
    survivor.tags = [*survivor.tags, *(tag for tag in merged.tags if tag not in survivor.tags)]
    survivor.attributes = {**merged.attributes, **survivor.attributes}
    merged_wa_id = merged.wa_id
    merged.delete()
    survivor.save(update_fields=[*_MERGE_FILLS, "tags", "attributes", "updated_at"])
    if merged_wa_id and merged_wa_id != survivor.wa_id:  # the storefront may still name them by it
        ContactAlias.objects.update_or_create(wa_id=merged_wa_id, defaults={"contact": survivor})


def _update_profile(contact: Contact, **values: str | None) -> None:
    changed = [name for name, value in values.items() if value and getattr(contact, name) != value]
    for name in changed:
        setattr(contact, name, values[name])
    if changed:
        contact.save(update_fields=[*changed, "updated_at"])


# --- the service window -------------------------------------------------------------


def window_touch(*, contact: Contact, phone_number: PhoneNumber, inbound_at: datetime) -> None:
    """Record an inbound message; the window only ever moves forward.

    Meta redelivers and reorders webhooks, so an older timestamp arriving late
    must not shorten the window.
    """
    window, created = ServiceWindow.objects.get_or_create(
        contact=contact, phone_number=phone_number, defaults={"last_inbound_at": inbound_at}
    )
    if not created:
        ServiceWindow.objects.filter(pk=window.pk, last_inbound_at__lt=inbound_at).update(
            last_inbound_at=inbound_at, updated_at=timezone.now()
        )


def window_open_until(*, contact: Contact, phone_number: PhoneNumber) -> datetime | None:
    window = ServiceWindow.objects.filter(contact=contact, phone_number=phone_number).first()
    return window.open_until if window else None


def window_is_open(*, contact: Contact, phone_number: PhoneNumber, now: datetime) -> bool:
    open_until = window_open_until(contact=contact, phone_number=phone_number)
    return open_until is not None and now < open_until


# --- the consent ledger --------------------------------------------------------------


def consent_record(
    *,
    contact: Contact,
    category: str,
    action: str,
    source: str,
    recorded_at: datetime,
    reference: str = "",
    proof: str = "",
) -> ConsentEntry:
    """Append one act to the ledger; nothing ever edits or deletes an entry.

    When the act changes whether the category is granted (or it is the first word on it), the
    merchant's systems hear `consent.changed` from the same transaction."""
    entry = ConsentEntry(
        contact=contact,
        category=category,
        action=action,
        source=source,
        recorded_at=recorded_at,
        reference=reference,
        proof=proof,
    )
    entry.full_clean()
    with transaction.atomic():
        before = consent_current(contact=contact, category=category)
        entry.save()
        after = consent_current(contact=contact, category=category)
        if before is None or (before.action == ConsentAction.OPT_IN) != (after.action == ConsentAction.OPT_IN):
            _consent_changed_record(contact=contact, current=after)
            granted = after.action == ConsentAction.OPT_IN
            consent_changed.send(sender=Contact, contact=contact, category=category, granted=granted, entry=after)
    return entry


def _consent_changed_record(*, contact: Contact, current: ConsentEntry) -> None:
    data = {
        "contact": {"id": contact.pk, "wa_id": contact.wa_id, "user_id": contact.user_id},
        "category": current.category,
        "granted": current.action == ConsentAction.OPT_IN,
        "action": current.action,
        "source": current.source,
        "reference": current.reference or None,
        "recorded_at": current.recorded_at,
    }
    event_record(EventType.CONSENT_CHANGED, f"contact:{contact.pk}", data)


def consent_current(*, contact: Contact, category: str) -> ConsentEntry | None:
    """The newest entry of the category (by when it was given, then by insertion)."""
    return ConsentEntry.objects.filter(contact=contact, category=category).order_by("-recorded_at", "-id").first()


def consent_by_category(*, contact: Contact) -> dict[str, ConsentEntry | None]:
    """The current entry of each category (None: never asked), newest first as consent_current reads it."""
    return {category: consent_current(contact=contact, category=category) for category in ConsentCategory.values}


def consent_is_granted(*, contact: Contact, category: str) -> bool:
    """Whether business-initiated messages of this category may go to the contact.

    Replies inside an open service window need no consent; the send path
    checks the window first and asks this only for business-initiated sends.
    """
    entry = consent_current(contact=contact, category=category)
    return entry is not None and entry.action == ConsentAction.OPT_IN
