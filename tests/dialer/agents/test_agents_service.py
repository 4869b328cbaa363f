"""Agent changes on every node, all or nothing, against the simulator's mod_callcenter (in
memory): validation before any change, undo on the nodes already changed, the database
written last; sync and the listing."""

from __future__ import annotations

import pytest

from dialer import agent_admin
from dialer.agent_admin import AgentError, AgentNotFound
from dialer.agent_state import AgentState
from dialer.agents import service
from dialer.agents.fakes import MemoryAgentStore
from dialer.agents.ports import AgentRecord, Tier
from dialer.esl.fakes import FakeEslConnection
from dialer.esl.ports import EslConnection
from tests.dialer.agents.conftest import lab_node

CONTACT = "[leg_timeout=15]sofia/external/agent9@127.0.0.1:5094"
NINE = AgentRecord("agent9@default", CONTACT, (Tier("sales@default", 2, 3),))


def _agents(conn: EslConnection) -> dict[str, AgentState]:
    return {a.name: a for a in service.node_agents(conn)}


def _changes(conn: FakeEslConnection) -> list[str]:
    """What was sent besides reading lists."""
    return [c for c in conn.sent if " list" not in c]


def test_add_applies_on_every_node_then_stores() -> None:
    store, nodes = MemoryAgentStore(), [lab_node("fs1"), lab_node("fs2")]
    service.add_agent(store, nodes, NINE)
    assert store.get("agent9@default") == NINE
    for conn in nodes:
        nine = _agents(conn)["agent9@default"]
        assert (nine.status, nine.queues) == ("Logged Out", ("sales@default",))


def test_a_step_failing_on_the_second_node_is_undone_everywhere() -> None:
    """The tier add fails on fs2 after the queue check passed (the queue was unloaded in
    between): the agent is deleted on fs1 and fs2, the database is unchanged, and the error
    is the switch's reason in one line."""
    fs1 = lab_node("fs1")
    fs2 = lab_node("fs2", fail={"callcenter_config tier add": "-ERR Queue not found!\n"})
    store = MemoryAgentStore()
    with pytest.raises(AgentError) as failure:
        service.add_agent(store, [fs1, fs2], NINE)
    assert str(failure.value) == (
        "fs2: callcenter_config tier add sales@default agent9@default 2 3: -ERR Queue not found!"
    )
    assert store.all() == []
    for conn in (fs1, fs2):
        assert "agent9@default" not in _agents(conn)
        assert _changes(conn)[-1] == "api callcenter_config agent del agent9@default"


def test_a_connection_lost_midway_is_undone_on_the_other_nodes() -> None:
    fs1, fs2 = lab_node("fs1"), lab_node("fs2", drop_on="callcenter_config agent set contact")
    store = MemoryAgentStore()
    with pytest.raises(AgentError, match="fs2: closed by peer"):
        service.add_agent(store, [fs1, fs2], NINE)
    assert "agent9@default" not in _agents(fs1)
    assert store.all() == []


def test_a_queue_missing_on_any_node_changes_nothing() -> None:
    fs1 = lab_node("fs1")
    fs2 = lab_node("fs2", fail={"callcenter_config queue list": "+OK\n"})
    store = MemoryAgentStore()
    with pytest.raises(AgentError, match="fs2: no queue sales@default on the switch"):
        service.add_agent(store, [fs1, fs2], NINE)
    assert _changes(fs1) == [] and _changes(fs2) == []
    assert store.all() == []


def test_an_agent_the_switch_has_already_is_not_deleted_by_the_undo() -> None:
    conn, store = lab_node(), MemoryAgentStore()
    with pytest.raises(AgentError, match="Agent already exist!"):
        service.add_agent(store, [conn], AgentRecord("agent1@default", "user/1001"))
    assert "agent1@default" in _agents(conn)
    assert store.all() == []


def test_a_stored_agent_is_refused_before_any_node_is_asked() -> None:
    conn, store = lab_node(), MemoryAgentStore([NINE])
    with pytest.raises(AgentError, match="exists already"):
        service.add_agent(store, [conn], NINE)
    assert conn.sent == []


