"""Meta's wa_id for a number we sent to, when it is not the number as sent.

Meta answers a send with `contacts: [{"input": <to>, "wa_id": <its id>}]`. For
some numbers the two differ (Brazil's ninth digit, Mexico's 1 after 52), and
the customer's replies come from Meta's wa_id. So the contact takes Meta's
wa_id, and the number as sent becomes its ContactAlias: the thread and the
window stay one, and the storefront still finds the contact by its number.

When another contact already holds Meta's wa_id (the customer wrote to us
before the storefront named them), the two are one person: they merge into
the holder, which has the WhatsApp history (threads, windows). They do not
merge when each has its own BSUID (two WhatsApp accounts), nor when the other
contact has rows no app moves on a merge; then staff get an alert and
nothing changes.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import DatabaseError, transaction
from django.db.models import ProtectedError, Q

from waco.alerts.services import alert_raise
from waco.cloud_api.recipients import is_business_scoped_user_id
from waco.contacts import services
from waco.contacts.models import Contact, ContactAlias

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendAnswer:
    """What Meta said of one accepted send: the contact it was for, `to` as sent, Meta's wa_id."""

    contact_id: int
    sent_to: str
    wa_id: str | None
    wamid: str = ""

    @property
    def renames(self) -> bool:
        return bool(self.wa_id) and self.wa_id != self.sent_to and not is_business_scoped_user_id(self.sent_to)


class _NoMerge(Exception):
    pass


def wa_ids_from_send_answers(answers: Iterable[SendAnswer]) -> None:
    """Apply each answer that names another wa_id; the others cost nothing. Never raises for one
    answer (the sends are recorded already): a conflict is an alert for staff."""
    for answer in answers:
        if not answer.renames:
            continue
        try:
            wa_id_answered(answer)
        except (_NoMerge, ProtectedError, DatabaseError) as refusal:
            logger.warning("wa_id %s for %s not applied: %s", answer.wa_id, answer.sent_to, refusal)
            alert_raise(
                kind="contact_wa_id_conflict",
                subject=f"wa_id {answer.wa_id}",
                detail=f"Meta answered a send to {answer.sent_to} as wa_id {answer.wa_id}; not applied: {refusal}",
            )


def wa_id_answered(answer: SendAnswer) -> Contact | None:
    """The contact of `answer` under Meta's wa_id (merged into its holder if any), with the
    number as sent as its alias. None when the contact is gone (merged away meanwhile)."""
    with transaction.atomic():
        locked = {  # both rows, in id order, so two drains learning at once cannot deadlock
            contact.pk: contact
            for contact in Contact.objects.select_for_update()
            .filter(Q(pk=answer.contact_id) | Q(wa_id=answer.wa_id))
            .order_by("pk")
        }
        contact = locked.pop(answer.contact_id, None)
        if contact is None:
            return None
        holder = next(iter(locked.values()), None)
        if holder is None:
            survivor = _take_wa_id(contact, answer.wa_id)
        else:
            survivor = _merge_into_holder(holder=holder, contact=contact)
        ContactAlias.objects.update_or_create(
            wa_id=answer.sent_to, defaults={"contact": survivor, "wamid": answer.wamid}
        )
        return survivor


def _take_wa_id(contact: Contact, wa_id: str) -> Contact:
    previous = contact.wa_id
    contact.wa_id = wa_id
    contact.save(update_fields=["wa_id", "updated_at"])
    if previous and previous != wa_id:  # whatever the contact was known by still finds it
        ContactAlias.objects.update_or_create(wa_id=previous, defaults={"contact": contact})
    return contact


def _merge_into_holder(*, holder: Contact, contact: Contact) -> Contact:
    if holder.user_id and contact.user_id and holder.user_id != contact.user_id:
        raise _NoMerge(f"contacts {holder.pk} and {contact.pk} have different BSUIDs: two WhatsApp accounts")
    user_id = contact.user_id
    with transaction.atomic():  # a refused delete (rows no app moves) undoes the whole merge
        services.contacts_merge(survivor=holder, merged=contact)
    if user_id and not holder.user_id:
        holder.user_id = user_id
        holder.save(update_fields=["user_id", "updated_at"])
    return holder
