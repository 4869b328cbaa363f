"""mod_callcenter's agent dispatch thread (``cc_agent_dispatch_thread_run`` +
``members_callback`` + ``agents_callback``): every 0.1 s, waiting members by score, each
offered to the first contactable agent of its queue's strategy (every one for ring-all).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dialer.sim.callcenter import tables as t
from dialer.sim.callcenter.config import QueueConfig
from dialer.sim.callcenter.member import MemberSession
from dialer.sim.callcenter.offer import Offer, next_tick_delay
from dialer.sim.callcenter.rows import AgentRow, LoadedQueue, MemberRow, TierRow
from dialer.sim.callcenter.strategy import AgentTier, order_rows, queue_rows
from dialer.sim.ports import TimerHandle

if TYPE_CHECKING:
    from dialer.sim.callcenter.engine import Callcenter

__all__ = ["RING_STRATEGIES", "Dispatcher"]

_DISPATCH_PERIOD_S = 0.1
RING_STRATEGIES = ("ring-all", "ring-progressively")
_RING = RING_STRATEGIES
_MEMBER_INDEPENDENT = (
    "longest-idle-agent",
    "agent-with-least-talk-time",
    "agent-with-fewest-calls",
    "ring-all",
    "ring-progressively",
)


class Dispatcher:
    """Runs while members wait; ticks on a 0.1 s grid anchored at the engine's start."""

    def __init__(self, cc: Callcenter) -> None:
        self.cc = cc
        self._origin_s = cc.port.now_s()
        self._timer: TimerHandle | None = None

    def ensure(self) -> None:
        """Schedule the next tick (on the 0.1 s grid) unless one is pending."""
        if self._timer is not None:
            return
        delay = next_tick_delay(self.cc.port.now_s() - self._origin_s, _DISPATCH_PERIOD_S)
        self._timer = self.cc.port.call_later(delay, self._tick)

    def _tick(self) -> None:
        self._timer = None
        now = self.cc.now()
        eligible = [m for m in self.cc.store.members.values() if _dispatchable(m)]
        if not eligible:
            return
        order = sorted(range(len(eligible)), key=lambda i: (-eligible[i].score(now), i))
        tick = _Tick()
        for i in order:
            member = eligible[i]
            if _dispatchable(member):
                self._dispatch_member(member, now, tick)
        self.ensure()

    def _rows_for(
        self, member: MemberRow, session: MemberSession, cfg: QueueConfig, tick: _Tick
    ) -> list[AgentTier]:
        """The member's agent rows; orders that do not depend on the member (nor change when an
        agent is offered a call) are computed once per tick."""
        strategy = cfg.strategy.lower()
        cached = tick.ordered.get(cfg.name)
        if cached is not None:
            return cached
        base = queue_rows(self.cc.store.agents, self.cc.store.tiers, cfg.name)
        position = level = 0
        if strategy == "top-down":
            chan = self.cc.port.channel_vars(session.session_uuid)
            position = t.c_atoi(chan.get("cc_last_agent_tier_position"))
            level = t.c_atoi(chan.get("cc_last_agent_tier_level"))
        rows = order_rows(cfg.strategy, base, self.cc.port.rng, position, level)
        if strategy in _MEMBER_INDEPENDENT:
            tick.ordered[cfg.name] = rows
        return rows

    def _dispatch_member(self, member: MemberRow, now: int, tick: _Tick) -> None:
        queue = self.cc.store.get_queue(member.queue)
        if queue is None:
            self.cc.store.delete_member(member.uuid)
            return
        session = self.cc.sessions.get(member.uuid)
        if session is None:
            return
        cfg = queue.config
        strategy = cfg.strategy.lower()
        if strategy in _RING and member.state == t.MEMBER_WAITING:
            member.state = t.MEMBER_TRYING
        if strategy == "ring-progressively" and _ringing_progressively(session, cfg, now):
            return
        if cfg.name in tick.exhausted:
            rows_found = tick.exhausted[cfg.name]
        else:
            rows = self._rows_for(member, session, cfg, tick)
            rows_found = bool(rows)
            if (
                not self._offer_first(member, session, queue, rows, now)
                and not cfg.tier_rules_apply
            ):
                tick.exhausted[cfg.name] = rows_found
        queue.last_agent_exist_check = now
        if rows_found:
            queue.last_agent_exist = now
        elif strategy == "top-down":
            self.cc.port.set_var(session.session_uuid, "cc_last_agent_tier_position", "")
            self.cc.port.set_var(session.session_uuid, "cc_last_agent_tier_level", "")

    def _offer_first(
        self,
        member: MemberRow,
        session: MemberSession,
        queue: LoadedQueue,
        rows: list[AgentTier],
        now: int,
    ) -> bool:
        """``agents_callback`` over the rows; True if any agent was contactable."""
        cfg = queue.config
        strategy = cfg.strategy.lower()
        tier_level, in_tier, contactable = 0, 0, False
        for agent, tier in rows:
            if cfg.tier_rules_apply and tier.level > tier_level:
                waited = now - member.joined_epoch
                if cfg.tier_rule_no_agent_no_wait and in_tier == 0:
                    tier_level = tier.level
                elif waited >= _tier_wait(cfg.tier_rule_wait_multiply_level, tier.level, cfg):
                    tier_level, in_tier = tier.level, 0
                else:
                    break
            in_tier += 1
            if not _contactable(agent, tier, now, cfg.skip_agents_with_external_calls):
                continue
            contactable = True
            if strategy in _RING:
                if member.serving_agent != strategy:
                    break
            elif member.state != t.MEMBER_WAITING:
                break
            else:
                member.serving_agent, member.serving_system = agent.name, t.INSTANCE_ID
                member.state = t.MEMBER_TRYING
            self._offer(session, agent, tier, queue)
            if strategy != "ring-all":
                break
        return contactable

    def _offer(
        self, session: MemberSession, agent: AgentRow, tier: TierRow, queue: LoadedQueue
    ) -> None:
        offer = Offer.start(self.cc, session, agent, queue)
        if queue.config.strategy.lower() == "top-down":
            self.cc.port.set_var(
                session.session_uuid, "cc_last_agent_tier_position", str(tier.position)
            )
            self.cc.port.set_var(session.session_uuid, "cc_last_agent_tier_level", str(tier.level))
        if queue.config.strategy.lower() == "ring-progressively":
            session.last_originated_s = self.cc.now()
            self.cc.port.set_var(
                session.session_uuid, "cc_last_originated_call", str(session.last_originated_s)
            )
        self.cc.store.agent_update("state", t.AGENT_STATE_RECEIVING, agent.name)
        for row in self.cc.store.tiers:
            if row.agent != agent.name:
                continue
            if row.queue == queue.config.name:
                row.state = t.TIER_OFFERING
            elif row.state == t.TIER_READY:
                row.state = t.TIER_STANDBY
        self.cc.port.call_later(0.0, offer.run)


