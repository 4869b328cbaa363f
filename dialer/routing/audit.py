"""Audit a log of granted reservations against the trunks' limits (load tests, benchmarks).

Times are the reservation store's own (server microseconds), so logs from many processes
merge into one timeline.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Grant:
    """One granted reservation; ``released_us`` when its slot was freed (0: never)."""

    trunk: str
    call_uuid: str
    number: str
    caller_id: str
    granted_us: int
    released_us: int


@dataclass(frozen=True, slots=True)
class TrunkLimits:
    max_concurrency: int = 0
    max_cps: int = 0
    per_number_cap: int = 0
    caller_id_cap: int = 0


def peak_concurrency(grants: Iterable[Grant]) -> int:
    """Most slots held at once; a release at the same microsecond as a grant counts first."""
    events: list[tuple[int, int]] = []
    for g in grants:
        events.append((g.granted_us, 1))
        events.append((g.released_us or 2**62, 0))
    active = peak = 0
    for _, kind in sorted(events):
        active += 1 if kind else -1
        peak = max(peak, active)
    return peak


def peak_per_second(grants: Iterable[Grant]) -> int:
    """Most grants inside any half-open one-second window."""
    times = sorted(g.granted_us for g in grants)
    peak = start = 0
    for end, t in enumerate(times):
        while times[start] <= t - 1_000_000:
            start += 1
        peak = max(peak, end - start + 1)
    return peak


def violations(grants: Iterable[Grant], limits: Mapping[str, TrunkLimits]) -> list[str]:
    """Every limit a trunk's grants broke, as readable lines; empty when all held.

    Counters are audited over the whole log, which must lie within one cap window.
    """
    by_trunk: dict[str, list[Grant]] = defaultdict(list)
    for g in grants:
        by_trunk[g.trunk].append(g)
    found: list[str] = []
    for trunk, rows in sorted(by_trunk.items()):
        lim = limits.get(trunk, TrunkLimits())
        if lim.max_concurrency and (peak := peak_concurrency(rows)) > lim.max_concurrency:
            found.append(f"{trunk}: {peak} concurrent > {lim.max_concurrency}")
        if lim.max_cps and (peak := peak_per_second(rows)) > lim.max_cps:
            found.append(f"{trunk}: {peak} calls in one second > {lim.max_cps}")
        for label, cap, values in (
            ("number", lim.per_number_cap, Counter(g.number for g in rows)),
            ("caller ID", lim.caller_id_cap, Counter(g.caller_id for g in rows)),
        ):
            if cap and values and (worst := max(values.values())) > cap:
                found.append(f"{trunk}: a {label} got {worst} calls > {cap}")
    return found
