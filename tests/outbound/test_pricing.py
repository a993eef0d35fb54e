import importlib
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from outbound.models import CountryPricingMarket, PriceRate
from outbound.pricing import Billable, costs_for, country_for_wa_id, market_for_country, message_cost

pytestmark = pytest.mark.django_db

SEED = importlib.import_module("outbound.migrations.0008_price_rates")
JANUARY_2026 = date(2026, 1, 15)


@pytest.fixture(autouse=True)
def seeded_rates(db):
    """Transactional tests empty every table, data migrations' rows included: put the seed back."""
    if not PriceRate.objects.filter(market="United Arab Emirates").exists():
        SEED.seed(apps, None)


def test_the_seeded_uae_marketing_rate_is_metas_published_rate():
    # Meta's USD card effective 2026-01-01 (UAE marketing went up to this on 2025-10-01).
    assert message_cost(country_code="AE", category="marketing", on=JANUARY_2026) == Decimal("0.0499")
    assert message_cost(country_code="AE", category="utility", on=JANUARY_2026) == Decimal("0.0157")
    rate = PriceRate.objects.get(market="United Arab Emirates", category="marketing", effective_from=date(2026, 1, 1))
    assert "developers.facebook.com" in rate.source


def test_the_markets_waco_sells_in_have_a_marketing_and_utility_rate():
    for country in ["AE", "SA", "QA", "KW", "BH", "IN", "EG", "NG", "ZA", "KE", "GH"]:
        for category in ["marketing", "utility", "authentication", "service"]:
            assert message_cost(country_code=country, category=category, on=JANUARY_2026) is not None, (
                country,
                category,
            )


def test_a_rate_change_applies_only_from_its_date():
    # Meta raised Saudi Arabia's marketing rate on 2026-04-01.
    assert message_cost(country_code="SA", category="marketing", on=date(2026, 3, 31)) == Decimal("0.0455")
    assert message_cost(country_code="SA", category="marketing", on=date(2026, 4, 1)) == Decimal("0.0501")
    # Staff record the next change as a row from its date: earlier messages keep their rate.
    PriceRate.objects.create(
        market="United Arab Emirates", category="marketing", effective_from=date(2027, 1, 1), rate=Decimal("0.0550")
    )
    assert message_cost(country_code="AE", category="marketing", on=date(2026, 12, 31)) == Decimal("0.0499")
    assert message_cost(country_code="AE", category="marketing", on=date(2027, 1, 1)) == Decimal("0.0550")


def test_no_rate_before_the_first_card():
    assert message_cost(country_code="AE", category="marketing", on=date(2025, 12, 31)) is None


def test_volume_tiers_pick_the_highest_tier_reached():
    card = date(2027, 1, 1)
    for tier_from, rate in [(0, "0.0014"), (100_000, "0.0012"), (1_000_000, "0.0010")]:
        PriceRate.objects.create(
            market="India", category="utility", effective_from=card, tier_from=tier_from, rate=Decimal(rate)
        )

    def cost(volume):
        return message_cost(country_code="IN", category="utility", on=card, month_volume=volume)

    assert cost(0) == Decimal("0.0014")
    assert cost(99_999) == Decimal("0.0014")
    assert cost(100_000) == Decimal("0.0012")
    assert cost(999_999) == Decimal("0.0012")
    assert cost(25_000_000) == Decimal("0.0010")


def test_a_later_card_replaces_every_tier_of_its_market_and_category():
    PriceRate.objects.create(
        market="India", category="utility", effective_from=date(2027, 1, 1), tier_from=100_000, rate=Decimal("0.001")
    )
    PriceRate.objects.create(market="India", category="utility", effective_from=date(2027, 1, 1), rate=Decimal("0.002"))
    PriceRate.objects.create(market="India", category="utility", effective_from=date(2027, 4, 1), rate=Decimal("0.003"))

    assert message_cost(country_code="IN", category="utility", on=date(2027, 3, 1), month_volume=200_000) == Decimal(
        "0.001"
    )
    assert message_cost(country_code="IN", category="utility", on=date(2027, 4, 1), month_volume=200_000) == Decimal(
        "0.003"
    )


def test_a_country_meta_does_not_list_is_billed_as_other():
    assert market_for_country("IS", on=JANUARY_2026) == "Other"  # Iceland
    assert message_cost(country_code="IS", category="marketing", on=JANUARY_2026) == Decimal("0.0604")


def test_a_country_in_a_regional_group_is_billed_at_its_rest_of_rate():
    assert market_for_country("KE", on=JANUARY_2026) == "Rest of Africa"  # Kenya has no market of its own
    assert message_cost(country_code="ke", category="utility", on=JANUARY_2026) == Decimal("0.0040")
    assert market_for_country("KW", on=JANUARY_2026) == "Rest of Middle East"


def test_a_message_with_no_known_country_has_no_cost():
    assert market_for_country(None) is None
    assert message_cost(country_code=None, category="marketing", on=JANUARY_2026) is None
    assert country_for_wa_id("US.13491208655302741918") is None  # a business-scoped user id


