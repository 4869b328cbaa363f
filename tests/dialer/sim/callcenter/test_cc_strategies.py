"""Queue strategies, tiers, wrap-up, On Demand and reloads, through the engine."""

from __future__ import annotations

import functools
import itertools
import random
from dataclasses import replace
from typing import Any

from dialer.sim.callcenter import Callcenter, SimAgentBehaviour, create_engine
from dialer.sim.callcenter.config import AgentConfig, CallcenterConfig, QueueConfig, TierConfig
from dialer.sim.callcenter.fakes import AgentScript, FakeSwitchPort
from dialer.sim.callcenter.lab import lab_config
from dialer.sim.callcenter.rows import AgentRow, TierRow
from dialer.sim.callcenter.strategy import order_rows

CUST_VARS = {"caller_id_name": "Outbound Call", "caller_id_number": "6138000000"}
AGENTS = ("a1@q", "a2@q", "a3@q")


def _engine(strategy: str, **queue: Any) -> tuple[FakeSwitchPort, Callcenter]:
    cfg = CallcenterConfig(
        queues=[replace(QueueConfig(name="q@default", strategy=strategy), **queue)],
        agents=[
            AgentConfig(name=a, contact=f"sofia/external/{a}", status="Available") for a in AGENTS
        ],
        tiers=[
            TierConfig(agent=a, queue="q@default", level=1, position=i)
            for i, a in enumerate(AGENTS, 1)
        ],
    )
    port = FakeSwitchPort()
    return port, Callcenter(port, cfg)


def _offered_agents(port: FakeSwitchPort) -> list[str]:
    return [e.headers["CC-Agent"] for e in port.cc("agent-offering")]


def _calls(
    port: FakeSwitchPort, engine: Callcenter, n: int, talk_s: float = 3.0, gap_s: float = 10.0
) -> None:
    for i in range(n):
        uuid = f"cust-{i}"
        port.add_channel(uuid, CUST_VARS)
        engine.enter_queue(uuid, "q@default", lambda _c: None)
        port.call_later(talk_s, functools.partial(port.hangup, uuid, "NORMAL_CLEARING"))
        port.advance(gap_s)


def _row(agent: str, level: int, position: int, **fields: int) -> tuple[AgentRow, TierRow]:
    row = AgentRow(name=agent, status="Available")
    for name, value in fields.items():
        setattr(row, name, value)
    return row, TierRow("q", agent, "Ready", level, position)


def test_longest_idle_agent_orders_by_level_then_last_bridge_end() -> None:
    rows = [
        _row("a", 1, 1, last_bridge_end=50),
        _row("b", 1, 2, last_bridge_end=10),
        _row("c", 2, 1),
    ]
    assert [a.name for a, _ in order_rows("longest-idle-agent", rows, random.Random(1))] == [
        "b",
        "a",
        "c",
    ]


def test_fewest_calls_and_least_talk_time() -> None:
    rows = [
        _row("a", 1, 1, calls_answered=3, talk_time=5),
        _row("b", 1, 2, calls_answered=1, talk_time=90),
    ]
    rng = random.Random(1)
    assert [a.name for a, _ in order_rows("agent-with-fewest-calls", rows, rng)] == ["b", "a"]
    assert [a.name for a, _ in order_rows("agent-with-least-talk-time", rows, rng)] == ["a", "b"]


def test_top_down_resumes_after_last_position() -> None:
    rows = [_row("a", 1, 1), _row("b", 1, 2), _row("c", 1, 3)]
    order = order_rows("top-down", rows, random.Random(1), last_position=1, last_level=1)
    assert [a.name for a, _ in order][:2] == ["b", "c"]


def test_random_is_deterministic_under_a_seed_and_keeps_levels() -> None:
    rows = [_row("a", 1, 1), _row("b", 1, 2), _row("c", 2, 1)]
    first = [a.name for a, _ in order_rows("random", rows, random.Random(5))]
    again = [a.name for a, _ in order_rows("random", rows, random.Random(5))]
    assert first == again and first[-1] == "c"
    seen = {order_rows("random", rows, random.Random(s))[0][0].name for s in range(20)}
    assert seen == {"a", "b"}


def test_round_robin_rotates_through_positions() -> None:
    port, engine = _engine("round-robin")
    _calls(port, engine, 4)
    assert _offered_agents(port) == ["a1@q", "a2@q", "a3@q", "a1@q"]


def test_top_down_starts_from_the_top_for_every_member() -> None:
    port, engine = _engine("top-down")
    _calls(port, engine, 3)
    assert _offered_agents(port) == ["a1@q", "a1@q", "a1@q"]


def test_top_down_moves_down_after_a_failed_offer() -> None:
    port, engine = _engine("top-down")
    port.scripts["a1@q"] = AgentScript("USER_BUSY", 0.5)
    _calls(port, engine, 1)
    assert _offered_agents(port)[:2] == ["a1@q", "a2@q"]


def test_wrap_up_time_keeps_the_agent_out_of_the_next_call() -> None:
    port, engine = _engine("top-down")
    for agent in AGENTS:
        engine.api(f"agent set wrap_up_time {agent} 10")
    _calls(port, engine, 2, talk_s=3.0, gap_s=4.0)
    assert _offered_agents(port) == ["a1@q", "a2@q"]


def test_tier_state_and_levels_gate_offers() -> None:
    port, engine = _engine("longest-idle-agent")
    assert engine.api("tier set state q@default a1@q Standby") == "+OK\n"
    assert engine.api("tier set level q@default a2@q 2") == "+OK\n"
    _calls(port, engine, 1)
    assert _offered_agents(port) == ["a3@q"]


