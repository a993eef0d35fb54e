"""Available stock, defined once, and the reservations that hold it.

    available = on_hand − open reservations − units sold after on_hand's as_of

`on_hand` is the system of record's last level and `on_hand_as_of` the moment it
describes; Waco never decrements it. A reservation is open while neither released
nor consumed and before `held_until`; a consumed one is a sale made at
`consumed_at`, which the level already counts when it came later. Every reader
(the thread, the cart, checkout, the Meta push, the API) asks `availability_for`
or `available_one`; checkout holds, releases and sells through the functions
below, which lock the variant rows in id order so two buyers of the last unit are
served one after the other.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from django.db import connection, transaction
from django.db.models import F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from catalog.models import StockReservation, Variant
from waco.events.models import EventType
from waco.events.services import NewEvent, events_record

# What a reported level does (POST /stock answers these per level; feeds and PUT use the first three).
APPLIED, UNCHANGED, STALE, UNKNOWN_SKU = "applied", "unchanged", "stale", "unknown_sku"


class NotEnoughStock(Exception):
    """Some variants cannot supply what was asked; `available` maps each short variant id to what it has."""

    def __init__(self, available: Mapping[int, int]):
        super().__init__(f"not enough stock for variants {sorted(available)}")
        self.available = dict(available)


def with_availability(variants: QuerySet[Variant], *, now: datetime, holder: str | None = None) -> QuerySet[Variant]:
    """The variants, each annotated with `available` (never below zero). With `holder`, what that
    buyer holds counts as available to them (their own cart during checkout)."""
    held = Q(
        reservations__released_at__isnull=True, reservations__consumed_at__isnull=True, reservations__held_until__gt=now
    )
    if holder:
        held &= ~Q(reservations__holder=holder)
    sold_since_level = Q(reservations__consumed_at__gt=F("on_hand_as_of"))
    return variants.annotate(
        available=Greatest(
            F("on_hand")
            - Coalesce(Sum("reservations__quantity", filter=held), Value(0))
            - Coalesce(Sum("reservations__quantity", filter=sold_since_level), Value(0)),
            Value(0),
        )
    )


def availability_for(
    *, variant_ids: Iterable[int], now: datetime | None = None, holder: str | None = None
) -> dict[int, int]:
    """Units that can be sold now, per variant id (unknown ids are left out)."""
    rows = with_availability(Variant.objects.filter(pk__in=list(variant_ids)), now=now or timezone.now(), holder=holder)
    return dict(rows.values_list("pk", "available"))


def available_one(*, variant: Variant, now: datetime | None = None, holder: str | None = None) -> int:
    return availability_for(variant_ids=[variant.pk], now=now, holder=holder).get(variant.pk, 0)


def _lock(variant_ids: Iterable[int]) -> None:
    # Every change to what is held takes these locks first, in id order: no deadlock, no double sale.
    list(Variant.objects.select_for_update().filter(pk__in=list(variant_ids)).order_by("pk").values_list("pk"))


def _open(holder: str, now: datetime) -> QuerySet[StockReservation]:
    return StockReservation.objects.filter(
        holder=holder, released_at__isnull=True, consumed_at__isnull=True, held_until__gt=now
    )


def _availability_changed(variant_ids: Iterable[int], now: datetime) -> None:
    """What Meta shows (in stock or not, and how many) follows availability: queue the variants' push."""
    Variant.objects.filter(pk__in=list(variant_ids)).update(meta_dirty=True, updated_at=now)


@transaction.atomic
def stock_hold(*, holder: str, wanted: Mapping[int, int], held_until: datetime, now: datetime) -> None:
    """Hold `wanted` units (variant id -> quantity) for `holder` until `held_until`: all of them, or
    none and NotEnoughStock. The variant locks last until the caller's transaction commits."""
    _take(holder=holder, wanted=wanted, held_until=held_until, now=now, sold=False)


