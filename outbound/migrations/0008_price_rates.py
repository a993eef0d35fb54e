"""Price rates and the country-to-market map, seeded with Meta's published USD rate cards.

Staff edit both tables in the admin when Meta changes its cards (it may, on the first day of a
quarter, with a month's notice); this seeds only rows that are missing. Every figure below was
read from a source named next to it, with the date Meta made it effective. A market or category
with no figure here has no rate: `outbound.pricing` answers None rather than guess.

Meta publishes its rate cards as CSV files linked from its pricing page
(https://developers.facebook.com/documentation/business-messaging/whatsapp/pricing); the files
could not be fetched from here, so the figures were read from dated transcriptions of them and
checked against each other and against Meta's list of rate changes on that page.
"""

from decimal import Decimal

from django.db import migrations, models

META_PRICING = "https://developers.facebook.com/documentation/business-messaging/whatsapp/pricing"
USD = "USD"

# Meta's USD card effective 2026-01-01: (marketing, utility, authentication, authentication-international).
# Figures as transcribed from the CSV linked from the pricing page ("per-message rates (USD), effective
# January 1, 2026, source: developers.facebook.com/docs/whatsapp/pricing"); they agree with every
# change Meta lists for that date (India marketing up, France and Egypt marketing down, North
# America utility and authentication down) and with later dated readings of the 2026-07-01 and
# 2026-10-01 cards for the markets that did not change (UAE, Saudi utility, Egypt, Rest of Middle
# East, Rest of Africa, North America, France, Rest of Central & Eastern Europe).
CARD_2026_01_01 = {
    "Argentina": ("0.0618", "0.0260", "0.0260", None),
    "Brazil": ("0.0625", "0.0068", "0.0068", None),
    "Chile": ("0.0889", "0.0200", "0.0200", None),
    "Colombia": ("0.0125", "0.0008", "0.0008", None),
    "Egypt": ("0.0644", "0.0036", "0.0036", "0.0650"),
    "France": ("0.0859", "0.0300", "0.0300", None),
    "Germany": ("0.1365", "0.0550", "0.0550", None),
    "India": ("0.0118", "0.0014", "0.0014", "0.0280"),
    "Indonesia": ("0.0411", "0.0250", "0.0250", "0.1360"),
    "Israel": ("0.0353", "0.0053", "0.0053", None),
    "Italy": ("0.0691", "0.0300", "0.0300", None),
    "Malaysia": ("0.0860", "0.0140", "0.0140", "0.0418"),
    "Mexico": ("0.0305", "0.0085", "0.0085", None),
    "Netherlands": ("0.1597", "0.0500", "0.0500", None),
    "Nigeria": ("0.0516", "0.0067", "0.0067", "0.0750"),
    "Pakistan": ("0.0473", "0.0054", "0.0054", "0.0750"),
    "Peru": ("0.0703", "0.0200", "0.0200", None),
    "Russia": ("0.0802", "0.0400", "0.0400", None),
    "Saudi Arabia": ("0.0455", "0.0107", "0.0107", "0.0598"),
    "South Africa": ("0.0379", "0.0076", "0.0076", "0.0200"),
    "Spain": ("0.0615", "0.0200", "0.0200", None),
    "Turkey": ("0.0109", "0.0053", "0.0053", None),
    "United Arab Emirates": ("0.0499", "0.0157", "0.0157", "0.0510"),
    "United Kingdom": ("0.0529", "0.0220", "0.0220", None),
    "North America": ("0.0250", "0.0034", "0.0034", None),
    "Rest of Africa": ("0.0225", "0.0040", "0.0040", None),
    "Rest of Asia Pacific": ("0.0732", "0.0113", "0.0113", None),
    "Rest of Central & Eastern Europe": ("0.0860", "0.0212", "0.0212", None),
    "Rest of Latin America": ("0.0740", "0.0113", "0.0113", None),
    "Rest of Middle East": ("0.0341", "0.0091", "0.0091", None),
    "Rest of Western Europe": ("0.0592", "0.0171", "0.0171", None),
    "Other": ("0.0604", "0.0077", "0.0077", None),
}
SOURCE_2026_01_01 = f"Meta USD rate card effective 2026-01-01, as transcribed from the CSV on {META_PRICING}"
# Non-template (service) messages were free under per-message pricing until 2026-09-30.
SOURCE_SERVICE_FREE = f"Meta pricing page: all non-template messages are free (until 2026-09-30), {META_PRICING}"

