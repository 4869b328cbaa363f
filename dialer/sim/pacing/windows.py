"""Figures over parts of a run, from its per-call log: the worst short window of abandons and
talk time per agent-hour within a span (the first hour, say)."""

from __future__ import annotations

import math

from dialer.sim.pacing.records import RunLog

__all__ = ["talk_min_per_agent_hour_between", "worst_window_abandon_rate"]

_PERSON = frozenset({"answered", "queued", "abandoned", "connected"})


def worst_window_abandon_rate(
    log: RunLog, window_s: float = 1_800.0, start_s: float = 1_800.0, step_s: float = 60.0
) -> float:
    """The highest abandoned / answered-by-a-person over windows ``[s, s + window_s)`` with
    ``s`` from ``start_s`` in steps of ``step_s`` that end within the run; calls count in the
    window of their answer. 0 if no window fits or none had an answer."""
    answers = sorted(
        (c.ring_end_s, c.result == "abandoned")
        for c in log.calls
        if c.result in _PERSON and not math.isnan(c.ring_end_s)
    )
    worst = 0.0
    start = start_s
    while start + window_s <= log.duration_s + 1e-9:
        inside = [abandoned for at_s, abandoned in answers if start <= at_s < start + window_s]
        if inside:
            worst = max(worst, sum(inside) / len(inside))
        start += step_s
    return worst


def talk_min_per_agent_hour_between(log: RunLog, start_s: float, end_s: float) -> float:
    """Talk minutes per staffed agent-hour within ``[start_s, end_s)``. Staffed time is the
    shifts' overlap with the span (time away on a break is not taken off: use spans without
    breaks)."""
    talk_s = 0.0
    for call in log.calls:
        if math.isnan(call.connected_s):
            continue
        talk_end = call.talk_end_s if not math.isnan(call.talk_end_s) else log.duration_s
        talk_s += max(0.0, min(talk_end, end_s) - max(call.connected_s, start_s))
    staffed_s = 0.0
    for shift in log.shifts:
        shift_end = shift.end_s if not math.isnan(shift.end_s) else log.duration_s
        staffed_s += max(0.0, min(shift_end, end_s) - max(shift.start_s, start_s))
    return talk_s / 60.0 / (staffed_s / 3_600.0) if staffed_s > 0 else 0.0
