"""Total coercions from untrusted JSON values to typed Python values.

Meta's payloads are JSON we do not control: every helper here returns a value of
the promised type or a default, and never raises, whatever it is given.
"""

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

# Unix seconds beyond this are not a date Meta could mean; datetime would overflow anyway.
_MAX_UNIX_SECONDS = 253402300799  # 9999-12-31T23:59:59Z


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def dicts(value: Any) -> list[dict]:
    """The dict items of a list; anything else in it is dropped."""
    return [item for item in as_list(value) if isinstance(item, dict)]


def as_str(value: Any) -> str | None:
    """A string as given (less NUL characters), or None. Numbers are not strings: see as_id.

    JSON may carry "\\u0000", but no Meta field means it and PostgreSQL text
    cannot store it, so it is dropped here once for every consumer.
    """
    if not isinstance(value, str):
        return None
    return value.replace("\x00", "") if "\x00" in value else value


def as_id(value: Any) -> str | None:
    """An identifier: Meta sends some ids (template ids) as JSON numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return as_str(value) or None


def as_int(value: Any) -> int | None:
    """An int from an int or a decimal string ("1697043223"); bools are not ints."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text[:1] in ("+", "-") else text
        # ASCII digits only (int() rejects some Unicode "digits"); short, so int() is cheap.
        if digits.isascii() and digits.isdecimal() and len(text) <= 40:
            return int(text)
    return None


def as_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def as_float(value: Any) -> float | None:
    """Coordinates come as numbers or, in some examples, as strings."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            result = float(value)
        except OverflowError:
            return None
    elif isinstance(value, str) and len(value) <= 64:
        try:
            result = float(value)
        except ValueError:
            return None
    else:
        return None
    return result if result == result and abs(result) != float("inf") else None


def as_decimal(value: Any) -> Decimal | None:
    """A price as given (30, 12.5 or "12.50"), without float rounding noise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, str)):
        text = str(value).strip() if not isinstance(value, int) else str(value)
        if len(text) > 64:
            return None
        try:
            result = Decimal(text)
        except (InvalidOperation, ValueError):
            return None
        # A price with an absurd exponent would blow up later arithmetic.
        if not result.is_finite() or not -30 <= result.adjusted() <= 30:
            return None
        return result
    return None


def as_timestamp(value: Any) -> datetime | None:
    """Unix seconds (int or digit string, as Meta sends them) to an aware UTC datetime."""
    seconds = as_int(value)
    if seconds is None or not 0 <= seconds <= _MAX_UNIX_SECONDS:
        return None
    return datetime.fromtimestamp(seconds, tz=UTC)


def content_hash(*parts: Any) -> str:
    """A stable digest of JSON-like values, for dedupe keys of events without an id."""
    try:
        text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=repr)
    except (TypeError, ValueError, RecursionError):
        # Mixed-type keys or absurd nesting: repr is still stable for the same input.
        try:
            text = repr(parts)
        except RecursionError:
            text = "unrepresentable"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def short_repr(value: Any, limit: int = 80) -> str:
    """A bounded repr for reasons and logs: a raw value can be megabytes."""
    try:
        text = repr(value)
    except RecursionError:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