# Later cards: only what changed, as (market, category, rate, source). A row restates its market
# and category from its date on; the other markets keep their rates.
SOURCE_2026_07_01 = (
    "Meta USD rate card effective 2026-07-01 ('Cost per message in USD on the WhatsApp Business Platform, "
    f"effective July 1, 2026'), read from the CSV on 2026-08-22 and transcribed, {META_PRICING}"
)
SOURCE_2026_10_01 = (
    "Meta USD rate card effective 2026-10-01 as read by Flowcall, Whautomate and 360dialog (checked 2026-09-28), "
    f"{META_PRICING}"
)
SOURCE_KAZAKHSTAN = (
    "Meta USD rate card effective 2026-10-01, row 'Kazakhstan, USD, 0.0604, 0.018, 0.018, 0.16, 0.018' "
    f"(read 2026-10-01), {META_PRICING}"
)
CHANGES = {
    # Meta: "Effective April 1, 2026 ... Saudi Arabia - Higher marketing message rate"; the figure is the
    # 2026-07-01 card's, and Meta lists no Saudi change for 2026-07-01.
    "2026-04-01": [("Saudi Arabia", "marketing", "0.0501", SOURCE_2026_07_01)],
    # Qatar leaves Rest of Middle East for a standalone entry, with higher utility and authentication rates.
    "2026-07-01": [
        ("Qatar", "marketing", "0.0341", SOURCE_2026_07_01),
        ("Qatar", "utility", "0.0120", SOURCE_2026_07_01),
        ("Qatar", "authentication", "0.0120", SOURCE_2026_07_01),
    ],
    # Nine markets leave their regional groups; these are the ones whose new figures were found.
    "2026-10-01": [
        ("Morocco", "marketing", "0.0414", SOURCE_2026_10_01),
        ("Morocco", "utility", "0.0230", SOURCE_2026_10_01),
        ("Kazakhstan", "marketing", "0.0604", SOURCE_KAZAKHSTAN),
        ("Kazakhstan", "utility", "0.018", SOURCE_KAZAKHSTAN),
        ("Kazakhstan", "authentication", "0.018", SOURCE_KAZAKHSTAN),
        ("Kazakhstan", "authentication-international", "0.16", SOURCE_KAZAKHSTAN),
    ],
}
# From 2026-10-01 Meta bills service messages at the market's utility rate (the card's Service column
# equals its Utility column in every market), after the first 1,000 a month per business phone number.
SERVICE_CHARGED_FROM = "2026-10-01"
SERVICE_FREE_PER_NUMBER = 1000
SOURCE_SERVICE_CHARGED = (
    "Meta pricing page, effective 2026-10-01: service messages billed at the market's utility rate after "
    f"1,000 free a month per business phone number, {META_PRICING}"
)

