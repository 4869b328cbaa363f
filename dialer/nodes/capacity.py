"""A node's capacity as the switch reports it, and the rate the dialer keeps to (pure).

FreeSWITCH's ``status`` API reply (transcripts f, l, l2 in tests/data/esl) reads::

    UP 0 years, 0 days, 0 hours, 4 minutes, 28 seconds, 219 milliseconds, 723 microseconds
    FreeSWITCH (Version 1.10.12-release  64bit) is ready
    17 session(s) since startup
    2 session(s) - peak 2, last 5min 2
    0 session(s) per Sec out of max 30, peak 27, last 5min 27
    2 session(s) max
    ...

and ``fsctl sps [N]`` / ``fsctl max_sessions [N]`` answer ``+OK sessions per second: 30`` /
``+OK max sessions: 2`` (the value in force after the command; ``fsctl sps 0`` changes
nothing). The switch lets ``sps - 1`` new sessions through in each of its one-second windows
(transcript l: sps 1 refused all five originates, sps 3 let two of five through), and refuses
the rest with ``-ERR DESTINATION_OUT_OF_ORDER`` and no channel event at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "Bucket",
    "Limits",
    "SwitchStatus",
    "bucket_for",
    "effective_limits",
    "parse_fsctl",
    "parse_status",
    "refill",
]

_SESSIONS = re.compile(r"^(\d+) session\(s\) - peak \d+", re.MULTILINE)
_PER_SEC = re.compile(r"^(\d+) session\(s\) per Sec out of max (\d+)", re.MULTILINE)
_MAX = re.compile(r"^(\d+) session\(s\) max\s*$", re.MULTILINE)
_FSCTL = re.compile(r"\+OK (?:sessions per second|max sessions): (\d+)")


@dataclass(frozen=True, slots=True)
class SwitchStatus:
    """What ``status`` says: ``sessions`` up now, ``sessions_this_s`` requested in the
    switch's current second, its ``sps`` (``fsctl sps``) and ``max_sessions``."""

    sessions: int
    sessions_this_s: int
    sps: int
    max_sessions: int


def parse_status(reply: str) -> SwitchStatus | None:
    """The figures of a ``status`` reply; None when a line is missing (not a status reply)."""
    sessions = _SESSIONS.search(reply)
    per_sec = _PER_SEC.search(reply)
    most = _MAX.search(reply)
    if sessions is None or per_sec is None or most is None:
        return None
    return SwitchStatus(
        sessions=int(sessions.group(1)),
        sessions_this_s=int(per_sec.group(1)),
        sps=int(per_sec.group(2)),
        max_sessions=int(most.group(1)),
    )


def parse_fsctl(reply: str) -> int | None:
    """The value an ``fsctl sps`` / ``fsctl max_sessions`` reply says is in force."""
    found = _FSCTL.fullmatch(reply.strip())
    return int(found.group(1)) if found else None


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits the dialer keeps to on a node; None: not bounded (unknown and not set)."""

    max_sessions: int | None = None
    sps: int | None = None


def effective_limits(
    read: SwitchStatus | None, max_sessions: int | None, sps: int | None
) -> Limits:
    """The lower of what the switch said (``read``) and what the operator set."""

    def lower(a: int | None, b: int | None) -> int | None:
        return b if a is None else a if b is None else min(a, b)

    return Limits(
        max_sessions=lower(read.max_sessions if read else None, max_sessions),
        sps=lower(read.sps if read else None, sps),
    )


@dataclass(frozen=True, slots=True)
class Bucket:
    """A token bucket: ``burst`` tokens at most, refilled at ``rate_per_s``."""

    rate_per_s: float
    burst: float


def bucket_for(sps: int) -> Bucket:
    """The bucket that keeps a node with ``fsctl sps`` ``sps`` from ever refusing for rate.

    The switch lets ``sps - 1`` through in each of its one-second windows, whose phase the
    dialer does not know: so no interval shorter than a second may see ``sps`` grants. A
    bucket grants at most ``burst + rate_per_s * L`` in an interval of length ``L``; with
    ``burst + rate_per_s == sps`` that is under ``sps`` for every ``L < 1``, hence at most
    ``sps - 1`` whole grants. Half each way lets a tick send a burst of ``sps / 2`` and keeps
    ``sps / 2`` a second on average (``sps`` 1 grants nothing, as the switch does).
    """
    half = max(sps, 0) / 2.0
    return Bucket(rate_per_s=half, burst=half)


def refill(tokens: float, at_s: float, now_s: float, bucket: Bucket) -> float:
    """Tokens at ``now_s`` of a bucket that held ``tokens`` at ``at_s`` (a clock that went
    back adds nothing)."""
    return min(bucket.burst, tokens + max(now_s - at_s, 0.0) * bucket.rate_per_s)
