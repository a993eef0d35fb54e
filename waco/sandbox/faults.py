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

from waco.sandbox.config import Config

_lock = threading.Lock()
_streams: dict[tuple, "FaultStream"] = {}
# Old configurations' streams are useless; keep the table from growing without end.
_MAX_STREAMS = 512


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
