"""Agents over ``callcenter_config``: exact commands, refused values, replies, and the result on
the simulated mod_callcenter (in memory through the ESL fake, and over TCP)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer import agent_admin
from dialer.esl.adapters.own import EslClient
from dialer.esl.fakes import FakeEslConnection
from dialer.esl.ports import Subscription
from dialer.sim.callcenter import create_engine
from dialer.sim.callcenter.fakes import FakeSwitchPort
from dialer.sim.originate_parse import separate_string
from dialer.sim.scenario import load_scenario
from dialer.sim.simulator import SimulatorServer

LAB = Path(__file__).parents[2] / "scenarios/sim/lab.yaml"
SUB = Subscription(events=())
CONTACT = "[leg_timeout=15]sofia/external/agent9@127.0.0.1:5094"


def scripted(replies: dict[str, str]) -> tuple[FakeEslConnection, list[str]]:
    sent: list[str] = []

    def respond(cmd: str) -> str:
        sent.append(cmd)
        for prefix, reply in replies.items():
            if cmd.startswith(prefix):
                return reply
        return "+OK\n"

    return FakeEslConnection("fs1", SUB, lambda e: None, respond), sent


def simulated_switch() -> FakeEslConnection:
    """The ESL fake answering with the simulator's mod_callcenter (lab queues)."""
    engine = create_engine(FakeSwitchPort(), load_scenario(LAB).callcenter)

    def respond(cmd: str) -> str:
        name, _, args = cmd.partition(" ")
        assert name == "callcenter_config"
        return engine.api(args) or "-ERR no reply\n"

    return FakeEslConnection("fs1", SUB, lambda e: None, respond)


def test_add_sends_agent_add_contact_and_tier() -> None:
    conn, sent = scripted({})
    agent_admin.add(conn, "agent9@default", CONTACT, agent_admin.Tier("sales@default", 2, 3))
    assert sent == [
        "callcenter_config agent add agent9@default callback",
        f"callcenter_config agent set contact agent9@default {CONTACT}",
        "callcenter_config tier add sales@default agent9@default 2 3",
    ]


@pytest.mark.parametrize(
    ("verb", "command"),
    [
        ("login", "callcenter_config agent set status a1@default 'On Break'"),
        ("break", "callcenter_config agent set status a1@default 'On Break'"),
        ("logout", "callcenter_config agent set status a1@default 'Logged Out'"),
    ],
)
def test_status_verbs(verb: str, command: str) -> None:
    conn, sent = scripted({})
    agent_admin.set_status(conn, "a1@default", verb)
    assert sent == [command]
    # FreeSWITCH's argument splitter keeps the quoted status as one word (transcript i)
    assert separate_string(command, " ")[-1] == agent_admin.VERB_STATUS[verb]


def test_ready_sets_waiting_only_when_idle() -> None:
    conn, sent = scripted({"callcenter_config agent get state": "Idle"})
    agent_admin.set_status(conn, "a1@default", "ready")
    assert sent == [
        "callcenter_config agent set status a1@default Available",
        "callcenter_config agent get state a1@default",
        "callcenter_config agent set state a1@default Waiting",
    ]
    busy, sent_busy = scripted({"callcenter_config agent get state": "In a queue call"})
    agent_admin.set_status(busy, "a1@default", "ready")
    assert sent_busy[-1] == "callcenter_config agent get state a1@default"


def test_error_replies_stop_and_are_reported() -> None:
    conn, sent = scripted({"callcenter_config agent add": "-ERR Agent already exist!\n"})
    with pytest.raises(agent_admin.AgentError, match="Agent already exist!"):
        agent_admin.add(conn, "agent9@default", CONTACT)
    assert len(sent) == 1
    conn, _ = scripted({"callcenter_config agent set status": "-ERR Agent not found!\n"})
    with pytest.raises(agent_admin.AgentError, match="Agent not found!"):
        agent_admin.set_status(conn, "nosuch@default", "break")


@pytest.mark.parametrize(
    "name", ["", "a b", "a'b", 'a"b', "a\nb", "a;b", "a@b@c", "${x}", "a" * 70, "a@"]
)
def test_hostile_names_are_refused(name: str) -> None:
    conn, sent = scripted({})
    with pytest.raises(agent_admin.AgentError):
        agent_admin.add(conn, name, "user/1001")
    with pytest.raises(agent_admin.AgentError):
        agent_admin.set_status(conn, name, "ready")
    assert sent == []


@pytest.mark.parametrize(
    "contact",
    [
        "",
        "1001",
        "user/1001 extra",
        "user/1001'",
        'user/"1001"',
        "user/${x}",
        "{origination_caller_id_number=1}user/1001",
        "[a=b c]user/1001",
        "user/1001\ncallcenter_config agent del x",
    ],
)
def test_hostile_contacts_are_refused(contact: str) -> None:
    with pytest.raises(agent_admin.AgentError):
        agent_admin.add_commands("a1@default", contact)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(st.text(max_size=40), st.from_regex(r"[A-Za-z0-9_.@ '\"$-]{1,30}", fullmatch=True)),
    st.one_of(
        st.text(max_size=80),
        st.from_regex(
            r"(\[[a-z_=0-9, '\"]{1,20}\])?[a-z]{1,8}/[A-Za-z0-9_.:@/ '\"$-]{1,30}", fullmatch=True
        ),
    ),
)
def test_accepted_values_stay_one_word(name: str, contact: str) -> None:
    """Whatever passes the checks is one argument of FreeSWITCH's blank splitter."""
    try:
        cmds = agent_admin.add_commands(name, contact)
    except agent_admin.AgentError:
        return
    assert separate_string(cmds[0], " ") == ["callcenter_config", "agent", "add", name, "callback"]
    words = separate_string(cmds[1], " ")
    assert words[-2:] == [name, contact] and len(words) == 6


