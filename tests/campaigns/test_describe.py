"""Calling windows and retry rules in words, as `dialer campaigns show` prints them."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from campaigns.describe import (
    describe_calling_hours,
    describe_calling_window,
    describe_days,
    describe_duration_s,
    describe_retry_policy,
)
from campaigns.domain import AttemptOutcome
from campaigns.rules import CallingWindow, Final, RetryPolicy, RetryRule, Window, next_step


def test_the_default_window_reads_as_days_and_hours() -> None:
    assert describe_calling_window(CallingWindow()) == (
        "Mon–Sat 09:00–20:00 (lead's local time; unknown zones: Asia/Shanghai)"
    )


def test_several_windows_are_listed_in_order() -> None:
    window = CallingWindow.model_validate(
        {
            "windows": [
                {"days": "mon,tue,wed,thu,fri", "start": "14:00", "end": "20:30"},
                {"days": "mon,tue,wed,thu,fri", "start": "09:00", "end": "12:00"},
                {"days": "sat", "start": "10:00", "end": "16:00"},
            ],
            "fallback_timezone": "Europe/London",
        }
    )
    hours = "Mon–Fri 09:00–12:00, Mon–Fri 14:00–20:30, Sat 10:00–16:00"
    assert describe_calling_hours(window) == hours
    assert describe_calling_window(window) == (
        f"{hours} (lead's local time; unknown zones: Europe/London)"
    )


@pytest.mark.parametrize(
    ("days", "text"),
    [
        ({0, 1, 2, 3, 4, 5}, "Mon–Sat"),
        ({0, 1, 2, 3, 4, 5, 6}, "every day"),
        ({0, 1, 2, 3, 4, 6}, "Mon–Fri, Sun"),
        ({5, 6}, "Sat, Sun"),
        ({0, 2, 4}, "Mon, Wed, Fri"),
        ({3}, "Thu"),
    ],
)
def test_days(days: set[int], text: str) -> None:
    assert describe_days(frozenset(days)) == text


def test_an_end_with_seconds_keeps_them() -> None:
    assert describe_calling_window(CallingWindow.always_open()).startswith(
        "every day 00:00–23:59:59 "
    )
    window = CallingWindow(windows=(Window(days=frozenset({0}), start=time(8, 30)),))
    assert describe_calling_window(window).startswith("Mon 08:30–20:00 ")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (60, "60 s"), (90, "90 s"), (900, "15 min"), (3600, "1 h"), (7200, "2 h"),
     (5400, "90 min"), (3601, "3601 s"), (72 * 3600, "72 h")],
)  # fmt: skip
def test_durations(seconds: int, text: str) -> None:
    assert describe_duration_s(seconds) == text


def test_retry_rules_read_as_sentences() -> None:
    policy = RetryPolicy(
        rules={
            AttemptOutcome.BUSY: RetryRule(delay_s=60),
            AttemptOutcome.NO_ANSWER: RetryRule(delay_s=7200, max_attempts=2),
            AttemptOutcome.ABANDONED: RetryRule(delay_s=3600, max_attempts=9),
        },
        abandoned_quiet_s=72 * 3600,
    )
    assert describe_retry_policy(policy, max_attempts=3) == (
        "busy: retry after 60 s, at most 3 attempts",
        "no answer: retry after 2 h, at most 2 attempts",
        "abandoned: retry after 72 h (quiet time after an abandon), at most 3 attempts",
        "connected, failed, answering machine, rejected, invalid number: no retry",
    )


def test_the_described_limit_is_the_one_applied() -> None:
    policy = RetryPolicy(rules={AttemptOutcome.BUSY: RetryRule(delay_s=60, max_attempts=1)})
    [busy, _] = describe_retry_policy(policy, max_attempts=3)
    assert busy == "busy: retry after 60 s, at most 1 attempt"
    now = datetime(2026, 11, 21, tzinfo=UTC)
    assert isinstance(next_step(policy, AttemptOutcome.BUSY, 1, 3, now), Final)


def test_a_policy_without_rules_never_retries() -> None:
    assert describe_retry_policy(RetryPolicy(rules={}), max_attempts=3) == (
        "no retry after any outcome",
    )
