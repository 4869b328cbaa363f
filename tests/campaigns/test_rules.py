from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from campaigns.domain import AttemptOutcome
from campaigns.rules import CallingWindow, Final, Retry, RetryPolicy, RetryRule, Window, next_step

# Saturday 2026-11-21 02:00 UTC = 10:00 in Shanghai, 21:00 Friday in New York.
SAT_0200_UTC = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)


def test_window_in_lead_local_time() -> None:
    window = CallingWindow(windows=(Window(days=frozenset(range(6)), start=time(9), end=time(20)),))
    assert window.is_open("Asia/Shanghai", SAT_0200_UTC)
    assert not window.is_open("America/New_York", SAT_0200_UTC)


def test_number_with_several_zones_needs_all_of_them_open() -> None:
    window = CallingWindow(windows=(Window(days=frozenset(range(7)), start=time(9), end=time(20)),))
    # 15:00 UTC: 10:00 in New York, 07:00 in Los Angeles.
    at = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    assert window.is_open("America/New_York", at)
    assert not window.is_open("America/Los_Angeles,America/New_York", at)
    assert window.is_open("America/Los_Angeles,America/New_York", at + timedelta(hours=3))


def test_sunday_is_closed_by_default_and_unknown_zone_uses_fallback() -> None:
    window = CallingWindow()
    sunday_noon_shanghai = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
    assert not window.is_open("Asia/Shanghai", sunday_noon_shanghai)
    assert window.is_open("", SAT_0200_UTC)


def test_window_rules_validate_with_named_fields() -> None:
    spec = {"windows": [{"days": "mon,tue", "start": "09:00", "end": "18:30"}]}
    window = CallingWindow.model_validate(spec)
    assert window.windows[0].days == frozenset({0, 1})
    with pytest.raises(ValidationError, match="start"):
        CallingWindow.model_validate({"windows": [{"start": "20:00", "end": "09:00"}]})
    with pytest.raises(ValidationError, match="weekday"):
        CallingWindow.model_validate({"windows": [{"days": "funday"}]})
    with pytest.raises(ValidationError, match="time zone"):
        CallingWindow.model_validate({"fallback_timezone": "Mars/Olympus"})


def test_retry_delays_and_attempt_limits() -> None:
    policy = RetryPolicy(rules={AttemptOutcome.BUSY: RetryRule(delay_s=600, max_attempts=2)})
    step = next_step(policy, AttemptOutcome.BUSY, attempts=1, max_attempts=5, now=SAT_0200_UTC)
    assert step == Retry(at=SAT_0200_UTC + timedelta(seconds=600))
    assert isinstance(next_step(policy, AttemptOutcome.BUSY, 2, 5, SAT_0200_UTC), Final)
    assert isinstance(next_step(policy, AttemptOutcome.NO_ANSWER, 1, 5, SAT_0200_UTC), Final)
    assert isinstance(next_step(policy, AttemptOutcome.CONNECTED, 1, 5, SAT_0200_UTC), Final)


def test_abandoned_number_stays_quiet_for_72_hours_when_asked() -> None:
    policy = RetryPolicy(abandoned_quiet_s=72 * 3600)
    step = next_step(policy, AttemptOutcome.ABANDONED, attempts=1, max_attempts=3, now=SAT_0200_UTC)
    assert step == Retry(at=SAT_0200_UTC + timedelta(hours=72))


def test_always_open_window_covers_every_day() -> None:
    window = CallingWindow.always_open()
    sunday_noon_shanghai = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
    assert window.is_open("Asia/Shanghai", sunday_noon_shanghai)
    assert window.is_open("America/New_York", SAT_0200_UTC)
