"""Where a contact is and what time it is there: campaigns keep quiet hours in the recipient's local time.

A contact's zone is its `time_zone` when the merchant set one; else the zone of
its country, read from its wa_id (the calling code, and for shared codes such
as +1 the number's own range) or else from its BSUID's "CC." prefix. A country
spanning several zones gets its capital's (CAPITAL_TIME_ZONES): a guess, and
the merchant's `time_zone` corrects it. A contact with none of these has no
known zone (None); callers choose their default, the shop's zone
(settings.TIME_ZONE) as a rule.

phonenumbers' own time-zone data is not in phonenumberslite, which we depend
on, and it names a zone per area code where we want one per country, so the
country-to-zone table is ours: taken from the IANA tz database's zone.tab.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import NumberParseException

from waco.cloud_api.recipients import is_business_scoped_user_id

# zone.tab's one zone for each country phonenumbers knows that has a single zone, plus Ascension and
# Tristan da Cunha (St Helena's time) and Kosovo (Serbia's), which zone.tab does not list.
_SINGLE_ZONE_COUNTRIES = """
AC Atlantic/St_Helena  AD Europe/Andorra  AE Asia/Dubai  AF Asia/Kabul  AG America/Antigua  AI America/Anguilla
AL Europe/Tirane  AM Asia/Yerevan  AO Africa/Luanda  AS Pacific/Pago_Pago  AT Europe/Vienna  AW America/Aruba
AX Europe/Mariehamn  AZ Asia/Baku
BA Europe/Sarajevo  BB America/Barbados  BD Asia/Dhaka  BE Europe/Brussels  BF Africa/Ouagadougou
BG Europe/Sofia  BH Asia/Bahrain  BI Africa/Bujumbura  BJ Africa/Porto-Novo  BL America/St_Barthelemy
BM Atlantic/Bermuda  BN Asia/Brunei  BO America/La_Paz  BQ America/Kralendijk  BS America/Nassau
BT Asia/Thimphu  BW Africa/Gaborone  BY Europe/Minsk  BZ America/Belize
CC Indian/Cocos  CF Africa/Bangui  CG Africa/Brazzaville  CH Europe/Zurich  CI Africa/Abidjan
CK Pacific/Rarotonga  CM Africa/Douala  CO America/Bogota  CR America/Costa_Rica  CU America/Havana
CV Atlantic/Cape_Verde  CW America/Curacao  CX Indian/Christmas  CZ Europe/Prague
DJ Africa/Djibouti  DK Europe/Copenhagen  DM America/Dominica  DO America/Santo_Domingo  DZ Africa/Algiers
EE Europe/Tallinn  EG Africa/Cairo  EH Africa/El_Aaiun  ER Africa/Asmara  ET Africa/Addis_Ababa
FI Europe/Helsinki  FJ Pacific/Fiji  FK Atlantic/Stanley  FO Atlantic/Faroe  FR Europe/Paris
GA Africa/Libreville  GB Europe/London  GD America/Grenada  GE Asia/Tbilisi  GF America/Cayenne
GG Europe/Guernsey  GH Africa/Accra  GI Europe/Gibraltar  GM Africa/Banjul  GN Africa/Conakry
GP America/Guadeloupe  GQ Africa/Malabo  GR Europe/Athens  GT America/Guatemala  GU Pacific/Guam
GW Africa/Bissau  GY America/Guyana
HK Asia/Hong_Kong  HN America/Tegucigalpa  HR Europe/Zagreb  HT America/Port-au-Prince  HU Europe/Budapest
IE Europe/Dublin  IL Asia/Jerusalem  IM Europe/Isle_of_Man  IN Asia/Kolkata  IO Indian/Chagos  IQ Asia/Baghdad
IR Asia/Tehran  IS Atlantic/Reykjavik  IT Europe/Rome
JE Europe/Jersey  JM America/Jamaica  JO Asia/Amman  JP Asia/Tokyo
KE Africa/Nairobi  KG Asia/Bishkek  KH Asia/Phnom_Penh  KM Indian/Comoro  KN America/St_Kitts  KP Asia/Pyongyang
KR Asia/Seoul  KW Asia/Kuwait  KY America/Cayman
LA Asia/Vientiane  LB Asia/Beirut  LC America/St_Lucia  LI Europe/Vaduz  LK Asia/Colombo  LR Africa/Monrovia
LS Africa/Maseru  LT Europe/Vilnius  LU Europe/Luxembourg  LV Europe/Riga  LY Africa/Tripoli
MA Africa/Casablanca  MC Europe/Monaco  MD Europe/Chisinau  ME Europe/Podgorica  MF America/Marigot
MG Indian/Antananarivo  MK Europe/Skopje  ML Africa/Bamako  MM Asia/Yangon  MO Asia/Macau  MP Pacific/Saipan
MQ America/Martinique  MR Africa/Nouakchott  MS America/Montserrat  MT Europe/Malta  MU Indian/Mauritius
MV Indian/Maldives  MW Africa/Blantyre  MZ Africa/Maputo
NA Africa/Windhoek  NC Pacific/Noumea  NE Africa/Niamey  NF Pacific/Norfolk  NG Africa/Lagos  NI America/Managua
NL Europe/Amsterdam  NO Europe/Oslo  NP Asia/Kathmandu  NR Pacific/Nauru  NU Pacific/Niue
OM Asia/Muscat
PA America/Panama  PE America/Lima  PH Asia/Manila  PK Asia/Karachi  PL Europe/Warsaw  PM America/Miquelon
PR America/Puerto_Rico  PW Pacific/Palau  PY America/Asuncion
QA Asia/Qatar
RE Indian/Reunion  RO Europe/Bucharest  RS Europe/Belgrade  RW Africa/Kigali
SA Asia/Riyadh  SB Pacific/Guadalcanal  SC Indian/Mahe  SD Africa/Khartoum  SE Europe/Stockholm
SG Asia/Singapore  SH Atlantic/St_Helena  SI Europe/Ljubljana  SJ Arctic/Longyearbyen  SK Europe/Bratislava
SL Africa/Freetown  SM Europe/San_Marino  SN Africa/Dakar  SO Africa/Mogadishu  SR America/Paramaribo
SS Africa/Juba  ST Africa/Sao_Tome  SV America/El_Salvador  SX America/Lower_Princes  SY Asia/Damascus
SZ Africa/Mbabane
TA Atlantic/St_Helena  TC America/Grand_Turk  TD Africa/Ndjamena  TG Africa/Lome  TH Asia/Bangkok
TJ Asia/Dushanbe  TK Pacific/Fakaofo  TL Asia/Dili  TM Asia/Ashgabat  TN Africa/Tunis  TO Pacific/Tongatapu
TR Europe/Istanbul  TT America/Port_of_Spain  TV Pacific/Funafuti  TW Asia/Taipei  TZ Africa/Dar_es_Salaam
UG Africa/Kampala  UY America/Montevideo
VA Europe/Vatican  VC America/St_Vincent  VE America/Caracas  VG America/Tortola  VI America/St_Thomas
VN Asia/Ho_Chi_Minh  VU Pacific/Efate
WF Pacific/Wallis  WS Pacific/Apia
XK Europe/Belgrade
YE Asia/Aden  YT Indian/Mayotte
ZA Africa/Johannesburg  ZM Africa/Lusaka  ZW Africa/Harare
"""

# Every country phonenumbers knows that zone.tab gives several zones: the capital's (or, where the
# capital is not a zone's namesake, the zone it lies in).
CAPITAL_TIME_ZONES = {
    "AR": "America/Argentina/Buenos_Aires",
    "AU": "Australia/Sydney",  # Canberra
    "BR": "America/Sao_Paulo",  # Brasília
    "CA": "America/Toronto",  # Ottawa
    "CD": "Africa/Kinshasa",
    "CL": "America/Santiago",
    "CN": "Asia/Shanghai",  # Beijing
    "CY": "Asia/Nicosia",
    "DE": "Europe/Berlin",
    "EC": "America/Guayaquil",  # Quito
    "ES": "Europe/Madrid",
    "FM": "Pacific/Pohnpei",  # Palikir
    "GL": "America/Nuuk",
    "ID": "Asia/Jakarta",
    "KI": "Pacific/Tarawa",
    "KZ": "Asia/Almaty",  # Astana
    "MH": "Pacific/Majuro",
    "MN": "Asia/Ulaanbaatar",
    "MX": "America/Mexico_City",
    "MY": "Asia/Kuala_Lumpur",
    "NZ": "Pacific/Auckland",  # Wellington
    "PF": "Pacific/Tahiti",  # Papeete
    "PG": "Pacific/Port_Moresby",
    "PS": "Asia/Hebron",  # the West Bank, where Ramallah, the seat of government, is
    "PT": "Europe/Lisbon",
    "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv",
    "US": "America/New_York",  # Washington
    "UZ": "Asia/Tashkent",
}

_words = _SINGLE_ZONE_COUNTRIES.split()
# ISO 3166 code -> IANA zone, for every region phonenumbers knows (a test keeps it so).
COUNTRY_TIME_ZONES: dict[str, str] = dict(zip(_words[::2], _words[1::2], strict=True)) | CAPITAL_TIME_ZONES


def country_of(*, wa_id: str | None = None, user_id: str | None = None) -> str | None:
    """The contact's ISO 3166 country ("AE", "US"): its number's, else its BSUID prefix's; None if neither says.

    A number in a calling code several countries share (+1, +7, +44) is of the country whose
    ranges it falls in; one phonenumbers knows no range for (its data lags new ranges; Meta's
    Mexican wa_ids keep a dropped 1) is taken to be of the code's main country (+1: US).
    Non-geographic codes (+800, +881...) name no country.
    """
    if wa_id:
        try:
            number = phonenumbers.parse(f"+{wa_id}")
        except NumberParseException:
            number = None
        if number is not None:
            region = phonenumbers.region_code_for_number(number) or phonenumbers.region_code_for_country_code(
                number.country_code
            )
            if region in COUNTRY_TIME_ZONES:
                return region
    if user_id and is_business_scoped_user_id(user_id) and user_id[:2] in COUNTRY_TIME_ZONES:
        return user_id[:2]
    return None


def time_zone_of(*, time_zone: str = "", wa_id: str | None = None, user_id: str | None = None) -> ZoneInfo | None:
    """The zone of a contact from its three facts (so set-based code needs no model): see the module docstring."""
    if time_zone:
        try:
            return ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass  # validated when saved, but the tz database on this host may lack it: fall back to the country
    country = country_of(wa_id=wa_id, user_id=user_id)
    return ZoneInfo(COUNTRY_TIME_ZONES[country]) if country else None


def contact_time_zone(contact) -> ZoneInfo | None:
    """The zone of a Contact (or anything with its time_zone, wa_id and user_id)."""
    return time_zone_of(time_zone=contact.time_zone, wa_id=contact.wa_id, user_id=contact.user_id)


@dataclass(frozen=True)
class QuietHours:
    """Local clock times during which nothing is sent: from `start` up to, not including, `end`.

    `start` after `end` wraps midnight (21:00 to 09:00); `start` equal to `end` is no quiet hours.
    Whether a moment is quiet is read from the recipient's clock as it shows then, so around
    a DST change: an `end` the clocks skip (spring forward) ends the quiet hours when the clocks
    jump past it; an `end` shown twice (fall back) ends them the first time; and if falling back
    takes the clock out of the window (or back into it), the moment is allowed (or quiet) too.
    """

    start: time = time(21)
    end: time = time(9)

    def covers(self, local: time) -> bool:
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


DEFAULT_QUIET_HOURS = QuietHours()
NO_QUIET_HOURS = QuietHours(time(0), time(0))


def earliest_send_at(now: datetime, *, zone: ZoneInfo, quiet_hours: QuietHours = DEFAULT_QUIET_HOURS) -> datetime:
    """`now` if the recipient's clock is outside the quiet hours, else the first moment it is (in now's tzinfo).

    Sending is allowed now exactly when the answer is `now` (Django's now is UTC; an answer in a
    zone with DST is best compared in UTC, as Python never finds a repeated local time equal to
    another zone's). A campaign's optional end is the caller's: a send whose answer falls after it
    is not made.
    """
    if now.utcoffset() is None:
        raise ValueError("earliest_send_at needs an aware datetime")
    moment = now.astimezone(UTC)  # arithmetic on an aware datetime in a zone with DST is wall-clock arithmetic
    if not quiet_hours.covers(moment.astimezone(zone).time()):
        return now
    # Each pass ends at the clock reaching `end` or at an offset change; a day has at most a couple.
    for _ in range(8):
        local = moment.astimezone(zone)
        wall = local.replace(tzinfo=None)
        end = datetime.combine(wall.date(), quiet_hours.end)
        if end <= wall:
            end += timedelta(days=1)
        reached = moment + (end - wall)  # if the offset holds until then
        moment = _next_offset_change(moment, reached, zone) or reached
        if not quiet_hours.covers(moment.astimezone(zone).time()):
            return moment.astimezone(now.tzinfo)
    raise AssertionError(f"no end to the quiet hours {quiet_hours} in {zone} after {now}")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


def _next_offset_change(after: datetime, until: datetime, zone: ZoneInfo) -> datetime | None:
    """The first moment in (after, until] (UTC) at which the zone's offset differs from its offset at `after`.

    Offsets are sampled hourly (no zone changes twice within an hour), then the change is found
    to the second, the tz database's resolution.
    """
    offset = after.astimezone(zone).utcoffset()
    low = after
    while low < until:
        high = min(low + timedelta(hours=1), until)
        if high.astimezone(zone).utcoffset() != offset:
            # The change is a whole second in (low_second, high_second].
            low_second, high_second = (low - _EPOCH) // _SECOND, -((_EPOCH - high) // _SECOND)
            while high_second - low_second > 1:
                middle = (low_second + high_second) // 2
                if (_EPOCH + middle * _SECOND).astimezone(zone).utcoffset() != offset:
                    high_second = middle
                else:
                    low_second = middle
            return _EPOCH + high_second * _SECOND
        low = high
    return None
