"""The sandbox's behaviour and fault-injection settings: one row, edited as JSON.

Defaults below, overridable per deployment by the Django setting
WACO_SANDBOX_CONFIG (a dict with the same keys), then by the row that tests and
benchmarks write through POST /sandbox/config or `config_update`.
"""

import copy
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from waco.sandbox.models import SandboxConfig

CONFIG_PK = 1
# Bodies stay far below Waco's 1 MB limit (a status is about 1 KB).
MAX_WEBHOOK_BATCH = 100

DEFAULTS = {
    # Added to every Graph API call, to see how Waco copes with a slow Meta.
    "latency_ms": 0,
    # Share of Graph API calls answered with a 5xx before anything else happens.
    "server_error_rate": 0.0,
    "server_error_status": 500,
    # {"<code>": rate}: share of sends refused synchronously with that Graph error.
    "sync_error_rates": {},
    # {"<code>": rate}: share of sends accepted, then failed by a status webhook.
    "async_error_rates": {},
    # Seed of the fault streams: the same seed gives the same faults, so tests cannot flake.
    "fault_seed": 0,
    "statuses": True,
    "read_receipts": True,
    # When each status of an accepted send is due, after the send.
    "status_delays_ms": {"sent": 0, "delivered": 200, "read": 1000},
    "status_drop_rate": 0.0,
    "status_duplicate_rate": 0.0,
    # Share of sends whose statuses arrive newest first.
    "status_reorder_rate": 0.0,
    "inbound_duplicate_rate": 0.0,
    # Share of inbound messages held back by reorder_delay_ms, so later ones overtake them.
    "inbound_reorder_rate": 0.0,
    "reorder_delay_ms": 1000,
    # Meta keeps media URLs about five minutes.
    "media_url_ttl_seconds": 300,
    # Meta reviews take minutes to hours; the demo wants to see an approval quickly.
    "template_review_delay_seconds": 2.0,
    # Templates with these names (or "reject" in the name) are rejected on review.
    "template_reject_names": [],
    "template_reject_reason": "INVALID_FORMAT",
    # Marketing templates one user may receive per 24 h before 131049; None: no limit.
    "marketing_limit_per_user": None,
    # The pair limit; None means Waco's own WACO_PAIR_RATE_PER_MINUTE / WACO_PAIR_BURST.
    "pair_rate_per_minute": None,
    "pair_burst": None,
    # {"<phone_number_id>": {quality_rating, messaging_limit_tier, messages_per_second, ...}}
    "numbers": {},
    # Benchmarks: sends recorded in process memory only, statuses only if lean_statuses.
    "lean": False,
    "lean_statuses": False,
    # Webhook retries: base * 2**(attempt-1) seconds, capped, then given up.
    "webhook_retry_base_seconds": 1.0,
    "webhook_retry_max_seconds": 3600.0,
    "webhook_max_attempts": 30,
    # Meta may carry several entries in one POST: up to this many due webhooks are merged
    # into one (1: one POST per event, Meta's usual pace; more: Meta under load).
    "webhook_batch_size": 1,
    # Stripe event faults, each a share of events (0 to 1) or a list of event types always hit.
    # A dropped event is never sent: it stays in GET /v1/events?delivery_success=false.
    # A reordered one is held back by reorder_delay_ms, so later events overtake it.
    "stripe_faults": {"drop": 0.0, "duplicate": 0.0, "reorder": 0.0},
}

NUMBER_DEFAULTS = {
    "quality_rating": "GREEN",
    "messaging_limit_tier": "TIER_250",
    # Meta's default throughput; numbers are raised to 1,000 automatically.
    "messages_per_second": 80,
    "name_status": "APPROVED",
}
QUALITY_RATINGS = ("GREEN", "YELLOW", "RED", "UNKNOWN")
STATUS_NAMES = ("sent", "delivered", "read")


class ConfigError(ValueError):
    pass


