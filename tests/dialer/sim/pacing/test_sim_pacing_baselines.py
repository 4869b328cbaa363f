"""The VICIdial-style baseline and the mode factory."""

from __future__ import annotations

from dialer.pacing import (
    AbandonBudget,
    AgentPhase,
    AgentView,
    Mode,
    PredictivePacer,
    PreviewPacer,
    ProgressivePacer,
    Snapshot,
    make_pacer,
)
from dialer.sim.pacing.baselines import VicidialPacer


def _snapshot(ready: int, talking: int, abandoned: int) -> Snapshot:
    agents = tuple(AgentView(f"r{i}", AgentPhase.READY, 5.0) for i in range(ready)) + tuple(
        AgentView(f"t{i}", AgentPhase.TALKING, 50.0) for i in range(talking)
    )
    budget = AbandonBudget(target=0.03, answered_in_window=1_000, abandoned_in_window=abandoned)
    return Snapshot(agents=agents, calls=(), budget=budget)


def test_level_rises_while_agents_wait_and_halves_above_the_drop_target() -> None:
    pacer = VicidialPacer(tick_s=1.0, adjust_every_s=15.0, start_level=1.0)
    for _ in range(15):
        pacer.decide(_snapshot(ready=5, talking=5, abandoned=0))
    assert pacer.level == 1.5  # + (5 ready - 0 waiting) / 10 staffed
    for _ in range(30):
        pacer.decide(_snapshot(ready=5, talking=5, abandoned=0))
    assert pacer.level == 2.5
    for _ in range(15):
        pacer.decide(_snapshot(ready=5, talking=5, abandoned=40))
    assert pacer.level == 1.25
    # goal = floor(1.25 * 10 staffed) - 5 talking - 0 in flight
    assert pacer.decide(_snapshot(ready=5, talking=5, abandoned=40)).launch == 7


def test_make_pacer_by_mode() -> None:
    assert isinstance(make_pacer(Mode.PREVIEW), PreviewPacer)
    progressive = make_pacer(Mode.PROGRESSIVE, ratio=2.5)
    assert isinstance(progressive, ProgressivePacer) and progressive.ratio == 2.5
    assert isinstance(make_pacer(Mode.PREDICTIVE), PredictivePacer)
