"""Invariants of every pacing mode: never negative, never beyond free capacity, deterministic."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.pacing import (
    AbandonBudget,
    AgentPhase,
    AgentView,
    CallStage,
    CallView,
    Limits,
    Outcome,
    OutcomeKind,
    Pacer,
    PredictivePacer,
    PreviewPacer,
    ProgressivePacer,
    Snapshot,
    free_capacity,
)
from dialer.sim.pacing.baselines import VicidialPacer

agents = st.lists(
    st.builds(
        AgentView,
        agent_id=st.just(""),
        phase=st.sampled_from(list(AgentPhase)),
        in_phase_s=st.floats(0, 2000),
    ),
    max_size=40,
).map(lambda xs: tuple(a._replace(agent_id=f"a{i}") for i, a in enumerate(xs)))

calls = st.lists(
    st.builds(
        CallView,
        call_id=st.just(""),
        stage=st.sampled_from(list(CallStage)),
        age_s=st.floats(0, 40),
    ),
    max_size=60,
).map(lambda xs: tuple(c._replace(call_id=f"c{i}") for i, c in enumerate(xs)))

limits = st.builds(
    Limits,
    max_lines_per_agent=st.floats(0.5, 8),
    trunk_free_lines=st.integers(-5, 200),
    leads_due=st.integers(0, 200),
    dialing_allowed=st.booleans(),
)


@st.composite
def budgets(draw: st.DrawFn) -> AbandonBudget:
    answered = draw(st.integers(0, 20_000))
    target = draw(st.floats(0.005, 0.1))
    spent = draw(st.floats(0, 1.3))  # share of the allowance already used
    return AbandonBudget(
        target=target,
        answered_in_window=answered,
        abandoned_in_window=int(answered * target * spent),
    )


snapshots = st.builds(
    Snapshot,
    agents=agents,
    calls=calls,
    limits=limits,
    budget=budgets(),
    no_answer_timeout_s=st.floats(5, 60),
    due_lead_ids=st.lists(st.text("0123456789", min_size=1, max_size=6), max_size=30).map(tuple),
)

outcome_kinds = st.sampled_from(list(OutcomeKind))
histories = st.lists(
    st.builds(
        Outcome,
        kind=outcome_kinds,
        after_s=st.floats(0, 60),
        talk_s=st.floats(0, 900),
        wrap_s=st.floats(0, 60),
    ),
    min_size=0,
    max_size=150,
)


def _fed(history: list[Outcome]) -> PredictivePacer:
    pacer = PredictivePacer()
    for outcome in history:
        pacer.observe(outcome)
    return pacer


def _warm_history() -> list[Outcome]:
    """A history long enough for the predictive mode to leave its warm-up."""
    out: list[Outcome] = []
    for i in range(200):
        if i % 3 == 0:
            out.append(Outcome(OutcomeKind.ANSWERED, after_s=4 + i % 16))
            out.append(Outcome(OutcomeKind.HANDLED, talk_s=60 + i % 120, wrap_s=10))
        else:
            out.append(Outcome(OutcomeKind.NO_ANSWER, after_s=25))
    return out


def _check_within_capacity(pacer: Pacer, snapshot: Snapshot) -> int:
    launch = pacer.decide(snapshot).launch
    staffed = sum(1 for a in snapshot.agents if a.phase is not AgentPhase.AWAY)
    assert launch >= 0
    assert launch <= free_capacity(snapshot)
    assert launch <= max(snapshot.limits.trunk_free_lines, 0)
    assert launch <= snapshot.limits.leads_due
    line_room = math.floor(snapshot.limits.max_lines_per_agent * staffed + 1e-9)
    assert launch == 0 or len(snapshot.calls) + launch <= line_room
    if not snapshot.limits.dialing_allowed:
        assert launch == 0
    return launch


@settings(max_examples=150, deadline=None)
@given(snapshot=snapshots, ratio=st.floats(0.5, 8))
def test_simple_modes_stay_within_free_capacity(snapshot: Snapshot, ratio: float) -> None:
    for pacer in (ProgressivePacer(ratio), PreviewPacer(), VicidialPacer()):
        _check_within_capacity(pacer, snapshot)


@settings(max_examples=150, deadline=None)
@given(snapshot=snapshots, history=histories)
def test_predictive_stays_within_free_capacity(snapshot: Snapshot, history: list[Outcome]) -> None:
    _check_within_capacity(_fed(history), snapshot)
    _check_within_capacity(_fed(_warm_history() + history), snapshot)


@settings(max_examples=100, deadline=None)
@given(snapshot=snapshots, history=histories)
def test_predictive_is_deterministic_for_same_inputs_and_history(
    snapshot: Snapshot, history: list[Outcome]
) -> None:
    full = _warm_history() + history
    first, second = _fed(full), _fed(full)
    decision = first.decide(snapshot)
    assert decision == second.decide(snapshot)
    assert decision == first.decide(snapshot)  # deciding does not change the pacer


@settings(max_examples=100, deadline=None)
@given(snapshot=snapshots)
def test_predictive_never_below_progressive(snapshot: Snapshot) -> None:
    pacer = _fed(_warm_history())
    assert pacer.decide(snapshot).launch >= ProgressivePacer(1.0).decide(snapshot).launch


@settings(max_examples=100, deadline=None)
@given(snapshot=snapshots)
def test_preview_pairs_ready_agents_with_due_leads_once(snapshot: Snapshot) -> None:
    decision = PreviewPacer().decide(snapshot)
    ready = {a.agent_id for a in snapshot.agents if a.phase is AgentPhase.READY}
    pairs = decision.assignments
    assert decision.launch == len(pairs)
    assert len({p.agent_id for p in pairs}) == len(pairs)
    assert {p.agent_id for p in pairs} <= ready
    assert [p.lead_id for p in pairs] == list(snapshot.due_lead_ids[: len(pairs)])


working_agents = st.lists(
    st.builds(
        AgentView,
        agent_id=st.just(""),
        phase=st.sampled_from([AgentPhase.READY, AgentPhase.TALKING, AgentPhase.WRAP_UP]),
        in_phase_s=st.floats(0, 400),
    ),
    min_size=1,
    max_size=40,
).map(lambda xs: tuple(a._replace(agent_id=f"a{i}") for i, a in enumerate(xs)))

open_limits = st.builds(
    Limits,
    max_lines_per_agent=st.floats(0.5, 8),
    trunk_free_lines=st.integers(0, 60),
    leads_due=st.integers(0, 60),
)

bold_snapshots = st.builds(
    Snapshot,
    agents=working_agents,
    calls=calls,
    limits=open_limits,
    budget=st.builds(
        AbandonBudget,
        answered_in_window=st.integers(1_000, 50_000),
        abandoned_in_window=st.just(0),
    ),
)


@settings(max_examples=150, deadline=None)
@given(snapshot=bold_snapshots, history=histories)
def test_bold_predictive_stays_within_free_capacity(
    snapshot: Snapshot, history: list[Outcome]
) -> None:
    """With budget to spare the model, not the floor, decides: it must still obey the limits."""
    _check_within_capacity(_fed(_warm_history() + history), snapshot)


@settings(max_examples=80, deadline=None)
@given(snapshot=bold_snapshots, history=histories)
def test_bold_predictive_is_deterministic(snapshot: Snapshot, history: list[Outcome]) -> None:
    full = _warm_history() + history
    assert _fed(full).decide(snapshot) == _fed(full).decide(snapshot)
