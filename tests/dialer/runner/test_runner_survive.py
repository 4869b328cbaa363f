"""`SurvivingTick`: a tick failing on a backend error is logged, paused after and retried, the
claims it may have left are given back before the next tick; a defect goes up."""

from __future__ import annotations

import pytest
import redis

from dialer.retry import Backoff
from dialer.runner.survive import SurvivingTick
from tests.support.clock import FakeClock


def is_redis_down(exc: BaseException) -> bool:
    return isinstance(exc, redis.ConnectionError)


def test_failed_ticks_pause_longer_each_time_and_give_claims_back_once_through() -> None:
    outcomes: list[BaseException | bool] = [
        redis.ConnectionError("refused"), redis.ConnectionError("refused"), True, False,
    ]  # fmt: skip
    calls: list[str] = []

    def tick() -> bool:
        calls.append("tick")
        outcome = outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    statuses: list[str] = []
    clock = FakeClock()
    start_s = clock.monotonic_s()
    surviving = SurvivingTick(
        tick, lambda: calls.append("recover"), what="pacing campaign 3",
        transient=is_redis_down, clock=clock, beat=statuses.append, backoff=Backoff(0.5, 4.0),
    )  # fmt: skip
    assert [surviving(), surviving()] == [True, True]
    assert clock.monotonic_s() - start_s == 0.5 + 1.0
    assert surviving() is True
    assert surviving() is False  # the tick's own verdict (lease lost, campaign stopped)
    assert calls == ["tick", "recover", "tick", "recover", "tick", "tick"]
    assert statuses == [
        "retrying pacing campaign 3: ConnectionError: refused",
        "retrying pacing campaign 3: ConnectionError: refused",
        "ok",
        "ok",
    ]
    assert surviving.failed_ticks == 2 and surviving.failures_in_row == 0


def test_a_defect_is_not_retried() -> None:
    def tick() -> bool:
        raise KeyError("defect")

    surviving = SurvivingTick(
        tick, lambda: None, what="pacing", transient=is_redis_down, clock=FakeClock()
    )
    with pytest.raises(KeyError):
        surviving()
