"""How the storefront names a contact: a wa_id, a BSUID, or a phone number as people write it.

A wa_id is the digits of an E.164 number as Meta writes it (no "+"), and is
taken as it is: Meta's own wa_ids are not always numbers libphonenumber calls
possible (Mexico's mobiles keep a 1 after 52). Anything else that is not a
BSUID is a phone number written for people ("+55 11 98765-4321",
"(415) 555-2671") and is normalised with phonenumbers, numbers without a
country code in the deployment's default region (WACO_DEFAULT_PHONE_REGION).
"""

import re
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from phonenumbers import NumberParseException, ValidationResult

from waco.cloud_api.recipients import BUSINESS_SCOPED_USER_ID, BUSINESS_SCOPED_USER_ID_MAX_LENGTH

WA_ID = re.compile(r"[1-9][0-9]{6,14}")  # E.164: at most 15 digits, never a leading 0
PARENT_BSUID = re.compile(r"[A-Z]{2}\.ENT\.[A-Za-z0-9]+")
# Meta's wa_ids for Mexican mobiles keep the 1 that Mexico dropped in 2019: 52 1 + ten digits.
MEXICAN_MOBILE_WA_ID = re.compile(r"521[0-9]{10}")
MAX_IDENTIFIER_LENGTH = BUSINESS_SCOPED_USER_ID_MAX_LENGTH
# Any script's digits (phonenumbers reads Arabic-Indic ones too), spaces and the usual punctuation.
_WRITTEN_NUMBER = re.compile(r"[+\d()./\s-]+")

_REFUSALS = {
    ValidationResult.INVALID_COUNTRY_CODE: "its country code is not one in use",
    ValidationResult.TOO_SHORT: "it is too short for a number of its country",
    ValidationResult.TOO_LONG: "it is too long for a number of its country",
    ValidationResult.INVALID_LENGTH: "its length fits no number of its country",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "it lacks an area code",
}


class ContactIdentifierInvalid(ValueError):
    """The identifier is neither a wa_id, a BSUID, nor a phone number we can read."""


@dataclass(frozen=True)
class ContactIdentifier:
    """A parsed identifier: exactly one of wa_id and user_id is set."""

    wa_id: str | None = None
    user_id: str | None = None

    @property
    def is_phone(self) -> bool:
        return self.wa_id is not None


def identifier_parse(raw: str, *, region: str | None = None) -> ContactIdentifier:
    """Read an identifier, or raise ContactIdentifierInvalid saying why."""
    value = (raw or "").strip()
    region = region if region is not None else default_region()
    if not value:
        raise ContactIdentifierInvalid("a contact is named by a wa_id, a BSUID or a phone number; this one is empty")
    if len(value) > MAX_IDENTIFIER_LENGTH:
        raise ContactIdentifierInvalid(f"{_shown(value)} is longer than any wa_id, BSUID or phone number")
    if PARENT_BSUID.fullmatch(value):
        raise ContactIdentifierInvalid(
            f"{_shown(value)} is a parent business-scoped id, which spans portfolios and names no contact here; "
            "use the contact's BSUID or phone number"
        )
    if BUSINESS_SCOPED_USER_ID.fullmatch(value):
        return ContactIdentifier(user_id=value)
    if value.isascii() and value.isdigit():
        return ContactIdentifier(wa_id=wa_id_check(value, region=region))
    if not _WRITTEN_NUMBER.fullmatch(value):
        raise ContactIdentifierInvalid(
            f"{_shown(value)} is neither a wa_id (digits), a BSUID (CC.digits) nor a phone number"
        )
    return ContactIdentifier(wa_id=phone_number_normalise(value, region=region))


def wa_id_check(digits: str, *, region: str | None) -> str:
    """The digits as a wa_id, when they can be one: a possible E.164 number (or Meta's Mexican form)."""
    if MEXICAN_MOBILE_WA_ID.fullmatch(digits):
        return digits
    reason = _possibility(f"+{digits}") if WA_ID.fullmatch(digits) else None
    if reason == ValidationResult.IS_POSSIBLE:
        return digits
    detail = _REFUSALS.get(reason, "it is not the digits of an international number")
    hint = ""
    if region and _possibility(digits, region=region) == ValidationResult.IS_POSSIBLE:
        local = phonenumbers.parse(digits, region)
        hint = (
            f"; if it is a national number of {region}, send it with its country code "
            f"({phonenumbers.format_number(local, phonenumbers.PhoneNumberFormat.INTERNATIONAL)}) or formatted"
        )
    raise ContactIdentifierInvalid(f"{digits} is not a wa_id: {detail}{hint}")


def phone_number_normalise(written: str, *, region: str | None) -> str:
    """The wa_id (E.164 digits) of a number written for people, in `region` unless it starts with +."""
    if not written.lstrip().startswith("+") and not region:
        raise ContactIdentifierInvalid(
            f"{_shown(written)} has no country code and this deployment has no default region "
            "(WACO_DEFAULT_PHONE_REGION): write it as +<country code> <number>"
        )
    try:
        number = phonenumbers.parse(written, region)
    except NumberParseException as error:
        raise ContactIdentifierInvalid(f"{_shown(written)} is not a phone number") from error
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != ValidationResult.IS_POSSIBLE:
        detail = _REFUSALS.get(reason, "it is not a possible number")
        raise ContactIdentifierInvalid(f"{_shown(written)} is not a phone number we can reach: {detail}")
    if not phonenumbers.is_valid_number(number):
        country = phonenumbers.region_code_for_country_code(number.country_code)
        raise ContactIdentifierInvalid(
            f"{_shown(written)} is not a valid number of {country} (send its wa_id digits if you are sure of it)"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).removeprefix("+")


def default_region() -> str | None:
    return getattr(settings, "WACO_DEFAULT_PHONE_REGION", None) or None


def _possibility(number: str, *, region: str | None = None):
    try:
        return phonenumbers.is_possible_number_with_reason(phonenumbers.parse(number, region))
    except NumberParseException:
        return None


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "…")
