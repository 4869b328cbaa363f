"""The production loop is the benchmarked loop: the live runner (`CampaignTicker`, with its
snapshot and outcome adapters, handing its state on every 30-s slice and to another worker
every 5 minutes) and the pacing simulator's own loop make identical decisions, tick by tick,
when both see the same simulated day.

The simulator drives both. Its reference run asks a `PredictivePacer` directly. In the other
run the simulator's pacer is the production loop: each tick shows the simulated world to the
runner's fakes as the listener would record it (mod_callcenter agents, live calls, ended
attempt rows), runs one production tick, and launches what that tick originated.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from dialer.agent_state import AgentState
from dialer.calls.machine import CallState
from dialer.pacing import AgentPhase, Decision, Mode, Outcome, PredictivePacer, Snapshot
from dialer.routing.table import RoutingTable
from dialer.runner.fakes import MemoryCampaignStore, MemoryLeaseStore, MemoryLiveView, MemorySwitch
from dialer.runner.ports import CampaignPlan, EndedAttempt, Lease
from dialer.runner.service import hand_on, open_ticker
from dialer.runner.tick import CampaignTicker
from dialer.runner.wiring import memory_tick_deps
from dialer.sim.pacing.engine import Simulation
from dialer.sim.pacing.records import PacedCall
from dialer.sim.pacing.scenario import (
    AgentGroup,
    Answer,
    AnswerChange,
    Break,
    Duration,
    PacingScenario,
)
from tests.dialer.runner.test_runner_tick import trunk
from tests.support.clock import FakeClock

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
T0_S = T0.timestamp()
CID = 3
QUEUE = "q@default"
WRAP_S = 10.0
SLICE_TICKS = 30
TAKEOVER_TICKS = 300

SCENARIO = PacingScenario.model_validate(
    {
        "name": "production_loop",
        "duration_s": 3_600,
        "agents": (
            AgentGroup(count=8, breaks=(Break(at_s=1_500, duration_s=300),)),
            AgentGroup(count=4, start_s=600),
        ),
        # a drift: the answer rate falls, then rises
        "answer": Answer(
            probability=0.3,
            changes=(
                AnswerChange(at_s=1_800, probability=0.15),
                AnswerChange(at_s=2_700, probability=0.4),
            ),
        ),
        "talk_s": Duration(mean=120, sd=60),
        "wrap_s": Duration(mean=WRAP_S),
    }
)


def _us(sim_s: float) -> int:
    return round((T0_S + sim_s) * 1e6)


def _at(sim_s: float) -> datetime:
    return T0 + timedelta(seconds=sim_s)


def _uuid(call_id: int) -> str:
    return f"00000000-0000-4000-8000-{call_id:012d}"  # sorts as the calls were launched


class _CallIds:
    """The runner's call UUIDs in launch order: the simulator's call ids."""

    def __init__(self) -> None:
        self._next = 0

    def new_id(self) -> str:
        self._next += 1
        return _uuid(self._next - 1)


class _Recording:
    """The reference: the simulator asks the pacer directly."""

    mode = Mode.PREDICTIVE

    def __init__(self) -> None:
        self.pacer = PredictivePacer()
        self.decisions: list[int] = []

    def decide(self, snapshot: Snapshot) -> Decision:
        decision = self.pacer.decide(snapshot)
        self.decisions.append(decision.launch)
        return decision

    def observe(self, outcome: Outcome) -> None:
        self.pacer.observe(outcome)


def _agent_state(sim: Simulation, index: int) -> AgentState:
    """A simulated agent as the listener keeps it from mod_callcenter's events."""
    agent = sim.agents[index]
    since_s = T0_S + agent.since_s
    leaving = agent.leave_after_call
    if agent.shift is None or (leaving is not None and leaving < 0):
        status = "Logged Out"
    elif leaving is not None or agent.phase is AgentPhase.AWAY:
        status = "On Break"
    else:
        status = "Available"
    if agent.phase is AgentPhase.TALKING:
        return AgentState(agent.agent_id, status, "In a queue call", since_s, queues=(QUEUE,))
    if agent.phase is AgentPhase.WRAP_UP:
        return AgentState(
            agent.agent_id, status, "Waiting", since_s, since_s, WRAP_S, queues=(QUEUE,)
        )
    return AgentState(agent.agent_id, status, "Waiting", since_s, queues=(QUEUE,))


def _ended(call: PacedCall, now_s: float) -> EndedAttempt | None:
    """The attempt row the listener writes at the call's end; None while it is up."""
    ids = (call.call_id + 1, _at(call.launched_s))
    if math.isnan(call.ring_end_s):
        return None
    if call.result in ("no_answer", "machine"):
        outcome = "no_answer" if call.result == "no_answer" else "answering_machine"
        return EndedAttempt(ids[0], outcome, False, ids[1], _at(call.ring_end_s),
                            call_uuid=_uuid(call.call_id))  # fmt: skip
    if call.result == "abandoned":
        return EndedAttempt(ids[0], "abandoned", True, ids[1], _at(call.abandoned_s),
                            _at(call.ring_end_s), call_uuid=_uuid(call.call_id))  # fmt: skip
    if call.result == "connected" and call.talk_end_s <= now_s:
        return EndedAttempt(
            ids[0], "connected", False, ids[1], _at(call.talk_end_s), _at(call.ring_end_s),
            _at(call.connected_s), call.agent_id, _uuid(call.call_id),
        )  # fmt: skip
    return None