def _take(*, holder: str, wanted: Mapping[int, int], held_until: datetime, now: datetime, sold: bool) -> None:
    _lock(wanted)
    available = availability_for(variant_ids=wanted, now=now)
    short = {pk: available.get(pk, 0) for pk, quantity in wanted.items() if available.get(pk, 0) < quantity}
    if short:
        raise NotEnoughStock(short)
    StockReservation.objects.bulk_create(
        StockReservation(
            holder=holder, variant_id=pk, quantity=quantity, held_until=held_until, consumed_at=now if sold else None
        )
        for pk, quantity in wanted.items()
        if quantity > 0
    )
    _availability_changed(wanted, now)
    _stock_events(EventType.STOCK_RESERVED, holder=holder, units=wanted, now=now, sold=sold)


def stock_hold_extend(*, holder: str, held_until: datetime, now: datetime) -> int:
    """Keep the holder's open reservations until `held_until` (a new payment attempt); returns how many."""
    return _open(holder, now).update(held_until=held_until)


def stock_is_held(*, holder: str, now: datetime) -> bool:
    return _open(holder, now).exists()


@transaction.atomic
def stock_release(*, holder: str, now: datetime) -> int:
    """The sale fell through: the holder's unconsumed reservations stop holding anything."""
    released = StockReservation.objects.filter(holder=holder, released_at__isnull=True, consumed_at__isnull=True)
    units = dict(released.values("variant_id").annotate(units=Sum("quantity")).values_list("variant_id", "units"))
    count = released.update(released_at=now)
    _availability_changed(units, now)
    _stock_events(EventType.STOCK_RELEASED, holder=holder, units=units, now=now)
    return count


def _stock_events(type: str, *, holder: str, units: Mapping[int, int], now: datetime, sold: bool = False) -> None:
    """One event per variant for the merchant's systems (waco.events), with what is available after it.

    The subject names the SKU URL-quoted (a SKU may hold spaces; a subject may not)."""
    units = {pk: quantity for pk, quantity in units.items() if quantity > 0}
    if not units:
        return
    available = availability_for(variant_ids=units, now=now)
    variants = Variant.objects.filter(pk__in=list(units)).select_related("business_account").order_by("pk")
    events_record(
        [
            NewEvent(
                type,
                f"variant:{quote(variant.sku, safe='')}",
                {
                    "sku": variant.sku,
                    "account": variant.business_account.waba_id,
                    "quantity": units[variant.pk],
                    "holder": holder,
                    "sold": sold,
                    "on_hand": variant.on_hand,
                    "available": available.get(variant.pk, 0),
                },
                variant.business_account,
            )
            for variant in variants
        ],
        now=now,
    )


@transaction.atomic
def stock_sell(*, holder: str, wanted: Mapping[int, int], now: datetime) -> None:
    """The holder paid at `now`: its held units are sold. Units it no longer holds (the hold ran out
    or was released) are taken again at today's availability, all or none, else NotEnoughStock
    (and nothing changed: the caller releases what the holder still has)."""
    _lock(wanted)
    open_holds = _open(holder, now)
    held: dict[int, int] = dict(
        open_holds.values("variant_id").annotate(units=Sum("quantity")).values_list("variant_id", "units")
    )
    if held == {pk: quantity for pk, quantity in wanted.items() if quantity > 0}:
        open_holds.update(consumed_at=now)
        _availability_changed(wanted, now)
        return
    stock_release(holder=holder, now=now)
    _take(holder=holder, wanted=wanted, held_until=now, now=now, sold=True)


def sales_since(variants: Iterable[Variant]) -> dict[int, list[datetime]]:
    """Per variant id, the times of its sales after its level's as_of (the units `available` subtracts)."""
    variants = list(variants)
    if not variants:
        return {}
    since = {v.pk: v.on_hand_as_of for v in variants}
    rows = StockReservation.objects.filter(variant_id__in=since, consumed_at__gt=min(since.values()))
    sales: dict[int, list[datetime]] = {}
    for variant_id, consumed_at in rows.values_list("variant_id", "consumed_at"):
        if consumed_at > since[variant_id]:
            sales.setdefault(variant_id, []).append(consumed_at)
    return sales


