"""A campaign's audience from an uploaded CSV: one row per customer, named by phone or BSUID.

The header names the columns. `phone` (a wa_id's digits or a number written for people, read in the
deployment's default region) or `bsuid` names the customer; the columns a `csv` parameter names
fill the template; the optional `consent` column (yes/no) with `consent_proof` appends entries to
the consent ledger with source `import`. A row never grants consent by being there: without a `yes`
and its proof, a customer without consent is a skipped recipient, as in a segment.

The file is read whole before anything is stored: any bad row refuses the upload with every line's
error (up to MAX_ERRORS), and a good one replaces the campaign's rows in one transaction.
"""

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from campaigns.models import Audience, AudienceRow, Campaign, CampaignStatus
from outbound.policy import CATEGORY_OF_TEMPLATE, CONSENT_FOR_CATEGORY
from waco.contacts.identifiers import ContactIdentifierInvalid, identifier_parse
from waco.contacts.models import ConsentAction, ConsentSource, Contact
from waco.contacts.services import consent_record, contacts_for_wa_ids

ADDRESS_COLUMNS = ("phone", "bsuid")
CONSENT_COLUMN, PROOF_COLUMN = "consent", "consent_proof"
CONSENT_ANSWERS = {"yes": ConsentAction.OPT_IN, "no": ConsentAction.OPT_OUT, "": None}
MAX_ROWS = 100_000
MAX_BYTES = 20 * 1024 * 1024
MAX_ERRORS = 20


class AudienceRefused(ValidationError):
    """The upload was refused; nothing was stored. `messages` says why, line by line."""


@dataclass(frozen=True)
class _Row:
    line: int
    wa_id: str | None
    user_id: str | None
    columns: dict
    consent: str | None  # a ConsentAction, or None: the row says nothing of consent
    proof: str


@dataclass(frozen=True)
class AudienceLoaded:
    rows: int
    contacts_created: int
    consents_recorded: int


def _header(reader: csv.DictReader, *, campaign: Campaign) -> list[str]:
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    problems = []
    if not set(ADDRESS_COLUMNS) & set(header):
        problems.append("The header needs a phone or a bsuid column to name each customer.")
    if duplicated := sorted({name for name in header if header.count(name) > 1}):
        problems.append(f"Columns named twice: {', '.join(duplicated)}.")
    needed = {s["column"].strip().lower() for s in campaign.params.values() if s.get("source") == "csv"}
    if missing := sorted(needed - set(header)):
        problems.append(f"The template's parameters read columns the file lacks: {', '.join(missing)}.")
    if CONSENT_COLUMN in header and PROOF_COLUMN not in header:
        problems.append(f"A {CONSENT_COLUMN} column needs a {PROOF_COLUMN} column: how each customer agreed.")
    if problems:
        raise AudienceRefused(problems)
    return header


def _row(line: int, values: dict) -> _Row:
    """One row read, or ValueError saying what is wrong with it."""
    phone, bsuid = values.get("phone", ""), values.get("bsuid", "")
    if bool(phone) == bool(bsuid):
        raise ValueError("give the customer's phone or bsuid (one of them)")
    try:
        parsed = identifier_parse(phone or bsuid)
    except ContactIdentifierInvalid as error:
        raise ValueError(str(error)) from None
    if bsuid and not parsed.user_id:
        raise ValueError(f"{bsuid!r} in the bsuid column is not a business-scoped user id")
    answer = values.get(CONSENT_COLUMN, "").lower()
    if answer not in CONSENT_ANSWERS:
        raise ValueError(f"consent is yes, no or blank, not {values[CONSENT_COLUMN]!r}")
    proof = values.get(PROOF_COLUMN, "")
    if CONSENT_ANSWERS[answer] == ConsentAction.OPT_IN and not proof:
        raise ValueError("consent yes needs its proof (how and when the customer agreed)")
    return _Row(line, parsed.wa_id, parsed.user_id, values, CONSENT_ANSWERS[answer], proof)


