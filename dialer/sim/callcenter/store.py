"""mod_callcenter's SQLite tables (agents, tiers, members; rows in
`dialer.sim.callcenter.rows`) and its queue hash, with the update functions of mod_callcenter.c
(cc_agent_add/update/get, cc_tier_*, load_agent/load_tier/load_queue) reproduced on plain
Python records.

Invariants: dict / list order is SQLite rowid order (the order rows come out of an unordered
``SELECT``); times are whole epoch seconds, as ``local_epoch_time_now`` returns them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from dialer.sim.callcenter import tables as t
from dialer.sim.callcenter.config import AgentConfig, CallcenterConfig, QueueConfig
from dialer.sim.callcenter.rows import AgentRow, LoadedQueue, MemberRow, Status, TierRow

__all__ = ["Emit", "Store"]


Emit = Callable[[dict[str, str], str, int], None]
"""``emit(headers, calling_function, calling_line)``: fire a callcenter::info event."""


@dataclass
class Store:
    """Agents, tiers, members and queues, plus the XML config that load/reload re-read."""

    xml: CallcenterConfig
    now_s: Callable[[], int]
    emit: Emit
    cancel_member_offers: Callable[[str, str], None]
    agents: dict[str, AgentRow] = field(default_factory=dict)
    tiers: list[TierRow] = field(default_factory=list)
    members: dict[str, MemberRow] = field(default_factory=dict)
    queues: dict[str, LoadedQueue] = field(default_factory=dict)

    # -- agents -----------------------------------------------------------------------------
    def agent_add(self, name: str, agent_type: str) -> Status:
        if not (t.same(agent_type, t.AGENT_TYPE_CALLBACK) or t.same(agent_type, "uuid-standby")):
            return Status.AGENT_INVALID_TYPE
        if name in self.agents:
            return Status.AGENT_ALREADY_EXIST
        self.agents[name] = AgentRow(name=name, type=agent_type)
        self.emit(
            {"CC-Agent": name, "CC-Agent-Type": agent_type, "CC-Action": "agent-add"},
            "cc_agent_add",
            915,
        )
        return Status.SUCCESS

    def agent_del(self, name: str) -> Status:
        self.agents.pop(name, None)
        self.tiers = [tier for tier in self.tiers if tier.agent != name]
        return Status.SUCCESS

    def agent_get(self, key: str, name: str) -> tuple[Status, str]:
        agent = self.agents.get(name)
        if agent is None:
            return Status.AGENT_NOT_FOUND, ""
        low = key.lower()
        if low not in ("status", "state", "uuid"):
            return Status.INVALID_KEY, ""
        value = str(getattr(agent, low))
        header = "CC-Agent-UUID" if low == "uuid" else f"CC-Agent-{key[0].upper()}{key[1:]}"
        self.emit(
            {"CC-Agent": name, "CC-Action": f"agent-{key}-get", header: value},
            "cc_agent_get",
            970,
        )
        return Status.SUCCESS, value

    def agent_update(self, key: str, value: str, name: str) -> Status:
        """``cc_agent_update``: validates, stores the raw value, fires the change event."""
        agent = self.agents.get(name)
        if agent is None:
            return Status.AGENT_NOT_FOUND
        low = key.lower()
        if low == "status":
            return self._update_status(agent, value)
        if low == "state":
            if t.agent_state(value) is None:
                return Status.AGENT_INVALID_STATE
            agent.state = value
            if t.agent_state(value) == t.AGENT_STATE_RECEIVING:
                agent.last_offered_call = self.now_s()
            self._emit_agent(name, "agent-state-change", "CC-Agent-State", value, 1067)
            return Status.SUCCESS
        if low == "contact":
            agent.contact = value
            self._emit_agent(name, "agent-contact-change", "CC-Agent-Contact", value, 1091)
            return Status.SUCCESS
        if low == "type":
            if not (t.same(value, t.AGENT_TYPE_CALLBACK) or t.same(value, "uuid-standby")):
                return Status.AGENT_INVALID_TYPE
            agent.type = value
            return Status.SUCCESS
        if low == "uuid":
            agent.uuid = value
            return Status.SUCCESS
        if low in _INT_KEYS:
            setattr(agent, low, t.c_atoi(value))
            return Status.SUCCESS
        if low == "state_if_waiting":
            return self._update_state_if_waiting(agent, value)
        return Status.INVALID_KEY

    def _update_status(self, agent: AgentRow, value: str) -> Status:
        status = t.agent_status(value)
        if status is None:
            return Status.AGENT_INVALID_STATUS
        if status == t.AGENT_STATUS_AVAILABLE:
            # SQL: ... WHERE NOT status = 'value' -- a repeated Available changes nothing
            if agent.status != value:
                agent.status = value
                agent.last_status_change = self.now_s()
                agent.talk_time = agent.calls_answered = agent.no_answer_count = 0
        else:
            agent.status = value
            agent.last_status_change = self.now_s()
            for member in self.members.values():
                if member.serving_agent == agent.name and member.state != t.MEMBER_ANSWERED:
                    self.cancel_member_offers(member.uuid, "ORIGINATOR_CANCEL")
                    break
        self._emit_agent(agent.name, "agent-status-change", "CC-Agent-Status", value, 1043)
        return Status.SUCCESS

    def _update_state_if_waiting(self, agent: AgentRow, value: str) -> Status:
        if t.agent_state(value) is None:
            return Status.AGENT_INVALID_STATE
        available = (t.AGENT_STATUS_AVAILABLE, t.AGENT_STATUS_AVAILABLE_ON_DEMAND)
        if agent.state != t.AGENT_STATE_WAITING or agent.status not in available:
            return Status.AGENT_NOT_FOUND
        agent.state = value
        self._emit_agent(agent.name, "agent-state-change", "CC-Agent-State", value, 1067)
        return Status.SUCCESS

    def _emit_agent(self, name: str, action: str, header: str, value: str, line: int) -> None:
        self.emit({"CC-Agent": name, "CC-Action": action, header: value}, "cc_agent_update", line)

    # -- tiers ------------------------------------------------------------------------------
    def find_tier(self, queue: str, agent: str) -> TierRow | None:
        for tier in self.tiers:
            if tier.queue == queue and tier.agent == agent:
                return tier
        return None

    def tier_add(self, queue: str, agent: str, state: str, level: int, position: int) -> Status:
        if self.get_queue(queue) is None:
            return Status.QUEUE_NOT_FOUND
        if t.tier_state(state) is None:
            return Status.TIER_INVALID_STATE
        if agent not in self.agents:
            return Status.AGENT_NOT_FOUND
        if self.find_tier(queue, agent) is not None:
            return Status.TIER_ALREADY_EXIST
        self.tiers.append(TierRow(queue, agent, state, level, position))
        return Status.SUCCESS

    def tier_update(self, key: str, value: str, queue: str, agent: str) -> Status:
        tier = self.find_tier(queue, agent)
        if tier is None:
            return Status.TIER_NOT_FOUND
        if agent not in self.agents:
            return Status.AGENT_NOT_FOUND
        if self.get_queue(queue) is None:
            return Status.QUEUE_NOT_FOUND
        low = key.lower()
        if low == "state":
            if t.tier_state(value) is None:
                return Status.TIER_INVALID_STATE
            tier.state = value
        elif low in ("level", "position"):
            setattr(tier, low, t.c_atoi(value))
        else:
            return Status.INVALID_KEY
        return Status.SUCCESS

    def tier_del(self, queue: str, agent: str) -> Status:
        self.tiers = [x for x in self.tiers if not (x.queue == queue and x.agent == agent)]
        return Status.SUCCESS

    # -- XML (re)loading --------------------------------------------------------------------
    def load_agent(self, cfg: AgentConfig) -> None:
        """``load_agent``: add if new, then apply each present attribute in C order."""
        if cfg.type is None:
            return
        res = self.agent_add(cfg.name, cfg.type)
        if res not in (Status.SUCCESS, Status.AGENT_ALREADY_EXIST):
            return
        updates: list[tuple[str, object]] = [
            ("contact", cfg.contact),
            ("status", cfg.status),
            ("wrap_up_time", cfg.wrap_up_time_s),
            ("max_no_answer", cfg.max_no_answer),
            ("reject_delay_time", cfg.reject_delay_time_s),
            ("busy_delay_time", cfg.busy_delay_time_s),
            ("no_answer_delay_time", cfg.no_answer_delay_time_s),
        ]
        for key, value in updates:
            if value is not None:
                self.agent_update(key, str(value), cfg.name)
        if res == Status.AGENT_ALREADY_EXIST:
            self.agent_update("type", cfg.type, cfg.name)

    def load_tiers(self, queue: str | None = None, agent: str | None = None) -> bool:
        """``load_tiers``: XML tiers (all, or those of ``queue`` / the ``queue``+``agent`` pair)
        added, or their level/position reset; False when no XML tier matched."""
        found = False
        for cfg in self.xml.tiers:
            if queue is not None and not t.same(cfg.queue, queue):
                continue
            if agent is not None and not t.same(cfg.agent, agent):
                continue
            found = True
            level = 1 if cfg.level is None else cfg.level
            position = 1 if cfg.position is None else cfg.position
            tier = self.find_tier(cfg.queue, cfg.agent)
            if tier is None:
                self.tier_add(cfg.queue, cfg.agent, t.TIER_READY, level, position)
            else:
                tier.level, tier.position = level, position
        return found

    def load_queue(self, name: str, request_agents: bool, request_tiers: bool) -> bool:
        """``load_queue``: (re)build the queue from XML; False if XML has no such queue."""
        cfg = next((q for q in self.xml.queues if q.name == name), None)
        if cfg is None:
            return False
        if t.agent_status(cfg.agent_no_answer_status) is None:
            cfg = _replace_no_answer_status(cfg)
        self.queues[name] = LoadedQueue(config=cfg)
        if request_agents:
            for agent_cfg in self.xml.agents:
                self.load_agent(agent_cfg)
        if request_tiers:
            self.load_tiers()
        return True

    def get_queue(self, name: str) -> LoadedQueue | None:
        """``get_queue``: the loaded queue, else loaded from XML on the spot (so an unloaded
        queue comes back as soon as a caller or the dispatcher needs it)."""
        queue = self.queues.get(name)
        if queue is None and self.load_queue(name, False, False):
            queue = self.queues[name]
        return queue

    def destroy_queue(self, name: str) -> None:
        self.queues.pop(name, None)

    def load_config(self) -> None:
        """Module load: every XML queue, then agents, then tiers."""
        for cfg in self.xml.queues:
            self.load_queue(cfg.name, False, False)
        for agent_cfg in self.xml.agents:
            self.load_agent(agent_cfg)
        self.load_tiers()

    # -- members ----------------------------------------------------------------------------
    def member(self, member_uuid: str) -> MemberRow | None:
        return self.members.get(member_uuid)

    def delete_member(self, member_uuid: str) -> None:
        self.members.pop(member_uuid, None)

    def waiting_count(self, queue: str) -> int:
        """Members Waiting or Trying in ``queue`` (``cc_queue_count``)."""
        states = (t.MEMBER_WAITING, t.MEMBER_TRYING)
        return sum(1 for m in self.members.values() if m.queue == queue and m.state in states)


_INT_KEYS = (
    "ready_time",
    "busy_delay_time",
    "reject_delay_time",
    "no_answer_delay_time",
    "max_no_answer",
    "wrap_up_time",
)


def _replace_no_answer_status(cfg: QueueConfig) -> QueueConfig:
    from dataclasses import replace

    return replace(cfg, agent_no_answer_status=t.AGENT_STATUS_ON_BREAK)
