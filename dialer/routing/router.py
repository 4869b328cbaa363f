"""The router: number + campaign + time + trunks + live usage -> ranked candidates.

Pure and deterministic. Trunks are ranked by their longest-prefix rate (cheapest first), then
quality (higher answer-seizure ratio, then shorter post-dial delay), then name; among the
cheapest -- equal cost, or within the table's ``cost_band`` -- the first is chosen by smooth
weighted round-robin, whose scores travel in :class:`RouterState`.

Every trunk the router looked at is either a candidate or listed with the reason it was left
out. With ``max_candidates`` (the failover depth) the router stops looking once it has that
many candidates beyond the weighted band; trunks it never looked at are counted in
``RouteDecision.unexamined`` -- they are neither candidates nor excluded.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from dialer.routing.callerid import pick_caller_id
from dialer.routing.distributor import swrr_pick
from dialer.routing.geo import Region
from dialer.routing.health import Availability, TrunkHealth, TrunkQuality
from dialer.routing.model import CampaignRouting, TrunkUsage, UsageSnapshot
from dialer.routing.ratedeck import RateEntry
from dialer.routing.table import (
    ALL_TRUNKS,
    STATIC_EXCLUSIONS,
    Excluded,
    Exclusion,
    Planned,
    RoutingTable,
)

__all__ = [
    "ALL_TRUNKS",
    "Candidate",
    "Excluded",
    "Exclusion",
    "RouteDecision",
    "RouterState",
    "RoutingTable",
    "free_lines",
    "route",
]

_IDLE = TrunkUsage()
_HEALTHY = TrunkHealth()
_NO_HISTORY = TrunkQuality()


@dataclass(frozen=True, slots=True)
class Candidate:
    trunk: str
    dial_string: str
    caller_id: str | None
    rate: RateEntry
    probe: bool = False
    caller_id_cap: int = 0


@dataclass(frozen=True, slots=True)
class RouterState:
    """Smooth-WRR scores per trunk group and caller-ID round-robin cursors per trunk."""

    swrr: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    cid_cursor: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RouteDecision:
    number: str
    region: Region
    candidates: tuple[Candidate, ...]
    exclusions: tuple[Excluded, ...]
    state: RouterState
    unexamined: int = 0

    def unreachable(self) -> bool:
        """No trunk of the campaign can ever take the number while the table stays as it is."""
        return not self.candidates and all(e.reason in STATIC_EXCLUSIONS for e in self.exclusions)


# (rate, connection fee, -ASR, post-dial delay, name): the ranking order.
_RankKey = tuple[Decimal, Decimal, float, float, str]
# (rank key, planned trunk, probe only)
_Ranked = tuple[_RankKey, Planned, bool]


def route(
    number: str,
    campaign: CampaignRouting,
    now: datetime,
    table: RoutingTable,
    usage: UsageSnapshot,
    state: RouterState | None = None,
    max_candidates: int | None = None,
) -> RouteDecision:
    """Rank the trunks of ``campaign``'s group for E.164 ``number`` at aware time ``now``."""
    state = state or RouterState()
    digits = number.lstrip("+")
    plan = table.plan(campaign.trunk_group, digits)
    now_s = now.timestamp()
    exclusions = list(plan.excluded)
    ranked, examined = _examine(
        plan.usable,
        campaign,
        number,
        now,
        now_s,
        usage,
        exclusions,
        table.cost_band,
        max_candidates,
    )
    group = campaign.trunk_group or ALL_TRUNKS
    ranked, scores = _distribute(ranked, table.cost_band, state.swrr.get(group, {}))
    if max_candidates is not None:
        ranked = ranked[:max_candidates]
    candidates, cursors = _candidates(ranked, campaign, digits, plan.region, now_s, usage, state)
    swrr = {**state.swrr, group: scores} if scores is not None else state.swrr
    new_state = RouterState(swrr=swrr, cid_cursor=cursors)
    return RouteDecision(
        number,
        plan.region,
        tuple(candidates),
        tuple(exclusions),
        new_state,
        unexamined=len(plan.usable) - examined,
    )