# Meta's country calling codes and regional rate mapping (pricing page, "Country calling codes"), as ISO
# 3166 codes separated by spaces; a country not listed is billed as "Other". The table applied from
# per-message pricing on.
SOURCE_MAP = f"Meta pricing page, country calling codes and regional rate mapping, {META_PRICING}"
MAP_2025_07_01 = {
    "Argentina": "AR",
    "Brazil": "BR",
    "Chile": "CL",
    "Colombia": "CO",
    "Egypt": "EG",
    "France": "FR",
    "Germany": "DE",
    "India": "IN",
    "Indonesia": "ID",
    "Israel": "IL",
    "Italy": "IT",
    "Malaysia": "MY",
    "Mexico": "MX",
    "Netherlands": "NL",
    "Nigeria": "NG",
    "Pakistan": "PK",
    "Peru": "PE",
    "Russia": "RU",
    "Saudi Arabia": "SA",
    "South Africa": "ZA",
    "Spain": "ES",
    "Turkey": "TR",
    "United Arab Emirates": "AE",
    "United Kingdom": "GB",
    "North America": "CA US",
    # Kenya is not a market of its own: Rest of Africa.
    "Rest of Africa": (
        "DZ AO BJ BW BF BI CM TD CG ER ET GA GM GH GW CI KE LS LR LY MG MW ML MR MA MZ NA NE RW SN SL SO SS SD SZ TZ "
        "TG TN UG ZM"
    ),
    "Rest of Asia Pacific": "AF AU BD KH CN HK JP LA MN NP NZ PG PH SG LK TW TJ TH TM UZ VN",
    "Rest of Central & Eastern Europe": "AL AM AZ BY BG HR CZ GE GR HU LV LT MD MK PL RO RS SK SI UA",
    "Rest of Western Europe": "AT BE DK FI IE NO PT SE CH",
    # With +1 809/829/849 (DO), +1 658/876 (JM) and +1 787/939 (PR): network prefixes of +1.
    "Rest of Latin America": "BO CR DO EC SV GT HT HN JM NI PA PY PR UY VE",
    "Rest of Middle East": "BH IQ JO KW LB OM QA YE",
}
# Later moves, as (country, market, source).
SOURCE_MOVES_2026_10_01 = (
    f"Meta pricing page, rate card updates effective 2026-10-01: nine markets leave their regional groups, {META_PRICING}"
)
MAP_MOVES = {
    # Zimbabwe (+263) moves from Other to Rest of Africa.
    "2025-10-01": [("ZW", "Rest of Africa", f"Meta pricing page, updates effective 2025-10-01, {META_PRICING}")],
    "2026-07-01": [("QA", "Qatar", SOURCE_2026_07_01)],
    "2026-10-01": [
        (country, market, SOURCE_MOVES_2026_10_01)
        for country, market in [
            ("BD", "Bangladesh"),
            ("IQ", "Iraq"),
            ("NP", "Nepal"),
            ("LK", "Sri Lanka"),
            ("KZ", "Kazakhstan"),
            ("KW", "Kuwait"),
            ("MA", "Morocco"),
            ("OM", "Oman"),
            ("UA", "Ukraine"),
        ]
    ],
}


def seed_rates() -> list[dict]:
    """Every seeded rate, as field values."""
    rows = []

    def add(market, category, effective_from, rate, source, tier_from=0):
        rows.append(
            {
                "market": market,
                "category": category,
                "currency": USD,
                "effective_from": effective_from,
                "tier_from": tier_from,
                "rate": Decimal(rate),
                "source": source,
            }
        )

    categories = ("marketing", "utility", "authentication", "authentication-international")
    for market, figures in CARD_2026_01_01.items():
        for category, rate in zip(categories, figures, strict=True):
            if rate is not None:
                add(market, category, "2026-01-01", rate, SOURCE_2026_01_01)
        add(market, "service", "2026-01-01", "0", SOURCE_SERVICE_FREE)
    utility = {market: figures[1] for market, figures in CARD_2026_01_01.items()}
    markets = set(CARD_2026_01_01)
    for effective_from, changes in CHANGES.items():
        for market, category, rate, source in changes:
            add(market, category, effective_from, rate, source)
            if market not in markets and effective_from < SERVICE_CHARGED_FROM:  # a new market, while service is free
                add(market, "service", effective_from, "0", SOURCE_SERVICE_FREE)
            markets.add(market)
            if category == "utility":
                utility[market] = rate
    for market, rate in utility.items():
        add(market, "service", SERVICE_CHARGED_FROM, "0", SOURCE_SERVICE_CHARGED)
        add(market, "service", SERVICE_CHARGED_FROM, rate, SOURCE_SERVICE_CHARGED, tier_from=SERVICE_FREE_PER_NUMBER)
    return rows


