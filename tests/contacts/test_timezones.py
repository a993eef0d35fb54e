import collections
import importlib.resources
from datetime import UTC, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.contacts.factories import ContactFactory
from waco.contacts.timezones import (
    CAPITAL_TIME_ZONES,
    COUNTRY_TIME_ZONES,
    DEFAULT_QUIET_HOURS,
    NO_QUIET_HOURS,
    QuietHours,
    contact_time_zone,
    country_of,
    earliest_send_at,
    time_zone_of,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


# Where a contact is


@pytest.mark.parametrize(
    ("wa_id", "country", "zone"),
    [
        ("971501234567", "AE", "Asia/Dubai"),
        ("919876543210", "IN", "Asia/Kolkata"),
        ("14155552671", "US", "America/New_York"),  # San Francisco: the capital's zone, not the city's
        ("5511987654321", "BR", "America/Sao_Paulo"),
        ("2348031234567", "NG", "Africa/Lagos"),
        ("447400123456", "GB", "Europe/London"),
        ("5491123456789", "AR", "America/Argentina/Buenos_Aires"),
        ("6281234567890", "ID", "Asia/Jakarta"),
    ],
)
def test_a_number_is_in_its_countrys_zone(wa_id, country, zone):
    assert country_of(wa_id=wa_id) == country
    assert time_zone_of(wa_id=wa_id) == ZoneInfo(zone)


@pytest.mark.parametrize(
    ("wa_id", "country"),
    [
        ("16135550123", "CA"),  # Ottawa
        ("18765550123", "JM"),  # Jamaica, also +1
        ("77011234567", "KZ"),  # +7 is Russia's and Kazakhstan's
        ("79161234567", "RU"),
    ],
)
def test_a_shared_calling_code_is_resolved_by_the_numbers_range(wa_id, country):
    assert country_of(wa_id=wa_id) == country


@pytest.mark.parametrize(
    ("wa_id", "country"),
    [
        ("5215512345678", "MX"),  # Meta's Mexican mobile wa_id keeps the 1 Mexico dropped
        ("551187654321", "BR"),  # an old Brazilian mobile without its 9
        ("1999555012", "US"),  # no +1 range knows it: the code's main country
    ],
)
def test_a_number_phonenumbers_calls_invalid_is_of_its_calling_codes_country(wa_id, country):
    assert country_of(wa_id=wa_id) == country


def test_the_contacts_own_time_zone_wins():
    assert time_zone_of(time_zone="Asia/Tokyo", wa_id="971501234567", user_id="US.1349") == ZoneInfo("Asia/Tokyo")


def test_a_time_zone_this_host_does_not_know_falls_back_to_the_country():
    assert time_zone_of(time_zone="Mars/Olympus_Mons", wa_id="971501234567") == ZoneInfo("Asia/Dubai")


def test_a_bsuid_only_contact_is_in_its_prefixs_country():
    assert country_of(user_id="US.13491208655302741918") == "US"
    assert time_zone_of(user_id="US.13491208655302741918") == NEW_YORK
    assert time_zone_of(user_id="AE.9b1deb4d3b7d4bad9bdd2b0d7b3dcb6d") == ZoneInfo("Asia/Dubai")


def test_the_number_wins_over_the_bsuid_prefix():
    assert country_of(wa_id="971501234567", user_id="US.13491208655302741918") == "AE"


@pytest.mark.parametrize(
    "facts",
    [
        {},
        {"wa_id": "", "user_id": ""},
        {"user_id": "ZZ.123456"},  # no such country
        {"user_id": "not a bsuid"},
        {"wa_id": "80012345678"},  # +800, international freephone: no country
        {"wa_id": "999123456"},  # no such calling code
        {"wa_id": "12"},  # not a number at all
    ],
)
def test_a_contact_nothing_places_has_no_zone(facts):
    assert country_of(**facts) is None
    assert time_zone_of(**facts) is None


def test_contact_time_zone_reads_a_contacts_fields():
    assert contact_time_zone(ContactFactory.build(wa_id="919876543210", time_zone="")) == ZoneInfo("Asia/Kolkata")
    assert contact_time_zone(ContactFactory.build(wa_id="919876543210", time_zone="Asia/Dubai")) == ZoneInfo(
        "Asia/Dubai"
    )
    assert contact_time_zone(ContactFactory.build(wa_id=None, user_id="BR.123")) == ZoneInfo("America/Sao_Paulo")


# The country table


@cache
def _zone_tab() -> dict[str, list[str]]:
    """The tz database's zone.tab: country -> its zones (from the tzdata package, so the same everywhere)."""
    zones = collections.defaultdict(list)
    text = importlib.resources.files("tzdata").joinpath("zoneinfo/zone.tab").read_text()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            country, _, zone, *_ = line.split("\t")
            zones[country].append(zone)
    return zones


def test_every_country_phonenumbers_knows_has_a_zone_this_host_knows():
    assert set(COUNTRY_TIME_ZONES) == set(phonenumbers.SUPPORTED_REGIONS)
    for zone in COUNTRY_TIME_ZONES.values():
        ZoneInfo(zone)


def test_every_country_with_several_zones_has_its_capitals_chosen():
    several = {country for country, zones in _zone_tab().items() if len(zones) > 1}
    assert several & set(phonenumbers.SUPPORTED_REGIONS) == set(CAPITAL_TIME_ZONES)
    for country, zone in CAPITAL_TIME_ZONES.items():
        assert zone in _zone_tab()[country], country


def test_single_zone_countries_have_zone_tabs_zone():
    for country, zone in COUNTRY_TIME_ZONES.items():
        if country in _zone_tab() and country not in CAPITAL_TIME_ZONES:
            assert [zone] == _zone_tab()[country], country


# Quiet hours: examples


def _at(zone, *args, fold=0):
    return datetime(*args, tzinfo=zone, fold=fold)


@pytest.mark.parametrize(
    ("local", "allowed_from"),
    [
        ((2026, 6, 1, 22, 0), (2026, 6, 2, 9, 0)),
        ((2026, 6, 1, 21, 0), (2026, 6, 2, 9, 0)),
        ((2026, 6, 2, 3, 0), (2026, 6, 2, 9, 0)),
        ((2026, 6, 2, 8, 59, 59), (2026, 6, 2, 9, 0)),
        ((2026, 6, 2, 9, 0), (2026, 6, 2, 9, 0)),
        ((2026, 6, 2, 20, 59, 59), (2026, 6, 2, 20, 59, 59)),
    ],
)
def test_default_quiet_hours_are_21_to_9_local(local, allowed_from):
    assert earliest_send_at(_at(LONDON, *local), zone=LONDON) == _at(LONDON, *allowed_from)


def test_sending_allowed_now_answers_now_itself():
    now = datetime(2026, 6, 2, 12, 0, tzinfo=UTC)
    assert earliest_send_at(now, zone=LONDON) is now


def test_the_answer_is_in_nows_time_zone():
    answer = earliest_send_at(datetime(2026, 6, 1, 23, 0, tzinfo=UTC), zone=LONDON)
    assert answer.tzinfo is UTC
    assert answer.astimezone(UTC) == datetime(2026, 6, 2, 8, 0, tzinfo=UTC)  # 09:00 BST


def test_quiet_hours_are_the_recipients_not_the_shops():
    now = datetime(2026, 6, 1, 19, 0, tzinfo=UTC)  # 20:00 in London, 23:00 in Dubai
    assert earliest_send_at(now, zone=LONDON) == now
    assert earliest_send_at(now, zone=ZoneInfo("Asia/Dubai")) == datetime(2026, 6, 2, 5, 0, tzinfo=UTC)


def test_a_window_that_does_not_wrap_midnight():
    lunch = QuietHours(time(12), time(14))
    assert earliest_send_at(_at(LONDON, 2026, 6, 1, 13, 0), zone=LONDON, quiet_hours=lunch) == _at(
        LONDON, 2026, 6, 1, 14, 0
    )
    assert earliest_send_at(_at(LONDON, 2026, 6, 1, 23, 0), zone=LONDON, quiet_hours=lunch) == _at(
        LONDON, 2026, 6, 1, 23, 0
    )


def test_an_empty_window_is_no_quiet_hours():
    now = _at(LONDON, 2026, 6, 1, 3, 0)
    assert earliest_send_at(now, zone=LONDON, quiet_hours=NO_QUIET_HOURS) == now
    assert earliest_send_at(now, zone=LONDON, quiet_hours=QuietHours(time(3), time(3))) == now


def test_a_naive_now_is_refused():
    with pytest.raises(ValueError, match="aware"):
        earliest_send_at(datetime(2026, 6, 1, 22, 0), zone=LONDON)


# Quiet hours across DST changes. London: 2026-03-29 01:00 GMT -> 02:00 BST, 2026-10-25 02:00 BST -> 01:00 GMT.
# New York: 2026-03-08 02:00 EST -> 03:00 EDT, 2026-11-01 02:00 EDT -> 01:00 EST.


def test_the_night_the_clocks_go_forward_still_ends_at_9_local():
    answer = earliest_send_at(_at(LONDON, 2026, 3, 28, 22, 0), zone=LONDON)
    assert answer.astimezone(UTC) == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)  # 09:00 BST, ten hours later
    answer = earliest_send_at(_at(NEW_YORK, 2026, 3, 7, 22, 0), zone=NEW_YORK)
    assert answer.astimezone(UTC) == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)  # 09:00 EDT


