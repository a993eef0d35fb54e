"""The merchant's details of a contact (name, language, time zone, tags, attributes), set by the
storefront: one at a time or in batches, a repeated body changing nothing and saying so."""

import json
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from waco.contacts.identifiers import ContactIdentifier, ContactIdentifierInvalid, identifier_parse
from waco.contacts.models import Contact, ContactAlias
from waco.contacts.services import ContactNotFound, contact_for_api_created

DETAIL_FIELDS = ("name", "language", "time_zone", "tags", "attributes")


@dataclass(frozen=True)
class ContactDetails:
    """What a PUT says; a field left out is empty (a PUT replaces them all)."""

    name: str = ""
    language: str = ""
    time_zone: str = ""
    tags: list[str] = field(default_factory=list)
    attributes: dict = field(default_factory=dict)


@dataclass(frozen=True)
class DetailsPut:
    """What came of one PUT: created, updated or unchanged; invalid or not_found with (field, reason)s."""

    result: str
    contact: Contact | None = None
    errors: tuple[tuple[str, str], ...] = ()


def contact_details_put(identifier: str, details: ContactDetails) -> DetailsPut:
    """Set the details of the contact named by `identifier`, creating it when it is a new phone number.

    Raises ContactIdentifierInvalid, ContactNotFound (an unknown BSUID), or ValidationError.
    """
    with transaction.atomic():
        found, created = contact_for_api_created(identifier, create=True)
        contact = Contact.objects.select_for_update().get(pk=found.pk)
        if changed := _apply(contact, details):
            contact.save(update_fields=[*changed, "updated_at"])
    return DetailsPut(result="created" if created else "updated" if changed else "unchanged", contact=contact)


def contacts_details_put(items: list[tuple[str, ContactDetails]]) -> list[DetailsPut]:
    """Each item as PUT would put it, in order: a refused one spoils nothing else, and a contact
    named twice sees the first item's details. A few queries for the whole batch."""
    try:
        return _put_together(items)
    except IntegrityError:  # a contact of the batch was created meanwhile (a webhook): one by one
        return [_put_one(identifier, details) for identifier, details in items]


def _put_one(identifier: str, details: ContactDetails) -> DetailsPut:
    try:
        return contact_details_put(identifier, details)
    except ContactIdentifierInvalid as refusal:
        return DetailsPut(result="invalid", errors=(("contact", str(refusal)),))
    except ValidationError as refusal:
        return DetailsPut(result="invalid", errors=_errors(refusal))
    except ContactNotFound as missing:
        return DetailsPut(result="not_found", errors=(("contact", str(missing)),))


def _put_together(items: list[tuple[str, ContactDetails]]) -> list[DetailsPut]:
    names = [_parsed(identifier) for identifier, _ in items]
    now = timezone.now()
    with transaction.atomic():
        known = _contacts_named([name for name in names if isinstance(name, ContactIdentifier)])
        results, new, changed = [], [], {}
        for (_, details), name in zip(items, names, strict=True):
            if isinstance(name, ContactIdentifierInvalid):
                results.append(DetailsPut(result="invalid", errors=(("contact", str(name)),)))
            elif name not in known and name.user_id:
                missing = f"no contact has the BSUID {name.user_id}"
                results.append(DetailsPut(result="not_found", errors=(("contact", missing),)))
            else:
                contact = known.get(name) or Contact(wa_id=name.wa_id)
                try:
                    updated = _apply(contact, details)
                except ValidationError as refusal:
                    results.append(DetailsPut(result="invalid", errors=_errors(refusal)))
                    continue
                if name not in known:  # a new phone number: created with the others, below
                    known[name] = contact
                    new.append(contact)
                    results.append(DetailsPut(result="created", contact=contact))
                    continue
                if updated and contact.pk is not None:
                    contact.updated_at, changed[contact.pk] = now, contact
                results.append(DetailsPut(result="updated" if updated else "unchanged", contact=contact))
        Contact.objects.bulk_create(new)
        Contact.objects.bulk_update(changed.values(), fields=[*DETAIL_FIELDS, "updated_at"])
    return results


def _apply(contact: Contact, details: ContactDetails) -> list[str]:
    """Set the details that differ, after checking them (ValidationError); the names of those set."""
    updates = {name: getattr(details, name) for name in DETAIL_FIELDS}
    updates = {name: value for name, value in updates.items() if not _same(getattr(contact, name), value)}
    Contact(**updates).clean_fields(exclude=[f.name for f in Contact._meta.fields if f.name not in updates])
    for name, value in updates.items():
        setattr(contact, name, value)
    return list(updates)


def _parsed(identifier: str) -> ContactIdentifier | ContactIdentifierInvalid:
    try:
        return identifier_parse(identifier)
    except ContactIdentifierInvalid as refusal:
        return refusal


def _contacts_named(names: list[ContactIdentifier]) -> dict[ContactIdentifier, Contact]:
    """The existing contacts these identifiers name (by wa_id, BSUID or alias), locked, one object per contact."""
    wa_ids = {name.wa_id for name in names if name.wa_id}
    user_ids = {name.user_id for name in names if name.user_id}
    aliases = dict(ContactAlias.objects.filter(wa_id__in=wa_ids).values_list("wa_id", "contact_id"))
    contacts = {
        contact.pk: contact
        for contact in Contact.objects.select_for_update()
        .filter(Q(wa_id__in=wa_ids) | Q(user_id__in=user_ids) | Q(pk__in=aliases.values()))
        .order_by("pk")
    }
    by_wa_id = {contact.wa_id: contact for contact in contacts.values() if contact.wa_id}
    by_user_id = {contact.user_id: contact for contact in contacts.values() if contact.user_id}
    found = {}
    for name in names:  # a contact's own wa_id wins over an alias, as in contact_find_by_wa_id
        contact = by_user_id.get(name.user_id) if name.user_id else by_wa_id.get(name.wa_id)
        contact = contact or contacts.get(aliases.get(name.wa_id))
        if contact is not None:
            found[name] = contact
    return found


def _errors(refusal: ValidationError) -> tuple[tuple[str, str], ...]:
    return tuple((name, " ".join(texts)) for name, texts in refusal.message_dict.items())


def _same(stored, given) -> bool:
    """Equal as JSON: in Python True == 1, yet a storefront that sends true for 1 changed it."""
    return json.dumps(stored, sort_keys=True) == json.dumps(given, sort_keys=True)
