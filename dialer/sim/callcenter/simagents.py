"""Simulated agents' behaviour around mod_callcenter (`SimAgentBehaviour`): hanging up after
their talk time and taking breaks. Answering an offer is the switch core's business (the
scenario's agent endpoints); everything here goes through the port and the same agent update
``callcenter_config agent set status`` uses, so it emits the same events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dialer.sim.callcenter import tables as t
from dialer.sim.callcenter.config import CallcenterConfig, SimAgentBehaviour

if TYPE_CHECKING:
    from dialer.sim.callcenter.engine import Callcenter

__all__ = ["SimAgents"]


class SimAgents:
    """Per-agent timers for talk-time hangups and breaks."""

    def __init__(self, cc: Callcenter, config: CallcenterConfig) -> None:
        self.cc = cc
        self.config = config
        self.break_pending: set[str] = set()
        for agent in config.agents:
            every = self.behaviour(agent.name).break_every_s
            if every is not None and every > 0:
                self._schedule_break(agent.name, every)

    def behaviour(self, agent_name: str) -> SimAgentBehaviour:
        return self.config.behaviours.get(agent_name, self.config.default_behaviour)

    def on_bridged(self, agent_name: str, agent_uuid: str) -> None:
        """Schedule the agent's own hangup after its talk time (if it has one)."""
        b = self.behaviour(agent_name)
        if b.talk_time_s is None:
            return
        talk_s = b.talk_time_s + (
            self.cc.port.rng.uniform(0.0, b.talk_jitter_s) if b.talk_jitter_s else 0.0
        )
        self.cc.port.call_later(talk_s, lambda: self.cc.port.hangup(agent_uuid, "NORMAL_CLEARING"))

    def on_agent_free(self, agent_name: str) -> None:
        """The agent left its offer or call: a break that fell due meanwhile starts now."""
        if agent_name in self.break_pending:
            self._start_break(agent_name)

    def _schedule_break(self, agent_name: str, delay_s: float) -> None:
        self.cc.port.call_later(delay_s, lambda: self._break_due(agent_name))

    def _break_due(self, agent_name: str) -> None:
        agent = self.cc.store.agents.get(agent_name)
        if agent is None:
            return
        if t.same(agent.state, t.AGENT_STATE_WAITING):
            self._start_break(agent_name)
        else:
            self.break_pending.add(agent_name)

    def _start_break(self, agent_name: str) -> None:
        self.break_pending.discard(agent_name)
        b = self.behaviour(agent_name)
        store = self.cc.store
        agent = store.agents.get(agent_name)
        if agent is None or not t.same(agent.status, t.AGENT_STATUS_AVAILABLE):
            self._reschedule(agent_name, b)
            return
        store.agent_update("status", t.AGENT_STATUS_ON_BREAK, agent_name)

        def back() -> None:
            row = store.agents.get(agent_name)
            if row is not None and t.same(row.status, t.AGENT_STATUS_ON_BREAK):
                store.agent_update("status", t.AGENT_STATUS_AVAILABLE, agent_name)
            self._reschedule(agent_name, b)

        self.cc.port.call_later(b.break_duration_s, back)

    def _reschedule(self, agent_name: str, b: SimAgentBehaviour) -> None:
        if b.break_every_s is not None and b.break_every_s > 0:
            self._schedule_break(agent_name, b.break_every_s)
