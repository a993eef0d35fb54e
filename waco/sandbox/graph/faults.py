"""The Graph API's faults: latency, 5xx answers, 130429 bursts and injected send errors.

Each draws from the seeded streams of waco.sandbox.faults, so a configured rate is exact.
"""

import time

from django.db.models import F

from waco.sandbox.config import CONFIG_PK, Config
from waco.sandbox.faults import fault_roll
from waco.sandbox.graph.errors import GraphError
from waco.sandbox.models import SandboxConfig

# The Graph error each simulated server status carries.
_SERVER_ERROR_CODES = {500: 131000, 503: 2}


def latency_apply(config: Config) -> None:
    if config["latency_ms"]:
        time.sleep(config["latency_ms"] / 1000)


def server_error_check(config: Config) -> None:
    """Raise a 5xx Graph error for the configured share of calls."""
    if fault_roll(config, "server_error", config["server_error_rate"]):
        status = config["server_error_status"]
        raise GraphError(_SERVER_ERROR_CODES.get(status, 131000), http_status=status)


def throttle_burst_take(config: Config) -> bool:
    """True if this send falls in an armed 130429 burst; the counter is shared by processes."""
    if config.throttle_remaining <= 0:
        return False
    taken = SandboxConfig.objects.filter(pk=CONFIG_PK, throttle_remaining__gt=0).update(
        throttle_remaining=F("throttle_remaining") - 1
    )
    return taken == 1


def sync_error_pick(config: Config) -> int | None:
    """The Graph error code this send is refused with, if a configured rate picks it."""
    return _pick(config, "sync", config["sync_error_rates"])


def async_error_pick(config: Config) -> int | None:
    """The error code this accepted send fails with later, by a status webhook."""
    return _pick(config, "async", config["async_error_rates"])


def _pick(config: Config, prefix: str, rates: dict) -> int | None:
    # Sorted so the order of the draws, hence the outcome, never depends on dict order.
    for code in sorted(rates, key=int):
        if fault_roll(config, f"{prefix}:{code}", rates[code]):
            return int(code)
    return None
