"""Discrete-event simulation of one campaign in virtual time, driving any ``Pacer``.

Time only jumps from event to event. The pacer is asked every ``tick_s``; calls it launches ring
(answered after a uniform ring time, else unanswered at the no-answer timeout); an answered
person goes to the longest-ready agent or waits in a FIFO queue and is abandoned after the grace
(2 s); an agent talks (lognormal), wraps up, and is ready again. Random draws come from streams
indexed by call and by connection, so pacers compared on one seed meet the same callees.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from dataclasses import dataclass, field
from enum import IntEnum

from dialer.pacing import (
    AbandonBudget,
    AgentPhase,
    AgentView,
    CallStage,
    CallView,
    Limits,
    Mode,
    Outcome,
    OutcomeKind,
    Pacer,
    Snapshot,
)
from dialer.sim.pacing.records import Figures, PacedCall, RunLog, ShiftRecord, TimePoint
from dialer.sim.pacing.scenario import Duration, PacingScenario

__all__ = ["Simulation"]

_SAMPLE_EVERY_S = 10.0


class _Ev(IntEnum):
    RING_END = 0
    ABANDON = 1
    TALK_END = 2
    WRAP_END = 3
    SHIFT_START = 4
    SHIFT_END = 5
    BREAK_START = 6
    BREAK_END = 7
    TICK = 8


@dataclass(slots=True)
class _Agent:
    agent_id: str
    phase: AgentPhase = AgentPhase.AWAY
    since_s: float = 0.0
    ready_since_s: float = 0.0
    leave_after_call: float | None = None  # seconds of break pending, or -1 for shift end
    call: PacedCall | None = None
    shift: ShiftRecord | None = None
    away_from_s: float = 0.0


@dataclass(slots=True)
class _Tally:
    """Running totals kept as events happen (the log is recomputed independently)."""

    launched: int = 0
    answered: int = 0
    abandoned: int = 0
    connected: int = 0
    talk_s: float = 0.0
    busy_s: float = 0.0
    staffed_s: float = 0.0
    wait_s: float = 0.0
    window_answered: dict[int, int] = field(default_factory=dict)
    window_abandoned: dict[int, int] = field(default_factory=dict)


def _duration(rng: random.Random, law: Duration) -> float:
    if law.sd <= 0:
        return law.mean
    sigma2 = math.log(1.0 + (law.sd / law.mean) ** 2)
    return rng.lognormvariate(math.log(law.mean) - sigma2 / 2.0, math.sqrt(sigma2))


class Simulation:
    """One run of ``scenario`` with ``seed`` and ``pacer``; call ``run()`` once."""

    def __init__(self, scenario: PacingScenario, seed: int, pacer: Pacer, name: str = "") -> None:
        self.scenario = scenario
        self.pacer = pacer
        self.name = name or pacer.mode.value
        self.seed = seed
        self._call_rng = random.Random(seed * 7919 + 1)
        self._talk_rng = random.Random(seed * 7919 + 2)
        self._events: list[tuple[float, int, _Ev, object]] = []
        self._seq = 0
        self.now_s = 0.0
        self.agents: list[_Agent] = []
        self._ready: dict[int, None] = {}  # agent index, in order of becoming ready
        self._ringing: dict[int, PacedCall] = {}
        self._queue: deque[PacedCall] = deque()
        self.calls: list[PacedCall] = []
        self.shifts: list[ShiftRecord] = []
        self.series: list[TimePoint] = []
        self.tally = _Tally()
        self._next_sample_s = 0.0
        self._connections_ended = 0

    def _push(self, at_s: float, kind: _Ev, payload: object) -> None:
        self._seq += 1
        heapq.heappush(self._events, (at_s, self._seq, kind, payload))

    def run(self) -> RunLog:
        end_s = self.scenario.duration_s
        for group in self.scenario.agents:
            for _ in range(group.count):
                index = len(self.agents)
                self.agents.append(_Agent(agent_id=f"a{index:03d}"))
                self._push(group.start_s, _Ev.SHIFT_START, index)
                self._push(min(group.end_s or end_s, end_s), _Ev.SHIFT_END, index)
                for brk in group.breaks:
                    self._push(brk.at_s, _Ev.BREAK_START, (index, brk.duration_s))
        self._push(0.0, _Ev.TICK, None)
        handlers = {
            _Ev.RING_END: self._on_ring_end,
            _Ev.ABANDON: self._on_abandon,
            _Ev.TALK_END: self._on_talk_end,
            _Ev.WRAP_END: self._on_wrap_end,
            _Ev.SHIFT_START: self._on_shift_start,
            _Ev.SHIFT_END: self._on_shift_end,
            _Ev.BREAK_START: self._on_break_start,
            _Ev.BREAK_END: self._on_break_end,
            _Ev.TICK: self._on_tick,
        }
        while self._events:
            at_s, _, kind, payload = heapq.heappop(self._events)
            if at_s >= end_s and kind is not _Ev.SHIFT_END:
                continue
            self.now_s = at_s
            handlers[kind](payload)
        # Agents whose shift ended during a call still running at the end of the day.
        self.now_s = end_s
        for agent in self.agents:
            if agent.shift is not None:
                self._close_shift(agent)
        return RunLog(
            pacer=self.name,
            scenario=self.scenario.name,
            seed=self.seed,
            duration_s=end_s,
            window_s=self.scenario.abandon.window_s,
            calls=self.calls,
            shifts=self.shifts,
            series=self.series,
            figures=self._figures(),
        )

    # -- pacing ---------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        now = self.now_s
        # tuple.__new__ skips the named tuples' Python-level constructors: this runs every tick.
        new, agent_view, call_view = tuple.__new__, AgentView, CallView
        # An agent leaving after the call (a break, the end of the shift) is away already: the
        # switch shows its new status (On Break, Logged Out) from the moment it is set.
        away = AgentPhase.AWAY
        agents = tuple(
            [
                new(agent_view, (a.agent_id, a.phase if a.leave_after_call is None else away,
                                 now - a.since_s))
                for a in self.agents
            ]
        )  # fmt: skip
        queued, ringing = CallStage.QUEUED, CallStage.RINGING
        calls = [new(call_view, (c.key, queued, now - c.ring_end_s)) for c in self._queue]
        calls.extend(
            [new(call_view, (c.key, ringing, now - c.launched_s)) for c in self._ringing.values()]
        )
        window = int(now // self.scenario.abandon.window_s)
        scen = self.scenario
        return Snapshot(
            agents=agents,
            calls=tuple(calls),
            limits=Limits(
                max_lines_per_agent=scen.limits.max_lines_per_agent,
                trunk_free_lines=scen.limits.trunk_lines - len(calls) - self._connected_now(),
            ),
            budget=AbandonBudget(
                target=scen.abandon.target,
                window_s=scen.abandon.window_s,
                answered_in_window=self.tally.window_answered.get(window, 0),
                abandoned_in_window=self.tally.window_abandoned.get(window, 0),
                grace_s=scen.abandon.grace_s,
            ),
            no_answer_timeout_s=scen.no_answer_timeout_s,
            due_lead_ids=tuple(f"L{self.tally.launched + i}" for i in range(len(self._ready)))
            if self.pacer.mode is Mode.PREVIEW
            else (),
        )

    def _connected_now(self) -> int:
        return self.tally.connected - self._connections_ended

    def _on_tick(self, _: object) -> None:
        snap = self.snapshot()
        decision = self.pacer.decide(snap)
        if decision.assignments:
            for pair in decision.assignments:
                index = int(pair.agent_id[1:])
                agent = self.agents[index]
                self._ready.pop(index, None)
                self._set_phase(agent, AgentPhase.PREVIEWING)
                self._launch(reserved=index)
        else:
            for _ in range(decision.launch):
                self._launch(reserved=None)
        if self.now_s >= self._next_sample_s:
            self._sample(snap)
            self._next_sample_s += _SAMPLE_EVERY_S
        self._push(self.now_s + self.scenario.tick_s, _Ev.TICK, None)

    def _sample(self, snap: Snapshot) -> None:
        busy = sum(1 for a in self.agents if a.phase in (AgentPhase.TALKING, AgentPhase.WRAP_UP))
        staffed = sum(1 for a in self.agents if a.phase is not AgentPhase.AWAY)
        answered = self.tally.answered
        self.series.append(
            TimePoint(
                time_s=self.now_s,
                lines_in_flight=len(snap.calls),
                agents_busy=busy,
                agents_ready=len(self._ready),
                dial_level=len(snap.calls) / staffed if staffed else 0.0,
                abandon_rate=self.tally.abandoned / answered if answered else 0.0,
            )
        )

    def _launch(self, reserved: int | None) -> None:
        rng = self._call_rng
        u_answer, u_ring, u_machine = rng.random(), rng.random(), rng.random()
        scen = self.scenario
        call = PacedCall(call_id=len(self.calls), launched_s=self.now_s, reserved=reserved)
        self.calls.append(call)
        self.tally.launched += 1
        if u_answer < scen.answer.at(self.now_s):
            ring = scen.ring_s.min + u_ring * (scen.ring_s.max - scen.ring_s.min)
            call.result = "machine" if u_machine < scen.machine_share else "answered"
        else:
            ring = scen.no_answer_timeout_s
            call.result = "no_answer"
        self._ringing[call.call_id] = call
        self._push(self.now_s + ring, _Ev.RING_END, call)

    # -- call events ----------------------------------------------------------------------
    def _on_ring_end(self, payload: object) -> None:
        assert isinstance(payload, PacedCall)
        call = payload
        del self._ringing[call.call_id]
        call.ring_end_s = self.now_s
        ring_s = self.now_s - call.launched_s
        if call.result != "answered":
            kind = OutcomeKind.MACHINE if call.result == "machine" else OutcomeKind.NO_ANSWER
            self.pacer.observe(Outcome(kind, after_s=ring_s))
            self._release_reserved(call)
            return
        self.pacer.observe(Outcome(OutcomeKind.ANSWERED, after_s=ring_s))
        self.tally.answered += 1
        window = int(self.now_s // self.scenario.abandon.window_s)
        self.tally.window_answered[window] = self.tally.window_answered.get(window, 0) + 1
        if call.reserved is not None:
            self._connect(call, self.agents[call.reserved])
        elif self._ready:
            index = next(iter(self._ready))
            del self._ready[index]
            self._connect(call, self.agents[index])
        else:
            call.result = "queued"
            self._queue.append(call)
            self._push(self.now_s + self.scenario.abandon.grace_s, _Ev.ABANDON, call)

    def _release_reserved(self, call: PacedCall) -> None:
        if call.reserved is not None:
            agent = self.agents[call.reserved]
            self._set_phase(agent, AgentPhase.READY)
            self._after_free(call.reserved)

    def _on_abandon(self, payload: object) -> None:
        assert isinstance(payload, PacedCall)
        if payload.result != "queued":
            return
        self._queue.remove(payload)
        payload.result = "abandoned"
        payload.abandoned_s = self.now_s
        self.tally.abandoned += 1
        window = int(payload.ring_end_s // self.scenario.abandon.window_s)
        self.tally.window_abandoned[window] = self.tally.window_abandoned.get(window, 0) + 1
        self.pacer.observe(Outcome(OutcomeKind.ABANDONED, after_s=self.now_s - payload.ring_end_s))

    def _connect(self, call: PacedCall, agent: _Agent) -> None:
        call.result = "connected"
        call.connected_s = self.now_s
        call.agent_id = agent.agent_id
        call.agent_ready_s = agent.ready_since_s
        talk_s = _duration(self._talk_rng, self.scenario.talk_s)
        wrap_s = _duration(self._talk_rng, self.scenario.wrap_s)
        call.talk_end_s = self.now_s + talk_s
        call.wrap_end_s = call.talk_end_s + wrap_s
        end_s = self.scenario.duration_s
        tally = self.tally
        tally.connected += 1
        tally.wait_s += self.now_s - agent.ready_since_s
        tally.talk_s += min(call.talk_end_s, end_s) - self.now_s
        tally.busy_s += min(call.wrap_end_s, end_s) - self.now_s
        agent.call = call
        self._set_phase(agent, AgentPhase.TALKING)
        self._push(call.talk_end_s, _Ev.TALK_END, agent)

    def _on_talk_end(self, payload: object) -> None:
        assert isinstance(payload, _Agent)
        assert payload.call is not None
        self._connections_ended += 1
        call = payload.call
        # learnt at hangup, as the production loop learns it from the ended attempt (the
        # wrap-up that follows is the agent's, known in advance)
        self.pacer.observe(
            Outcome(
                OutcomeKind.HANDLED,
                talk_s=call.talk_end_s - call.connected_s,
                wrap_s=call.wrap_end_s - call.talk_end_s,
            )
        )
        self._set_phase(payload, AgentPhase.WRAP_UP)
        self._push(payload.call.wrap_end_s, _Ev.WRAP_END, payload)

    def _on_wrap_end(self, payload: object) -> None:
        assert isinstance(payload, _Agent)
        call = payload.call
        assert call is not None
        payload.call = None
        self._set_phase(payload, AgentPhase.READY)
        self._after_free(int(payload.agent_id[1:]))

    def _after_free(self, index: int) -> None:
        """A READY agent leaves if due, else takes the oldest queued call, else waits."""
        agent = self.agents[index]
        agent.ready_since_s = self.now_s
        if agent.leave_after_call is not None:
            self._leave(index)
        elif self._queue:
            self._connect(self._queue.popleft(), agent)
        else:
            self._ready[index] = None

    # -- agents ---------------------------------------------------------------------------
    def _set_phase(self, agent: _Agent, phase: AgentPhase) -> None:
        agent.phase = phase
        agent.since_s = self.now_s

    def _on_shift_start(self, payload: object) -> None:
        assert isinstance(payload, int)
        agent = self.agents[payload]
        agent.shift = ShiftRecord(agent_id=agent.agent_id, start_s=self.now_s)
        self.shifts.append(agent.shift)
        self._set_phase(agent, AgentPhase.READY)
        self._after_free(payload)

    def _on_shift_end(self, payload: object) -> None:
        assert isinstance(payload, int)
        agent = self.agents[payload]
        if agent.shift is None:  # never started: the shift began after the end of the day
            return
        self.now_s = min(self.now_s, self.scenario.duration_s)
        if (
            agent.phase in (AgentPhase.READY, AgentPhase.AWAY)
            or self.now_s >= self.scenario.duration_s
        ):
            self._close_shift(agent)
        else:
            agent.leave_after_call = -1.0

    def _close_shift(self, agent: _Agent) -> None:
        assert agent.shift is not None
        if agent.phase is AgentPhase.AWAY:
            agent.shift.away_s += self.now_s - agent.away_from_s
        self._ready.pop(int(agent.agent_id[1:]), None)
        agent.shift.end_s = self.now_s
        self.tally.staffed_s += agent.shift.end_s - agent.shift.start_s - agent.shift.away_s
        self._set_phase(agent, AgentPhase.AWAY)
        agent.leave_after_call = None
        agent.shift = None

    def _on_break_start(self, payload: object) -> None:
        assert isinstance(payload, tuple)
        index, duration_s = payload
        agent = self.agents[index]
        if agent.shift is None or agent.leave_after_call is not None:
            return  # off shift, or already leaving after the current call
        agent.leave_after_call = float(duration_s)
        if agent.phase is AgentPhase.READY:
            self._leave(index)

    def _leave(self, index: int) -> None:
        agent = self.agents[index]
        pending = agent.leave_after_call
        self._ready.pop(index, None)
        if pending is not None and pending < 0:
            self._close_shift(agent)
            return
        agent.leave_after_call = None
        agent.away_from_s = self.now_s
        self._set_phase(agent, AgentPhase.AWAY)
        self._push(self.now_s + (pending or 0.0), _Ev.BREAK_END, index)

    def _on_break_end(self, payload: object) -> None:
        assert isinstance(payload, int)
        agent = self.agents[payload]
        if agent.shift is None:
            return
        agent.shift.away_s += self.now_s - agent.away_from_s
        self._set_phase(agent, AgentPhase.READY)
        self._after_free(payload)

    # -- figures --------------------------------------------------------------------------
    def _figures(self) -> Figures:
        tally = self.tally
        hours = self.scenario.duration_s / 3600.0
        rates = [
            tally.window_abandoned.get(w, 0) / n for w, n in tally.window_answered.items() if n
        ]
        staffed_h = tally.staffed_s / 3600.0
        return Figures(
            talk_min_per_agent_hour=tally.talk_s / 60.0 / staffed_h if staffed_h else 0.0,
            occupancy=tally.busy_s / tally.staffed_s if tally.staffed_s else 0.0,
            abandon_rate=max(rates, default=0.0),
            calls_per_hour=tally.launched / hours,
            idle_wait_s=tally.wait_s / tally.connected if tally.connected else 0.0,
            answered=tally.answered,
            abandoned=tally.abandoned,
            launched=tally.launched,
        )