def _ringing_progressively(session: MemberSession, cfg: QueueConfig, now: int) -> bool:
    """ring-progressively adds the next agent only ring-progressively-delay (default 10 s)
    after the previous one started ringing."""
    delay_s = cfg.ring_progressively_delay_s or 10
    last = session.last_originated_s
    return bool(last) and now < last + delay_s and not session.agent_found


class _Tick:
    """Per-dispatch-tick memo: ordered rows per queue, and queues whose agents are all
    uncontactable for the rest of the tick (value: whether the queue had any agent row)."""

    def __init__(self) -> None:
        self.ordered: dict[str, list[AgentTier]] = {}
        self.exhausted: dict[str, bool] = {}


def _dispatchable(member: MemberRow) -> bool:
    if member.state == t.MEMBER_WAITING:
        return True
    return member.state == t.MEMBER_TRYING and member.serving_agent in _RING


def _tier_wait(multiply: bool, level: int, cfg: QueueConfig) -> int:
    return level * cfg.tier_rule_wait_second if multiply else cfg.tier_rule_wait_second


def _contactable(agent: AgentRow, tier: TierRow, now: int, skip_external: bool) -> bool:
    """The ``contact_agent`` checks of ``agents_callback``."""
    if not (t.same(tier.state, t.TIER_NO_ANSWER) or t.same(tier.state, t.TIER_READY)):
        return False
    if not t.same(agent.state, t.AGENT_STATE_WAITING):
        return False
    if not agent.last_bridge_end < now - agent.wrap_up_time:
        return False
    if not agent.ready_time <= now:
        return False
    if t.same(agent.status, t.AGENT_STATUS_ON_BREAK):
        return False
    if skip_external and agent.external_calls_count > 0:
        return False
    return agent.instance_id == t.INSTANCE_ID
