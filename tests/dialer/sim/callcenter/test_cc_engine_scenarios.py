"""The engine against the lab transcripts a, e, h, i, r, s: callcenter::info events in the
same order with the same CC-* headers, interleaved with the channel events where the
transcripts show it, and the cc_* variables the customer leg ends up with."""

from __future__ import annotations

from dialer.sim.callcenter import Callcenter
from dialer.sim.callcenter.fakes import AgentScript, FakeSwitchPort, Logged
from dialer.sim.callcenter.lab import lab_config

CUST = "cust-0001"
START_S = 1_795_270_136.686
CUST_VARS = {
    "caller_id_name": "Outbound Call",
    "caller_id_number": "6138000000",
    "rdnis": "6138000000",
    "hangup_after_bridge": "true",
}


def _lab(statuses: dict[str, str]) -> tuple[FakeSwitchPort, Callcenter]:
    port = FakeSwitchPort(start_s=START_S - 10)
    engine = Callcenter(port, lab_config())
    for agent, status in statuses.items():
        engine.api(f"agent set status {agent} '{status}'")
        engine.api(f"agent set state {agent} Waiting")
    port.run_until(START_S)
    port.log.clear()
    return port, engine


def _call(
    port: FakeSwitchPort, engine: Callcenter, queue: str, hangup_after_s: float | None
) -> list[str]:
    exits: list[str] = []
    port.add_channel(CUST, CUST_VARS)
    engine.enter_queue(CUST, queue, exits.append)
    if hangup_after_s is not None:
        port.call_later(hangup_after_s, lambda: port.hangup(CUST, "NORMAL_CLEARING"))
    return exits


def _cc(port: FakeSwitchPort) -> list[tuple[str, ...]]:
    """(action, agent/state/status/cause detail) of each callcenter::info event."""
    out = []
    for e in port.log:
        if not e.name.startswith("cc:"):
            continue
        h = e.headers
        detail = [h.get(k, "") for k in ("CC-Agent", "CC-Agent-State", "CC-Agent-Status")]
        detail += [h.get(k, "") for k in ("CC-Hangup-Cause", "CC-Cause", "CC-Cancel-Reason")]
        out.append((e.name[3:], *[d for d in detail if d]))
    return out


def _names(log: list[Logged]) -> list[str]:
    return [e.name for e in log]


def test_a_answered_bridged_then_customer_hangs_up() -> None:
    port, engine = _lab({"agent1@default": "Available", "agent2@default": "Available"})
    port.scripts["agent1@"] = AgentScript("answer", 1.0)
    exits = _call(port, engine, "sales@default", hangup_after_s=5.0)
    port.advance(10)
    assert exits == ["answered"]
    assert _cc(port) == [
        ("member-queue-start",),
        ("members-count",),
        ("agent-state-change", "agent1@default", "Receiving"),
        ("agent-offering", "agent1@default"),
        ("bridge-agent-start", "agent1@default"),
        ("members-count",),
        ("agent-state-change", "agent1@default", "In a queue call"),
        ("bridge-agent-end", "agent1@default", "SUCCESS"),
        ("member-queue-end", "agent1@default", "SUCCESS", "Terminated"),
        ("agent-state-change", "agent1@default", "Waiting"),
    ]
    names = _names(port.log)
    seq = ["cc:bridge-agent-start", "PLAYBACK_STOP", "cc:members-count", "PRESENCE_IN"]
    i = names.index("cc:bridge-agent-start")
    assert names[i : i + 5] == [*seq, "CHANNEL_BRIDGE"]
    assert names.index("CHANNEL_HANGUP_COMPLETE") < names.index("cc:bridge-agent-end")
    start = port.cc("bridge-agent-start")[0]
    assert list(start.headers) == [
        "CC-Queue", "CC-Action", "CC-Agent", "CC-Agent-System", "CC-Agent-UUID",
        "CC-Agent-Called-Time", "CC-Agent-Answered-Time", "CC-Member-Joined-Time",
        "CC-Member-UUID", "CC-Member-Session-UUID", "CC-Member-CID-Name",
        "CC-Member-CID-Number", "CC-Member-DNIS",
    ]  # fmt: skip
    assert start.channel_uuid == start.headers["CC-Agent-UUID"]
    assert [e.headers["CC-Count"] for e in port.cc("members-count")] == ["1", "1"]
    assert start.channel_vars["cc_member_session_uuid"] == CUST
    assert port.cc("member-queue-end")[0].channel_uuid == CUST
    cust = port.channel_vars(CUST)
    assert cust["cc_cause"] == "answered"
    assert cust["cc_agent"] == "agent1@default"
    assert cust["cc_agent_bridged"] == "true"
    row = engine.api("agent list agent1@default").splitlines()[1].split("|")
    assert row[5:7] == ["Available", "Waiting"]
    assert (row[17], row[18]) == (
        "1",
        str(int(port.cc("bridge-agent-end")[0].at_s) - int(START_S + 1)),
    )


