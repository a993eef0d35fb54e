"""What a delivered message costs: Meta's rate for its category in its country's market, on its date.

A status webhook says whether a message is charged and as what (`pricing.category`), never how much:
the money comes from the rate tables (outbound.models.PriceRate, CountryPricingMarket), which staff
edit when Meta changes its cards. What is free is in the data too (a rate of 0), so a change of
Meta's mind is a new row, not new code. No rate in force answers None: unknown, never a guess.

`month_volume` is the count Meta's tiers run on, before this message: for utility and authentication,
the business portfolio's messages of that market and category this month; for service, the sending
number's service messages this month (its monthly free tier).
"""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import phonenumbers
from django.utils import timezone

from outbound.models import CountryPricingMarket, PriceRate

# Meta: "If a country is not listed below, it maps to Other."
OTHER_MARKET = "Other"
# Category names Meta has sent for the same rate card column.
CATEGORY_ALIASES = {
    "authentication_international": "authentication-international",
    # Marketing Messages API sends are billed at Cloud API marketing rates since 2025-07-01.
    "marketing_lite": "marketing",
}


@dataclass(frozen=True)
class Billable:
    """One message to cost: where it went, what Meta billed it as, when, and at what monthly count."""

    country_code: str | None
    category: str
    on: date
    month_volume: int = 0


def country_for_wa_id(wa_id: str) -> str | None:
    """The ISO country of a phone-based wa_id (its digits, country code first); None for a BSUID or nonsense."""
    try:
        number = phonenumbers.parse(f"+{wa_id}")
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.region_code_for_number(number)


def market_for_country(country_code: str | None, *, on: date | None = None) -> str | None:
    """Meta's pricing market for a country's numbers on a date (today by default); None without a country."""
    if not country_code:
        return None
    row = (
        CountryPricingMarket.objects.filter(
            country_code=country_code.upper(), effective_from__lte=on or timezone.localdate()
        )
        .order_by("-effective_from")
        .first()
    )
    return row.market if row else OTHER_MARKET


def message_cost(
    *, country_code: str | None, category: str, on: date, month_volume: int = 0, currency: str = "USD"
) -> Decimal | None:
    """What Meta charges for one delivered message; None when no rate applies (no country, no figure)."""
    return costs_for([Billable(country_code, category, on, month_volume)], currency=currency)[0]


def costs_for(rows: Iterable[Billable], *, currency: str = "USD") -> list[Decimal | None]:
    """The cost of each message, in order, in two queries however many messages there are."""
    rows = list(rows)
    countries = {row.country_code.upper() for row in rows if row.country_code}
    if not countries:
        return [None] * len(rows)
    latest = max(row.on for row in rows)
    markets = _Timeline()
    mappings = CountryPricingMarket.objects.filter(country_code__in=countries, effective_from__lte=latest)
    for country_code, effective_from, market in mappings.values_list("country_code", "effective_from", "market"):
        markets.add(country_code, effective_from, market)
    row_markets = [
        (markets.at(row.country_code.upper(), row.on) or OTHER_MARKET) if row.country_code else None for row in rows
    ]
    categories = {_category(row.category) for row in rows}
    cards = _Timeline()
    tiers: dict[tuple, list[tuple[int, Decimal]]] = defaultdict(list)
    rates = PriceRate.objects.filter(
        market__in={market for market in row_markets if market},
        category__in=categories,
        currency=currency,
        effective_from__lte=latest,
    ).values_list("market", "category", "effective_from", "tier_from", "rate")
    for market, category, effective_from, tier_from, rate in rates:
        cards.add((market, category), effective_from, effective_from)
        tiers[(market, category, effective_from)].append((tier_from, rate))
    for table in tiers.values():
        table.sort()
    costs = []
    for row, market in zip(rows, row_markets, strict=True):
        category = _category(row.category)
        card = cards.at((market, category), row.on) if market else None
        costs.append(None if card is None else _tier_rate(tiers[(market, category, card)], row.month_volume))
    return costs


class _Timeline:
    """Values by key and date: the one in force on a date is the latest from on or before it."""

    def __init__(self):
        self._dates: dict = defaultdict(list)
        self._values: dict = defaultdict(list)

    def add(self, key, effective_from: date, value) -> None:
        if effective_from in self._dates[key]:
            return
        at = bisect_right(self._dates[key], effective_from)
        self._dates[key].insert(at, effective_from)
        self._values[key].insert(at, value)

    def at(self, key, on: date):
        at = bisect_right(self._dates.get(key, []), on)
        return self._values[key][at - 1] if at else None


def _tier_rate(table: list[tuple[int, Decimal]], month_volume: int) -> Decimal | None:
    """The rate of the highest tier reached; None if the card starts above this volume."""
    at = bisect_right([tier_from for tier_from, _ in table], month_volume)
    return table[at - 1][1] if at else None


def _category(category: str) -> str:
    return CATEGORY_ALIASES.get(category, category)
