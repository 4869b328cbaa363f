"""max-wait-time and max-wait-time-with-no-agent timing (transcripts j, j2, k, k2): whole
seconds checked every 0.5 s from the join."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.sim.callcenter import Callcenter
from dialer.sim.callcenter.fakes import FakeSwitchPort
from dialer.sim.callcenter.lab import lab_config

CUST = "cust-0001"
CUST_VARS = {"caller_id_name": "Outbound Call", "caller_id_number": "6138000000"}


def _wait_in(
    queue: str, join_s: float, statuses: str, hangup_after_s: float = 30.0
) -> tuple[FakeSwitchPort, list[str], float]:
    port = FakeSwitchPort(start_s=join_s - 5.0)
    engine = Callcenter(port, lab_config())
    for agent in ("agent1@default", "agent2@default"):
        engine.api(f"agent set status {agent} '{statuses}'")
    port.run_until(join_s)
    port.log.clear()
    exits: list[str] = []
    port.add_channel(CUST, CUST_VARS)
    engine.enter_queue(CUST, queue, exits.append)
    port.call_later(hangup_after_s, lambda: port.hangup(CUST, "NORMAL_CLEARING"))
    port.advance(hangup_after_s + 1.0)
    end = port.cc("member-queue-end")[0]
    return port, exits, end.at_s - join_s


# (join fraction, seconds in queue) measured in j2_queue_max_wait_time_2s_timing.timing.txt
J2 = [
    (0.031, 2.014),
    (0.145, 2.000),
    (0.428, 2.037),
    (0.565, 1.544),
    (0.845, 1.504),
    (0.959, 1.526),
]


@pytest.mark.parametrize(("frac", "measured_s"), J2)
def test_max_wait_time_matches_j2_measurements(frac: float, measured_s: float) -> None:
    port, exits, waited_s = _wait_in("sales2s@default", 1_795_271_227 + frac, "On Break")
    assert exits == ["cancel"]
    assert measured_s - 0.05 <= waited_s <= measured_s
    end = port.cc("member-queue-end")[0].headers
    assert end["CC-Cancel-Reason"] == "TIMEOUT"
    assert int(end["CC-Member-Leaving-Time"]) - int(end["CC-Member-Joined-Time"]) == 2
    cust = port.channel_vars(CUST)
    assert (cust["cc_cause"], cust["cc_cancel_reason"], cust["cc_side"]) == (
        "cancel",
        "TIMEOUT",
        "member",
    )
    assert cust["cc_queue"] == "sales2s@default"
    assert cust["cc_queue_canceled_epoch"] == end["CC-Member-Leaving-Time"]
    names = port.names()
    i = names.index("cc:member-queue-end")
    assert names[i - 1 : i + 2] == ["PLAYBACK_STOP", "cc:member-queue-end", "cc:members-count"]


@settings(max_examples=40, deadline=None)
@given(st.floats(min_value=0.0, max_value=0.999), st.integers(min_value=1, max_value=5))
def test_max_wait_time_window_is_half_a_second(frac: float, max_wait_s: int) -> None:
    """Invariant: the member leaves between max-wait-time - 0.5 s and max-wait-time."""
    from dataclasses import replace

    from dialer.sim.callcenter.lab import LAB_QUEUES

    cfg = lab_config()
    queues = [replace(q, max_wait_time_s=max_wait_s) for q in LAB_QUEUES]
    port = FakeSwitchPort(start_s=1_795_271_000 + frac)
    engine = Callcenter(port, replace(cfg, queues=queues))
    port.add_channel(CUST, CUST_VARS)
    exits: list[str] = []
    join_s = port.now_s()
    engine.enter_queue(CUST, "sales@default", exits.append)
    port.advance(max_wait_s + 2.0)
    waited_s = port.cc("member-queue-end")[0].at_s - join_s
    assert exits == ["cancel"]
    assert max_wait_s - 0.5 - 1e-6 <= waited_s <= max_wait_s + 1e-6
    assert math.floor(join_s + waited_s) - math.floor(join_s) == max_wait_s


def test_k_no_agent_timeout_after_grace_period() -> None:
    _, exits, waited_s = _wait_in("noagent@default", 1_795_271_300.434, "Logged Out")
    assert exits == ["cancel"]
    assert 6.5 <= waited_s <= 7.05  # measured 6.79 (k): 2 s + 5 s, whole seconds


def test_k2_no_agent_timeout_without_grace_is_immediate() -> None:
    port, exits, waited_s = _wait_in("noagent0@default", 1_795_271_318.851, "Logged Out")
    assert exits == ["cancel"]
    assert 0.45 <= waited_s <= 0.55  # measured 0.516 (k2)
    reason = port.cc("member-queue-end")[0].headers["CC-Cancel-Reason"]
    assert reason == "NO_AGENT_TIMEOUT"


def test_on_break_agents_count_as_agents_for_no_agent_timeout() -> None:
    port, exits, waited_s = _wait_in("noagent0@default", 1_795_271_318.851, "On Break", 12.0)
    assert exits == ["cancel"]
    assert waited_s == pytest.approx(12.0)
    assert port.cc("member-queue-end")[0].headers["CC-Cancel-Reason"] == "BREAK_OUT"