def seed_markets() -> list[dict]:
    """Every seeded country-to-market row, as field values."""
    rows = [
        {"country_code": country, "market": market, "effective_from": "2025-07-01", "source": SOURCE_MAP}
        for market, countries in MAP_2025_07_01.items()
        for country in countries.split()
    ]
    for effective_from, moves in MAP_MOVES.items():
        for country, market, source in moves:
            rows.append({"country_code": country, "market": market, "effective_from": effective_from, "source": source})
    return rows


def seed(apps, schema_editor):
    PriceRate = apps.get_model("outbound", "PriceRate")
    CountryPricingMarket = apps.get_model("outbound", "CountryPricingMarket")
    # ignore_conflicts: rows staff already have (or edited) stay as they are.
    PriceRate.objects.bulk_create([PriceRate(**row) for row in seed_rates()], ignore_conflicts=True)
    CountryPricingMarket.objects.bulk_create(
        [CountryPricingMarket(**row) for row in seed_markets()], ignore_conflicts=True
    )


def unseed(apps, schema_editor):
    PriceRate = apps.get_model("outbound", "PriceRate")
    CountryPricingMarket = apps.get_model("outbound", "CountryPricingMarket")
    for row in seed_rates():
        PriceRate.objects.filter(**{k: v for k, v in row.items() if k not in ("rate", "source")}).delete()
    for row in seed_markets():
        CountryPricingMarket.objects.filter(country_code=row["country_code"], effective_from=row["effective_from"]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('outbound', '0007_outbound_media'),
    ]

    operations = [
        migrations.CreateModel(
            name='CountryPricingMarket',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('country_code', models.CharField(help_text='ISO 3166-1 alpha-2, e.g. AE.', max_length=2)),
                ('market', models.CharField(help_text='As named on Meta\'s rate card, e.g. "Rest of Middle East".', max_length=64)),
                ('effective_from', models.DateField()),
                ('source', models.CharField(blank=True, help_text='Where the mapping was read, and when.', max_length=500)),
            ],
            options={
                'ordering': ['country_code', '-effective_from'],
                'constraints': [models.UniqueConstraint(fields=('country_code', 'effective_from'), name='one_market_per_country_and_date')],
            },
        ),
        migrations.CreateModel(
            name='PriceRate',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('market', models.CharField(help_text='As named on Meta\'s rate card, e.g. "United Arab Emirates".', max_length=64)),
                ('category', models.CharField(choices=[('marketing', 'Marketing'), ('utility', 'Utility'), ('authentication', 'Authentication'), ('authentication-international', 'Authentication (international)'), ('service', 'Service')], max_length=32)),
                ('currency', models.CharField(default='USD', help_text="ISO 4217; Meta's cards come in USD and others.", max_length=3)),
                ('effective_from', models.DateField()),
                ('tier_from', models.PositiveBigIntegerField(default=0, help_text='Messages already counted this month from which the rate applies; 0 for the list rate.')),
                ('rate', models.DecimalField(decimal_places=6, help_text='Per delivered message.', max_digits=14)),
                ('source', models.CharField(blank=True, help_text='Where the figure was read, and when.', max_length=500)),
            ],
            options={
                'ordering': ['market', 'category', 'currency', '-effective_from', 'tier_from'],
                'constraints': [models.UniqueConstraint(fields=('market', 'category', 'currency', 'effective_from', 'tier_from'), name='one_rate_per_market_category_date_tier'), models.CheckConstraint(condition=models.Q(('rate__gte', 0)), name='price_rate_not_negative')],
            },
        ),
        migrations.RunPython(seed, unseed),
    ]