def test_tiers_added_and_removed_on_every_node() -> None:
    store, nodes = MemoryAgentStore(), [lab_node("fs1"), lab_node("fs2")]
    service.add_agent(store, nodes, NINE)
    service.add_tier(store, nodes, "agent9@default", Tier("ringall@default"))
    assert [t.queue for t in store.get("agent9@default").tiers] == [  # type: ignore[union-attr]
        "ringall@default",
        "sales@default",
    ]
    for conn in nodes:
        assert _agents(conn)["agent9@default"].queues == ("ringall@default", "sales@default")
    with pytest.raises(AgentError, match="has a tier in ringall@default already"):
        service.add_tier(store, nodes, "agent9@default", Tier("ringall@default"))
    service.remove_tier(store, nodes, "agent9@default", "sales@default")
    assert store.get("agent9@default") == AgentRecord(
        "agent9@default", CONTACT, (Tier("ringall@default"),)
    )
    for conn in nodes:
        assert _agents(conn)["agent9@default"].queues == ("ringall@default",)


def test_a_tier_failing_on_a_node_is_undone() -> None:
    failing: dict[str, str] = {}
    fs1, fs2 = lab_node("fs1"), lab_node("fs2", fail=failing)
    store = MemoryAgentStore()
    service.add_agent(store, [fs1, fs2], NINE)
    failing["callcenter_config tier add"] = "-ERR Agent not found!\n"
    with pytest.raises(AgentError, match=r"^fs2: .*Agent not found!$"):
        service.add_tier(store, [fs1, fs2], "agent9@default", Tier("ringall@default"))
    assert _agents(fs1)["agent9@default"].queues == ("sales@default",)
    assert _changes(fs1)[-1] == "api callcenter_config tier del ringall@default agent9@default"
    assert store.get("agent9@default") == NINE


def test_remove_deletes_everywhere_then_in_the_database() -> None:
    store, nodes = MemoryAgentStore(), [lab_node("fs1"), lab_node("fs2")]
    service.add_agent(store, nodes, NINE)
    service.remove_agent(store, nodes, "agent9@default")
    assert store.all() == []
    for conn in nodes:
        assert "agent9@default" not in _agents(conn)
    with pytest.raises(AgentError, match="no agent agent9@default in the database"):
        service.remove_agent(store, nodes, "agent9@default")


def test_sync_restores_a_forgotten_agent_and_keeps_known_statuses() -> None:
    store, before = MemoryAgentStore(), lab_node()
    service.add_agent(store, [before], NINE)
    fresh = lab_node()  # a restarted switch: only its configuration
    result = service.sync_node(store, fresh)
    assert result.failed == ()
    assert result.applied == (
        "callcenter_config agent add agent9@default callback",
        f"callcenter_config agent set contact agent9@default {CONTACT}",
        "callcenter_config tier add sales@default agent9@default 2 3",
    )
    nine = _agents(fresh)["agent9@default"]
    assert (nine.status, nine.queues) == ("Logged Out", ("sales@default",))
    fresh.api("callcenter_config agent set status agent9@default Available")
    assert service.sync_node(store, fresh).applied == ()
    assert _agents(fresh)["agent9@default"].status == "Available"
    assert _agents(fresh)["agent1@default"].queues  # the configuration's agents are left alone


def test_sync_reports_a_failing_command_and_runs_the_others() -> None:
    store = MemoryAgentStore(
        [
            AgentRecord("a1", "user/a1", (Tier("nosuch@default"),)),
            AgentRecord("a2", "user/a2", (Tier("sales@default"),)),
        ]
    )
    result = service.sync_node(store, lab_node())
    assert result.failed == (
        "fs1: callcenter_config tier add nosuch@default a1 1 1: -ERR Queue not found!",
    )
    assert "callcenter_config tier add sales@default a2 1 1" in result.applied


