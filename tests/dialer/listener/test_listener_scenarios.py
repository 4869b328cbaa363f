"""Every transcript scenario replayed on the switch simulator over TCP: the listener turns
each call into the outcome the real switch's events give (see test_calls_machine.py)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from campaigns.domain import AttemptOutcome
from dialer.calls.machine import CallEnd
from dialer.config import FsNode
from dialer.esl.adapters.own import EslClient
from dialer.esl.originate import OriginateSpec, build_originate
from dialer.esl.ports import Subscription
from dialer.listener.fakes import MemoryAttempts, MemoryLiveState, MemoryTrunks
from dialer.listener.wiring import start_listener
from dialer.sim.simulator import SimulatorServer

LAB = Path(__file__).resolve().parents[3] / "scenarios" / "sim" / "lab.yaml"
SPEED = 20.0
POPULATION = [
    {"gateway": "*", "outcomes": {"answer": 1.0}, "ring_time_s": 1.0, "talk_time_s": 5.0},
    {"gateway": "*", "prefix": "6100", "outcomes": {"busy": 1.0}},
    {"gateway": "*", "prefix": "6101", "outcomes": {"no_answer": 1.0}},
    {"gateway": "*", "prefix": "6102", "outcomes": {"invalid": 1.0}},
    {"gateway": "*", "prefix": "6103", "outcomes": {"rejected": 1.0}},
    {"gateway": "*", "prefix": "6104", "outcomes": {"unavailable": 1.0}},
    {"gateway": "*", "prefix": "6105", "outcomes": {"failure": 1.0}},
]


@dataclass(frozen=True)
class Call:
    number: str
    gateway: str = "carrier_a"
    extension: str = "cc_sales"


def run_calls(
    calls: list[Call],
    setup: tuple[str, ...] | list[str] = (),
    switch: dict[str, Any] | None = None,
    kill_after_s: float | None = None,
    population: list[dict[str, Any]] | None = None,
    agent_endpoints: list[dict[str, Any]] | None = None,
) -> list[CallEnd]:
    raw = yaml.safe_load(LAB.read_text())
    raw["speed"] = SPEED
    raw["population"] = population or POPULATION
    raw["switch"].update(switch or {})
    if agent_endpoints is not None:
        raw["agent_endpoints"] = agent_endpoints
    with SimulatorServer(raw) as server:
        sim = server.sim
        node = FsNode(name="fs1", host=sim.host, port=sim.port_number)
        attempts = MemoryAttempts()
        running = start_listener(node, MemoryLiveState(), attempts, MemoryTrunks())
        dialer = EslClient(
            "fs1", sim.host, sim.port_number, "ClueCon", Subscription(events=()), lambda e: None
        ).start()
        try:
            assert running.client.wait_connected(5) and dialer.wait_connected(5)
            for cmd in setup:
                assert dialer.api(cmd, timeout_s=5).startswith("+OK")
            uuids = [str(uuid.uuid4()) for _ in calls]
            for i, (call, call_uuid) in enumerate(zip(calls, uuids, strict=True)):
                spec = OriginateSpec(
                    call_uuid,
                    f"sofia/gateway/{call.gateway}/{call.number}",
                    "20220601",
                    call.extension,
                    "campaign",
                    campaign_id=1,
                    lead_id=i + 1,
                    attempt_id=i + 1,
                    ring_timeout_s=20,
                )
                dialer.bgapi("originate " + build_originate(spec, datetime.now(UTC)))
            if kill_after_s is not None:
                time.sleep(kill_after_s)
                for call_uuid in uuids:
                    dialer.api(f"uuid_kill {call_uuid}", timeout_s=5)
            deadline = time.monotonic() + 20
            while len(attempts.ended) < len(calls) and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            running.stop()
            dialer.close()
    by_uuid = {end.call_uuid: end for _, end in attempts.ended}
    assert set(by_uuid) == set(uuids)
    return [by_uuid[u] for u in uuids]


def summary(ends: list[CallEnd]) -> list[tuple[AttemptOutcome | None, str, bool]]:
    return [(e.outcome, e.hangup_cause, e.abandoned) for e in ends]


@pytest.mark.integration
def test_failures_by_trunk_and_callee() -> None:
    """Transcripts b, c, d, d2, d3, p."""
    ends = run_calls(
        [
            Call("6100000000"),
            Call("6101000000"),
            Call("6138000000", gateway="carrier_down"),
            Call("6138000000", gateway="carrier_down_ping"),
            Call("6138000000", gateway="carrier_blackhole"),
            Call("6102000000"),
            Call("6103000000"),
            Call("6104000000"),
            Call("6105000000"),
        ]
    )
    assert summary(ends) == [
        (AttemptOutcome.BUSY, "USER_BUSY", False),
        (AttemptOutcome.NO_ANSWER, "NO_ANSWER", False),
        (AttemptOutcome.FAILED, "NORMAL_TEMPORARY_FAILURE", False),
        (AttemptOutcome.FAILED, "GATEWAY_DOWN", False),
        (AttemptOutcome.FAILED, "NO_ANSWER", False),
        (AttemptOutcome.INVALID_NUMBER, "UNALLOCATED_NUMBER", False),
        (AttemptOutcome.REJECTED, "CALL_REJECTED", False),
        (AttemptOutcome.NO_ANSWER, "NO_USER_RESPONSE", False),
        (AttemptOutcome.FAILED, "NORMAL_TEMPORARY_FAILURE", False),
    ]
    assert all(e.trunk for e in ends)


@pytest.mark.integration
def test_answered_and_bridged_to_an_agent() -> None:
    """Transcripts a, t."""
    [end] = run_calls([Call("6138000000")])
    assert (end.outcome, end.abandoned, end.lead_id) == (AttemptOutcome.CONNECTED, False, 1)
    assert end.agent in ("agent1@default", "agent2@default")


@pytest.mark.integration
@pytest.mark.parametrize(
    ("extension", "reason"),
    [("cc_sales", "BREAK_OUT"), ("cc_sales2s", "TIMEOUT")],
    ids=["e-caller-hangs-up", "j-max-wait-time"],
)
def test_no_agent_is_an_abandon(extension: str, reason: str) -> None:
    """Transcripts e and j: both agents On Break."""
    on_break = [f"callcenter_config agent set status agent{i}@default 'On Break'" for i in (1, 2)]
    [end] = run_calls([Call("6138000000", extension=extension)], setup=on_break)
    assert (end.outcome, end.abandoned) == (AttemptOutcome.ABANDONED, True)
    assert end.disposition == f"answered, no agent ({reason})"


@pytest.mark.integration
def test_cancel_while_ringing_is_no_answer() -> None:
    """Transcript o: uuid_kill of a ringing call."""
    [end] = run_calls([Call("6101000000")], kill_after_s=0.1)
    assert summary([end]) == [(AttemptOutcome.NO_ANSWER, "NORMAL_CLEARING", False)]


@pytest.mark.integration
def test_node_limit_refusals_are_backpressure() -> None:
    """Transcripts l, l2: over max_sessions the node refuses without any channel event."""
    ends = run_calls([Call("6138000000") for _ in range(4)], switch={"max_sessions": 2})
    refused = [e for e in ends if e.hangup_cause == "DESTINATION_OUT_OF_ORDER"]
    assert len(refused) == 2 and all(e.outcome is None for e in refused)


def _agents(status: str) -> list[str]:
    return [f"callcenter_config agent set status agent{i}@default '{status}'" for i in (1, 2)]


@pytest.mark.integration
def test_no_agent_logged_in_times_out() -> None:
    """Transcript k: every agent Logged Out, max-wait-time-with-no-agent (2 + 5 s); the
    customer (``12s``) would stay 12 s."""
    patient = [{"gateway": "*", "outcomes": {"answer": 1.0}, "talk_time_s": 12.0}]
    [end] = run_calls(
        [Call("6138000000", extension="cc_noagent")],
        setup=_agents("Logged Out"),
        population=patient,
    )
    assert (end.outcome, end.disposition) == (
        AttemptOutcome.ABANDONED,
        "answered, no agent (NO_AGENT_TIMEOUT)",
    )


@pytest.mark.integration
def test_agent_rejects_the_offer() -> None:
    """Transcript h: agent1 answers the offer with 486, agent2 On Break."""
    [end] = run_calls(
        [Call("6138000000")],
        setup=["callcenter_config agent set status agent2@default 'On Break'"],
        agent_endpoints=[{"match": "agent1@", "behaviour": "reject", "answer_delay_s": 0.3}],
    )
    assert (end.outcome, end.abandoned) == (AttemptOutcome.ABANDONED, True)


@pytest.mark.integration
def test_ring_all_connects_one_agent() -> None:
    """Transcript r."""
    [end] = run_calls([Call("6138000000", extension="cc_ringall")])
    assert end.outcome is AttemptOutcome.CONNECTED and end.agent.endswith("@default")


@pytest.mark.integration
def test_early_media_never_reaches_an_agent_before_the_answer() -> None:
    """Transcripts q/q2: with ignore_early_media=true (always set) the agent is bridged only
    after the customer's 200 OK."""
    early = [{"gateway": "*", "outcomes": {"answer": 1.0}, "early_media": 1.0, "talk_time_s": 5.0}]
    [end] = run_calls([Call("6138000000")], population=early)
    assert end.outcome is AttemptOutcome.CONNECTED
    assert end.answered_at is not None and end.connected_at is not None
    assert end.answered_at <= end.connected_at
