"""What must hold after any fault, read from the simulator's records (the truth) and the
database (what the dialer reported). Pure functions of plain data; each returns the
violations it found (empty when the property holds)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from campaigns.domain import NOT_DIALLED, UNSETTLED, AttemptOutcome
from dialer.calls.causes import unanswered_outcome
from dialer.sim.records import CallRecord

_FOREVER_S = float("inf")


@dataclass(frozen=True)
class Attempt:
    """One ``call_attempts`` row: its call uuid, the number dialled and its outcome."""

    call_uuid: str
    outcome: str | None


def _placed(run: Sequence[CallRecord]) -> list[CallRecord]:
    return [r for r in run if not r.refused]


def _spans(run: Sequence[CallRecord]) -> list[tuple[float, float, CallRecord]]:
    """(start, end) of every placed call of one simulator run; a call its run's kill cut
    (never ended) lasts to the end of that run."""
    return [(r.created_s, r.hangup_s or _FOREVER_S, r) for r in _placed(run)]


def overlapping_numbers(runs: Sequence[Sequence[CallRecord]]) -> list[str]:
    """Numbers with two calls up at once (within one simulator run: a killed run's calls all
    ended with it)."""
    found: list[str] = []
    for run in runs:
        by_number: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for start, end, r in _spans(run):
            by_number[r.number].append((start, end))
        for number, spans in by_number.items():
            spans.sort()
            if any(b[0] < a[1] for a, b in pairwise(spans)):
                found.append(number)
    return found


def max_concurrent(runs: Sequence[Sequence[CallRecord]]) -> dict[str, int]:
    """The most calls up at once per gateway, over every simulator run (an end before a start
    at the same instant)."""
    peak: dict[str, int] = defaultdict(int)
    for run in runs:
        edges: dict[str, list[tuple[float, int]]] = defaultdict(list)
        for start, end, r in _spans(run):
            edges[r.gateway] += [(start, 1), (end, -1)]
        for gateway, points in edges.items():
            up = 0
            for _, step in sorted(points):
                up += step
                peak[gateway] = max(peak[gateway], up)
    return dict(peak)


def limit_breaches(runs: Sequence[Sequence[CallRecord]], limits: Mapping[str, int]) -> list[str]:
    peaks = max_concurrent(runs)
    return [f"{g}: {peaks[g]} > {limit}" for g, limit in limits.items() if peaks.get(g, 0) > limit]


def expected_outcomes(record: CallRecord, cut: bool) -> set[str]:
    """The outcomes the dialer may report for ``record``; ``cut``: the simulator was killed
    with the call up (it never ended there: no event, no channel, no CDR tells how it would
    have ended): connected if a bridge was seen, held ``unknown`` if answered, not counted
    (or held) if it was only ringing: a switch failure uses up no attempt of the lead."""
    if cut:
        if record.bridged_s is not None:
            return {AttemptOutcome.CONNECTED}
        return {UNSETTLED} if record.answered_s is not None else {NOT_DIALLED, UNSETTLED}
    if record.bridged_s is not None:
        return {AttemptOutcome.CONNECTED}
    if _switch_abandoned(record):
        return {AttemptOutcome.ABANDONED}
    if record.answered_s is not None and record.machine:
        return {AttemptOutcome.ANSWERING_MACHINE}
    if record.answered_s is not None:
        return {AttemptOutcome.CONNECTED, AttemptOutcome.ABANDONED}
    progressed = record.progress_s is not None
    return {
        unanswered_outcome(record.hangup_cause, progressed=progressed, sip_status=""),
        unanswered_outcome(record.hangup_cause, progressed=progressed, sip_status="x"),
    }


def outcome_mismatches(
    runs: Sequence[Sequence[CallRecord]], attempts: Sequence[Attempt]
) -> list[str]:
    """Simulator calls without exactly one attempt of a matching outcome."""
    by_uuid: dict[str, list[Attempt]] = defaultdict(list)
    for a in attempts:
        by_uuid[a.call_uuid].append(a)
    wrong: list[str] = []
    for run in runs:
        for r in run:
            mine = by_uuid.get(r.uuid, [])
            if r.refused:
                if any(a.outcome != NOT_DIALLED for a in mine):
                    wrong.append(f"{r.uuid} refused by the switch: {[a.outcome for a in mine]}")
                continue
            allowed = expected_outcomes(r, cut=r.hangup_s is None)
            if len(mine) != 1 or mine[0].outcome not in allowed:
                seen = [a.outcome for a in mine]
                wrong.append(
                    f"{r.uuid} {r.number} {r.hangup_cause or 'cut'} answered={r.answered_s} "
                    f"bridged={r.bridged_s}: attempts {seen}, expected one of {sorted(allowed)}"
                )
    return wrong


def agent_customers_redialled(runs: Sequence[Sequence[CallRecord]]) -> list[str]:
    """Numbers called again after a call of theirs was bridged to an agent."""
    reached: set[str] = set()
    again: list[str] = []
    for run in runs:
        for r in sorted(_placed(run), key=lambda r: r.created_s):
            if r.number in reached:
                again.append(r.number)
            if r.bridged_s is not None:
                reached.add(r.number)
    return again


def _switch_abandoned(record: CallRecord) -> bool:
    """Answered, queued, never bridged to an agent, as the switch saw it: the simulator
    signals no answering-machine detection, so a machine that waited in the queue is an
    abandon to the switch and the dialer alike."""
    return record.answered_s is not None and bool(record.queue) and record.bridged_s is None


def true_abandons(runs: Sequence[Sequence[CallRecord]]) -> int:
    """Calls answered, queued and never bridged to an agent (calls a simulator kill cut are
    not counted: the switch, not the queue, ended them)."""
    return sum(
        1 for run in runs for r in _placed(run) if _switch_abandoned(r) and r.hangup_s is not None
    )
