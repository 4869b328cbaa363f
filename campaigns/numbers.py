"""Phone number normalization: raw text -> E.164 with type, region and time zones.

Pure and deterministic.  Geocoding and time-zone look-ups depend only on the number's leading
digits, its length and its type, so they are cached by that key; they would otherwise dominate
an import's cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType

# Digits of the E.164 form (country code included) that decide geocode and time zone: the
# longest prefix in phonenumbers' geocoding and time-zone data (a test keeps them equal;
# importing those data here would load them into every process that imports this module).
GEO_KEY_DIGITS = 9
_MAX_RAW_CHARS = 64
_UNKNOWN_TZ = "Etc/Unknown"

_TYPE_NAMES = {
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal_number",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
}


@dataclass(frozen=True, slots=True)
class Normalized:
    e164: str
    country: str
    number_type: str
    region: str
    time_zones: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Invalid:
    reason: str


def normalize(raw: str, default_region: str) -> Normalized | Invalid:
    """Parse ``raw`` as dialled from ``default_region`` (ISO 3166 code).

    Idempotent: normalizing a result's ``e164`` gives the same result.
    """
    text = raw.strip()
    if not text:
        return Invalid("empty phone number")
    if len(text) > _MAX_RAW_CHARS:
        return Invalid(f"phone number longer than {_MAX_RAW_CHARS} characters")
    try:
        parsed = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        return Invalid(f"not a phone number: {_PARSE_ERRORS.get(exc.error_type, str(exc))}")
    number_type = phonenumbers.number_type(parsed)
    if number_type == PhoneNumberType.UNKNOWN:
        return Invalid(_invalid_reason(parsed))
    country = phonenumbers.region_code_for_number(parsed) or default_region
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    key = (e164[: GEO_KEY_DIGITS + 1], len(e164), number_type)
    geo = _GEO_CACHE.get(key)
    if geo is None:
        geo = _GEO_CACHE[key] = _geo(parsed, number_type, country)
        if len(_GEO_CACHE) > _GEO_CACHE_MAX:
            _GEO_CACHE.clear()
    region, zones = geo
    return Normalized(e164, country, _TYPE_NAMES.get(number_type, "unknown"), region, zones)


_PARSE_ERRORS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    phonenumbers.NumberParseException.NOT_A_NUMBER: "no digits that form a number",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the IDD",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short",
    phonenumbers.NumberParseException.TOO_LONG: "too long",
}


def _invalid_reason(parsed: phonenumbers.PhoneNumber) -> str:
    possible = phonenumbers.is_possible_number_with_reason(parsed)
    if possible == phonenumbers.ValidationResult.TOO_SHORT:
        return "impossible number: too short"
    if possible == phonenumbers.ValidationResult.TOO_LONG:
        return "impossible number: too long"
    if possible == phonenumbers.ValidationResult.INVALID_COUNTRY_CODE:
        return "impossible number: unknown country code"
    if possible == phonenumbers.ValidationResult.INVALID_LENGTH:
        return "impossible number: wrong length"
    return "invalid number: no such number range"


# Geocode and time zones depend only on the number's first digits (no more than the longest
# prefix in phonenumbers' data), its length and its type: numbers sharing that key share them.
_GEO_CACHE: dict[tuple[str, int, int], tuple[str, tuple[str, ...]]] = {}
_GEO_CACHE_MAX = 100_000


def _geo(
    parsed: phonenumbers.PhoneNumber, number_type: int, country: str
) -> tuple[str, tuple[str, ...]]:
    # Imported here: the geocoding data weigh about 100 MB, which a process that only writes
    # to the database (the importer with worker processes) never needs.
    from phonenumbers import geocoder, timezone

    lang = "zh" if country in {"CN", "TW", "HK", "MO"} else "en"
    region = geocoder.description_for_valid_number(parsed, lang, region=None)
    zones = tuple(
        z for z in timezone.time_zones_for_geographical_number(parsed) if z != _UNKNOWN_TZ
    )
    if number_type != PhoneNumberType.FIXED_LINE and not zones:
        zones = tuple(z for z in timezone.time_zones_for_number(parsed) if z != _UNKNOWN_TZ)
    return region, zones