def test_e_no_agent_caller_hangs_up_break_out() -> None:
    port, engine = _lab({"agent1@default": "On Break", "agent2@default": "On Break"})
    exits = _call(port, engine, "sales@default", hangup_after_s=5.0)
    port.advance(2)
    members = engine.api("queue list members sales@default").splitlines()
    assert members[0] == (
        "queue|instance_id|uuid|session_uuid|cid_number|cid_name|system_epoch|joined_epoch|"
        "rejoined_epoch|bridge_epoch|abandoned_epoch|base_score|skill_score|serving_agent|"
        "serving_system|state|score"
    )
    joined = str(int(START_S))
    assert members[1].split("|")[3:] == [
        CUST, "6138000000", "Outbound Call", joined, joined, "0", "0", "0", "0", "0", "", "",
        "Waiting", "2",
    ]  # fmt: skip
    assert engine.api("queue count members sales@default") == "1\n"
    port.advance(10)
    assert exits == ["cancel"]
    assert _cc(port) == [
        ("member-queue-start",),
        ("members-count",),
        ("member-queue-end", "Cancel", "BREAK_OUT"),
        ("members-count",),
    ]
    names = _names(port.log)
    assert names[names.index("CHANNEL_HANGUP") :] == [
        "CHANNEL_HANGUP",
        "PLAYBACK_STOP",
        "cc:member-queue-end",
        "cc:members-count",
        "PRESENCE_IN",
        "CHANNEL_HANGUP_COMPLETE",
    ]
    presence = [e.headers["force-status"] for e in port.log if e.name == "PRESENCE_IN"]
    assert presence == ["Active (1 waiting)", "Idle"]
    assert [e.headers["CC-Count"] for e in port.cc("members-count")] == ["1", "0"]
    assert port.channel_vars(CUST)["cc_cancel_reason"] == "BREAK_OUT"


def test_h_agent_rejects_486_then_waits_busy_delay() -> None:
    port, engine = _lab({"agent1@default": "Available", "agent2@default": "On Break"})
    port.scripts["agent1@"] = AgentScript("USER_BUSY", 0.3)
    exits = _call(port, engine, "sales@default", hangup_after_s=5.0)
    port.advance(10)
    assert exits == ["cancel"]
    assert _cc(port) == [
        ("member-queue-start",),
        ("members-count",),
        ("agent-state-change", "agent1@default", "Receiving"),
        ("agent-offering", "agent1@default"),
        ("bridge-agent-fail", "agent1@default", "USER_BUSY"),
        ("agent-state-change", "agent1@default", "Waiting"),
        ("member-queue-end", "Cancel", "BREAK_OUT"),
        ("members-count",),
    ]
    fail = port.cc("bridge-agent-fail")[0]
    assert fail.channel_uuid is None
    assert list(fail.headers)[-1] == "CC-Member-Joined-Time"
    row = engine.api("agent list agent1@default").splitlines()[1].split("|")
    assert row[19] == str(int(fail.at_s) + 5)  # ready_time = now + busy-delay-time
    assert row[16] == "0"  # a busy agent is not a no-answer


def test_i_agent_status_changes_over_api() -> None:
    port, engine = _lab({})
    for status in ("'On Break'", "'Logged Out'", "Available"):
        assert engine.api(f"agent set status agent1@default {status}") == "+OK\n"
    assert engine.api("agent set state agent1@default Waiting") == "+OK\n"
    assert engine.api("agent set status agent1@default 'Available (On Demand)'") == "+OK\n"
    assert engine.api("agent set status agent1@default Available") == "+OK\n"
    assert engine.api("agent set status agent1@default Bogus") == "-ERR Invalid Agent Status!\n"
    assert engine.api("agent get status agent1@default") == "Available"
    assert engine.api("agent get state agent1@default") == "Waiting"
    assert _cc(port) == [
        ("agent-status-change", "agent1@default", "On Break"),
        ("agent-status-change", "agent1@default", "Logged Out"),
        ("agent-status-change", "agent1@default", "Available"),
        ("agent-state-change", "agent1@default", "Waiting"),
        ("agent-status-change", "agent1@default", "Available (On Demand)"),
        ("agent-status-change", "agent1@default", "Available"),
        ("agent-status-get", "agent1@default", "Available"),
        ("agent-state-get", "agent1@default", "Waiting"),
    ]


