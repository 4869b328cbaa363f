"""What a simulation run leaves behind: per-call log, shifts, time series and figures.

The per-call log (CSV) holds one ``call`` row per launched call and one ``shift`` row per agent
shift; ``figures_from_csv`` recomputes every figure from it alone.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "Figures",
    "PacedCall",
    "RunLog",
    "ShiftRecord",
    "TimePoint",
    "figures_from_csv",
    "write_csv",
]

_CSV_FIELDS = (
    "kind",
    "id",
    "launched_s",
    "ring_end_s",
    "result",
    "connected_s",
    "talk_end_s",
    "wrap_end_s",
    "abandoned_s",
    "agent_id",
    "agent_ready_s",
    "shift_start_s",
    "shift_end_s",
    "away_s",
)

# Run-level rows carry what is not per call: the run length and the abandon window.
_RUN_FIELDS = ("duration_s", "window_s")


@dataclass(slots=True)
class PacedCall:
    """One launched call. ``result``: no_answer, machine, answered (still ringing at the end),
    queued (still waiting at the end), abandoned or connected. Unset times are NaN."""

    call_id: int
    launched_s: float
    reserved: int | None = None
    result: str = "ringing"
    ring_end_s: float = math.nan
    connected_s: float = math.nan
    talk_end_s: float = math.nan
    wrap_end_s: float = math.nan
    abandoned_s: float = math.nan
    agent_id: str = ""
    agent_ready_s: float = math.nan
    key: str = ""

    def __post_init__(self) -> None:
        self.key = str(self.call_id)


@dataclass(slots=True)
class ShiftRecord:
    agent_id: str
    start_s: float
    end_s: float = math.nan
    away_s: float = 0.0


@dataclass(frozen=True, slots=True)
class TimePoint:
    time_s: float
    lines_in_flight: int
    agents_busy: int
    agents_ready: int
    dial_level: float
    abandon_rate: float


@dataclass(frozen=True, slots=True)
class Figures:
    """Per run. Talk and busy time are counted up to the end of the run; ``abandon_rate`` is
    the worst window's abandoned / answered-by-a-person; ``idle_wait_s`` is the mean time an
    agent was ready before each connected call."""

    talk_min_per_agent_hour: float
    occupancy: float
    abandon_rate: float
    calls_per_hour: float
    idle_wait_s: float
    answered: int
    abandoned: int
    launched: int


@dataclass(slots=True)
class RunLog:
    pacer: str
    scenario: str
    seed: int
    duration_s: float
    window_s: float
    calls: list[PacedCall]
    shifts: list[ShiftRecord]
    series: list[TimePoint]
    figures: Figures
    extra: dict[str, float] = field(default_factory=dict)


def _num(value: float) -> str:
    return "" if math.isnan(value) else repr(value)


def write_csv(log: RunLog, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(_CSV_FIELDS)
        writer.writerow(["run", log.pacer, repr(log.duration_s), repr(log.window_s)])
        for c in log.calls:
            writer.writerow(
                [
                    "call",
                    c.call_id,
                    _num(c.launched_s),
                    _num(c.ring_end_s),
                    c.result,
                    _num(c.connected_s),
                    _num(c.talk_end_s),
                    _num(c.wrap_end_s),
                    _num(c.abandoned_s),
                    c.agent_id,
                    _num(c.agent_ready_s),
                    "",
                    "",
                    "",
                ]
            )
        for s in log.shifts:
            row = ["shift", s.agent_id] + [""] * 9
            writer.writerow([*row, _num(s.start_s), _num(s.end_s), repr(s.away_s)])


def _f(text: str) -> float:
    return float(text) if text else math.nan


def figures_from_csv(path: Path) -> Figures:
    """Recompute a run's figures from its CSV log alone."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    run = next(r for r in rows if r["kind"] == "run")
    duration_s, window_s = float(run["launched_s"]), float(run["ring_end_s"])
    calls = [r for r in rows if r["kind"] == "call"]
    staffed_s = sum(
        _f(r["shift_end_s"]) - _f(r["shift_start_s"]) - _f(r["away_s"])
        for r in rows
        if r["kind"] == "shift"
    )
    answered: dict[int, int] = {}
    abandoned: dict[int, int] = {}
    talk_s = busy_s = wait_s = 0.0
    connected = 0
    for r in calls:
        if r["result"] in ("connected", "abandoned", "queued"):
            window = int(_f(r["ring_end_s"]) // window_s)
            answered[window] = answered.get(window, 0) + 1
            if r["result"] == "abandoned":
                abandoned[window] = abandoned.get(window, 0) + 1
        if r["result"] == "connected":
            start = _f(r["connected_s"])
            connected += 1
            talk_s += min(_f(r["talk_end_s"]), duration_s) - start
            busy_s += min(_f(r["wrap_end_s"]), duration_s) - start
            wait_s += start - _f(r["agent_ready_s"])
    staffed_h = staffed_s / 3600.0
    return Figures(
        talk_min_per_agent_hour=talk_s / 60.0 / staffed_h if staffed_h else 0.0,
        occupancy=busy_s / staffed_s if staffed_s else 0.0,
        abandon_rate=max((abandoned.get(w, 0) / n for w, n in answered.items() if n), default=0.0),
        calls_per_hour=len(calls) / (duration_s / 3600.0),
        idle_wait_s=wait_s / connected if connected else 0.0,
        answered=sum(answered.values()),
        abandoned=sum(abandoned.values()),
        launched=len(calls),
    )