def test_the_night_the_clocks_go_back_still_ends_at_9_local():
    answer = earliest_send_at(_at(LONDON, 2026, 10, 24, 22, 0), zone=LONDON)
    assert answer.astimezone(UTC) == datetime(2026, 10, 25, 9, 0, tzinfo=UTC)  # 09:00 GMT, twelve hours later
    answer = earliest_send_at(_at(NEW_YORK, 2026, 10, 31, 22, 0), zone=NEW_YORK)
    assert answer.astimezone(UTC) == datetime(2026, 11, 1, 14, 0, tzinfo=UTC)  # 09:00 EST


def test_an_end_the_clocks_skip_ends_quiet_hours_at_the_jump():
    ends_0130 = QuietHours(time(21), time(1, 30))
    answer = earliest_send_at(_at(LONDON, 2026, 3, 28, 23, 0), zone=LONDON, quiet_hours=ends_0130)
    assert answer.astimezone(UTC) == datetime(
        2026, 3, 29, 1, 0, tzinfo=UTC
    )  # the jump from 01:00 GMT to 02:00 BST: 01:30 never shows
    ends_0230 = QuietHours(time(21), time(2, 30))
    answer = earliest_send_at(_at(NEW_YORK, 2026, 3, 7, 23, 0), zone=NEW_YORK, quiet_hours=ends_0230)
    assert answer.astimezone(UTC) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT


