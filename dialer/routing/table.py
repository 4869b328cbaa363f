"""The routing table: trunks compiled once per configuration reload, and static route plans.

What decides whether a trunk can carry a number at all -- enabled, weight, blind area, a
matching rate -- depends only on the number's leading digits (the longest rate prefix, the
geocoding prefix, the longest blind prefix) and its length. The table memoises that "static
plan" per such key and trunk group, already sorted by cost; the router then applies only the
live limits. The memo changes speed, never results.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from phonenumbers.geodata import GEOCODE_LONGEST_PREFIX

from dialer.routing.geo import UNKNOWN_REGION, BlindMatcher, Region, region_of
from dialer.routing.model import Trunk
from dialer.routing.ratedeck import RateEntry

ALL_TRUNKS = "*"
_MEMO_LIMIT = 200_000


class Exclusion(enum.StrEnum):
    DISABLED = "disabled"
    WEIGHT_ZERO = "weight 0"
    OUTSIDE_HOURS = "outside active hours"
    DOWN = "down"
    BLIND_AREA = "blind area"
    NO_RATE = "no rate"
    CONCURRENCY = "concurrency"
    CPS = "cps"
    PER_NUMBER_CAP = "per-number cap"
    CALLER_ID_CAP = "caller-ID cap"
    NOT_A_NUMBER = "not an E.164 number"


# The exclusions of a static plan: they hold under the table itself, whatever the load or
# the hour.
STATIC_EXCLUSIONS = frozenset(
    {
        Exclusion.DISABLED,
        Exclusion.WEIGHT_ZERO,
        Exclusion.BLIND_AREA,
        Exclusion.NO_RATE,
        Exclusion.NOT_A_NUMBER,
    }
)


@dataclass(frozen=True, slots=True)
class Excluded:
    trunk: str
    reason: Exclusion
    detail: str


@dataclass(frozen=True, slots=True)
class Planned:
    """A trunk that can reach the number, with its longest-prefix rate."""

    trunk: Trunk
    entry: RateEntry
    zone: ZoneInfo
    cost: tuple[Decimal, Decimal]
    order: tuple[Decimal, Decimal, str]


@dataclass(frozen=True, slots=True)
class StaticPlan:
    """Region, statically usable trunks sorted by (rate, connection fee, name), exclusions."""

    region: Region
    usable: tuple[Planned, ...]
    excluded: tuple[Excluded, ...]


class RoutingTable:
    """Trunks compiled for routing; build once per reload and share between decisions.

    ``cost_band``: candidates whose rate is at most ``cheapest * (1 + cost_band)`` share
    traffic by weight; 0 means only exactly equal rates do.
    """

    def __init__(self, trunks: Iterable[Trunk], cost_band: Decimal = Decimal(0)) -> None:
        ordered = sorted(trunks, key=lambda t: t.name)
        self.trunks: tuple[Trunk, ...] = tuple(ordered)
        self.cost_band = cost_band
        self.by_name: dict[str, Trunk] = {t.name: t for t in ordered}
        self._blind = tuple(BlindMatcher.compile(t.blind_areas) for t in ordered)
        self._zones = tuple(ZoneInfo(t.time_zone) for t in ordered)
        groups: dict[str, list[int]] = {ALL_TRUNKS: list(range(len(ordered)))}
        for i, t in enumerate(ordered):
            for g in t.groups:
                groups.setdefault(g, []).append(i)
        self._groups = {g: tuple(ix) for g, ix in groups.items()}
        index: dict[str, list[tuple[int, RateEntry]]] = {}
        for i, t in enumerate(ordered):
            for prefix, entry in t.rates.entries.items():
                index.setdefault(prefix, []).append((i, entry))
        self._rates = {p: tuple(v) for p, v in index.items()}
        self._max_prefix = max((len(p) for p in self._rates), default=0)
        blind_prefix = max((len(p) for t in ordered for p in t.blind_areas.prefixes), default=0)
        self._key_digits = max(GEOCODE_LONGEST_PREFIX, self._max_prefix, blind_prefix)
        self._memo: dict[tuple[str | None, str, int], StaticPlan] = {}
        self._planned: dict[tuple[int, str], Planned] = {}

    def rates_for(self, digits: str) -> dict[int, RateEntry]:
        """Each trunk's longest-prefix entry for ``digits``, by trunk index."""
        found: dict[int, RateEntry] = {}
        rates = self._rates
        for length in range(min(len(digits), self._max_prefix), 0, -1):
            hits = rates.get(digits[:length])
            if hits:
                for i, entry in hits:
                    if i not in found:
                        found[i] = entry
        return found

    def trunks_in(self, group: str | None) -> tuple[Trunk, ...]:
        """The trunks of ``group`` (None or empty: every trunk), by name."""
        return tuple(self.trunks[i] for i in self._groups.get(group or ALL_TRUNKS, ()))

    def plan(self, group: str | None, digits: str) -> StaticPlan:
        """The static plan of E.164 ``digits`` (no ``+``) in ``group`` (None: every trunk)."""
        key = (group, digits[: self._key_digits], len(digits))
        plan = self._memo.get(key)
        if plan is None:
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            plan = self._memo[key] = self._build_plan(group, digits)
        return plan

    def _build_plan(self, group: str | None, digits: str) -> StaticPlan:
        if not (digits.isdigit() and digits.isascii()):
            detail = f"{digits[:20]!r} is not digits"
            trunks = self.trunks_in(group)
            return StaticPlan(
                UNKNOWN_REGION,
                (),
                tuple(Excluded(t.name, Exclusion.NOT_A_NUMBER, detail) for t in trunks),
            )
        region = region_of("+" + digits)
        rates = self.rates_for(digits)
        usable: list[Planned] = []
        excluded: list[Excluded] = []
        for i in self._groups.get(group or ALL_TRUNKS, ()):
            t = self.trunks[i]
            entry = rates.get(i)
            why = _static_exclusion(t, self._blind[i], digits, region, entry)
            if why is not None:
                excluded.append(why)
            else:
                assert entry is not None
                usable.append(self._planned_for(i, entry))
        usable.sort(key=_order)
        return StaticPlan(region, tuple(usable), tuple(excluded))

    def _planned_for(self, i: int, entry: RateEntry) -> Planned:
        planned = self._planned.get((i, entry.prefix))
        if planned is None:
            t = self.trunks[i]
            cost = (entry.rate_per_min, entry.connection_fee)
            planned = Planned(t, entry, self._zones[i], cost, (*cost, t.name))
            self._planned[(i, entry.prefix)] = planned
        return planned


def _order(p: Planned) -> tuple[Decimal, Decimal, str]:
    return p.order


def _static_exclusion(
    t: Trunk, blind: BlindMatcher, digits: str, region: Region, entry: RateEntry | None
) -> Excluded | None:
    if not t.enabled:
        return Excluded(t.name, Exclusion.DISABLED, "trunk disabled")
    if t.weight == 0:
        return Excluded(t.name, Exclusion.WEIGHT_ZERO, "weight 0: never chosen")
    why = blind.blocks(digits, region)
    if why is not None:
        return Excluded(t.name, Exclusion.BLIND_AREA, why)
    if entry is None:
        return Excluded(t.name, Exclusion.NO_RATE, "no rate-deck prefix matches the number")
    return None