def test_lines_list_the_database_on_a_node_that_cannot_be_read() -> None:
    conn, store = lab_node(), MemoryAgentStore()
    service.add_agent(store, [conn], NINE)
    lines = service.agent_lines(store.all(), {"fs1": service.node_agents(conn), "fs2": None})
    mine = [(ln.node, ln.name, ln.contact, ln.queues, ln.status) for ln in lines]
    assert ("fs1", "agent9@default", CONTACT, "sales@default 2/3", "Logged Out") in mine
    assert ("fs2", "agent9@default", CONTACT, "sales@default 2/3", "?") in mine
    assert mine[1][:3] == ("fs1", "agent1@default", "not in the database")
    assert [m for m in mine if m[0] == "fs2"] == [
        ("fs2", "agent9@default", CONTACT, "sales@default 2/3", "?")
    ]


def test_views_give_each_agent_its_status_on_every_node() -> None:
    """The API's listing reads the nodes as the CLI's lines do: ``?`` for a node that could
    not be read, ``not on the switch`` for a node without the agent; agents only a switch has
    come after the database's, by name, with every node."""
    fs1, store = lab_node(), MemoryAgentStore()
    service.add_agent(store, [fs1], NINE)
    views = service.agent_views(store.all(), {"fs1": service.node_agents(fs1), "fs2": None})
    nine, *switch_only = views
    assert nine == service.AgentView(
        "agent9@default",
        NINE,
        (
            service.NodeStatus("fs1", "Logged Out", "Waiting"),
            service.NodeStatus("fs2", "?", "?"),
        ),
    )
    assert [v.name for v in switch_only] == ["agent1@default", "agent2@default"]
    assert all(v.record is None for v in switch_only)
    assert switch_only[0].nodes[1] == service.NodeStatus("fs2", "?", "?")
    alone = service.agent_views([NINE], {"fs1": []})
    assert alone == [
        service.AgentView(NINE.name, NINE, (service.NodeStatus("fs1", "not on the switch", "-"),))
    ]


def test_status_is_set_on_every_node_and_values_are_checked_first() -> None:
    fs1, fs2, store = lab_node("fs1"), lab_node("fs2"), MemoryAgentStore()
    service.add_agent(store, [fs1, fs2], NINE)
    assert service.set_status([fs1, fs2], "agent9@default", "ready") == "Available"
    for conn in (fs1, fs2):
        assert _agents(conn)["agent9@default"].status == "Available"
    before = [len(fs1.sent), len(fs2.sent)]
    for name, verb in (("agent9@default", "away"), ("bad name", "ready")):
        with pytest.raises(AgentError):
            service.set_status([fs1, fs2], name, verb)
    assert [len(fs1.sent), len(fs2.sent)] == before
    with pytest.raises(AgentNotFound, match="Agent not found!"):
        service.set_status([fs1], "agent8@default", "ready")


def test_record_problems_name_each_field() -> None:
    bad = AgentRecord("a b", "user/1;x", (Tier("q q"), Tier("ok", -1), Tier("ok")))
    assert [f for f, _ in service.record_problems(bad)] == [
        "name", "contact", "tiers.0", "tiers.1", "tiers",
    ]  # fmt: skip
    assert service.record_problems(NINE) == []
    assert service.tier_problem(Tier("sales@default", 2**31)) is not None


def test_ready_leaves_an_agent_on_an_api_call_held_from_queue_calls() -> None:
    fs1, fs2, store = lab_node("fs1"), lab_node("fs2"), MemoryAgentStore()
    service.add_agent(store, [fs1, fs2], NINE)
    service.set_status([fs1, fs2], NINE.name, "break")
    for conn in (fs1, fs2):  # its API call's agent leg was placed
        agent_admin.apply(conn, [agent_admin.hold_command(NINE.name)])
    on_call = {NINE.name}
    service.set_status([fs1, fs2], NINE.name, "ready", on_api_call=on_call.__contains__)
    for conn in (fs1, fs2):
        nine = _agents(conn)[NINE.name]
        assert (nine.status, nine.state) == ("Available", "Idle")  # no queue call yet
    on_call.clear()  # the call ended; ready (or the release) makes it Waiting
    service.set_status([fs1, fs2], NINE.name, "ready", on_api_call=on_call.__contains__)
    assert {_agents(c)[NINE.name].state for c in (fs1, fs2)} == {"Waiting"}