def test_unknown_verb_and_bad_tier_are_refused() -> None:
    conn, _ = scripted({})
    with pytest.raises(agent_admin.AgentError):
        agent_admin.set_status(conn, "a1@default", "vacation")
    with pytest.raises(agent_admin.AgentError):
        agent_admin.tier_add_command("a1@default", agent_admin.Tier("bad queue"))


def test_add_then_ready_on_the_simulated_callcenter() -> None:
    conn = simulated_switch()
    agent_admin.add(conn, "agent9@default", CONTACT, agent_admin.Tier("sales@default"))
    listed = {a.name: a for a in agent_admin.list_agents(conn)}
    assert (listed["agent9@default"].status, listed["agent9@default"].state) == (
        "Logged Out",
        "Waiting",
    )
    agent_admin.set_status(conn, "agent9@default", "login")
    assert {a.name: a.status for a in agent_admin.list_agents(conn)}["agent9@default"] == "On Break"
    agent_admin.set_status(conn, "agent9@default", "ready")
    nine = {a.name: a for a in agent_admin.list_agents(conn)}["agent9@default"]
    assert (nine.status, nine.state) == ("Available", "Waiting")
    with pytest.raises(agent_admin.AgentError, match="Agent already exist!"):
        agent_admin.add(conn, "agent9@default", CONTACT)
    with pytest.raises(agent_admin.AgentError, match="Queue not found!"):
        agent_admin.apply(
            conn, [agent_admin.tier_add_command("agent9@default", agent_admin.Tier("no@default"))]
        )


@pytest.fixture
def sim_client() -> Iterator[Callable[[], EslClient]]:
    scenario = replace(load_scenario(LAB), speed=20.0)
    clients: list[EslClient] = []
    with SimulatorServer(scenario) as server:
        sim = server.sim

        def connect() -> EslClient:
            client = EslClient("fs1", sim.host, sim.port_number, "ClueCon", SUB, lambda e: None)
            clients.append(client.start())
            assert client.wait_connected(5)
            return client

        try:
            yield connect
        finally:
            for c in clients:
                c.close()


@pytest.mark.integration
def test_add_and_ready_over_tcp(sim_client: Callable[[], EslClient]) -> None:
    conn = sim_client()
    agent_admin.add(conn, "agent9@default", CONTACT, agent_admin.Tier("sales@default", 1, 3))
    agent_admin.set_status(conn, "agent9@default", "ready")
    raw = conn.api("callcenter_config agent list", 5)
    row = next(line for line in raw.splitlines() if line.startswith("agent9@default|"))
    assert row.split("|")[4:7] == [CONTACT, "Available", "Waiting"]
    tiers = conn.api("callcenter_config queue list tiers sales@default", 5)
    assert "sales@default|agent9@default|Ready|1|3" in tiers.splitlines()
    agent_admin.set_status(conn, "agent9@default", "break")
    assert conn.api("callcenter_config agent get status agent9@default", 5).strip() == "On Break"
    agent_admin.set_status(conn, "agent9@default", "logout")
    listed = {a.name: a.status for a in agent_admin.list_agents(conn)}
    assert listed["agent9@default"] == "Logged Out"


def _nine(conn: FakeEslConnection) -> tuple[str, str]:
    nine = {a.name: a for a in agent_admin.list_agents(conn)}["agent9@default"]
    return nine.status, nine.state


def test_a_held_agent_is_idle_and_resumes_waiting_only_when_still_available() -> None:
    conn = simulated_switch()
    agent_admin.add(conn, "agent9@default", CONTACT, agent_admin.Tier("sales@default"))
    agent_admin.set_status(conn, "agent9@default", "ready")
    assert agent_admin.hold_command("agent9@default") == (
        "callcenter_config agent set state agent9@default Idle"
    )
    agent_admin.apply(conn, [agent_admin.hold_command("agent9@default")])
    assert _nine(conn) == ("Available", "Idle")  # its status is its own: untouched
    assert agent_admin.resume(conn, "agent9@default")
    assert _nine(conn) == ("Available", "Waiting")
    assert not agent_admin.resume(conn, "agent9@default")  # not held: nothing to do
    # a break taken during the call stands; ready later makes it Waiting
    agent_admin.apply(conn, [agent_admin.hold_command("agent9@default")])
    agent_admin.set_status(conn, "agent9@default", "break")
    assert not agent_admin.resume(conn, "agent9@default")
    assert _nine(conn) == ("On Break", "Idle")
    agent_admin.set_status(conn, "agent9@default", "ready")
    assert _nine(conn) == ("Available", "Waiting")
    with pytest.raises(agent_admin.AgentNotFound):
        agent_admin.resume(conn, "nosuch@default")
