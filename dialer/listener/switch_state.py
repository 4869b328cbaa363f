"""Parsing what the switch reports about itself: ``show channels as json``,
``callcenter_config agent list``/``tier list`` and agent events (transcripts f, i, m).

Pure. Times are epoch seconds; 0 means "not known". The agent list's ``last_*`` and
``ready_time`` columns are on the switch's clock; an `AgentState` the listener keeps is on the
dialer's own clock (events are timed when they arrive, listed times shifted by the switch's
skew), so that a switch whose clock is off, or a simulator running faster than real time,
cannot make phases look longer or shorter to the pacer.
"""

from __future__ import annotations

import json
from dataclasses import replace

from dialer.agent_state import AgentState
from dialer.esl.events import Event

IN_A_QUEUE_CALL = "In a queue call"


def live_channel_uuids(show_channels_json: str) -> set[str]:
    """The uuids in ``show channels as json`` (``{"row_count": 0}`` when there are none)."""
    try:
        data = json.loads(show_channels_json)
    except ValueError:
        raise ValueError(f"not a show channels reply: {show_channels_json[:80]!r}") from None
    rows = data.get("rows", []) if isinstance(data, dict) else []
    return {str(row["uuid"]) for row in rows if isinstance(row, dict) and "uuid" in row}


def parse_table(text: str, required: tuple[str, ...], what: str) -> list[dict[str, str]]:
    """A ``|`` table with a header line (which must hold ``required``), then ``+OK``."""
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("+OK")]
    if not lines or lines[0].startswith("-ERR"):
        return []
    header = lines[0].split("|")
    if not set(required) <= set(header):
        raise ValueError(f"not {what}: {lines[0][:80]!r}")
    rows = []
    for line in lines[1:]:
        cols = line.split("|")
        if len(cols) == len(header):
            rows.append(dict(zip(header, cols, strict=True)))
    return rows


def _num(value: str | None) -> float:
    try:
        return float(value) if value else 0.0
    except ValueError:
        return 0.0


_AGENT_COLUMNS = ("name", "status", "state")
_AGENT_TIMES = ("last_bridge_start", "last_bridge_end", "last_status_change", "wrap_up_time")


def parse_agent_list(text: str) -> list[AgentState]:
    """``callcenter_config agent list``. ``changed_at_s`` is the bridge start for an agent in
    a queue call, else the later of its last status change and its last bridge end."""
    agents = []
    for row in parse_table(text, _AGENT_COLUMNS, "an agent list"):
        times = {k: _num(row.get(k)) for k in (*_AGENT_TIMES, "ready_time")}
        if row["state"] == IN_A_QUEUE_CALL:
            changed = times["last_bridge_start"]
        else:
            changed = max(times["last_status_change"], times["last_bridge_end"])
        agents.append(
            AgentState(
                row["name"],
                row["status"],
                row["state"],
                changed_at_s=changed,
                bridge_end_s=times["last_bridge_end"],
                wrap_up_s=times["wrap_up_time"],
                ready_at_s=times["ready_time"],
            )
        )
    return agents


def parse_tier_list(text: str) -> dict[str, tuple[str, ...]]:
    """``callcenter_config tier list`` -> agent name -> its queues (sorted)."""
    queues: dict[str, set[str]] = {}
    for row in parse_table(text, ("queue", "agent"), "a tier list"):
        queues.setdefault(row["agent"], set()).add(row["queue"])
    return {agent: tuple(sorted(qs)) for agent, qs in queues.items()}


def reconciled(
    old: AgentState | None, listed: AgentState, queues: tuple[str, ...], skew_s: float
) -> AgentState:
    """The agent as the agent list shows it, its times moved onto the dialer's clock
    (``skew_s`` = dialer time - switch time); an unchanged phase keeps the start time events
    gave it (they are finer than the list's whole seconds)."""

    def shifted(t_s: float) -> float:
        return t_s + skew_s if t_s else 0.0

    fresh = replace(
        listed,
        queues=queues,
        changed_at_s=shifted(listed.changed_at_s),
        bridge_end_s=shifted(listed.bridge_end_s),
        ready_at_s=shifted(listed.ready_at_s),
    )
    if old is not None and (old.status, old.state) == (listed.status, listed.state):
        return replace(fresh, changed_at_s=old.changed_at_s or fresh.changed_at_s)
    return fresh


def agent_change(old: AgentState | None, event: Event, at_s: float) -> AgentState | None:
    """The agent after an ``agent-status-change``/``agent-state-change`` event that arrived
    at ``at_s``; None for other events. Leaving a queue call marks the bridge end."""
    action = event.get("CC-Action")
    if action not in ("agent-status-change", "agent-state-change"):
        return None
    name = event.get("CC-Agent")
    if not name:
        return None
    agent = old or AgentState(name)
    if action == "agent-status-change":
        new = replace(agent, status=event.get("CC-Agent-Status"))
    else:
        new = replace(agent, state=event.get("CC-Agent-State"))
        if agent.state == IN_A_QUEUE_CALL and new.state != IN_A_QUEUE_CALL:
            new = replace(new, bridge_end_s=at_s)
    if (new.status, new.state) != (agent.status, agent.state):
        new = replace(new, changed_at_s=at_s)
    return new
