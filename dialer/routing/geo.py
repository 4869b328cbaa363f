"""Where a number rings, as the phonenumbers geocoder names it, and blind-area matching.

Geocoding costs ~10 us per language, more than a whole routing decision may take, and depends
only on the number's first ``GEOCODE_LONGEST_PREFIX`` digits (country code included) and its
length; so results are cached by that key.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import geocoder
from phonenumbers.geodata import GEOCODE_LONGEST_PREFIX

from dialer.routing.model import BlindAreas, UnknownRegionPolicy

_CACHE_SIZE = 500_000


@dataclass(frozen=True, slots=True)
class Region:
    """A number's place: Chinese and English geocoder descriptions, empty when unknown.

    ``known`` is False when the geocoder says nothing finer than the country (``中国`` /
    ``China``) or nothing at all. ``cc_digits`` is the length of the country calling code and
    ``national_prefix`` the trunk prefix national dialling puts before the number (``0`` for
    Chinese fixed lines, empty for mobiles).
    """

    zh: str
    en: str
    en_parts: frozenset[str]
    known: bool
    cc_digits: int = 0
    national_prefix: str = ""

    def national(self, digits: str) -> str:
        """The nationally dialled form of E.164 ``digits`` of this region."""
        return self.national_prefix + digits[self.cc_digits :]


UNKNOWN_REGION = Region("", "", frozenset(), False)


def region_of(e164: str) -> Region:
    """The region of an E.164 number (``+8613800138000``); cached by geocoding prefix.
    Anything but ASCII digits after the ``+`` is `UNKNOWN_REGION`."""
    digits = e164.lstrip("+")
    if not (digits.isascii() and digits.isdigit()):
        return UNKNOWN_REGION
    return _region(digits[:GEOCODE_LONGEST_PREFIX], len(digits))


@lru_cache(maxsize=_CACHE_SIZE)
def _region(key: str, length: int) -> Region:
    """Region of every number that starts with ``key`` and has ``length`` digits."""
    sample = _sample_number(key + "0" * (length - len(key)))
    if sample is None:
        return UNKNOWN_REGION
    cc_digits = len(str(sample.country_code))
    formatted = phonenumbers.format_number(sample, phonenumbers.PhoneNumberFormat.NATIONAL)
    national_digits = "".join(ch for ch in formatted if ch.isdigit())
    nsn = phonenumbers.national_significant_number(sample)
    national_prefix = national_digits[: -len(nsn)] if national_digits.endswith(nsn) else ""
    zh = geocoder.description_for_valid_number(sample, "zh")
    en = geocoder.description_for_valid_number(sample, "en")
    country_zh = geocoder.country_name_for_number(sample, "zh")
    country_en = geocoder.country_name_for_number(sample, "en")
    known = bool(zh or en) and (zh, en) != (country_zh, country_en)
    if not known:
        return Region(zh, en, frozenset(), False, cc_digits, national_prefix)
    parts = frozenset(p.strip().casefold() for p in en.split(",") if p.strip())
    return Region(zh, en, parts, True, cc_digits, national_prefix)


@lru_cache(maxsize=1000)
def _national_prefix_of(country_code: int) -> str:
    region = phonenumbers.region_code_for_country_code(country_code)
    return phonenumbers.ndd_prefix_for_region(region, True) or ""


def _sample_number(digits: str) -> phonenumbers.PhoneNumber | None:
    """E.164 digits as a PhoneNumber without the cost of ``phonenumbers.parse``.

    Digits that start with the country's national prefix right after the country code are
    left to ``parse``, which strips it as it always did.
    """
    for cc_len in (1, 2, 3):
        cc = int(digits[:cc_len])
        if cc in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            rest = digits[cc_len:]
            if not rest:
                return None
            ndd = _national_prefix_of(cc)
            if ndd and rest.startswith(ndd):
                try:
                    return phonenumbers.parse("+" + digits)
                except phonenumbers.NumberParseException:
                    return None
            zeros = len(rest) - len(rest.lstrip("0"))
            number = phonenumbers.PhoneNumber(country_code=cc, national_number=int(rest))
            if zeros:
                number.italian_leading_zero = True
                number.number_of_leading_zeros = zeros
            return number
    return None


@dataclass(frozen=True, slots=True)
class BlindMatcher:
    """A trunk's blind areas compiled for fast matching; see :class:`BlindAreas`."""

    zh_starts: tuple[str, ...]
    en_names: frozenset[str]
    prefixes: tuple[str, ...]
    block_unknown: bool
    empty: bool

    @classmethod
    def compile(cls, areas: BlindAreas) -> BlindMatcher:
        zh = tuple(r.strip() for r in areas.regions if r.strip() and not r.strip().isascii())
        en = frozenset(r.strip().casefold() for r in areas.regions if r.strip().isascii())
        return cls(
            zh_starts=zh,
            en_names=en,
            prefixes=tuple(areas.prefixes),
            block_unknown=areas.unknown_region is UnknownRegionPolicy.BLOCK,
            empty=areas.empty,
        )

    def blocks(self, digits: str, region: Region) -> str | None:
        """Why the trunk cannot reach this number, or None when it can."""
        if self.empty:
            return None
        if self.prefixes and digits.startswith(self.prefixes):
            prefix = max((p for p in self.prefixes if digits.startswith(p)), key=len)
            return f"number prefix {prefix} in blind area"
        if not region.known:
            return "region unknown" if self.block_unknown else None
        if self.zh_starts and region.zh.startswith(self.zh_starts):
            return f"region {region.zh} in blind area"
        if self.en_names and not self.en_names.isdisjoint(region.en_parts):
            return f"region {region.en} in blind area"
        return None