def level_outcome(*, variant: Variant, on_hand: int, as_of: datetime, sales: Iterable[datetime] = ()) -> str:
    """What a level reported at `as_of` does to the variant's, whose sales since its as_of are `sales`.

    STALE: not later than the level held (the same figure at the same time is UNCHANGED: a retry).
    UNCHANGED: the same figure confirmed later, with no sale in between (only its as_of moves).
    APPLIED: a new figure, or the same one now counting sales it did not count before.
    """
    if as_of <= variant.on_hand_as_of:
        return UNCHANGED if (as_of, on_hand) == (variant.on_hand_as_of, variant.on_hand) else STALE
    if on_hand != variant.on_hand or any(variant.on_hand_as_of < sold_at <= as_of for sold_at in sales):
        return APPLIED
    return UNCHANGED


@dataclass(frozen=True)
class StockLevel:
    """A level the system of record reports: `on_hand` units of the account's `sku` at `as_of`."""

    business_account_id: int
    sku: str
    on_hand: int
    as_of: datetime


@transaction.atomic
def stock_levels_apply(*, levels: list[StockLevel], now: datetime) -> list[str]:
    """Apply reported levels in order, all in a few queries; answers each level's outcome.

    Variants are locked in id order (as checkout does), so a sale and a push never interleave
    on one variant: whichever commits first, units sold after the level's as_of stay subtracted.
    """
    wanted = Q(pk__in=[])
    for account_id in {level.business_account_id for level in levels}:
        skus = {level.sku for level in levels if level.business_account_id == account_id}
        wanted |= Q(business_account_id=account_id, sku__in=skus)
    rows = Variant.objects.select_for_update().filter(wanted).order_by("pk")
    rows = rows.only("pk", "business_account_id", "sku", "on_hand", "on_hand_as_of")
    variants = {(v.business_account_id, v.sku): v for v in rows}
    sales = sales_since(variants.values())
    outcomes, applied, confirmed = [], {}, {}
    for level in levels:
        variant = variants.get((level.business_account_id, level.sku))
        if variant is None:
            outcomes.append(UNKNOWN_SKU)
            continue
        outcome = level_outcome(
            variant=variant, on_hand=level.on_hand, as_of=level.as_of, sales=sales.get(variant.pk, ())
        )
        outcomes.append(outcome)
        if outcome == STALE or level.as_of <= variant.on_hand_as_of:
            continue
        variant.on_hand, variant.on_hand_as_of = level.on_hand, level.as_of
        (applied if outcome == APPLIED else confirmed)[variant.pk] = variant
    for pk in applied:
        confirmed.pop(pk, None)  # a later level of the same SKU only confirmed this one
    _levels_write(applied.values(), changed_at=now)  # what Meta shows follows availability: dirty
    _levels_write(confirmed.values(), changed_at=None)
    return outcomes


def _levels_write(variants: Iterable[Variant], *, changed_at: datetime | None) -> None:
    """One UPDATE for many levels. Not bulk_update: its CASE per row costs ~0.3 ms a variant,
    in Python and in PostgreSQL; unnest joins arrays as one table. `changed_at` None: only
    as_of moves (the same figure confirmed), no updated_at, nothing for Meta."""
    variants = list(variants)
    if not variants:
        return
    columns = [[v.pk for v in variants], [v.on_hand for v in variants], [v.on_hand_as_of for v in variants]]
    changes = "on_hand = l.on_hand, on_hand_as_of = l.as_of"
    if changed_at is not None:
        changes += ", meta_dirty = true, updated_at = %s"
    sql = (
        f"UPDATE {Variant._meta.db_table} AS v SET {changes} "
        "FROM unnest(%s::bigint[], %s::integer[], %s::timestamptz[]) AS l(id, on_hand, as_of) WHERE v.id = l.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, ([changed_at] if changed_at is not None else []) + columns)