def test_available_on_demand_agent_goes_idle_after_a_call() -> None:
    port, engine = _engine("top-down")
    engine.api("agent set status a1@q 'Available (On Demand)'")
    _calls(port, engine, 1)
    assert engine.api("agent get state a1@q") == "Idle"
    _calls(port, engine, 1)
    assert _offered_agents(port) == ["a1@q", "a2@q"]


def test_queue_reload_reimports_xml_agents_and_logs_them_out() -> None:
    port = FakeSwitchPort()
    engine = Callcenter(port, lab_config())
    engine.api("agent set status agent1@default Available")
    port.log.clear()
    assert engine.api("queue reload sales@default") == "+OK\n"
    actions = [(e.name, e.headers.get("CC-Agent-Status", "")) for e in port.log]
    assert actions == [
        ("cc:agent-contact-change", ""),
        ("cc:agent-status-change", "Logged Out"),
        ("cc:agent-contact-change", ""),
        ("cc:agent-status-change", "Logged Out"),
    ]
    assert engine.api("agent get status agent1@default") == "Logged Out"


def test_abandoned_member_resumes_its_place() -> None:
    port, engine = _engine("top-down", abandoned_resume_allowed=True)
    engine.api("agent set status a1@q 'On Break'")
    for agent in AGENTS:
        engine.api(f"agent set status {agent} 'On Break'")
    port.add_channel("c1", CUST_VARS)
    engine.enter_queue("c1", "q@default", lambda _c: None)
    port.advance(3)
    port.hangup("c1", "NORMAL_CLEARING")
    first_uuid = port.cc("member-queue-start")[0].headers["CC-Member-UUID"]
    port.advance(5)
    port.add_channel("c2", CUST_VARS)
    engine.enter_queue("c2", "q@default", lambda _c: None)
    resume = port.cc("member-queue-resume")
    assert len(resume) == 1 and resume[0].headers["CC-Member-UUID"] == first_uuid
    members = engine.api("queue list members q@default").splitlines()
    assert len(members) == 3 and members[1].split("|")[15] == "Waiting"


def test_abandoned_rows_are_discarded_after_discard_abandoned_after() -> None:
    port, engine = _engine("top-down", discard_abandoned_after_s=5)
    for agent in AGENTS:
        engine.api(f"agent set status {agent} 'On Break'")
    port.add_channel("c1", CUST_VARS)
    engine.enter_queue("c1", "q@default", lambda _c: None)
    port.advance(1)
    port.hangup("c1", "NORMAL_CLEARING")
    assert engine.api("queue count members q@default") == "1\n"
    port.advance(7)
    assert engine.api("queue count members q@default") == "0\n"


def test_sim_agent_hangs_up_after_its_talk_time() -> None:
    cfg = replace(
        lab_config(),
        behaviours={"agent1@default": SimAgentBehaviour(talk_time_s=4.0)},
    )
    port = FakeSwitchPort()
    engine = Callcenter(port, cfg)
    engine.api("agent set status agent1@default Available")
    port.add_channel("c1", CUST_VARS)
    engine.enter_queue("c1", "sales@default", lambda _c: None)
    port.advance(10)
    hangups = [e for e in port.log if e.name == "CHANNEL_HANGUP"]
    assert hangups[0].headers["Unique-ID"] != "c1"  # the agent leg hung up first
    assert len(port.cc("member-queue-end")) == 1


def test_sim_agent_takes_breaks_through_status_changes() -> None:
    raw = {
        "queues": [{"name": "q@default"}],
        "agents": [{"name": "a1@q", "contact": "sofia/external/a1", "status": "Available"}],
        "tiers": [{"agent": "a1@q", "queue": "q@default"}],
        "behaviours": {"a1@q": {"break_every_s": 60.0, "break_duration_s": 30.0}},
    }
    port = FakeSwitchPort()
    engine = create_engine(port, raw)
    port.advance(61)
    assert engine.api("agent get status a1@q") == "On Break"
    port.advance(30)
    assert engine.api("agent get status a1@q") == "Available"
    statuses = [e.headers["CC-Agent-Status"] for e in port.cc("agent-status-change")]
    assert statuses[-2:] == ["On Break", "Available"]


def test_ring_progressively_adds_an_agent_every_delay() -> None:
    port, engine = _engine("ring-progressively", ring_progressively_delay_s=3)
    for agent in AGENTS:
        port.scripts[agent] = AgentScript("answer", 100.0)
    port.add_channel("c1", CUST_VARS)
    engine.enter_queue("c1", "q@default", lambda _c: None)
    port.advance(8)
    offers = port.cc("agent-offering")
    assert [e.headers["CC-Agent"] for e in offers] == ["a1@q", "a2@q", "a3@q"]
    gaps = [b.at_s - a.at_s for a, b in itertools.pairwise(offers)]
    assert all(2.0 < gap <= 3.05 for gap in gaps)


def test_ring_all_offers_every_agent_and_the_first_answer_wins() -> None:
    port, engine = _engine("ring-all")
    port.scripts["a2@q"] = AgentScript("answer", 0.5)
    for agent in ("a1@q", "a3@q"):
        port.scripts[agent] = AgentScript("answer", 100.0)
    _calls(port, engine, 1, talk_s=5.0)
    assert sorted(_offered_agents(port)) == list(AGENTS)
    assert [e.headers["CC-Agent"] for e in port.cc("bridge-agent-start")] == ["a2@q"]
    causes = sorted(e.headers["CC-Hangup-Cause"] for e in port.cc("bridge-agent-fail"))
    assert causes == ["LOSE_RACE", "LOSE_RACE"]
