"""Parsing what the switch reports about itself: ``show channels as json``,
``callcenter_config agent list`` and agent events (transcripts f, i, m).

Pure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from dialer.esl.events import Event


@dataclass(frozen=True, slots=True)
class AgentState:
    """mod_callcenter's view of one agent: ``status`` (Available, On Break, Logged Out,
    Available (On Demand)) and ``state`` (Idle, Waiting, Receiving, In a queue call)."""

    name: str
    status: str = ""
    state: str = ""


def live_channel_uuids(show_channels_json: str) -> set[str]:
    """The uuids in ``show channels as json`` (``{"row_count": 0}`` when there are none)."""
    try:
        data = json.loads(show_channels_json)
    except ValueError:
        raise ValueError(f"not a show channels reply: {show_channels_json[:80]!r}") from None
    rows = data.get("rows", []) if isinstance(data, dict) else []
    return {str(row["uuid"]) for row in rows if isinstance(row, dict) and "uuid" in row}


def parse_agent_list(text: str) -> list[AgentState]:
    """``callcenter_config agent list``: a ``|`` table with a header line, then ``+OK``."""
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("+OK")]
    if not lines or lines[0].startswith("-ERR"):
        return []
    header = lines[0].split("|")
    try:
        i_name, i_status, i_state = (header.index(k) for k in ("name", "status", "state"))
    except ValueError:
        raise ValueError(f"not an agent list: {lines[0][:80]!r}") from None
    agents = []
    for line in lines[1:]:
        cols = line.split("|")
        if len(cols) == len(header):
            agents.append(AgentState(cols[i_name], cols[i_status], cols[i_state]))
    return agents


def agent_change(event: Event) -> AgentState | None:
    """The agent status/state an ``agent-status-change``/``agent-state-change`` reports."""
    action = event.get("CC-Action")
    if action == "agent-status-change":
        return AgentState(event.get("CC-Agent"), status=event.get("CC-Agent-Status"))
    if action == "agent-state-change":
        return AgentState(event.get("CC-Agent"), state=event.get("CC-Agent-State"))
    return None
