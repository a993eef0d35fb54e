"""The wa_id Meta gives a phone number: its digits, with the country rules WhatsApp applies.

Two countries changed their mobile numbers after WhatsApp had keyed accounts on them,
and Meta answers a send to the other form with the account's wa_id (`input` keeps
what was sent); the customer's messages and statuses come from that wa_id too:
- Brazil: mobiles gained a ninth digit, a 9 after the two-digit area code (2012-2016).
  A send to 55 AA + 8 digits reaches 55 AA 9 + 8 digits. (Meta's real answer depends on
  when the account was registered; the sandbox plays the accounts with the 9.)
- Mexico: WhatsApp keeps the mobile prefix 1 after 52 that Mexico dropped from dialling
  in 2019: a send to 52 + 10 digits reaches 521 + 10 digits, the form Meta's webhooks carry.
"""

import re

PHONE_LIKE = re.compile(r"^\+?[\d\s\-()]+$")
# Area codes are 11-99 without a 0; mobiles began with 6 to 9 before the ninth digit.
BRAZIL_MOBILE_WITHOUT_NINE = re.compile(r"^55([1-9]{2})([6-9]\d{7})$")
# Mexican area codes begin with 2 to 9, so 52 + ten digits never begins 521.
MEXICO_MOBILE_WITHOUT_ONE = re.compile(r"^52([2-9]\d{9})$")


def canonical_wa_id(digits: str) -> str:
    """Meta's wa_id for a phone number in digits (country code first)."""
    if match := BRAZIL_MOBILE_WITHOUT_NINE.match(digits):
        return f"55{match[1]}9{match[2]}"
    if match := MEXICO_MOBILE_WITHOUT_ONE.match(digits):
        return f"521{match[1]}"
    return digits


def wa_id_for(to: str) -> str:
    """The wa_id Meta answers for a recipient: a phone number's canonical digits, else the id as given."""
    return canonical_wa_id(re.sub(r"\D", "", to)) if PHONE_LIKE.match(to) else to