def free_lines(
    campaign: CampaignRouting, now: datetime, table: RoutingTable, usage: UsageSnapshot
) -> int | None:
    """How many more calls the trunks of ``campaign``'s group can carry at aware time ``now``:
    the unused concurrency of each enabled trunk of non-zero weight that is not down; None (no
    bound) when one of those trunks has no concurrency limit.

    A down trunk counts for nothing since `route` sends it nothing, a trunk awaiting its trial
    call for one line. Active hours, CPS and the per-number and caller-ID caps are not
    counted: they refuse single calls, in `route`.
    """
    now_s = now.timestamp()
    free = 0
    for t in table.trunks_in(campaign.trunk_group):
        if not t.enabled or t.weight == 0:
            continue
        health = usage.health.get(t.name)
        availability = Availability.UP if health is None else health.availability(now_s)
        if availability is Availability.DOWN:
            continue
        unused = max(0, t.max_concurrency - usage.trunks.get(t.name, _IDLE).in_flight)
        if availability is Availability.PROBE:
            free += 1 if t.max_concurrency == 0 else min(1, unused)  # its one trial call
        elif t.max_concurrency == 0:
            return None
        else:
            free += unused
    return free


def _examine(
    usable: tuple[Planned, ...],
    campaign: CampaignRouting,
    number: str,
    now: datetime,
    now_s: float,
    usage: UsageSnapshot,
    exclusions: list[Excluded],
    cost_band: Decimal,
    max_candidates: int | None,
) -> tuple[list[_Ranked], int]:
    """Apply the live limits in cost order; returns the ranked survivors and how many looked at.

    Stops early only after the weighted band is complete, ``max_candidates`` survived, and
    the run of equal cost in progress has ended (quality may reorder within it).
    """
    ranked: list[_Ranked] = []
    minutes: dict[ZoneInfo, int] = {}
    limit: Decimal | None = None
    last_cost: tuple[Decimal, Decimal] | None = None
    wanted = len(usable) if max_candidates is None else max_candidates
    examined = 0
    quality = usage.quality
    default_q = (-_NO_HISTORY.asr, _NO_HISTORY.pdd_ms)
    # Without health, per-number or caller-ID data only hours, concurrency and CPS can
    # exclude; checking those inline is the same verdict, only faster.
    counts_only = not (usage.health or usage.number_calls or usage.caller_id_calls)
    live_usage = usage.trunks
    for p in usable:
        cost = p.cost
        if len(ranked) >= wanted and limit is not None and cost[0] > limit and cost != last_cost:
            break
        examined += 1
        t = p.trunk
        if counts_only and not t.active_hours:
            live = live_usage.get(t.name, _IDLE)
            if (t.max_concurrency and live.in_flight >= t.max_concurrency) or (
                t.max_cps and live.calls_last_second >= t.max_cps
            ):
                verdict = _live_check(p, campaign, number, now, now_s, usage, minutes)
            else:
                verdict = False
        else:
            verdict = _live_check(p, campaign, number, now, now_s, usage, minutes)
        if verdict.__class__ is Excluded:
            exclusions.append(verdict)
            continue
        if limit is None:
            limit = cost[0] * (1 + cost_band)
        last_cost = cost
        name = p.trunk.name
        if quality and name in quality:
            q = quality[name]
            key = (cost[0], cost[1], -q.asr, q.pdd_ms, name)
        else:
            key = (cost[0], cost[1], default_q[0], default_q[1], name)
        ranked.append((key, p, verdict is True))
    ranked.sort(key=_rank_key)
    return ranked, examined


def _rank_key(r: _Ranked) -> _RankKey:
    return r[0]