def test_a_country_moves_market_on_the_date_meta_moved_it():
    assert market_for_country("QA", on=date(2026, 6, 30)) == "Rest of Middle East"
    assert market_for_country("QA", on=date(2026, 7, 1)) == "Qatar"
    assert message_cost(country_code="QA", category="utility", on=date(2026, 6, 30)) == Decimal("0.0091")
    assert message_cost(country_code="QA", category="utility", on=date(2026, 7, 1)) == Decimal("0.0120")
    # Zimbabwe was "Other" until Meta put it in Rest of Africa.
    assert market_for_country("ZW", on=date(2025, 9, 30)) == "Other"
    assert market_for_country("ZW", on=date(2025, 10, 1)) == "Rest of Africa"


def test_a_market_whose_new_rates_were_not_found_has_no_cost_rather_than_its_old_one():
    # Kuwait left Rest of Middle East on 2026-10-01; its standalone figures are not seeded.
    assert message_cost(country_code="KW", category="marketing", on=date(2026, 9, 30)) == Decimal("0.0341")
    assert message_cost(country_code="KW", category="marketing", on=date(2026, 10, 1)) is None


def test_a_service_reply_is_free_until_meta_charges_for_it_and_then_after_the_free_tier():
    for volume in (0, 5_000):
        assert message_cost(country_code="AE", category="service", on=JANUARY_2026, month_volume=volume) == 0
    october = date(2026, 10, 1)
    # The sending number's first 1,000 service messages of the month are free, then the utility rate.
    assert message_cost(country_code="AE", category="service", on=october, month_volume=999) == 0
    assert message_cost(country_code="AE", category="service", on=october, month_volume=1_000) == Decimal("0.0157")
    assert message_cost(country_code="KE", category="service", on=october, month_volume=1_000) == Decimal("0.0040")


def test_the_category_names_meta_sends_for_the_same_column_price_alike():
    on = JANUARY_2026
    international = message_cost(country_code="IN", category="authentication-international", on=on)
    assert international == Decimal("0.0280")
    assert message_cost(country_code="IN", category="authentication_international", on=on) == international
    assert message_cost(country_code="IN", category="marketing_lite", on=on) == Decimal("0.0118")


def test_a_wa_id_resolves_to_the_country_meta_bills_it_under():
    assert country_for_wa_id("971501230077") == "AE"
    assert country_for_wa_id("18095550100") == "DO"  # +1 809: Rest of Latin America, not North America
    assert market_for_country(country_for_wa_id("18095550100"), on=JANUARY_2026) == "Rest of Latin America"
    assert market_for_country(country_for_wa_id("12025550100"), on=JANUARY_2026) == "North America"


def test_costs_for_answers_in_order_and_matches_the_single_message_cost():
    rows = [
        Billable("AE", "marketing", JANUARY_2026),
        Billable(None, "marketing", JANUARY_2026),
        Billable("SA", "marketing", date(2026, 4, 2)),
        Billable("KE", "service", date(2026, 10, 2), month_volume=1_500),
        Billable("AE", "marketing", date(2025, 1, 1)),
    ]
    costs = costs_for(rows)
    assert costs == [Decimal("0.0499"), None, Decimal("0.0501"), Decimal("0.0040"), None]
    assert costs == [
        message_cost(country_code=r.country_code, category=r.category, on=r.on, month_volume=r.month_volume)
        for r in rows
    ]
    assert costs_for([]) == []


def test_costing_a_campaign_takes_the_same_few_queries_for_ten_or_a_thousand_messages():
    countries = ["AE", "SA", "QA", "IN", "EG", "NG", "ZA", "KE", "IS", "DO"]
    categories = ["marketing", "utility", "authentication", "service"]

    def campaign(size):
        return [
            Billable(
                countries[i % len(countries)],
                categories[i % len(categories)],
                date(2026, 1, 1) + timedelta(days=i % 365),
                month_volume=i * 10,
            )
            for i in range(size)
        ]

    with CaptureQueriesContext(connection) as small:
        costs_for(campaign(10))
    with CaptureQueriesContext(connection) as large:
        costs = costs_for(campaign(1000))
    assert len(small) == len(large) == 2
    assert sum(cost for cost in costs if cost is not None) > 0


def test_the_seed_is_idempotent_and_keeps_what_staff_edited():
    rate = PriceRate.objects.get(market="Rest of Africa", category="marketing", effective_from=date(2026, 1, 1))
    rate.rate = Decimal("0.0300")
    rate.save()
    count = PriceRate.objects.count(), CountryPricingMarket.objects.count()

    SEED.seed(apps, None)

    assert (PriceRate.objects.count(), CountryPricingMarket.objects.count()) == count
    rate.refresh_from_db()
    assert rate.rate == Decimal("0.0300")


def test_unseeding_removes_the_seeded_rows_and_keeps_staff_rows():
    PriceRate.objects.create(market="Walkthrough", category="marketing", effective_from=JANUARY_2026, rate=1)

    SEED.unseed(apps, None)

    assert list(PriceRate.objects.values_list("market", flat=True)) == ["Walkthrough"]
    assert not CountryPricingMarket.objects.exists()
