"""Generated lead files for demos and benchmarks: CN mobile, CN fixed-line and US numbers,
with a share of invalid and repeated rows.  Deterministic under a seed."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from campaigns.numbers import Normalized, normalize

_CN_FIXED_AREAS = ("10", "20", "21", "22", "23", "24", "25", "27", "28", "29", "311", "371", "531")
_US_AREAS = ("212", "415", "312", "617")
_INVALID = ("12345", "abc", "+999 123", "1380013800", "000")


def write_sample_leads(
    path: Path, rows: int, invalid_share: float = 0.05, duplicate_share: float = 0.05, seed: int = 7
) -> None:
    rng = random.Random(seed)
    recent: list[str] = []
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(("phone", "name", "segment"))
        for i in range(rows):
            roll = rng.random()
            if roll < invalid_share:
                phone = rng.choice(_INVALID)
            elif roll < invalid_share + duplicate_share and recent:
                phone = rng.choice(recent)
            else:
                phone = valid_number(rng)
                if len(recent) < 10_000:
                    recent.append(phone)
                else:
                    recent[rng.randrange(10_000)] = phone
            writer.writerow((phone, f"customer {i}", rng.choice("ABC")))


def valid_number(rng: random.Random) -> str:
    """A number that normalizes under region CN: 60% CN mobile, 25% CN fixed, 15% US."""
    while True:
        candidate = _number_like(rng)
        if isinstance(normalize(candidate, "CN"), Normalized):
            return candidate


def _number_like(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.6:
        return f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
    if kind < 0.85:
        area = rng.choice(_CN_FIXED_AREAS)
        width = 11 - len(area) - 1
        return f"0{area}{rng.randrange(2 * 10 ** (width - 1), 10**width)}"
    return f"+1 {rng.choice(_US_AREAS)} {rng.randrange(200, 999)} {rng.randrange(10**4):04d}"
