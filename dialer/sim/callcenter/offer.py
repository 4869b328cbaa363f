"""The agent's side of mod_callcenter: one `Offer` per agent leg (``outbound_agent_thread_run``):
agent-offering, the callback originate, bridge-agent-start / -end / -fail, no-answer
accounting, delays and the agent's return to Waiting.

Hangup causes and their effect (mod_callcenter.c): LOSE_RACE / ORIGINATOR_CANCEL change
nothing; USER_BUSY / NORMAL_CIRCUIT_CONGESTION -> busy-delay-time; CALL_REJECTED ->
reject-delay-time; USER_NOT_REGISTERED -> 5 s; anything else (ALLOTTED_TIMEOUT, NO_ANSWER...)
-> no-answer-delay-time, tier "No Answer", no_answer_count + 1, and at max-no-answer the
queue's agent-no-answer-status.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dialer.sim.callcenter import tables as t
from dialer.sim.callcenter.member import MemberSession
from dialer.sim.callcenter.rows import AgentRow, LoadedQueue
from dialer.sim.ports import AgentLegRequest

if TYPE_CHECKING:
    from dialer.sim.callcenter.engine import Callcenter

__all__ = ["Offer", "next_tick_delay"]


def next_tick_delay(elapsed_s: float, period_s: float) -> float:
    """Delay to the next tick of a grid of ``period_s`` started ``elapsed_s`` ago; at least a
    millisecond, so that float rounding on epoch times can never yield a zero delay."""
    ticks = math.floor(elapsed_s / period_s + 1e-6) + 1
    delay = ticks * period_s - elapsed_s
    return delay if delay >= 1e-3 else delay + period_s


_AGENT_POLL_S = 0.1
_BUSY_CAUSES = ("NORMAL_CIRCUIT_CONGESTION", "USER_BUSY")
_SILENT_CAUSES = ("LOSE_RACE", "ORIGINATOR_CANCEL")


@dataclass
class Offer:
    """Snapshot of the agent row taken when the dispatcher picked it (``call_helper``)."""

    cc: Callcenter
    session: MemberSession
    queue_name: str
    strategy: str
    agent_name: str
    agent_status: str
    agent_type: str
    contact: str
    no_answer_count: int
    max_no_answer: int
    reject_delay_time: int
    busy_delay_time: int
    no_answer_delay_time: int
    no_answer_status: str
    agent_uuid: str = ""
    called_s: int = 0
    answered_s: int = 0
    bridged: bool = False
    bridged_at_s: float = 0.0
    answered: bool = False

    @classmethod
    def start(
        cls, cc: Callcenter, session: MemberSession, agent: AgentRow, queue: LoadedQueue
    ) -> Offer:
        return cls(
            cc=cc,
            session=session,
            queue_name=queue.config.name,
            strategy=queue.config.strategy,
            agent_name=agent.name,
            agent_status=agent.status,
            agent_type=agent.type,
            contact=agent.contact,
            no_answer_count=agent.no_answer_count,
            max_no_answer=agent.max_no_answer,
            reject_delay_time=agent.reject_delay_time,
            busy_delay_time=agent.busy_delay_time,
            no_answer_delay_time=agent.no_answer_delay_time,
            no_answer_status=queue.config.agent_no_answer_status,
        )

    @property
    def ring_all(self) -> bool:
        return self.strategy.lower() in ("ring-all", "ring-progressively")

    def _member_headers(self) -> dict[str, str]:
        return self.session.cc_headers()

    # -- offering ---------------------------------------------------------------------------
    def run(self) -> None:
        cc, s = self.cc, self.session
        if s.done or not cc.port.channel_exists(s.session_uuid):
            cc.mark_abandoned(s.member_uuid)
            self._done(t.TIER_READY)
            return
        cc.emit(
            {
                "CC-Queue": self.queue_name,
                "CC-Action": "agent-offering",
                "CC-Agent": self.agent_name,
                "CC-Agent-Type": self.agent_type,
                "CC-Agent-System": t.INSTANCE_ID,
                **self._member_headers(),
                "CC-Member-DNIS": s.dnis,
            },
            "outbound_agent_thread_run",
            1717,
        )
        if not t.same(self.agent_type, t.AGENT_TYPE_CALLBACK):
            self._run_uuid_standby()
            return
        self.called_s = cc.now()
        s.connecting += 1
        self.agent_uuid = cc.port.originate_agent_leg(
            AgentLegRequest(self.contact, self._leg_variables(), self._on_answer, self._on_fail)
        )
        s.offers.append(self.agent_uuid)
        cc.offers[self.agent_uuid] = self

    def _run_uuid_standby(self) -> None:
        agent = self.cc.store.agents.get(self.agent_name)
        uuid = agent.uuid if agent else ""
        self.called_s = self.cc.now()
        self.session.connecting += 1
        if uuid and self.cc.port.channel_exists(uuid):
            self.agent_uuid = uuid
            self._on_answer(uuid)
            return
        self.cc.store.agent_update("status", t.AGENT_STATUS_LOGGED_OUT, self.agent_name)
        self.cc.store.agent_update("uuid", "", self.agent_name)
        self._on_fail("", "NONE")

    def _leg_variables(self) -> dict[str, str]:
        """``ovars`` of the callback originate, in mod_callcenter's order, then the member's
        ``cc_export_vars`` and the caller id the originate presents."""
        s = self.session
        out = {
            "cc_queue": self.queue_name,
            "cc_queue_joined_epoch": str(s.row_joined_s),
            "cc_member_uuid": s.member_uuid,
            "cc_member_session_uuid": s.session_uuid,
            "cc_member_pre_answer_uuid": s.member_uuid,
            "cc_agent": self.agent_name,
            "cc_agent_type": self.agent_type,
            "cc_side": "agent",
            "loopback_bowout": "false",
            "loopback_bowout_on_execute": "false",
            "ignore_early_media": "true",
        }
        member_vars = self.cc.port.channel_vars(s.session_uuid)
        exports = member_vars.get("cc_export_vars", "")
        if exports:
            out["cc_export_vars"] = exports
            for name in (n.strip() for n in exports.split(",")):
                if name and name in member_vars:
                    out[name] = member_vars[name]
        cid_name = member_vars.get("effective_caller_id_name", s.cid_name)
        prefix = member_vars.get("cc_outbound_cid_name_prefix")
        out["origination_caller_id_name"] = f"{prefix}{cid_name}" if prefix else cid_name
        out["origination_caller_id_number"] = member_vars.get(
            "effective_caller_id_number", s.cid_number
        )
        return out

    # -- answered ---------------------------------------------------------------------------
    def _on_answer(self, agent_uuid: str) -> None:
        cc, s = self.cc, self.session
        self.agent_uuid = agent_uuid
        self.answered = True
        s.connecting -= 1
        if self.ring_all and not self._win_race():
            cc.port.hangup(agent_uuid, "LOSE_RACE")
            self._done(t.TIER_READY)
            return
        self.answered_s = cc.now()
        cc.emit_channel(
            agent_uuid,
            {
                "CC-Queue": self.queue_name,
                "CC-Action": "bridge-agent-start",
                "CC-Agent": self.agent_name,
                "CC-Agent-System": t.INSTANCE_ID,
                "CC-Agent-UUID": agent_uuid,
                "CC-Agent-Called-Time": str(self.called_s),
                "CC-Agent-Answered-Time": str(self.answered_s),
                "CC-Member-Joined-Time": str(s.row_joined_s),
                **self._member_headers(),
                "CC-Member-DNIS": s.dnis,
            },
            "outbound_agent_thread_run",
            1934,
        )
        if cc.port.channel_exists(s.session_uuid):
            cc.port.set_var(s.session_uuid, "cc_agent_uuid", agent_uuid)
        s.agent_found = True
        # the caller's own loop notices cc_agent_found a moment later (r: after LOSE_RACE fails)
        cc.port.call_later(0.0, self._connect_member)

    def _connect_member(self) -> None:
        """``uuid_bridge`` the caller to the agent; it ends the caller's app (``answered``).
        A caller already gone: Abandoned, the agent leg is cancelled. An agent leg already
        gone: the caller stays in the queue (row back to Waiting)."""
        cc, s, agent_uuid = self.cc, self.session, self.agent_uuid
        member_up = cc.port.channel_exists(s.session_uuid)
        if member_up and cc.port.channel_exists(agent_uuid) and not s.done:
            cc.exit_answered(s)
            cc.port.bridge(s.session_uuid, agent_uuid)
            self._bridged()
            return
        if not member_up:
            if not s.done:
                cc.exit_answered(s)
            cc.port.set_var(agent_uuid, "cc_agent_bridged", "false")
            cc.mark_abandoned(s.member_uuid)
            cc.sessions.pop(s.member_uuid, None)
            cc.port.hangup(agent_uuid, "ORIGINATOR_CANCEL")
        else:
            member = cc.store.member(s.member_uuid)
            if member is not None:
                member.state = t.MEMBER_WAITING
            s.agent_found = False
            cc.dispatcher.ensure()
        self._end_bridge()

    def _win_race(self) -> bool:
        """Ring-all: map the member to this agent unless another agent already took it, and
        hang up the other ringing legs with LOSE_RACE."""
        member = self.cc.store.member(self.session.member_uuid)
        if member is None:
            return False
        if member.state == t.MEMBER_TRYING and member.serving_agent == self.strategy.lower():
            member.serving_agent = self.agent_name
            member.serving_system = t.INSTANCE_ID
        if member.serving_agent != self.agent_name:
            return False
        for other in list(self.session.offers):
            offer = self.cc.offers.get(other)
            if other != self.agent_uuid and offer is not None and not offer.answered:
                self.cc.port.hangup(other, "LOSE_RACE")
        return True

    def _bridged(self) -> None:
        cc, s = self.cc, self.session
        self.bridged = True
        self.bridged_at_s = cc.port.now_s()
        now = cc.now()
        cc.port.set_var(s.session_uuid, "cc_agent_bridged", "true")
        cc.port.set_var(self.agent_uuid, "cc_agent_bridged", "true")
        member = cc.store.member(s.member_uuid)
        if member is not None:
            member.state = t.MEMBER_ANSWERED
            member.bridge_epoch = now
        cc.port.set_var(s.session_uuid, "cc_agent", self.agent_name)
        cc.port.set_var(s.session_uuid, "cc_queue_answered_epoch", str(now))
        agent = cc.store.agents.get(self.agent_name)
        if agent is not None:
            agent.uuid = self.agent_uuid
            agent.last_bridge_start = now
            agent.calls_answered += 1
            agent.no_answer_count = 0
        cc.store.tier_update("state", t.TIER_ACTIVE_INBOUND, self.queue_name, self.agent_name)
        cc.store.agent_update("state", t.AGENT_STATE_IN_A_QUEUE_CALL, self.agent_name)
        cc.port.on_hangup(self.agent_uuid, self._agent_hung_up)
        cc.agents_sim.on_bridged(self.agent_name, self.agent_uuid)

    def _agent_hung_up(self, _cause: str) -> None:
        """The agent thread polls the agent channel every 0.1 s from the bridge."""
        delay = next_tick_delay(self.cc.port.now_s() - self.bridged_at_s, _AGENT_POLL_S)
        self.cc.port.call_later(delay, self._end_bridge)

    def _end_bridge(self) -> None:
        cc, s = self.cc, self.session
        now = cc.now()
        cc.emit_channel(
            self.agent_uuid,
            {
                "CC-Queue": self.queue_name,
                "CC-Action": "bridge-agent-end",
                "CC-Hangup-Cause": "SUCCESS",
                "CC-Agent": self.agent_name,
                "CC-Agent-System": t.INSTANCE_ID,
                "CC-Agent-UUID": self.agent_uuid,
                "CC-Agent-Bridged": "true" if self.bridged else "false",
                "CC-Agent-Called-Time": str(self.called_s),
                "CC-Agent-Answered-Time": str(self.answered_s),
                "CC-Member-Joined-Time": str(s.row_joined_s),
                "CC-Bridge-Terminated-Time": str(now),
                **self._member_headers(),
            },
            "outbound_agent_thread_run",
            2062,
        )
        if self.bridged:
            self._terminate_member(now)
        self._done(t.TIER_READY)

    def _terminate_member(self, now: int) -> None:
        cc, s = self.cc, self.session
        cc.port.set_var(s.session_uuid, "cc_queue_terminated_epoch", str(now))
        agent = cc.store.agents.get(self.agent_name)
        if agent is not None:
            if not t.same(self.agent_type, t.AGENT_TYPE_UUID_STANDBY):
                agent.uuid = ""
            agent.talk_time += now - agent.last_bridge_start
            agent.last_bridge_end = now
        cc.store.delete_member(s.member_uuid)
        cc.emit_channel(
            s.session_uuid,
            {
                "CC-Queue": self.queue_name,
                "CC-Action": "member-queue-end",
                "CC-Hangup-Cause": "SUCCESS",
                "CC-Cause": "Terminated",
                "CC-Agent": self.agent_name,
                "CC-Agent-System": t.INSTANCE_ID,
                "CC-Agent-UUID": self.agent_uuid,
                "CC-Agent-Called-Time": str(self.called_s),
                "CC-Agent-Answered-Time": str(self.answered_s),
                "CC-Member-Leaving-Time": str(now),
                "CC-Member-Joined-Time": str(s.row_joined_s),
                **self._member_headers(),
            },
            "outbound_agent_thread_run",
            2098,
        )
        cc.sessions.pop(s.member_uuid, None)

    # -- failed -----------------------------------------------------------------------------
    def _on_fail(self, _agent_uuid: str, cause: str) -> None:
        cc, s = self.cc, self.session
        s.connecting -= 1
        member = cc.store.member(s.member_uuid)
        if member and member.serving_agent == self.agent_name:
            if member.state == t.MEMBER_TRYING:
                member.state = t.MEMBER_WAITING
            member.serving_agent = member.serving_system = ""
        tier_state, delay_s = t.TIER_READY, 0
        if cause in _BUSY_CAUSES:
            delay_s = self.busy_delay_time
        elif cause == "CALL_REJECTED":
            delay_s = self.reject_delay_time
        elif cause == "USER_NOT_REGISTERED":
            delay_s = 5
        elif cause not in _SILENT_CAUSES:
            delay_s, tier_state = self.no_answer_delay_time, t.TIER_NO_ANSWER
            self._count_no_answer()
        if delay_s > 0:
            cc.store.agent_update("ready_time", str(cc.now() + delay_s), self.agent_name)
        cc.emit(
            {
                "CC-Queue": self.queue_name,
                "CC-Action": "bridge-agent-fail",
                "CC-Hangup-Cause": cause,
                "CC-Agent": self.agent_name,
                "CC-Agent-System": t.INSTANCE_ID,
                "CC-Agent-Called-Time": str(self.called_s),
                "CC-Agent-Aborted-Time": str(cc.now()),
                **self._member_headers(),
                "CC-Member-Joined-Time": str(s.row_joined_s),
            },
            "outbound_agent_thread_run",
            2200,
        )
        self._done(tier_state)
        cc.offer_settled(s)

    def _count_no_answer(self) -> None:
        agent = self.cc.store.agents.get(self.agent_name)
        if agent is not None:
            agent.no_answer_count += 1
        if self.max_no_answer > 0 and self.no_answer_count + 1 >= self.max_no_answer:
            self.cc.emit(
                {
                    "CC-Agent": self.agent_name,
                    "CC-Action": "agent-max-no-answer",
                    "CC-Agent-No-Answer-Count": str(self.max_no_answer),
                    "CC-Agent-No-Answer-Status": self.no_answer_status,
                    "CC-Member-UUID": self.session.member_uuid,
                    "CC-Member-Session-UUID": self.session.session_uuid,
                },
                "outbound_agent_thread_run",
                2176,
            )
            self.cc.store.agent_update("status", self.no_answer_status, self.agent_name)

    # -- back to waiting --------------------------------------------------------------------
    def _done(self, tier_state: str) -> None:
        store = self.cc.store
        moving = (t.TIER_ACTIVE_INBOUND, t.TIER_STANDBY, t.TIER_OFFERING)
        for tier in store.tiers:
            if tier.agent != self.agent_name:
                continue
            if tier.queue == self.queue_name and tier.state in moving:
                tier.state = tier_state
            elif tier.queue != self.queue_name and tier.state == t.TIER_STANDBY:
                tier.state = t.TIER_READY
        on_demand = t.same(self.agent_status, t.AGENT_STATUS_AVAILABLE_ON_DEMAND)
        state = t.AGENT_STATE_IDLE if on_demand and self.bridged else t.AGENT_STATE_WAITING
        store.agent_update("state", state, self.agent_name)
        self.cc.offers.pop(self.agent_uuid, None)
        if self.agent_uuid in self.session.offers:
            self.session.offers.remove(self.agent_uuid)
        self.cc.agents_sim.on_agent_free(self.agent_name)
