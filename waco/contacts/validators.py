"""What the merchant may say about a contact: checked the same way in the model, the admin and the API."""

import json
import re
import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError

# Meta's template language codes: "en", "en_US", "pt_BR", "zh_HK", "es_419" (BCP 47 with "_").
LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Za-z0-9]{2,4})?")
MAX_TAGS = 50
MAX_TAG_LENGTH = 64
MAX_ATTRIBUTES = 50
ATTRIBUTE_KEY = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MAX_ATTRIBUTE_TEXT = 1000
MAX_ATTRIBUTES_BYTES = 8192


def language_normalise(value: str) -> str:
    """BCP 47's "pt-BR" or "en-us" as WhatsApp writes it: "pt_BR", "en_US"."""
    language, _, subtag = value.strip().replace("-", "_").partition("_")
    if not subtag:
        return language.lower()
    subtag = subtag.upper() if len(subtag) == 2 else subtag.title() if subtag.isalpha() else subtag
    return f"{language.lower()}_{subtag}"


def validate_language(value: str) -> None:
    if value and not LANGUAGE.fullmatch(value):
        raise ValidationError(f"{value!r} is not a language code such as en, en_US, pt_BR or es_419.")


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value and value not in _time_zones():
        raise ValidationError(f"{value!r} is not an IANA time zone such as Asia/Dubai or America/Sao_Paulo.")


def validate_tags(value) -> None:
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise ValidationError("Tags are a list of strings.")
    if len(value) > MAX_TAGS:
        raise ValidationError(f"At most {MAX_TAGS} tags.")
    if any(not tag.strip() or len(tag) > MAX_TAG_LENGTH for tag in value):
        raise ValidationError(f"A tag is 1 to {MAX_TAG_LENGTH} characters.")
    if len(set(value)) != len(value):
        raise ValidationError("Tags repeat.")


def validate_attributes(value) -> None:
    """A flat JSON object of text, numbers, booleans and nulls: easy to show, filter and export."""
    if not isinstance(value, dict):
        raise ValidationError("Attributes are a JSON object.")
    if len(value) > MAX_ATTRIBUTES:
        raise ValidationError(f"At most {MAX_ATTRIBUTES} attributes.")
    for key, item in value.items():
        if not ATTRIBUTE_KEY.fullmatch(key):
            raise ValidationError(f"{key!r}: a key is 1 to 64 letters, digits, '_', '.' or '-'.")
        if not isinstance(item, str | int | float | bool | None):
            raise ValidationError(f"{key!r}: a value is text, a number, true, false or null, not a list or object.")
        if isinstance(item, str) and len(item) > MAX_ATTRIBUTE_TEXT:
            raise ValidationError(f"{key!r}: at most {MAX_ATTRIBUTE_TEXT} characters.")
        if isinstance(item, str) and "\x00" in item:  # PostgreSQL's jsonb refuses NUL
            raise ValidationError(f"{key!r}: text may not contain NUL characters.")
    if len(json.dumps(value, ensure_ascii=False).encode()) > MAX_ATTRIBUTES_BYTES:
        raise ValidationError(f"Attributes take at most {MAX_ATTRIBUTES_BYTES} bytes as JSON.")
