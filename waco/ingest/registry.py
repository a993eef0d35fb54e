"""Which handlers run for which event kind, in a declared order.

Apps register in their `handlers.py` (imported by their AppConfig.ready()), so
ingest never imports them. Several handlers may take one kind; they run in
`order`, lowest first, in the transaction that records the event.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum


class HandlerOrder(IntEnum):
    IDENTITY = 10  # contacts: identity and the service window move first
    CHANNELS = 20  # numbers and accounts: quality, limits
    TEMPLATES = 30  # template lifecycle
    DELIVERY = 40  # outbound: statuses of our messages
    COMMERCE = 50  # checkout: payments
    DIALOGUE = 60  # conversations: reply to the customer, last


@dataclass(frozen=True)
class Handler:
    kind: str
    order: int
    func: Callable
    # Most events concern one business number; account-level ones (templates,
    # account alerts) do not, and their handlers say so.
    needs_phone_number: bool = True

    @property
    def name(self) -> str:
        return f"{self.func.__module__}.{self.func.__qualname__}"


_handlers: dict[str, list[Handler]] = {}


def register(kind: str, *, order: HandlerOrder, needs_phone_number: bool = True):
    """Decorator: run `func(event, *, phone_number)` for every event of `kind`.

    With needs_phone_number, an event that names no number Waco knows is
    recorded as unrouted instead of reaching the handler.
    """

    def decorator(func: Callable) -> Callable:
        handlers = [h for h in _handlers.get(kind, []) if h.func is not func]
        handlers.append(Handler(kind=kind, order=int(order), func=func, needs_phone_number=needs_phone_number))
        _handlers[kind] = sorted(handlers, key=lambda h: (h.order, h.name))
        return func

    return decorator


def handlers_for(kind: str) -> list[Handler]:
    return list(_handlers.get(kind, ()))


_after_batch: list[Callable[[], None]] = []


def register_after_batch(func: Callable[[], None]) -> Callable[[], None]:
    """Run `func()` after each batch of deliveries is applied (every event committed or
    failed): for work worth doing once per batch rather than once per event."""
    if func not in _after_batch:
        _after_batch.append(func)
    return func


def after_batch_hooks() -> list[Callable[[], None]]:
    return list(_after_batch)