def _rate(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ConfigError("must be a number from 0 to 1")
    return float(value)


def _non_negative(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError("must be a number >= 0")
    return value


def _positive_int(value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError("must be an integer >= 1")
    return value


def _webhook_batch_size(value):
    if _positive_int(value) > MAX_WEBHOOK_BATCH:
        raise ConfigError(f"must be at most {MAX_WEBHOOK_BATCH}")
    return value


def _optional_non_negative_int(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError("must be null or an integer >= 0")
    return value


def _optional_positive(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError("must be null or a number > 0")
    return value


def _bool(value):
    if not isinstance(value, bool):
        raise ConfigError("must be true or false")
    return value


def _server_status(value):
    if not isinstance(value, int) or not 500 <= value <= 599:
        raise ConfigError("must be an HTTP status from 500 to 599")
    return value


def _code_rates(value):
    if not isinstance(value, dict):
        raise ConfigError('must be an object like {"131000": 0.05}')
    try:
        return {str(int(code)): _rate(rate) for code, rate in value.items()}
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"codes must be integers and rates from 0 to 1 ({exc})") from None


def _seed(value):
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ConfigError("must be an integer or a string")
    return value


def _names(value):
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError("must be a list of strings")
    return value


def _short_text(value):
    if not isinstance(value, str) or not value:
        raise ConfigError("must be a non-empty string")
    return value


def _status_delays(value):
    if not isinstance(value, dict) or set(value) - set(STATUS_NAMES):
        raise ConfigError(f"must be an object with keys among {', '.join(STATUS_NAMES)}")
    return {**DEFAULTS["status_delays_ms"], **{k: _non_negative(v) for k, v in value.items()}}


def _quality(value):
    if value not in QUALITY_RATINGS:
        raise ConfigError(f"must be one of {', '.join(QUALITY_RATINGS)}")
    return value


_NUMBER_FIELDS = {
    "quality_rating": _quality,
    "messaging_limit_tier": _short_text,
    "messages_per_second": _positive_int,
    "name_status": _short_text,
    "verified_name": _short_text,
    "display_phone_number": _short_text,
}


def _numbers(value):
    if not isinstance(value, dict):
        raise ConfigError('must be an object like {"<phone_number_id>": {"quality_rating": "RED"}}')
    cleaned = {}
    for number_id, fields in value.items():
        if not isinstance(fields, dict):
            raise ConfigError(f"{number_id}: must be an object")
        unknown = set(fields) - set(_NUMBER_FIELDS)
        if unknown:
            raise ConfigError(f"{number_id}: unknown field(s) {', '.join(sorted(unknown))}")
        cleaned[str(number_id)] = {k: _NUMBER_FIELDS[k](v) for k, v in fields.items()}
    return cleaned


def _stripe_faults(value):
    if not isinstance(value, dict) or set(value) - set(DEFAULTS["stripe_faults"]):
        raise ConfigError('must be an object like {"drop": 0.1, "duplicate": ["checkout.session.completed"]}')
    cleaned = {}
    for fault, rule in value.items():
        try:
            cleaned[fault] = _names(rule) if isinstance(rule, list) else _rate(rule)
        except ConfigError as exc:
            raise ConfigError(f"{fault}: {exc} or a list of event types") from None
    return {**DEFAULTS["stripe_faults"], **cleaned}


VALIDATORS = {
    "latency_ms": _non_negative,
    "server_error_rate": _rate,
    "server_error_status": _server_status,
    "sync_error_rates": _code_rates,
    "async_error_rates": _code_rates,
    "fault_seed": _seed,
    "statuses": _bool,
    "read_receipts": _bool,
    "status_delays_ms": _status_delays,
    "status_drop_rate": _rate,
    "status_duplicate_rate": _rate,
    "status_reorder_rate": _rate,
    "inbound_duplicate_rate": _rate,
    "inbound_reorder_rate": _rate,
    "reorder_delay_ms": _non_negative,
    "media_url_ttl_seconds": _non_negative,
    "template_review_delay_seconds": _non_negative,
    "template_reject_names": _names,
    "template_reject_reason": _short_text,
    "marketing_limit_per_user": _optional_non_negative_int,
    "pair_rate_per_minute": _optional_positive,
    "pair_burst": lambda v: None if v is None else _positive_int(v),
    "numbers": _numbers,
    "lean": _bool,
    "lean_statuses": _bool,
    "webhook_retry_base_seconds": _non_negative,
    "webhook_retry_max_seconds": _non_negative,
    "webhook_max_attempts": _positive_int,
    "webhook_batch_size": _webhook_batch_size,
    "stripe_faults": _stripe_faults,
}
# Not stored: writing it arms a counter of sends to refuse with 130429.
THROTTLE_BURST = "throttle_burst"


@dataclass(frozen=True)
class Config:
    values: dict
    generation: str
    revision: int
    throttle_remaining: int

    def __getitem__(self, key):
        return self.values[key]

    def number(self, phone_number_id: str) -> dict:
        """A number's simulated health and limits: defaults, then overrides."""
        return {**NUMBER_DEFAULTS, **self.values["numbers"].get(phone_number_id, {})}

    @property
    def pair_rate_per_minute(self) -> float:
        configured = self.values["pair_rate_per_minute"]
        return settings.WACO_PAIR_RATE_PER_MINUTE if configured is None else configured

    @property
    def pair_burst(self) -> int:
        configured = self.values["pair_burst"]
        return settings.WACO_PAIR_BURST if configured is None else configured

    def public(self) -> dict:
        return {**copy.deepcopy(self.values), THROTTLE_BURST: self.throttle_remaining}


def validate_changes(changes: dict) -> dict:
    """Every problem named at once, so a caller fixes them in one go."""
    if not isinstance(changes, dict):
        raise ConfigError("config must be a JSON object")
    cleaned, problems = {}, []
    for key, value in changes.items():
        if key == THROTTLE_BURST:
            validator = _optional_non_negative_int
        elif key in VALIDATORS:
            validator = VALIDATORS[key]
        else:
            problems.append(f"{key}: unknown key")
            continue
        try:
            cleaned[key] = validator(value)
        except ConfigError as exc:
            problems.append(f"{key}: {exc}")
    if problems:
        raise ConfigError("; ".join(problems))
    return cleaned


def config_defaults() -> dict:
    overrides = getattr(settings, "WACO_SANDBOX_CONFIG", {}) or {}
    try:
        cleaned = validate_changes(dict(overrides))
    except ConfigError as exc:
        raise ImproperlyConfigured(f"WACO_SANDBOX_CONFIG: {exc}") from None
    cleaned.pop(THROTTLE_BURST, None)
    return {**copy.deepcopy(DEFAULTS), **cleaned}


def _row() -> SandboxConfig:
    row = SandboxConfig.objects.filter(pk=CONFIG_PK).first()
    if row is None:
        row, _ = SandboxConfig.objects.get_or_create(pk=CONFIG_PK, defaults={"generation": secrets.token_hex(16)})
    return row


def _config(row: SandboxConfig) -> Config:
    return Config(
        values={**config_defaults(), **row.values},
        generation=row.generation,
        revision=row.revision,
        throttle_remaining=row.throttle_remaining,
    )


def config_get() -> Config:
    """The effective configuration. Read on every request: changes apply at once."""
    return _config(_row())


def config_update(*, changes: dict, reset: bool = False) -> Config:
    """Merge `changes` (top-level keys replace) into the row; `reset` starts from defaults."""
    cleaned = validate_changes(changes)
    with transaction.atomic():
        _row()
        row = SandboxConfig.objects.select_for_update().get(pk=CONFIG_PK)
        values = {} if reset else dict(row.values)
        if reset:
            row.throttle_remaining = 0
        burst = cleaned.pop(THROTTLE_BURST, None)
        if burst is not None:
            row.throttle_remaining = burst
        values.update(cleaned)
        row.values = values
        # A new revision restarts the fault streams, so a test's faults follow its own seed.
        row.revision += 1
        row.save()
    return _config(row)


def config_reset() -> Config:
    return config_update(changes={}, reset=True)
