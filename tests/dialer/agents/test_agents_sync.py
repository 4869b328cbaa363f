"""The sync diff (pure): mod_callcenter's exact replies (transcript m) parsed, the commands it
takes to match the database, and, over any database and switch, one sync is enough and never
changes a status."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.agents.ports import AgentRecord, Tier
from dialer.agents.sync import (
    SwitchAgents,
    parse_queue_names,
    parse_switch_agents,
    sync_commands,
)
from tests.dialer.agents.conftest import lab_node

RESULTS = Path(__file__).parents[2] / "data/esl/m_callcenter_config_api.results.txt"
CONTACT9 = "[leg_timeout=10]sofia/external/agent9@127.0.0.1:5099"


def replies(command: str) -> list[str]:
    """Every reply transcript m recorded for ``api <command>``, in order."""
    found: list[str] = []
    current: list[str] | None = None
    for line in RESULTS.read_text().splitlines():
        if line.startswith("api "):
            current = [] if line == f"api {command}" else None
            if current is not None:
                found.append("")
        elif current is not None and line.startswith("    "):
            found[-1] += line[4:] + "\n"
    return found


def test_the_agent_and_tier_lists_of_transcript_m() -> None:
    agent_list = replies("callcenter_config agent list agent9@default")[1]
    seen = parse_switch_agents(agent_list, replies("callcenter_config tier list")[0])
    assert seen.contacts == {"agent9@default": CONTACT9}
    assert seen.tiers["agent9@default"] == {"sales@default": Tier("sales@default", 3, 5)}
    assert seen.tiers["agent2@default"]["ringall@default"] == Tier("ringall@default", 1, 2)
    assert len(seen.tiers["agent1@default"]) == 5


def test_empty_lists_are_only_ok() -> None:
    # `agent list` of an agent deleted: "+OK" alone (no header)
    gone = replies("callcenter_config agent list agent9@default")[2]
    assert gone == "+OK\n"
    assert parse_switch_agents(gone, gone) == SwitchAgents()


def test_the_queue_list_of_transcript_m() -> None:
    before, after_unload = replies("callcenter_config queue list")[:2]
    lab = {"noagent@default", "sales@default", "noagent0@default", "ringall@default"}
    assert parse_queue_names(before) == lab | {"sales2s@default"}
    assert parse_queue_names(after_unload) == lab


def test_what_a_switch_in_transcript_ms_state_needs() -> None:
    seen = parse_switch_agents(
        replies("callcenter_config agent list agent9@default")[1],
        replies("callcenter_config tier list")[0],
    )
    same = AgentRecord("agent9@default", CONTACT9, (Tier("sales@default", 3, 5),))
    assert sync_commands([same], seen) == []
    moved = AgentRecord(
        "agent9@default", "user/9", (Tier("sales@default", 1, 5), Tier("ringall@default"))
    )
    assert sync_commands([moved], seen) == [
        "callcenter_config agent set contact agent9@default user/9",
        "callcenter_config tier set level sales@default agent9@default 1",
        "callcenter_config tier add ringall@default agent9@default 1 1",
    ]
    untiered = AgentRecord("agent9@default", CONTACT9)
    assert sync_commands([untiered], seen) == [
        "callcenter_config tier del sales@default agent9@default"
    ]
    new = AgentRecord("1001", "user/1001", (Tier("sales@default", 2, 3),))
    assert sync_commands([new], seen) == [
        "callcenter_config agent add 1001 callback",
        "callcenter_config agent set contact 1001 user/1001",
        "callcenter_config tier add sales@default 1001 2 3",
    ]


NAMES = ("1001", "1002", "agent1@default")
QUEUES = ("sales@default", "ringall@default", "noagent@default")
tiers = st.lists(
    st.builds(Tier, st.sampled_from(QUEUES), st.integers(0, 3), st.integers(0, 3)), max_size=3
)
records = st.builds(
    AgentRecord, st.sampled_from(NAMES), st.sampled_from(("user/1", "user/2")), tiers
)


def _state(conn_api: str) -> dict[str, str]:
    rows = [ln.split("|") for ln in conn_api.splitlines()[1:] if "|" in ln]
    return {row[0]: row[5] for row in rows}


@settings(max_examples=60, deadline=None)
@given(st.lists(records, max_size=3), st.lists(records, max_size=3))
def test_one_sync_makes_the_switch_match_and_keeps_statuses(
    before: list[AgentRecord], desired: list[AgentRecord]
) -> None:
    """Whatever the switch held (its configuration, plus agents of an earlier database),
    after one sync it holds the database's agents and tiers (a second sync has nothing to
    do) and every agent it already had keeps its status."""
    conn = lab_node()
    wanted = list({r.name: r.with_tiers(r.tiers) for r in desired}.values())
    earlier = list({r.name: r.with_tiers(r.tiers) for r in before}.values())

    def seen() -> SwitchAgents:
        return parse_switch_agents(
            conn.api("callcenter_config agent list"), conn.api("callcenter_config tier list")
        )

    for command in sync_commands(earlier, seen()):
        conn.api(command)
    conn.api("callcenter_config agent set status agent1@default 'On Break'")
    statuses = _state(conn.api("callcenter_config agent list"))
    for command in sync_commands(wanted, seen()):
        assert "set status" not in command and "set state" not in command
        assert conn.api(command).startswith("+OK"), command
    assert sync_commands(wanted, seen()) == []
    after = _state(conn.api("callcenter_config agent list"))
    for name, status in statuses.items():
        assert after[name] == status
    for name in {r.name for r in wanted} - set(statuses):
        assert after[name] == "Logged Out"