def _live(call: PacedCall) -> CallState:
    if math.isnan(call.ring_end_s):
        return CallState(_uuid(call.call_id), CID, created=True)
    answered = _us(call.ring_end_s)
    connected = 0 if math.isnan(call.connected_s) else _us(call.connected_s)
    return CallState(
        _uuid(call.call_id), CID, created=True, answered_at_us=answered,
        queued_at_us=answered, connected_at_us=connected, agent=call.agent_id,
    )  # fmt: skip


class _ProductionLoop:
    """The simulator's pacer is the production tick loop on fakes showing it the simulation."""

    mode = Mode.PREDICTIVE

    def __init__(self) -> None:
        self.clock = FakeClock(T0)
        self.store = MemoryCampaignStore()
        self.store.plans[CID] = CampaignPlan(
            CID, "c", True, Mode.PREDICTIVE, "cc_c", "campaign", QUEUE,
            abandon_target=SCENARIO.abandon.target, abandon_window_s=SCENARIO.abandon.window_s,
            ring_timeout_s=int(SCENARIO.no_answer_timeout_s),
            max_lines_per_agent=SCENARIO.limits.max_lines_per_agent,
        )  # fmt: skip
        for i in range(3_000):
            self.store.add_lead(CID, i + 1, f"+86138{i:08d}")
        self.live = MemoryLiveView()
        self.switch = MemorySwitch()
        self.leases = MemoryLeaseStore(self.clock)
        self.deps = memory_tick_deps(
            self.clock, _CallIds(), table=RoutingTable([trunk("t1", 1_000_000)]),
            store=self.store, live=self.live, switch=self.switch, leases=self.leases,
        )  # fmt: skip
        self.sim: Simulation | None = None
        self.decisions: list[int] = []
        self.hand_offs = self.takeovers = 0
        self._open: dict[int, PacedCall] = {}
        self._known = 0
        self._lease: Lease | None = None
        self._ticker: CampaignTicker | None = None

    def _show(self, sim: Simulation) -> None:
        """The simulated world as the listener records it, at the simulator's now."""
        self.clock.set(_at(sim.now_s))
        for call in sim.calls[self._known :]:
            self._open[call.call_id] = call
        self._known = len(sim.calls)
        live = []
        for call_id, call in list(self._open.items()):
            row = _ended(call, sim.now_s)
            if row is None:
                live.append(_live(call))
            else:
                self.store.ended.append((CID, row))
                del self._open[call_id]
        self.live.call_states = live
        self.live.agent_states = [_agent_state(sim, i) for i in range(len(sim.agents))]

    def _slice(self, tick: int) -> CampaignTicker:
        """A new slice every 30 ticks, another worker every 300, each restoring the state."""
        if self._ticker is not None and self._lease is not None and tick % SLICE_TICKS == 0:
            assert hand_on(self._ticker, self.deps)
            if tick % TAKEOVER_TICKS == 0:
                self.leases.release(self._lease)
                self._lease = None
                self.takeovers += 1
            self._ticker = None
            self.hand_offs += 1
        if self._lease is None:
            self._lease = self.leases.acquire(CID, f"worker-{self.takeovers}", 5_000)
            assert self._lease is not None
        if self._ticker is None:
            self._ticker = open_ticker(self._lease, Mode.PREDICTIVE, self.deps)
        return self._ticker

    def decide(self, snapshot: Snapshot) -> Decision:
        assert self.sim is not None
        self._show(self.sim)
        ticker = self._slice(len(self.decisions))
        sent, decided = len(self.switch.sent), ticker.stats.decided
        assert ticker.tick()
        self.decisions.append(ticker.stats.decided - decided)
        launched = len(self.switch.sent) - sent
        assert launched == self.decisions[-1]  # every decided call left
        return Decision(launch=launched)

    def observe(self, outcome: Outcome) -> None:
        """The production loop learns from what the listener recorded, not from here."""


def test_the_live_runner_decides_as_the_pacing_simulator_tick_by_tick() -> None:
    reference = _Recording()
    Simulation(SCENARIO, 1, reference).run()
    production = _ProductionLoop()
    sim = Simulation(SCENARIO, 1, production)
    production.sim = sim
    sim.run()
    assert production.hand_offs >= 100 and production.takeovers >= 10
    assert sum(reference.decisions) > 500  # calls were placed throughout
    assert max(reference.decisions) > 1  # and the pacer predicted (more than 1:1 at times)
    diverged = next(
        (
            i
            for i, (a, b) in enumerate(zip(reference.decisions, production.decisions, strict=True))
            if a != b
        ),
        None,
    )
    assert diverged is None, f"first different decision at tick {diverged}"
    assert production.decisions == reference.decisions
