"""The simulator's clock as the dialer sees it: a `SimTime` read from another thread is a
`dialer.clock.Clock` that runs ``speed`` times faster than wall time."""

from __future__ import annotations

import time
from datetime import UTC

import pytest

from dialer.clock import Clock
from dialer.sim.clock import SimTime
from dialer.sim.simulator import SimulatorServer

SPEED = 50.0


def test_sim_time_is_a_clock_running_speed_times_faster() -> None:
    with SimulatorServer({"speed": SPEED, "start_epoch_s": 1_795_270_000}) as server:
        clock: Clock = server.time()
        wall_before = time.monotonic()
        mono_before = clock.monotonic_s()
        now_before = clock.now()
        clock.sleep_s(5.0)
        now_after = clock.now()
        mono_after = clock.monotonic_s()
        wall_after = time.monotonic()
    simulated_s = mono_after - mono_before
    wall_s = wall_after - wall_before
    assert simulated_s >= 5.0
    assert wall_s < 5.0 / SPEED + 0.5
    # both read time.monotonic: the simulated interval lies inside the wall one, scaled
    assert simulated_s <= wall_s * SPEED
    assert simulated_s == pytest.approx(wall_s * SPEED, rel=0.05)
    assert now_before.tzinfo is UTC
    assert now_before.timestamp() >= 1_795_270_000
    assert (now_after - now_before).total_seconds() == pytest.approx(simulated_s, abs=0.01)


def test_monotonic_seconds_never_go_backwards() -> None:
    clock = SimTime(start_s=1_000.0, loop_start_s=time.monotonic(), speed=SPEED)
    readings = [clock.monotonic_s() for _ in range(1_000)]
    assert readings == sorted(readings)
    assert clock.now_s() >= 1_000.0 + readings[-1]
