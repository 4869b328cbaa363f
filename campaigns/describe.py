"""Calling windows and retry rules in words, for people (``dialer campaigns show``). Pure.

``Mon–Sat 09:00–20:00 (lead's local time; unknown zones: Asia/Shanghai)``;
``busy: retry after 15 min, at most 3 attempts``.
"""

from __future__ import annotations

from datetime import time

from campaigns.domain import AttemptOutcome
from campaigns.rules import CallingWindow, RetryPolicy, Window, attempt_limit

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_RUN_AS_RANGE = 3  # three days in a row or more read as a range: Mon–Fri


def describe_calling_window(window: CallingWindow) -> str:
    """`describe_calling_hours` and the zone they are read in."""
    hours = describe_calling_hours(window)
    return f"{hours} (lead's local time; unknown zones: {window.fallback_timezone})"


def describe_calling_hours(window: CallingWindow) -> str:
    """Each window as days and hours, earliest first: ``Mon–Fri 09:00–12:00, Sat 10:00–16:00``."""
    return ", ".join(_window_text(w) for w in sorted(window.windows, key=_window_order))


def _window_order(window: Window) -> tuple[int, time]:
    return min(window.days), window.start


def _window_text(window: Window) -> str:
    return f"{describe_days(window.days)} {_clock(window.start)}–{_clock(window.end)}"


def _clock(at: time) -> str:
    return at.strftime("%H:%M:%S" if at.second else "%H:%M")


def describe_days(days: frozenset[int]) -> str:
    """Weekdays (0 = Monday) as ``Mon–Sat``, ``Mon–Fri, Sun``, ``Sat, Sun`` or ``every day``."""
    if len(days) == len(_DAYS):
        return "every day"
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts: list[str] = []
    for run in runs:
        if len(run) >= _RUN_AS_RANGE:
            parts.append(f"{_DAYS[run[0]]}–{_DAYS[run[-1]]}")
        else:
            parts.extend(_DAYS[d] for d in run)
    return ", ".join(parts)


def describe_duration_s(seconds: int) -> str:
    """``seconds`` in the largest unit that keeps it whole: ``90 s``, ``15 min``, ``2 h``;
    under two minutes always in seconds."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds >= 120 and seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def describe_retry_policy(policy: RetryPolicy, max_attempts: int) -> tuple[str, ...]:
    """One line per outcome that is retried, in `AttemptOutcome` order, with the delay and
    the attempt limit `campaigns.rules.next_step` applies; then the outcomes never retried."""
    lines: list[str] = []
    final: list[str] = []
    for outcome in AttemptOutcome:
        rule = policy.rules.get(outcome)
        name = outcome.value.replace("_", " ")
        if rule is None:
            final.append(name)
            continue
        delay = describe_duration_s(rule.delay_s)
        if outcome is AttemptOutcome.ABANDONED and policy.abandoned_quiet_s > rule.delay_s:
            delay = f"{describe_duration_s(policy.abandoned_quiet_s)} (quiet time after an abandon)"
        limit = attempt_limit(rule, max_attempts)
        lines.append(f"{name}: retry after {delay}, at most {limit} attempt{'s' * (limit != 1)}")
    if not lines:
        return ("no retry after any outcome",)
    if final:
        lines.append(f"{', '.join(final)}: no retry")
    return tuple(lines)
