"""Choosing the caller ID (主叫送) a call presents on a trunk.

Pure: the counts of calls each caller ID placed today and the round-robin cursor come in as
data; the chosen number and the cursor to keep come out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import geocoder

from dialer.routing.geo import Region
from dialer.routing.model import CallerIdMode, CallerIdPolicy


@dataclass(frozen=True, slots=True)
class CallerIdChoice:
    """``number`` None means every caller ID of the policy reached its daily cap."""

    number: str | None
    cursor: int


def _province_of(region: Region) -> str:
    """The province part of an English geocoder description (``Changzhou, Jiangsu`` -> Jiangsu)."""
    return region.en.rsplit(",", 1)[-1].strip() if region.known else ""


@lru_cache(maxsize=10_000)
def _caller_id_province(number: str, default_region: str = "CN") -> str:
    """Province of a caller ID written nationally (``02581234567``) or as E.164 digits."""
    text = number if number.startswith("0") else "+" + number
    try:
        parsed = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(parsed):
        return ""
    en = geocoder.description_for_valid_number(parsed, "en")
    if not en or en == geocoder.country_name_for_number(parsed, "en"):
        return ""
    return en.rsplit(",", 1)[-1].strip()


def pick_caller_id(
    policy: CallerIdPolicy,
    trunk: str,
    callee: Region,
    used_today: Mapping[tuple[str, str], int],
    cursor: int,
    seed: int,
) -> CallerIdChoice:
    """Choose a caller ID of ``policy`` for a call on ``trunk`` to a callee in ``callee``.

    Caller IDs at ``daily_cap_per_number`` are skipped. With ``local_presence`` the caller IDs
    of the callee's province are preferred when any is left. ``seed`` drives ``random`` (the
    caller passes e.g. a hash of the call id) so that the choice is reproducible.
    """
    cap = policy.daily_cap_per_number
    numbers = policy.numbers
    if cap and used_today:
        numbers = tuple(n for n in numbers if used_today.get((trunk, n), 0) < cap)
    if not numbers:
        return CallerIdChoice(None, cursor)
    if policy.local_presence and callee.known:
        province = _province_of(callee)
        local = tuple(n for n in numbers if _caller_id_province(n) == province)
        numbers = local or numbers
    mode = policy.mode
    if mode is CallerIdMode.SINGLE or len(numbers) == 1:
        return CallerIdChoice(numbers[0], cursor)
    if mode is CallerIdMode.ROUND_ROBIN:
        return CallerIdChoice(numbers[cursor % len(numbers)], cursor + 1)
    if mode is CallerIdMode.RANDOM:
        return CallerIdChoice(numbers[seed % len(numbers)], cursor)
    least = min(range(len(numbers)), key=lambda i: (used_today.get((trunk, numbers[i]), 0), i))
    return CallerIdChoice(numbers[least], cursor)
