"""A campaign's recipients as CSV, streamed: one query read in chunks, one line at a time, so an
audience of any size never sits in memory (the admin sends it as a StreamingHttpResponse)."""

import csv
import io
from collections.abc import Iterator

from campaigns.models import Campaign, CampaignRecipient

HEADER = (
    "wa_id",
    "user_id",
    "status",
    "skip_reason",
    "sent_at",
    "delivered_at",
    "read_at",
    "replied_at",
    "ordered_at",
    "error_code",
    "error_title",
    "cost",
    "order",
    "revenue_minor",
    "currency",
)
_FIELDS = (
    "contact__wa_id",
    "contact__user_id",
    "status",
    "skip_reason",
    "sent_at",
    "message__delivered_at",
    "message__read_at",
    "replied_at",
    "ordered_at",
    "error_code",
    "error_title",
    "cost",
    "order__reference",
    "revenue_minor",
    "order__currency",
)
CHUNK = 2000
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _line(values) -> str:
    out = io.StringIO()
    csv.writer(out).writerow([_cell(value) for value in values])
    return out.getvalue()


def recipients_csv(campaign: Campaign) -> Iterator[str]:
    """The header, then one line per recipient in id order: the contact's wa_id or business-scoped
    id, the outcome and its times, Meta's error, the cost, and the attributed order and revenue."""
    yield _line(HEADER)
    rows = CampaignRecipient.objects.filter(campaign=campaign).order_by("pk").values_list(*_FIELDS)
    for row in rows.iterator(chunk_size=CHUNK):
        yield _line(row)
