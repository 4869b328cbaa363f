"""The preflight's judgement (`dialer.runner.preflight`): each check fails with one line that
names what is wrong and what to do, and passes when the switch and the rows are right."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from campaigns.rules import CallingWindow
from dialer.runner.fakes import MemoryNode, MemorySwitchProbe
from dialer.runner.preflight import (
    CampaignFacts,
    Preflight,
    TrunkFacts,
    Verdict,
    evaluate,
    window_opens_at,
)
from dialer.runner.service import preflight

# Thursday 2026-12-03 10:00 in Shanghai
NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
ZONE = "Asia/Shanghai"
FACTS = CampaignFacts(
    name="spring",
    queue="sales@default",
    extension="cc_spring",
    context="campaign",
    trunk_group=None,
    trunks=(TrunkFacts("carrier1"),),
    now=NOW,
    window_text="Mon–Sat 09:00–20:00",
    window_opens_at=NOW,
    leads_waiting=3,
    leads_due=3,
    next_due_at=NOW,
)


def ready_node() -> MemoryNode:
    return MemoryNode(
        queues={"sales@default"},
        dialplan={"campaign": {"cc_spring": ("sales@default",)}},
        gateways={"carrier1": "UP"},
        tiers={"sales@default": ["1001"]},
        agent_status={"1001": "Available"},
    )


def check(node: MemoryNode, facts: CampaignFacts = FACTS) -> Preflight:
    return preflight(facts, MemorySwitchProbe({"fs1": node}), ZONE)


def failures(result: Preflight) -> list[str]:
    return [f"{f.check}: {f.message}" for f in result.failures]


def test_a_ready_campaign_passes_every_check() -> None:
    result = check(ready_node())
    assert result.ok, failures(result)
    checks = [f.check for f in result.findings]
    assert checks == ["queue", "dialplan", "trunk", "agents", "window", "leads"]
    assert all(f.verdict is Verdict.PASS for f in result.findings)


def test_a_missing_queue_is_named_with_what_to_do() -> None:
    node = ready_node()
    node.queues = {"campaign@default"}
    assert failures(check(node)) == [
        "queue: queue sales@default does not exist on fs1: load it in callcenter.conf.xml "
        "(dialer fsconf render, then callcenter_config queue load sales@default) or create "
        "the campaign with an existing --queue"
    ]


def test_a_missing_context_a_missing_extension_and_a_wrong_queue_fail() -> None:
    node = ready_node()
    node.dialplan = {}
    [missing] = failures(check(node))
    assert missing.startswith("dialplan: dialplan context campaign on fs1 is not loaded: ")
    assert "dialer fsconf render" in missing
    node.dialplan = {"campaign": {"cc_other": ("sales@default",)}}
    [absent] = failures(check(node))
    assert absent.startswith("dialplan: extension cc_spring is not in dialplan context campaign")
    node.dialplan = {"campaign": {"cc_spring": ("other@default",)}}
    [wrong] = failures(check(node))
    assert "enters other@default, not sales@default" in wrong


def test_a_trunk_that_is_no_gateway_or_is_down_fails() -> None:
    node = ready_node()
    node.gateways = {}
    [unknown] = failures(check(node))
    assert unknown.startswith("trunk: trunk carrier1 is not a gateway on fs1: ")
    node.gateways = {"carrier1": "DOWN"}
    [down] = failures(check(node))
    assert down.startswith("trunk: trunk carrier1 is DOWN on fs1: ")


def test_only_the_nodes_a_trunk_is_on_are_asked_for_it() -> None:
    node = ready_node()
    node.gateways = {}
    facts = replace(FACTS, trunks=(TrunkFacts("carrier1", ("fs2",)),))
    assert check(node, facts).ok


def test_no_trunk_at_all_fails_naming_the_group() -> None:
    [line] = failures(check(ready_node(), replace(FACTS, trunks=())))
    assert line.startswith("trunk: no enabled trunk to dial through: add one (dialer trunks add")
    grouped = replace(FACTS, trunks=(), trunk_group="cn")
    [group_line] = failures(check(ready_node(), grouped))
    assert "trunk group cn has no enabled trunk" in group_line and "--group cn" in group_line


def test_a_queue_without_a_tiered_agent_fails_and_one_without_a_ready_agent_warns() -> None:
    node = ready_node()
    node.tiers = {}
    [line] = failures(check(node))
    assert line.startswith("agents: no agent has a tier in queue sales@default on fs1: add one")
    node.tiers = {"sales@default": ["1001"]}
    node.agent_status = {"1001": "Logged Out"}
    result = check(node)
    assert result.ok
    [warning] = [f for f in result.findings if f.verdict is Verdict.WARN]
    assert warning.check == "agents" and "none Available" in warning.message


def test_an_unreachable_node_is_one_failure_and_every_node_is_asked() -> None:
    down = MemoryNode(down=True)
    result = preflight(FACTS, MemorySwitchProbe({"fs1": ready_node(), "fs2": down}), ZONE)
    assert failures(result) == [
        "node: cannot ask fs2: no Event Socket answers: start FreeSWITCH there or correct "
        "DIALER_FREESWITCH_NODES"
    ]
    assert evaluate(FACTS, [], ZONE).failures[0].message.startswith("no FreeSWITCH node")


def test_no_waiting_lead_fails_and_leads_due_later_warn() -> None:
    [line] = failures(check(ready_node(), replace(FACTS, leads_waiting=0, leads_due=0)))
    assert line == (
        "leads: no lead is waiting to be called: import leads "
        "(dialer leads import FILE --campaign spring)"
    )
    later = replace(FACTS, leads_due=0, next_due_at=NOW + timedelta(hours=1))
    result = check(ready_node(), later)
    [warning] = [f for f in result.findings if f.verdict is Verdict.WARN]
    assert warning.message == (
        "none of 3 waiting leads is due now; the next is due 2026-12-03 11:00:00+08:00"
    )


def test_a_closed_window_warns_when_it_opens_and_one_that_never_opens_fails() -> None:
    opens = NOW + timedelta(hours=23)
    result = check(ready_node(), replace(FACTS, window_opens_at=opens))
    assert result.ok
    [warning] = [f for f in result.findings if f.verdict is Verdict.WARN]
    assert warning.message.startswith(
        "calling window closed now, opens 2026-12-04 09:00:00+08:00; window Mon"
    )
    [never] = failures(check(ready_node(), replace(FACTS, window_opens_at=None)))
    assert never.startswith("window: the calling window (Mon–Sat 09:00–20:00) never opens")


def test_the_window_opens_at_the_next_start_in_the_leads_zones() -> None:
    window = CallingWindow.model_validate(
        {"windows": [{"days": "mon,tue,wed,thu,fri,sat", "start": "09:00", "end": "20:00"}]}
    )
    assert window_opens_at(window, ["Asia/Shanghai"], NOW) == NOW
    # Thursday 21:00 in Shanghai -> Friday 09:00
    evening = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
    assert window_opens_at(window, ["Asia/Shanghai"], evening) == datetime(
        2026, 12, 4, 1, 0, tzinfo=UTC
    )
    # Saturday 21:00 -> Monday 09:00 (no Sunday window); no leads: the fallback zone
    saturday = datetime(2026, 12, 5, 13, 0, tzinfo=UTC)
    assert window_opens_at(window, [], saturday) == datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    # a lead in New York and Shanghai at once is callable only when both are inside
    both = window_opens_at(window, ["America/New_York,Asia/Shanghai"], evening)
    assert both is None
