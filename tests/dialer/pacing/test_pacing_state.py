"""The pacer's learnt state as plain data: a round trip through JSON keeps every estimate, so
a restored pacer decides as the saved one would have; foreign data is refused."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings

from dialer.pacing import (
    PACER_STATE_VERSION,
    Mode,
    Outcome,
    PacerStateError,
    PredictiveConfig,
    PredictivePacer,
    Snapshot,
    make_pacer,
    pacer_state,
    restore_pacer,
)
from tests.dialer.pacing.test_pacing_properties import _fed, _warm_history, histories, snapshots


def _round_trip(pacer: PredictivePacer) -> PredictivePacer:
    restored = restore_pacer(Mode.PREDICTIVE, json.loads(json.dumps(pacer_state(pacer))))
    assert isinstance(restored, PredictivePacer)
    return restored


@settings(max_examples=100, deadline=None)
@given(history=histories, later=histories, snapshot=snapshots)
def test_round_trip_keeps_every_estimate_and_every_later_decision(
    history: list[Outcome], later: list[Outcome], snapshot: Snapshot
) -> None:
    saved = _fed(_warm_history() + history)
    restored = _round_trip(saved)
    assert pacer_state(restored) == pacer_state(saved)
    assert restored.answer.value == saved.answer.value
    for pacer in (saved, restored):
        for outcome in later:
            pacer.observe(outcome)
    assert pacer_state(restored) == pacer_state(saved)
    assert restored.decide(snapshot) == saved.decide(snapshot)


@settings(max_examples=30, deadline=None)
@given(history=histories)
def test_round_trip_survives_the_rescaling_of_weights(history: list[Outcome]) -> None:
    # a half-life of one outcome doubles the weight each time: rescaled every ~660 outcomes
    config = PredictiveConfig(answer_half_life=1.0, duration_half_life=1.0)
    saved = PredictivePacer(config)
    for outcome in (_warm_history() * 4) + history:
        saved.observe(outcome)
    data = json.loads(json.dumps(pacer_state(saved)))
    restored = restore_pacer(Mode.PREDICTIVE, data, config=config)
    assert pacer_state(restored) == pacer_state(saved)


def test_the_simple_modes_round_trip_as_their_mode() -> None:
    for mode in (Mode.PREVIEW, Mode.PROGRESSIVE):
        data = pacer_state(make_pacer(mode))
        assert data == {"version": PACER_STATE_VERSION, "mode": mode.value}
        assert restore_pacer(mode, data).mode is mode


@pytest.mark.parametrize(
    "change",
    [
        {"version": PACER_STATE_VERSION + 1},
        {"version": None},
        {"mode": "progressive"},
        {"talk": {"step": 1.0, "sum_s": 0.0, "count": 0, "max_s": 10, "bins": []}},
        {"answer": {}},
    ],
)
def test_foreign_state_is_refused(change: dict[str, object]) -> None:
    data = {**pacer_state(_fed(_warm_history())), **change}
    with pytest.raises(PacerStateError):
        restore_pacer(Mode.PREDICTIVE, data)
