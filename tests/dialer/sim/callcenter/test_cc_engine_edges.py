"""Edge cases of the callcenter app and the dispatcher taken from mod_callcenter.c."""

from __future__ import annotations

from dataclasses import replace

from dialer.sim.callcenter import Callcenter
from dialer.sim.callcenter.fakes import AgentScript, FakeSwitchPort
from dialer.sim.callcenter.lab import lab_config
from dialer.sim.ports import AgentLegRequest

CUST_VARS = {"caller_id_name": "Outbound Call", "caller_id_number": "6138000000"}


def _lab(*available: str) -> tuple[FakeSwitchPort, Callcenter]:
    port = FakeSwitchPort()
    engine = Callcenter(port, lab_config())
    for agent in available:
        engine.api(f"agent set status {agent} Available")
    port.log.clear()
    return port, engine


def _enter(
    port: FakeSwitchPort, engine: Callcenter, uuid: str, queue: str, **extra: str
) -> list[str]:
    exits: list[str] = []
    port.add_channel(uuid, {**CUST_VARS, **extra})
    engine.enter_queue(uuid, queue, exits.append)
    return exits


def test_max_wait_time_waits_for_an_agent_being_connected() -> None:
    port, engine = _lab("agent1@default")
    port.scripts["agent1@"] = AgentScript("answer", 3.0)
    exits = _enter(port, engine, "c1", "sales2s@default")
    port.advance(5)
    assert exits == ["answered"]
    assert port.cc("member-queue-end") == []
    assert len(port.cc("bridge-agent-start")) == 1


def test_max_wait_time_strikes_when_the_connecting_agent_fails() -> None:
    port, engine = _lab("agent1@default")
    port.scripts["agent1@"] = AgentScript("USER_BUSY", 3.0)
    exits = _enter(port, engine, "c1", "sales2s@default")
    port.advance(5)
    assert exits == ["cancel"]
    fail = port.cc("bridge-agent-fail")[0]
    end = port.cc("member-queue-end")[0]
    assert end.headers["CC-Cancel-Reason"] == "TIMEOUT"
    assert end.at_s == fail.at_s


def test_members_with_higher_score_are_served_first() -> None:
    port, engine = _lab()
    engine.api("agent set status agent1@default 'On Break'")
    _enter(port, engine, "low", "sales@default")
    _enter(port, engine, "high", "sales@default", cc_base_score="100")
    port.advance(1)
    members = engine.api("queue list members sales@default").splitlines()
    assert [row.split("|")[3] for row in members[1:-1]] == ["high", "low"]
    engine.api("agent set status agent1@default Available")
    port.advance(0.5)
    offering = port.cc("agent-offering")[0].headers
    assert offering["CC-Member-Session-UUID"] == "high"


def test_unknown_queue_returns_at_once_without_events() -> None:
    port, engine = _lab("agent1@default")
    exits = _enter(port, engine, "c1", "nosuch@default")
    port.advance(1)
    assert exits == [""]
    assert port.names("cc:") == []


def test_setting_a_ringing_agent_on_break_cancels_its_leg() -> None:
    port, engine = _lab("agent1@default")
    port.scripts["agent1@"] = AgentScript("answer", 10.0)
    exits = _enter(port, engine, "c1", "sales@default")
    port.advance(1)
    assert engine.api("agent set status agent1@default 'On Break'") == "+OK\n"
    port.advance(1)
    fail = port.cc("bridge-agent-fail")[0].headers
    assert fail["CC-Hangup-Cause"] == "ORIGINATOR_CANCEL"
    assert exits == []
    row = engine.api("agent list agent1@default").splitlines()[1].split("|")
    assert (row[5], row[6], row[16], row[19]) == ("On Break", "Waiting", "0", "0")


def test_caller_leaving_cancels_ringing_agent_legs() -> None:
    port, engine = _lab("agent1@default")
    port.scripts["agent1@"] = AgentScript("answer", 10.0)
    exits = _enter(port, engine, "c1", "sales@default")
    port.advance(1)
    port.hangup("c1", "NORMAL_CLEARING")
    port.advance(1)
    assert exits == ["cancel"]
    names = port.names("cc:")
    assert names[-4:] == [
        "cc:member-queue-end",
        "cc:members-count",
        "cc:bridge-agent-fail",
        "cc:agent-state-change",
    ]
    assert port.cc("bridge-agent-fail")[0].headers["CC-Hangup-Cause"] == "ORIGINATOR_CANCEL"


def test_tier_reload_filters_and_reports_unknown_tiers() -> None:
    _, engine = _lab()
    assert engine.api("tier set level sales@default agent1@default 7") == "+OK\n"
    assert engine.api("tier reload sales@default agent1@default") == "+OK\n"
    assert "sales@default|agent1@default|Ready|1|1" in engine.api("queue list tiers sales@default")
    assert engine.api("tier reload nosuch@default") == "-ERR Unknown Error!\n"
    assert engine.api("tier reload all") == "+OK\n"


def test_quoted_and_escaped_arguments_are_split_like_freeswitch() -> None:
    _, engine = _lab()
    assert engine.api("agent set status agent1@default 'Available (On Demand)'") == "+OK\n"
    assert engine.api("agent get status agent1@default") == "Available (On Demand)"
    assert engine.api("agent set status agent1@default On Break") == "-ERR Invalid Agent Status!\n"
    assert engine.api("  agent   get   state   agent1@default  ") == "Waiting"


def test_agent_leg_gone_before_the_bridge_keeps_the_caller_queued() -> None:
    port, engine = _lab("agent1@default")
    original = port.originate_agent_leg
    dropped: list[str] = []

    def answer_then_drop(leg: AgentLegRequest) -> str:
        def answered(uuid: str) -> None:
            leg.on_answer(uuid)
            if not dropped:
                dropped.append(uuid)
                port.hangup(uuid, "NORMAL_CLEARING")

        return original(replace(leg, on_answer=answered))

    port.originate_agent_leg = answer_then_drop  # type: ignore[method-assign]
    exits = _enter(port, engine, "c1", "sales@default")
    port.advance(1.5)
    end = port.cc("bridge-agent-end")[0].headers
    assert end["CC-Agent-Bridged"] == "false"
    assert exits == [] and port.cc("member-queue-end") == []
    port.advance(10)
    assert exits == ["answered"]
    assert len(port.cc("bridge-agent-start")) == 2
