"""The rate limiter's test clock, in microseconds, and the unsaved numbers it limits."""

import uuid

from waco.channels.models import PhoneNumber

T0 = 1_700_000_000_000_000  # an arbitrary "now" in microseconds


class FakeClock:
    def __init__(self):
        self.now_us = T0

    def __call__(self) -> int:
        return self.now_us

    def advance(self, seconds: float) -> None:
        self.now_us += round(seconds * 1_000_000)


def number(throughput_mps: int = 80) -> PhoneNumber:
    # Unsaved: the limiter reads graph_id and throughput_mps only.
    return PhoneNumber(graph_id=f"9{uuid.uuid4().int % 10**14:014d}", throughput_mps=throughput_mps)