def test_an_end_the_clocks_show_twice_ends_quiet_hours_the_first_time():
    ends_0130 = QuietHours(time(21), time(1, 30))
    answer = earliest_send_at(_at(LONDON, 2026, 10, 24, 23, 0), zone=LONDON, quiet_hours=ends_0130)
    assert answer.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 01:30 BST
    answer = earliest_send_at(_at(NEW_YORK, 2026, 10, 31, 23, 0), zone=NEW_YORK, quiet_hours=ends_0130)
    assert answer.astimezone(UTC) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT


def test_the_clocks_going_back_out_of_the_window_end_quiet_hours():
    small_hours = QuietHours(time(1, 30), time(3))
    now = _at(NEW_YORK, 2026, 11, 1, 1, 45, fold=0)  # EDT
    answer = earliest_send_at(now, zone=NEW_YORK, quiet_hours=small_hours)
    assert answer.astimezone(UTC) == datetime(2026, 11, 1, 6, 0, tzinfo=UTC)  # the clock shows 01:00 EST


def test_the_clocks_going_back_into_the_window_start_quiet_hours_again():
    ends_0130 = QuietHours(time(21), time(1, 30))
    now = _at(NEW_YORK, 2026, 11, 1, 1, 15, fold=1)  # EST: the second 01:15
    answer = earliest_send_at(now, zone=NEW_YORK, quiet_hours=ends_0130)
    assert answer.astimezone(UTC) == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # the second 01:30


