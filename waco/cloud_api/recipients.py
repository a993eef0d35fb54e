"""Whom a send addresses: a phone-based wa_id in `to`, a business-scoped user id in `recipient`.

Meta (business-scoped user ids, 2026): `to` takes a phone number, `recipient`
a BSUID or parent BSUID; when both are sent `to` wins, and Meta asks for the
phone whenever it is known. A BSUID put in `to` is answered 200 with a message
id and then silently dropped, so it must never go there.
"""

import re

# "US.13491208655302741918"; a parent id has ENT between: "US.ENT.11815799212886844830".
BUSINESS_SCOPED_USER_ID = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]+")
# Meta's ids are up to 128 alphanumerics after the country code; columns leave room to spare.
BUSINESS_SCOPED_USER_ID_MAX_LENGTH = 255


def is_business_scoped_user_id(value: str) -> bool:
    """A BSUID (or parent BSUID) rather than a wa_id, which is digits only."""
    return bool(BUSINESS_SCOPED_USER_ID.fullmatch(value))


def recipient_fields(recipient: str) -> dict[str, str]:
    """The addressing fields of a send to this wa_id or BSUID.

    Callers pass the phone's wa_id whenever they know it: it goes in `to`.
    """
    if is_business_scoped_user_id(recipient):
        return {"recipient_type": "individual", "recipient": recipient}
    return {"to": recipient}