def _live_check(
    p: Planned,
    campaign: CampaignRouting,
    number: str,
    now: datetime,
    now_s: float,
    usage: UsageSnapshot,
    minutes: dict[ZoneInfo, int],
) -> Excluded | bool:
    """The live exclusion of one trunk, or whether it may carry only a probe call (True)."""
    t = p.trunk
    if t.active_hours:
        minute = minutes.get(p.zone)
        if minute is None:
            local = now.astimezone(p.zone)
            minute = minutes[p.zone] = local.hour * 60 + local.minute
        if not any(w.contains(minute) for w in t.active_hours):
            hours = ", ".join(str(w) for w in t.active_hours)
            return Excluded(t.name, Exclusion.OUTSIDE_HOURS, f"active {hours} {t.time_zone}")
    probe = False
    if usage.health:
        availability = usage.health.get(t.name, _HEALTHY).availability(now_s)
        if availability is Availability.DOWN:
            return Excluded(t.name, Exclusion.DOWN, "gateway down or suspended")
        probe = availability is Availability.PROBE
    # A trial goes whatever older calls are still up: their outcomes cannot end the
    # suspension (`dialer.routing.health`), and availability is DOWN while a trial is out.
    live = usage.trunks.get(t.name, _IDLE)
    if t.max_concurrency and live.in_flight >= t.max_concurrency:
        return Excluded(t.name, Exclusion.CONCURRENCY, f"{live.in_flight}/{t.max_concurrency}")
    if t.max_cps and live.calls_last_second >= t.max_cps:
        return Excluded(t.name, Exclusion.CPS, f"{live.calls_last_second}/{t.max_cps} per s")
    if t.per_number_cap and usage.number_calls:
        used = usage.number_calls.get((t.name, number), 0)
        if used >= t.per_number_cap:
            detail = f"{used}/{t.per_number_cap} per {t.per_number_window}"
            return Excluded(t.name, Exclusion.PER_NUMBER_CAP, detail)
    policy = campaign.caller_id or t.caller_id
    cid_cap = policy.daily_cap_per_number
    if cid_cap and policy.numbers and usage.caller_id_calls:
        calls = usage.caller_id_calls
        if all(calls.get((t.name, n), 0) >= cid_cap for n in policy.numbers):
            detail = f"all {len(policy.numbers)} caller IDs at {cid_cap} calls today"
            return Excluded(t.name, Exclusion.CALLER_ID_CAP, detail)
    return probe


def _distribute(
    ranked: list[_Ranked], cost_band: Decimal, scores: Mapping[str, int]
) -> tuple[list[_Ranked], dict[str, int] | None]:
    """Move the weighted choice among the cheapest band to the front; None: scores unchanged."""
    if len(ranked) < 2:
        return ranked, None
    limit = ranked[0][0][0] * (1 + cost_band)
    band_size = 1
    while band_size < len(ranked) and ranked[band_size][0][0] <= limit:
        band_size += 1
    if band_size < 2:
        return ranked, None
    members = [(r[0][4], r[1].trunk.weight) for r in ranked[:band_size]]
    chosen, new_scores = swrr_pick(members, scores)
    index = next(i for i, (name, _) in enumerate(members) if name == chosen)
    if index:
        ranked.insert(0, ranked.pop(index))
    return ranked, new_scores


def _candidates(
    ranked: list[_Ranked],
    campaign: CampaignRouting,
    digits: str,
    region: Region,
    now_s: float,
    usage: UsageSnapshot,
    state: RouterState,
) -> tuple[list[Candidate], Mapping[str, int]]:
    """Dial strings and caller IDs; only the first candidate advances a round-robin cursor."""
    seed = zlib.crc32(digits.encode()) ^ int(now_s)
    national = region.national(digits) if region.cc_digits else digits
    cursors = state.cid_cursor
    out: list[Candidate] = []
    for pos, (_key, planned, probe) in enumerate(ranked):
        t = planned.trunk
        policy = campaign.caller_id or t.caller_id
        caller_id: str | None = None
        if policy.numbers:
            cursor = cursors.get(t.name, 0)
            choice = pick_caller_id(policy, t.name, region, usage.caller_id_calls, cursor, seed)
            caller_id = choice.number
            if pos == 0 and choice.cursor != cursor:
                cursors = {**cursors, t.name: choice.cursor}
        dial = t.dial_string(digits, national)
        cap = policy.daily_cap_per_number
        out.append(Candidate(t.name, dial, caller_id, planned.entry, probe, cap))
    return out, cursors