# Quiet hours: properties

ZONES = [
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",  # half-hour DST
    "Antarctica/Troll",  # two-hour DST
    "America/Santiago",  # changes at midnight
    "America/Havana",
    "Africa/Casablanca",  # an hour back for Ramadan
    "America/Nuuk",
    "Pacific/Chatham",
    "Asia/Kolkata",  # no DST
]


@cache
def _offset_changes(name: str) -> list[datetime]:
    """The hours (UTC) in 2025 and 2026 after which the zone's offset differs: where DST bugs live."""
    zone = ZoneInfo(name)
    hours = [datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=n) for n in range(2 * 365 * 24)]
    return [
        hour
        for hour, later in zip(hours, hours[1:], strict=False)
        if hour.astimezone(zone).utcoffset() != later.astimezone(zone).utcoffset()
    ]


@st.composite
def moments_and_zones(draw):
    name = draw(st.sampled_from(ZONES))
    zone = ZoneInfo(name)
    changes = _offset_changes(name)
    if changes and draw(st.booleans()):
        near = draw(st.sampled_from(changes))
        moment = near + draw(st.timedeltas(min_value=timedelta(hours=-16), max_value=timedelta(hours=4)))
    else:
        moment = draw(
            st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC))
        )
    # now given in UTC or in the recipient's own zone (whose arithmetic is wall-clock)
    return moment.astimezone(draw(st.sampled_from([UTC, zone]))), zone


# Boundaries at whole or half hours around midnight meet the DST changes; any time finds the rest.
_small_hours = st.builds(time, st.sampled_from([22, 23, 0, 1, 2, 3, 4]), st.sampled_from([0, 30]))
quiet_hours = st.one_of(
    st.just(DEFAULT_QUIET_HOURS),
    st.builds(QuietHours, st.one_of(_small_hours, st.times()), st.one_of(_small_hours, st.times())),
)


def _quiet(moment: datetime, zone: ZoneInfo, window: QuietHours) -> bool:
    return window.covers(moment.astimezone(zone).time())


@settings(max_examples=400, deadline=None)
@given(moments_and_zones(), quiet_hours, st.floats(min_value=0, max_value=1, exclude_max=True))
def test_the_answer_is_the_first_moment_outside_the_quiet_hours(now_and_zone, window, fraction):
    now, zone = now_and_zone
    answer = earliest_send_at(now, zone=zone, quiet_hours=window)
    # Compared in UTC: two datetimes in one ZoneInfo compare (and add) by the wall clock, ignoring fold.
    start, end = now.astimezone(UTC), answer.astimezone(UTC)

    assert end >= start
    assert not _quiet(end, zone, window)
    if not _quiet(start, zone, window):
        assert answer is now
    else:
        # Nothing earlier is allowed: the moment just before, and any moment since now, is quiet.
        assert _quiet(end - timedelta(microseconds=1), zone, window)
        assert _quiet(min(start + (end - start) * fraction, end - timedelta(microseconds=1)), zone, window)
        assert end - start <= timedelta(days=2)  # a day, unless the clocks skip all of the allowed hours


@settings(max_examples=200, deadline=None)
@given(moments_and_zones())
def test_default_quiet_hours_end_at_9_local(now_and_zone):
    now, zone = now_and_zone
    answer = earliest_send_at(now, zone=zone)
    local = answer.astimezone(zone).time()
    assert answer is now or local == time(9)
    assert time(9) <= local < time(21)
