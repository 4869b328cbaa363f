from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.numbers import Invalid, Normalized, normalize


@pytest.mark.parametrize(
    ("raw", "region", "e164", "number_type", "region_text"),
    [
        ("13800138000", "CN", "+8613800138000", "mobile", "北京市"),
        ("+86 138-0013-8000", "US", "+8613800138000", "mobile", "北京市"),
        ("008613912345678", "CN", "+8613912345678", "mobile", "江苏省常州市"),
        ("010 6234 5678", "CN", "+861062345678", "fixed_line", "北京市"),
        ("(212) 555-1234", "US", "+12125551234", "fixed_line_or_mobile", "New York, NY"),
    ],
)
def test_normalizes_to_e164_with_type_and_region(
    raw: str, region: str, e164: str, number_type: str, region_text: str
) -> None:
    result = normalize(raw, region)
    assert isinstance(result, Normalized)
    assert (result.e164, result.number_type, result.region) == (e164, number_type, region_text)
    assert result.time_zones


def test_us_number_keeps_its_own_time_zone() -> None:
    result = normalize("+1 212 555 1234", "CN")
    assert isinstance(result, Normalized)
    assert result.country == "US"
    assert result.time_zones == ("America/New_York",)


@pytest.mark.parametrize(
    ("raw", "reason_part"),
    [
        ("", "empty"),
        ("abc", "not a phone number"),
        ("12345", "invalid number"),
        ("+999 1234567", "country code"),
        ("1" * 80, "longer than"),
    ],
)
def test_rejects_with_a_reason(raw: str, reason_part: str) -> None:
    result = normalize(raw, "CN")
    assert isinstance(result, Invalid)
    assert reason_part in result.reason


@settings(max_examples=300, deadline=None)
@given(
    digits=st.text(alphabet="0123456789", min_size=6, max_size=15),
    decor=st.sampled_from(["", "+", "00", "+86 ", "(0)", " "]),
    region=st.sampled_from(["CN", "US", "GB"]),
)
def test_normalization_is_idempotent(digits: str, decor: str, region: str) -> None:
    first = normalize(decor + digits, region)
    if isinstance(first, Normalized):
        again = normalize(first.e164, region)
        assert again == first
        assert normalize(first.e164, "US") == first


def test_geo_cache_key_covers_the_longest_data_prefix() -> None:
    from phonenumbers.geodata import GEOCODE_LONGEST_PREFIX
    from phonenumbers.tzdata import TIMEZONE_LONGEST_PREFIX

    from campaigns.numbers import GEO_KEY_DIGITS

    assert max(GEOCODE_LONGEST_PREFIX, TIMEZONE_LONGEST_PREFIX) == GEO_KEY_DIGITS
