"""The pacing simulator: bookkeeping, determinism, and figures recomputed from its CSV log."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialer.pacing import (
    Decision,
    Outcome,
    Pacer,
    PredictivePacer,
    PreviewPacer,
    ProgressivePacer,
    Snapshot,
)
from dialer.sim.pacing.baselines import VicidialPacer
from dialer.sim.pacing.engine import Simulation
from dialer.sim.pacing.records import Figures, figures_from_csv, write_csv
from dialer.sim.pacing.runner import best_fixed_ratio
from dialer.sim.pacing.scenario import (
    AgentGroup,
    Answer,
    AnswerChange,
    Break,
    Duration,
    PacingScenario,
    Uniform,
    load_pacing_scenario,
)

MATRIX = Path(__file__).resolve().parents[4] / "scenarios" / "pacing"


def _scenario(
    team: int = 8, answer: float | Answer = 0.3, hours: float = 0.5, **extra: object
) -> PacingScenario:
    data: dict[str, object] = {
        "name": "small",
        "duration_s": hours * 3600,
        "agents": (AgentGroup(count=team),),
        "answer": answer if isinstance(answer, Answer) else Answer(probability=answer),
        "talk_s": Duration(mean=120, sd=60),
        "wrap_s": Duration(mean=10),
    }
    data.update(extra)
    return PacingScenario.model_validate(data)


def _assert_same(printed: Figures, recomputed: Figures) -> None:
    for name in Figures.__dataclass_fields__:
        assert getattr(recomputed, name) == pytest.approx(
            getattr(printed, name), rel=1e-9, abs=1e-9
        ), name


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(1, 10_000),
    agents=st.integers(1, 12),
    answer=st.floats(0.1, 0.7),
    pacer=st.sampled_from(["predictive", "fixed", "vicidial", "preview"]),
    with_breaks=st.booleans(),
    machines=st.sampled_from([0.0, 0.3]),
)
def test_figures_recomputed_from_csv_equal_printed(
    tmp_path: Path,
    seed: int,
    agents: int,
    answer: float,
    pacer: str,
    with_breaks: bool,
    machines: float,
) -> None:
    groups = (
        AgentGroup(count=agents, breaks=(Break(at_s=600, duration_s=300),)),
        AgentGroup(count=2, start_s=300, end_s=1500),
    )
    scenario = _scenario(
        agents,
        answer,
        0.5,
        agents=groups if with_breaks else (AgentGroup(count=agents),),
        machine_share=machines,
    )
    pacers: dict[str, Pacer] = {
        "predictive": PredictivePacer(),
        "fixed": ProgressivePacer(2.5),
        "vicidial": VicidialPacer(),
        "preview": PreviewPacer(),
    }
    log = Simulation(scenario, seed, pacers[pacer]).run()
    path = tmp_path / f"{seed}_{pacer}.csv"
    write_csv(log, path)
    _assert_same(log.figures, figures_from_csv(path))


def test_recompute_would_notice_a_changed_log(tmp_path: Path) -> None:
    log = Simulation(_scenario(), 3, ProgressivePacer(3.0)).run()
    connected = next(c for c in log.calls if c.result == "connected")
    connected.talk_end_s += 30.0
    path = tmp_path / "changed.csv"
    write_csv(log, path)
    assert figures_from_csv(path).talk_min_per_agent_hour != log.figures.talk_min_per_agent_hour


def test_every_answered_call_is_connected_abandoned_or_still_queued() -> None:
    log = Simulation(_scenario(team=10), 2, ProgressivePacer(4.0)).run()
    results = [c.result for c in log.calls]
    answered = sum(results.count(r) for r in ("connected", "abandoned", "queued"))
    assert answered == log.figures.answered
    assert results.count("abandoned") == log.figures.abandoned > 0
    assert len(log.calls) == log.figures.launched
    for call in log.calls:
        if call.result == "connected":
            assert call.connected_s - call.ring_end_s <= 2.0 + 1e-9
            assert call.agent_ready_s <= call.connected_s


def test_progressive_one_to_one_never_abandons() -> None:
    log = Simulation(_scenario(team=6, answer=0.5, hours=1), 4, ProgressivePacer(1.0)).run()
    assert log.figures.abandoned == 0
    assert log.figures.answered > 50


def test_same_seed_same_run_and_common_callees() -> None:
    scenario = _scenario()
    first = Simulation(scenario, 9, PredictivePacer()).run()
    again = Simulation(scenario, 9, PredictivePacer()).run()
    assert first.figures == again.figures
    other = Simulation(scenario, 9, ProgressivePacer(2.0)).run()
    shared = min(len(first.calls), len(other.calls))
    outcome = [c.result == "no_answer" for c in first.calls[:shared]]
    assert outcome == [c.result == "no_answer" for c in other.calls[:shared]]


def test_breaks_and_shifts_reduce_staffed_time() -> None:
    groups = (AgentGroup(count=4, breaks=(Break(at_s=600, duration_s=600),)),)
    log = Simulation(_scenario(team=4, agents=groups), 1, ProgressivePacer()).run()
    staffed = sum(s.end_s - s.start_s - s.away_s for s in log.shifts)
    assert 4 * 1800 - 4 * 700 < staffed <= 4 * 1800 - 4 * 600 + 1e-6
    late = Simulation(
        _scenario(team=1, agents=(AgentGroup(count=3, start_s=900),)), 1, ProgressivePacer()
    ).run()
    assert sum(s.end_s - s.start_s for s in late.shifts) == pytest.approx(3 * 900)


def test_answer_probability_changes_during_the_day() -> None:
    scenario = _scenario(
        team=10,
        hours=1,
        answer=Answer(probability=0.6, changes=(AnswerChange(at_s=1800, probability=0.1),)),
    )
    log = Simulation(scenario, 1, ProgressivePacer(3.0)).run()

    def share(lo: float, hi: float) -> float:
        calls = [c for c in log.calls if lo <= c.launched_s < hi and c.result != "ringing"]
        return sum(c.result != "no_answer" for c in calls) / len(calls)

    assert share(0, 1800) > 0.45 > 0.2 > share(1800, 3600)


def test_best_fixed_ratio_is_the_largest_within_target() -> None:
    scenario = _scenario(team=10, hours=1)
    best = best_fixed_ratio(scenario, 1, guess=2.0)
    assert best.figures.abandon_rate <= scenario.abandon.target
    above = Simulation(scenario, 1, ProgressivePacer(best.extra["ratio"] + 0.1)).run()
    assert above.figures.abandon_rate > scenario.abandon.target or best.extra["ratio"] >= 3.9


def test_committed_matrix_is_the_standard_one() -> None:
    loaded = [load_pacing_scenario(p) for p in sorted(MATRIX.glob("*.yaml"))]
    combos = {(s.agent_count, s.answer.probability) for s in loaded}
    assert combos == {(n, p) for n in (5, 10, 20, 50, 100) for p in (0.15, 0.3, 0.5)}
    for s in loaded:
        assert s.duration_s == 8 * 3600 and s.seeds == (1, 2, 3)
        assert (s.talk_s.mean, s.talk_s.sd, s.wrap_s.mean, s.wrap_s.sd) == (120, 60, 10, 0)
        assert (s.ring_s.min, s.ring_s.max, s.no_answer_timeout_s) == (4, 20, 25)
        assert s.abandon.target == 0.03


@pytest.mark.parametrize(("team", "answer", "seed"), [(2, 0.5, 1), (3, 0.3, 2), (5, 0.15, 3)])
def test_small_teams_stay_within_the_abandon_target(team: int, answer: float, seed: int) -> None:
    scenario = _scenario(team=team, answer=answer, hours=2)
    log = Simulation(scenario, seed, PredictivePacer()).run()
    progressive = Simulation(scenario, seed, ProgressivePacer()).run()
    assert log.figures.abandon_rate <= scenario.abandon.target
    assert log.figures.talk_min_per_agent_hour >= progressive.figures.talk_min_per_agent_hour


def test_shift_ending_mid_call_and_overlapping_breaks_keep_the_books() -> None:
    groups = (
        AgentGroup(count=3, end_s=1000, breaks=(Break(at_s=990, duration_s=100),)),
        AgentGroup(count=2, start_s=5000),  # starts after the end of the day
        AgentGroup(
            count=4, breaks=(Break(at_s=300, duration_s=200), Break(at_s=310, duration_s=50))
        ),
    )
    log = Simulation(_scenario(agents=groups), 1, ProgressivePacer(2.0)).run()
    assert len(log.shifts) == 7
    for shift in log.shifts:
        assert shift.start_s <= shift.end_s <= 1800
        assert 0 <= shift.away_s <= shift.end_s - shift.start_s
    early = [s for s in log.shifts if s.end_s < 1800]
    assert len(early) == 3 and all(s.end_s >= 1000 for s in early)


class _Spy:
    """Progressive 1:1 that records, by simulated time, the agents' phases and what it learns."""

    mode = ProgressivePacer.mode

    def __init__(self) -> None:
        self.sim: Simulation | None = None
        self.phases: list[tuple[float, str]] = []
        self.learnt: list[tuple[float, str]] = []

    def decide(self, snapshot: Snapshot) -> Decision:
        assert self.sim is not None
        self.phases.append((self.sim.now_s, snapshot.agents[0].phase.value))
        return ProgressivePacer(1.0).decide(snapshot)

    def observe(self, outcome: Outcome) -> None:
        assert self.sim is not None
        self.learnt.append((self.sim.now_s, outcome.kind.value))


def _one_agent_run(breaks: tuple[Break, ...]) -> _Spy:
    scenario = _scenario(
        team=1,
        answer=1.0,
        hours=0.05,
        agents=(AgentGroup(count=1, breaks=breaks),),
        ring_s=Uniform(min=4, max=4),
        talk_s=Duration(mean=100),
        wrap_s=Duration(mean=10),
    )
    spy = _Spy()
    sim = Simulation(scenario, 1, spy)
    spy.sim = sim
    sim.run()
    return spy


def test_an_agent_leaving_after_the_call_is_not_seen_coming_free() -> None:
    spy = _one_agent_run((Break(at_s=10, duration_s=60),))
    # talking from 4 s to 104 s, wrap-up to 114 s; the break is set at 10 s: away from then
    # on, not talking nor wrapping up, until back at 174 s
    assert dict(spy.phases)[5.0] == "talking"
    assert {phase for at_s, phase in spy.phases if 10 <= at_s < 174} == {"away"}
    assert dict(spy.phases)[175.0] == "ready"


def test_a_handled_call_is_learnt_at_its_hangup() -> None:
    spy = _one_agent_run(())
    assert spy.learnt[:2] == [(4.0, "answered"), (104.0, "handled")]
