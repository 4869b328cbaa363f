"""Agent ordering per queue strategy: the ``SELECT ... FROM agents LEFT JOIN tiers ... ORDER BY``
queries of mod_callcenter's ``members_callback``, as pure functions.

Only agents whose status is exactly Available, On Break or Available (On Demand) are returned
(the SQL compares strings case-sensitively); On Break agents come back too, which is why they
count as "an agent exists" for max-wait-time-with-no-agent. Ties keep rowid order (tiers in
insertion order), as SQLite's sort does.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from dialer.sim.callcenter import tables as t
from dialer.sim.callcenter.rows import AgentRow, TierRow

__all__ = ["AgentTier", "order_rows", "queue_rows"]

AgentTier = tuple[AgentRow, TierRow]
_LISTED = (t.AGENT_STATUS_AVAILABLE, t.AGENT_STATUS_ON_BREAK, t.AGENT_STATUS_AVAILABLE_ON_DEMAND)


def queue_rows(
    agents: dict[str, AgentRow], tiers: Sequence[TierRow], queue: str
) -> list[AgentTier]:
    """Agent/tier pairs of ``queue`` whose agent status is listed, in tier rowid order."""
    rows: list[AgentTier] = []
    for tier in tiers:
        agent = agents.get(tier.agent)
        if tier.queue == queue and agent is not None and agent.status in _LISTED:
            rows.append((agent, tier))
    return rows


def _by(
    key: Callable[[AgentTier], tuple[int, ...]],
) -> Callable[[list[AgentTier]], list[AgentTier]]:
    return lambda rows: sorted(rows, key=key)


_SIMPLE: dict[str, Callable[[list[AgentTier]], list[AgentTier]]] = {
    "longest-idle-agent": _by(lambda r: (r[1].level, r[0].last_bridge_end, r[1].position)),
    "agent-with-least-talk-time": _by(lambda r: (r[1].level, r[0].talk_time, r[1].position)),
    "agent-with-fewest-calls": _by(lambda r: (r[1].level, r[0].calls_answered, r[1].position)),
    "ring-all": _by(lambda r: (r[1].level, r[1].position)),
    "ring-progressively": _by(lambda r: (r[1].level, r[1].position)),
}


def _position_order(r: AgentTier) -> tuple[int, int, int]:
    return (r[1].level, r[1].position, r[0].last_offered_call)


def order_rows(
    strategy: str,
    rows: list[AgentTier],
    rng: random.Random,
    last_position: int = 0,
    last_level: int = 0,
) -> list[AgentTier]:
    """Rows in the order mod_callcenter tries them for one member.

    ``last_position`` / ``last_level`` are the member's ``cc_last_agent_tier_position`` /
    ``_level`` (top-down only). ``random`` draws one key per row from ``rng`` (SQLite's
    ``random()``)."""
    low = strategy.lower()
    if low in _SIMPLE:
        return _SIMPLE[low](rows)
    if low == "random":
        keyed = [(r[1].level, rng.random(), i) for i, r in enumerate(rows)]
        return [rows[i] for _, _, i in sorted(keyed)]
    if low == "top-down":
        first = [r for r in rows if r[1].position > last_position and r[1].level == last_level]
        second = [r for r in rows if r[1].level > last_level]
        return _union(sorted(first, key=_position_order), sorted(second, key=_position_order))
    if low == "round-robin":
        return _round_robin(rows)
    return sorted(rows, key=_position_order)


def _union(first: list[AgentTier], second: list[AgentTier]) -> list[AgentTier]:
    """``UNION`` with a ``dyn_order`` column: both parts, first part first."""
    return first + second


def _round_robin(rows: list[AgentTier]) -> list[AgentTier]:
    """After the tier of the most recently offered agent: same level, higher position first,
    then every row by level, position, last_offered_call."""
    offered = [r for r in rows if r[0].last_offered_call > 0]
    rest = sorted(rows, key=_position_order)
    if not offered:
        return rest
    last = max(offered, key=lambda r: r[0].last_offered_call)
    first = [r for r in rows if r[1].position > last[1].position and r[1].level == last[1].level]
    return _union(sorted(first, key=_position_order), rest)
