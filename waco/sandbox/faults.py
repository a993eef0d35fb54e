"""Fault injection: seeded, stratified streams, so a configured rate is exact and reproducible.

Each fault kind draws from its own stream seeded with (fault_seed, kind), so
turning one fault on never shifts the draws of another, and the same seed
gives the same faults on every run. A stream picks, in every block of 100
calls, exactly rate x 100 of them at random (carrying fractions over): the
faults look random, yet 1,000 calls at 5% give 50 faults, give or take one,
whatever the seed. Streams restart whenever the config row changes
(revision) or is recreated (generation).
"""

import random
import threading
import time

from django.db.models import F

from waco.sandbox.config import CONFIG_PK, Config
from waco.sandbox.errors import GraphError
from waco.sandbox.models import SandboxConfig

_lock = threading.Lock()
_streams: dict[tuple, "FaultStream"] = {}
# Old configurations' streams are useless; keep the table from growing without end.
_MAX_STREAMS = 512

# The Graph error each simulated server status carries.
_SERVER_ERROR_CODES = {500: 131000, 503: 2}


class FaultStream:
    """Exactly `rate` of each block of calls, at seeded random positions within the block."""

    BLOCK = 100

    def __init__(self, seed: str, rate: float):
        self._random = random.Random(seed)
        self._rate = rate
        self._carry = 0.0
        self._block: list[bool] = []

    def next(self) -> bool:
        if not self._block:
            wanted = self._rate * self.BLOCK + self._carry
            count = min(self.BLOCK, int(wanted))
            self._carry = wanted - count
            chosen = set(self._random.sample(range(self.BLOCK), count))
            self._block = [position in chosen for position in range(self.BLOCK)]
        return self._block.pop()


def fault_roll(config: Config, kind: str, rate: float) -> bool:
    """True for `rate` of the calls of this kind, at positions fixed by the seed."""
    if rate <= 0:
        return False
    key = (config.generation, config.revision, str(config["fault_seed"]), kind, rate)
    with _lock:
        stream = _streams.get(key)
        if stream is None:
            if len(_streams) >= _MAX_STREAMS:
                _streams.clear()
            stream = _streams[key] = FaultStream(f"{config['fault_seed']}:{kind}", rate)
        return stream.next()


def faults_reset() -> None:
    with _lock:
        _streams.clear()


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


def stripe_fault_applies(config: Config, fault: str, event_type: str) -> bool:
    """Whether a Stripe event is dropped, duplicated or reordered: by its type if a list
    names types, else for the configured share of events."""
    rule = config["stripe_faults"][fault]
    if isinstance(rule, list):
        return event_type in rule
    return fault_roll(config, f"stripe_{fault}", rule)