def test_r_ring_all_loser_gets_lose_race_and_stays_available() -> None:
    port, engine = _lab({"agent1@default": "Available", "agent2@default": "Available"})
    port.scripts["agent1@"] = AgentScript("answer", 1.0)
    port.scripts["agent2@"] = AgentScript("answer", 100.0)
    exits = _call(port, engine, "ringall@default", hangup_after_s=5.0)
    port.advance(10)
    assert exits == ["answered"]
    assert _cc(port) == [
        ("member-queue-start",),
        ("members-count",),
        ("agent-state-change", "agent1@default", "Receiving"),
        ("agent-state-change", "agent2@default", "Receiving"),
        ("agent-offering", "agent1@default"),
        ("agent-offering", "agent2@default"),
        ("bridge-agent-start", "agent1@default"),
        ("bridge-agent-fail", "agent2@default", "LOSE_RACE"),
        ("agent-state-change", "agent2@default", "Waiting"),
        ("members-count",),
        ("agent-state-change", "agent1@default", "In a queue call"),
        ("bridge-agent-end", "agent1@default", "SUCCESS"),
        ("member-queue-end", "agent1@default", "SUCCESS", "Terminated"),
        ("agent-state-change", "agent1@default", "Waiting"),
    ]
    names = _names(port.log)
    assert names.index("CHANNEL_HANGUP") < names.index("cc:bridge-agent-start")
    rows = engine.api("queue list agents ringall@default").splitlines()
    agent2 = rows[2].split("|")
    assert agent2[5] == "Available" and agent2[16] == "0"


def test_s_no_answer_reaches_max_no_answer_and_goes_on_break() -> None:
    port, engine = _lab({"agent1@default": "Available", "agent2@default": "On Break"})
    contact = "[leg_timeout=5]sofia/external/agent1@127.0.0.1:5094"
    assert engine.api(f"agent set contact agent1@default {contact}") == "+OK\n"
    assert engine.api("agent set max_no_answer agent1@default 1") == "+OK\n"
    port.scripts["agent1@"] = AgentScript("ALLOTTED_TIMEOUT", 5.9)
    exits = _call(port, engine, "sales@default", hangup_after_s=12.0)
    port.advance(15)
    assert exits == ["cancel"]
    assert _cc(port) == [
        ("agent-contact-change", "agent1@default"),
        ("member-queue-start",),
        ("members-count",),
        ("agent-state-change", "agent1@default", "Receiving"),
        ("agent-offering", "agent1@default"),
        ("agent-max-no-answer", "agent1@default"),
        ("agent-status-change", "agent1@default", "On Break"),
        ("bridge-agent-fail", "agent1@default", "ALLOTTED_TIMEOUT"),
        ("agent-state-change", "agent1@default", "Waiting"),
        ("member-queue-end", "Cancel", "BREAK_OUT"),
        ("members-count",),
    ]
    max_na = port.cc("agent-max-no-answer")[0].headers
    assert max_na["CC-Agent-No-Answer-Count"] == "1"
    assert max_na["CC-Agent-No-Answer-Status"] == "On Break"
    fail_s = int(port.cc("bridge-agent-fail")[0].at_s)
    row = engine.api("agent list agent1@default").splitlines()[1].split("|")
    assert (row[5], row[16], row[19]) == ("On Break", "1", str(fail_s + 5))


def test_agent_legs_carry_cc_and_exported_variables() -> None:
    port, engine = _lab({"agent1@default": "Available", "agent2@default": "Available"})
    port.scripts["agent1@"] = AgentScript("answer", 1.0)
    port.add_channel(
        CUST,
        {
            **CUST_VARS,
            "cc_export_vars": "dialer_lead_id,dialer_attempt_id",
            "dialer_lead_id": "12345",
        },
    )
    engine.enter_queue(CUST, "sales@default", lambda _c: None)
    port.advance(3)
    offering = port.cc("agent-offering")[0].headers
    assert offering["CC-Member-Session-UUID"] == CUST
    agent_uuid = port.cc("bridge-agent-start")[0].headers["CC-Agent-UUID"]
    leg = port.channel_vars(agent_uuid)
    assert leg["cc_member_session_uuid"] == CUST
    assert leg["cc_side"] == "agent"
    assert leg["dialer_lead_id"] == "12345"
    assert leg["cc_export_vars"] == "dialer_lead_id,dialer_attempt_id"
    assert "dialer_attempt_id" not in leg


def test_f_lists_during_a_bridged_call_and_after_an_abandon() -> None:
    port, engine = _lab({"agent1@default": "On Break", "agent2@default": "On Break"})
    _call(port, engine, "sales@default", hangup_after_s=5.0)  # e: abandoned after 5 s
    port.advance(7)
    engine.api("agent set status agent2@default Available")
    port.add_channel("cust-0002", CUST_VARS)
    engine.enter_queue("cust-0002", "sales@default", lambda _c: None)
    port.advance(2)
    members = engine.api("queue list members sales@default").splitlines()
    abandoned, answered = (row.split("|") for row in members[1:3])
    assert abandoned[3] == "" and abandoned[15] == "Abandoned"
    assert abandoned[10] == str(int(START_S) + 5)
    assert answered[3] == "cust-0002"
    assert answered[13:16] == ["agent2@default", "single_box", "Answered"]
    assert answered[9] != "0"  # bridge_epoch
    tiers = engine.api("queue list tiers sales@default")
    assert "sales@default|agent2@default|Active Inbound|1|2\n" in tiers
    assert (
        engine.api("agent get uuid agent2@default")
        == port.cc("bridge-agent-start")[0].headers["CC-Agent-UUID"]
    )
