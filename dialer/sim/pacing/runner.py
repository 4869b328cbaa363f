"""Runs the pacer under test and the baselines on one scenario and seed."""

from __future__ import annotations

import math

from dialer.pacing import Pacer, PredictivePacer, ProgressivePacer
from dialer.sim.pacing.baselines import VicidialPacer
from dialer.sim.pacing.engine import Simulation
from dialer.sim.pacing.records import RunLog
from dialer.sim.pacing.scenario import PacingScenario

__all__ = ["PACERS", "best_fixed_ratio", "compare_pacers"]

PACERS = ("predictive", "progressive", "fixed_best", "vicidial")
_RATIO_STEP = 0.05
_BRACKET_STEP = 0.2


def _run_pacer(scenario: PacingScenario, seed: int, pacer: Pacer, name: str) -> RunLog:
    return Simulation(scenario, seed, pacer, name).run()


def _fixed(scenario: PacingScenario, seed: int, ratio: float) -> RunLog:
    log = _run_pacer(scenario, seed, ProgressivePacer(ratio), "fixed_best")
    log.extra["ratio"] = ratio
    return log


def best_fixed_ratio(
    scenario: PacingScenario,
    seed: int,
    guess: float | None = None,
    first_step: float = _BRACKET_STEP,
) -> RunLog:
    """The fixed ratio with the most talk time within the abandon target, found by a sweep.

    Talk time and abandons both grow with the ratio, so the best ratio is the largest one
    within the target: bracketed by steps doubling from ``first_step`` away from ``guess`` (up
    while within the target, down while above it), then bisected down to ``RATIO_STEP``. A
    guess from another seed of the same scenario is usually close: pass a small first step.
    """
    target = scenario.abandon.target
    ratio = max(1.0, round((guess or 1.0) / _RATIO_STEP) * _RATIO_STEP)
    trial = _fixed(scenario, seed, ratio)
    ok: RunLog | None = None
    bad = math.inf
    step = first_step
    if trial.figures.abandon_rate <= target:
        ok = trial
        while bad == math.inf:
            trial = _fixed(scenario, seed, ok.extra["ratio"] + step)
            if trial.figures.abandon_rate <= target:
                ok = trial
                step *= 2.0
            else:
                bad = trial.extra["ratio"]
    else:
        bad = ratio
        while ok is None:
            lower = max(1.0, bad - step)
            trial = _fixed(scenario, seed, lower)
            if trial.figures.abandon_rate <= target or lower == 1.0:
                ok = trial
            else:
                bad = lower
                step *= 2.0
    while bad - ok.extra["ratio"] > _RATIO_STEP + 1e-9:
        middle = round((ok.extra["ratio"] + bad) / 2.0 / _RATIO_STEP) * _RATIO_STEP
        trial = _fixed(scenario, seed, middle)
        if trial.figures.abandon_rate <= target:
            ok = trial
        else:
            bad = middle
    return ok


def compare_pacers(
    scenario: PacingScenario,
    seed: int,
    ratio_guess: float | None = None,
    first_step: float = _BRACKET_STEP,
) -> dict[str, RunLog]:
    """All pacers on the same scenario and seed (same callees, same talk times)."""
    return {
        "predictive": _run_pacer(scenario, seed, PredictivePacer(), "predictive"),
        "progressive": _run_pacer(scenario, seed, ProgressivePacer(1.0), "progressive"),
        "fixed_best": best_fixed_ratio(scenario, seed, ratio_guess, first_step),
        "vicidial": _run_pacer(scenario, seed, VicidialPacer(tick_s=scenario.tick_s), "vicidial"),
    }