def audience_read(data: bytes, *, campaign: Campaign) -> list[_Row]:
    """Every row of the file, or AudienceRefused with each bad line's error. Stores nothing."""
    if len(data) > MAX_BYTES:
        raise AudienceRefused(f"The file is over {MAX_BYTES // (1024 * 1024)} MB: split the audience.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AudienceRefused("The file is not UTF-8 text: save the CSV as UTF-8.") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = _header(reader, campaign=campaign)
    rows, errors, seen = [], [], {}
    for line, raw in enumerate(reader, start=2):
        if len(rows) + len(errors) >= MAX_ROWS:
            raise AudienceRefused(f"The file has over {MAX_ROWS:,} rows: split the audience.")
        values = {name: (value or "").strip() for name, value in zip(header, raw.values(), strict=False)}
        try:
            row = _row(line, values)
        except ValueError as error:
            errors.append(f"Line {line}: {error}.")
            continue
        address = row.wa_id or row.user_id
        if address in seen:
            errors.append(f"Line {line}: the same customer as line {seen[address]}.")
            continue
        seen[address] = line
        rows.append(row)
    if not rows and not errors:
        errors.append("The file has a header and no rows.")
    if errors:
        more = f" (and {len(errors) - MAX_ERRORS} more)" if len(errors) > MAX_ERRORS else ""
        raise AudienceRefused(errors[:MAX_ERRORS] + ([f"Nothing was stored{more}."]))
    return rows


def _contacts(rows: list[_Row]) -> tuple[dict[str, Contact], int]:
    """The contact of each row's address, and how many were created. A BSUID is never created: only
    Meta hands them out, so an unknown one is an error of the file."""
    user_ids = [row.user_id for row in rows if row.user_id]
    by_user_id = {c.user_id: c for c in Contact.objects.filter(user_id__in=user_ids)}
    if unknown := [row for row in rows if row.user_id and row.user_id not in by_user_id]:
        lines = ", ".join(str(row.line) for row in unknown[:MAX_ERRORS])
        raise AudienceRefused(f"No customer has the BSUID of line(s) {lines}: Meta gives a BSUID in a message first.")
    wa_ids = [row.wa_id for row in rows if row.wa_id]
    before = Contact.objects.count()
    by_wa_id = contacts_for_wa_ids(wa_ids) if wa_ids else {}
    return by_user_id | by_wa_id, Contact.objects.count() - before


def audience_csv_load(*, campaign: Campaign, data: bytes, now: datetime | None = None) -> AudienceLoaded:
    """Replace a draft CSV campaign's audience with the file's rows, and append the consent it states."""
    if campaign.audience != Audience.CSV:
        raise AudienceRefused("This campaign's audience is a segment, not a CSV.")
    rows = audience_read(data, campaign=campaign)
    now = now or timezone.now()
    category = CONSENT_FOR_CATEGORY[CATEGORY_OF_TEMPLATE[campaign.template.category]]
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status != CampaignStatus.DRAFT:
            raise AudienceRefused(f"The campaign is {locked.status}: its audience is fixed once it leaves draft.")
        contacts, created = _contacts(rows)
        locked.audience_rows.all().delete()
        AudienceRow.objects.bulk_create(
            AudienceRow(campaign=locked, contact=contacts[row.wa_id or row.user_id], line=row.line, columns=row.columns)
            for row in rows
        )
        consents = [row for row in rows if row.consent]
        for row in consents:
            consent_record(
                contact=contacts[row.wa_id or row.user_id],
                category=category,
                action=row.consent,
                source=ConsentSource.IMPORT,
                recorded_at=now,
                reference=f"campaign {locked.pk}, line {row.line}",
                proof=row.proof,
            )
    return AudienceLoaded(rows=len(rows), contacts_created=created, consents_recorded=len(consents))
