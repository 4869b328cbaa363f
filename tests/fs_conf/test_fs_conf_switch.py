"""The switch configuration: event socket, modules, SIP profile, queues, campaign dialplan.

Rendered XML is parsed and checked, compared with golden files (``DIALER_UPDATE_GOLDEN=1``
rewrites them), hostile values are escaped or refused, and the dialplan's destination is the
one the originate builder writes and the simulator's lab dialplan uses.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.domain import CampaignStatus, DialMode
from campaigns.models import Campaign
from dialer.config import FsNode
from dialer.esl.originate import OriginateSpec, build_originate
from dialer.routing.model import Trunk
from dialer.runner.adapters import plan_of
from dialer.sim.originate_parse import OriginateRequest, parse_originate
from dialer.sim.scenario import load_scenario
from fs_conf.dialplan import (
    AFTER_QUEUE_EXTENSION,
    AMD_EXTENSION,
    CAMPAIGN_CONTEXT,
    DialplanError,
    DialplanOptions,
    destination_of,
    dialplan_entry,
    dialplan_xml,
)
from fs_conf.dnc import DNC_EXTENSION
from fs_conf.switch import (
    ESL_ACL_LIST,
    CdrPosting,
    QueueSettings,
    RedisTarget,
    SwitchOptions,
    acl_conf_xml,
    callcenter_xml,
    event_socket_access,
    event_socket_xml,
    external_profile_xml,
    lcr_conf_xml,
    module_plan,
    modules_xml,
    queues_for,
    write_switch_conf,
    xml_cdr_xml,
)

GOLDEN = Path(__file__).with_name("golden")
UPDATE = os.environ.get("DIALER_UPDATE_GOLDEN") == "1"
LAB = Path(__file__).parents[2] / "scenarios/sim/lab.yaml"
CAMPAIGNS = [
    ("sales", "sales@default"),
    ("debts.2026", "collections@acme"),
    ("autumn", "sales@default"),
]
QUEUES = [q for _, q in CAMPAIGNS]
NODE = FsNode(password="s3cret")
SEED_000 = {
    "mod_callcenter", "mod_fail2ban", "mod_blacklist", "mod_curl", "mod_hiredis", "mod_redis",
    "mod_distributor", "mod_lcr", "mod_cidlookup", "mod_nibblebill", "mod_python3",
}  # fmt: skip
DIALPLAN_NEEDS = {
    "mod_event_socket", "mod_sofia", "mod_dptools", "mod_dialplan_xml", "mod_callcenter",
    "mod_distributor", "mod_lcr", "mod_sndfile", "mod_commands", "mod_loopback",
    "mod_local_stream", "mod_tone_stream",
}  # fmt: skip


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


def _params(element: ET.Element) -> dict[str | None, str | None]:
    return {p.get("name"): p.get("value") for p in element.iter("param")}


def test_event_socket_listens_where_the_settings_say() -> None:
    node = FsNode(name="fs1", host="10.0.0.5", port=8022, password="s3cret")
    access = event_socket_access(node, acl=["10.0.0.0/24", " 10.0.1.7"])
    text = event_socket_xml(access)
    root = ET.fromstring(text)
    assert root.get("name") == "event_socket.conf"
    params = _params(root)
    assert (params["listen-ip"], params["listen-port"], params["password"]) == (
        "10.0.0.5",
        "8022",
        "s3cret",
    )
    assert params["apply-inbound-acl"] == ESL_ACL_LIST
    _golden("event_socket.conf.xml", text)
    named = FsNode(host="fs1.example.net", password="s3cret")
    with pytest.raises(ValueError, match="not an IP address"):
        event_socket_access(named)
    wide = event_socket_xml(event_socket_access(named, listen_ip="::", acl=["fd00::/8"]))
    assert _params(ET.fromstring(wide))["listen-ip"] == "::"


def test_event_socket_acl_is_a_list_of_acl_conf() -> None:
    node = FsNode(host="10.0.0.5", password="s3cret")
    text = acl_conf_xml(event_socket_access(node, acl=["10.0.0.0/24", "10.0.1.7"]))
    root = ET.fromstring(text)
    assert root.get("name") == "acl.conf"
    lists = {e.get("name"): e for e in root.iter("list")}
    ours = lists[ESL_ACL_LIST]
    assert ours.get("default") == "deny"
    assert [(n.get("type"), n.get("cidr")) for n in ours.iter("node")] == [
        ("allow", "10.0.0.0/24"),
        ("allow", "10.0.1.7/32"),
    ]
    # the stock internal profile applies "domains": it stays
    assert "domains" in lists
    _golden("acl.conf.xml", text)
    local = event_socket_access(FsNode(password="s3cret"))
    assert local.acl_cidrs == ("127.0.0.0/8", "::1/128")


@pytest.mark.parametrize(
    ("node", "kwargs", "message"),
    [
        (FsNode(), {}, "default 'ClueCon'"),
        (FsNode(password="x"), {"password": ""}, "default 'ClueCon'"),
        (FsNode(password="x", host="10.0.0.5"), {}, "give --esl-acl"),
        (FsNode(password="x"), {"listen_ip": "0.0.0.0"}, "give --esl-acl"),
        (FsNode(password="x"), {"acl": ["10.0.0.5/24"]}, "'10.0.0.5/24' is not a CIDR"),
        (FsNode(password="x"), {"acl": ["lan"]}, "'lan' is not a CIDR"),
    ],
)
def test_event_socket_refuses_a_known_password_or_an_open_port(
    node: FsNode, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        event_socket_access(node, **kwargs)


def test_event_socket_default_password_only_when_allowed() -> None:
    access = event_socket_access(FsNode(), allow_default_password=True)
    assert _params(ET.fromstring(event_socket_xml(access)))["password"] == "ClueCon"
    chosen = event_socket_access(FsNode(), password="n3w")
    assert chosen.password == "n3w"


def test_event_socket_password_is_escaped() -> None:
    hostile = 'a"/><param name="listen-ip" value="0.0.0.0"/>&<'
    params = _params(ET.fromstring(event_socket_xml(event_socket_access(FsNode(password=hostile)))))
    assert params["password"] == hostile
    assert params["listen-ip"] == "127.0.0.1"


def _loaded(options: SwitchOptions) -> list[str | None]:
    return [m.get("module") for m in ET.fromstring(modules_xml(module_plan(options))).iter("load")]


FULL = SwitchOptions(lcr_odbc_dsn="pgsql://dbname=dialer", redis=RedisTarget("10.0.0.4"))
LEFT_OUT_ALWAYS = {"mod_redis", "mod_cidlookup", "mod_nibblebill"}


def test_modules_are_the_call_center_set_plus_what_the_dialplan_needs() -> None:
    text = modules_xml(module_plan(FULL))
    loaded = [m.get("module") for m in ET.fromstring(text).iter("load")]
    assert len(loaded) == len(set(loaded))
    assert all(m is not None and re.fullmatch(r"mod_[a-z0-9_]+", m) for m in loaded)
    assert set(loaded) >= (SEED_000 - LEFT_OUT_ALWAYS) | DIALPLAN_NEEDS
    assert not set(loaded) & LEFT_OUT_ALWAYS
    for module in LEFT_OUT_ALWAYS:  # each with its reason beside the list
        assert f"<!-- {module} left out: " in text
    assert "mod_amd" not in loaded
    _golden("modules.conf.xml", text)
    with_amd = _loaded(replace(FULL, dialplan=DialplanOptions(amd=True)))
    assert "mod_amd" in with_amd
    lean = set(_loaded(replace(FULL, callcenter_modules=False)))
    seed_only = SEED_000 - {"mod_callcenter", "mod_distributor"}
    assert lean >= DIALPLAN_NEEDS - seed_only and not lean & seed_only


def test_lcr_and_hiredis_are_left_out_without_a_database_and_a_reachable_redis() -> None:
    text = modules_xml(module_plan(SwitchOptions()))
    loaded = {m.get("module") for m in ET.fromstring(text).iter("load")}
    assert "mod_lcr" not in loaded and "mod_hiredis" not in loaded
    assert "<!-- mod_lcr left out: mod_lcr needs a database server" in text
    assert "<!-- mod_hiredis left out: no Redis the switch can reach" in text


def test_callcenter_has_one_queue_per_campaign_queue_and_no_agents() -> None:
    text = callcenter_xml(queues_for(QUEUES, QueueSettings()))
    root = ET.fromstring(text)
    assert root.get("name") == "callcenter.conf"
    queues = {q.get("name", ""): _params(q) for q in root.iter("queue")}
    assert sorted(queues) == ["collections@acme", "sales@default"]
    sales = queues["sales@default"]
    assert sales["max-wait-time"] == "2"
    assert sales["strategy"] == "longest-idle-agent"
    assert sales["moh-sound"] == "local_stream://moh"
    assert sales["max-wait-time-with-no-agent"] == "2"
    assert sales["max-wait-time-with-no-agent-time-reached"] == "0"
    assert list(root.iter("agent")) == [] and list(root.iter("tier")) == []
    _golden("callcenter.conf.xml", text)


def test_queue_settings_are_checked_and_values_escaped() -> None:
    with pytest.raises(ValueError, match="strategy"):
        QueueSettings(strategy="fastest")
    with pytest.raises(ValueError, match="max-wait-time"):
        QueueSettings(max_wait_time_s=0)
    with pytest.raises(DialplanError):
        queues_for(['x"/><queue name="y'], QueueSettings())
    moh = 'file_string://a.wav!b&c<d>"e'
    root = ET.fromstring(callcenter_xml(queues_for(["q"], QueueSettings(moh_sound=moh)), "d:u:p&"))
    assert _params(root)["moh-sound"] == moh
    assert _params(root)["odbc-dsn"] == "d:u:p&"


def test_external_profile_includes_the_gateway_files(tmp_path: Path) -> None:
    text = external_profile_xml(SwitchOptions())
    root = ET.fromstring(text)
    assert root.tag == "profile" and root.get("name") == "external"
    include = root.find("gateways/X-PRE-PROCESS")
    assert include is not None and include.get("cmd") == "include"
    assert include.get("data") == "external/*.xml"  # relative to sip_profiles/
    assert _params(root)["context"] == "public"
    _golden("external.xml", text)


def test_dialplan_enters_the_campaign_queue_then_safe_harbor() -> None:
    text = dialplan_xml(CAMPAIGNS)
    context = ET.fromstring(text).find("context")
    assert context is not None and context.get("name") == CAMPAIGN_CONTEXT
    extensions = {e.get("name"): e for e in context.findall("extension")}
    assert sorted(extensions, key=str) == [
        "cc_autumn",
        "cc_debts.2026",
        "cc_sales",
        AFTER_QUEUE_EXTENSION,
        DNC_EXTENSION,
    ]
    assert destination_of(extensions["cc_debts.2026"]) == "cc_debts.2026"
    sales = extensions["cc_sales"]
    actions = [(a.get("application"), a.get("data")) for a in sales.iter("action")]
    assert actions == [
        ("execute_extension", f"{DNC_EXTENSION} XML {CAMPAIGN_CONTEXT}"),
        ("answer", None),
        ("set", "hangup_after_bridge=true"),
        ("callcenter", "sales@default"),
        ("execute_extension", f"{AFTER_QUEUE_EXTENSION} XML {CAMPAIGN_CONTEXT}"),
        ("hangup", "NORMAL_CLEARING"),
    ]
    after = extensions[AFTER_QUEUE_EXTENSION]
    conditions = after.findall("condition")
    assert conditions[0].get("field") == "destination_number" and not list(conditions[0])
    reason = conditions[1]
    assert reason.get("field") == "${cc_cancel_reason}"
    expression = reason.get("expression", "")
    assert re.fullmatch(expression, "TIMEOUT") and re.fullmatch(expression, "NO_AGENT_TIMEOUT")
    assert not re.fullmatch(expression, "BREAK_OUT") and not re.fullmatch(expression, "")
    assert [(a.tag, a.get("application")) for a in reason] == [
        ("action", "playback"),
        ("action", "hangup"),
        ("anti-action", "hangup"),
    ]
    _golden("campaign.xml", text)


def test_dialplan_with_answering_machine_detection() -> None:
    text = dialplan_xml([("sales", "sales@default")], DialplanOptions("/s/sh.wav", amd=True))
    context = ET.fromstring(text).find("context")
    assert context is not None
    extensions = {e.get("name"): e for e in context.findall("extension")}
    apps = [a.get("application") for a in extensions["cc_sales"].iter("action")]
    assert apps.index("amd") < apps.index("callcenter")
    machine = extensions[AMD_EXTENSION].findall("condition")[1]
    assert machine.get("field") == "${amd_result}"
    # a human still matches (anti-action), so execute_extension always finds the extension
    assert [(a.tag, a.get("application")) for a in machine] == [
        ("action", "hangup"),
        ("anti-action", "log"),
    ]
    _golden("campaign_amd.xml", text)


@pytest.mark.parametrize(
    ("campaign", "queue"),
    [("sales", "sales@default"), ("debts.2026", "collections@acme"), ("A-b_c.d", "q.1-x_y")],
)
def test_originate_destination_reaches_the_campaign_extension(campaign: str, queue: str) -> None:
    entry = dialplan_entry(campaign, queue)
    spec = OriginateSpec(
        call_uuid="0b0e5b0c-5a1e-4d7b-9a60-3b8f0f6a1c2d",
        dial_string="sofia/gateway/carrier_a/6138000000",
        caller_id="20220601",
        extension=entry.extension,
        context=entry.context,
        campaign_id=7,
        lead_id=1,
        attempt_id=1,
    )
    request = parse_originate(build_originate(spec, datetime.now(UTC)))
    assert isinstance(request, OriginateRequest)
    context = ET.fromstring(dialplan_xml([(campaign, queue), ("other", "o@x")])).find("context")
    assert context is not None and context.get("name") == request.context
    assert request.dialplan == "XML"
    hits = [e for e in context.findall("extension") if destination_of(e) == request.destination]
    assert len(hits) == 1
    assert [
        a.get("data") for a in hits[0].iter("action") if a.get("application") == "callcenter"
    ] == [queue]


def test_lab_dialplan_uses_the_same_names() -> None:
    lab = load_scenario(LAB)
    entry = dialplan_entry("sales", "sales@default")
    ext = lab.extension(entry.extension, entry.context)
    assert ext is not None and ext.queue == "sales@default"


def test_the_pacer_originates_to_the_rendered_extension() -> None:
    campaign = Campaign(id=7, name="spring.sale", queue_name="sales@default")
    campaign.status = CampaignStatus.RUNNING
    campaign.dial_mode = DialMode.PREDICTIVE
    campaign.caller_id_policy = {}
    campaign.abandon_target_pct = 3.0
    campaign.abandon_window_days = 30
    plan = plan_of(campaign)
    entry = dialplan_entry(campaign.name, campaign.queue_name)
    assert (plan.extension, plan.context) == (entry.extension, entry.context)


HOSTILE = ["", "a b", 'q"', "q'x", "q<x>", "q&x", "q\nx", "${x}", "q/x", "x" * 101]


@pytest.mark.parametrize("queue", HOSTILE)
def test_hostile_queue_names_are_refused(queue: str) -> None:
    with pytest.raises(DialplanError):
        dialplan_xml([("ok", queue)])


@pytest.mark.parametrize("name", [*HOSTILE, "a@b", "x" * 98])
def test_hostile_campaign_names_are_refused(name: str) -> None:
    with pytest.raises(DialplanError):
        dialplan_xml([(name, "q@default")])


def test_safe_harbor_path_is_escaped() -> None:
    hostile = '/x/a&b"<c>.wav'
    text = dialplan_xml([("sales", "sales@default")], DialplanOptions(safe_harbor=hostile))
    plays = [
        a.get("data")
        for a in ET.fromstring(text).iter("action")
        if a.get("application") == "playback"
    ]
    assert plays == [hostile]


def test_write_switch_conf_lays_out_the_conf_dir(tmp_path: Path) -> None:
    trunks = [
        Trunk(name="t1", proxy_host="192.0.2.1"),
        Trunk(name="t2", proxy_host="h", fs_nodes=("fs2",)),
    ]
    paths = write_switch_conf(tmp_path, trunks, CAMPAIGNS, NODE, node_name="fs1")
    relative = sorted(str(p.relative_to(tmp_path)) for p in paths)
    assert relative == [
        "autoload_configs/acl.conf.xml",
        "autoload_configs/blacklist.conf.xml",
        "autoload_configs/callcenter.conf.xml",
        "autoload_configs/distributor.conf.xml",
        "autoload_configs/event_socket.conf.xml",
        "autoload_configs/fail2ban.conf.xml",
        "autoload_configs/modules.conf.xml",
        "autoload_configs/python.conf.xml",
        "autoload_configs/xml_cdr.conf.xml",
        "blacklists/dialer_dnc.list",
        "dialplan/campaign.xml",
        "lcr.sql",
        "sip_profiles/external.xml",
        "sip_profiles/external/t1.xml",
    ]
    for path in paths:
        if path.suffix == ".xml":
            ET.parse(path)


def test_write_switch_conf_writes_nothing_when_a_queue_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DialplanError):
        write_switch_conf(tmp_path, [], [("ok", "q"), ("not ok", "q")], NODE)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="ClueCon"):
        write_switch_conf(tmp_path, [Trunk(name="t1", proxy_host="192.0.2.1")], [], FsNode())
    assert list(tmp_path.iterdir()) == []


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.text(max_size=30), st.from_regex(r"[A-Za-z0-9_.\-@ $'\"<&]{1,30}", fullmatch=True)
    ),
    st.from_regex(r"[A-Za-z0-9_.@\-]{1,40}", fullmatch=True),
)
def test_any_accepted_campaign_gets_an_extension_matching_only_itself(
    name: str, queue: str
) -> None:
    """A name either is refused, or its extension's condition matches exactly the destination
    the originate builder writes for it (and not the helper extensions' destinations)."""
    try:
        text = dialplan_xml([(name, queue)])
    except DialplanError:
        return
    entry = dialplan_entry(name, queue)
    spec = OriginateSpec(
        call_uuid="0b0e5b0c-5a1e-4d7b-9a60-3b8f0f6a1c2d",
        dial_string="sofia/gateway/carrier_a/6138000000",
        caller_id=None,
        extension=entry.extension,
        context=entry.context,
        campaign_id=1,
        lead_id=1,
        attempt_id=1,
    )
    request = parse_originate(build_originate(spec, datetime.now(UTC)))
    assert isinstance(request, OriginateRequest)
    matching = [
        e.get("name")
        for e in ET.fromstring(text).iter("extension")
        for c in e.findall("condition")
        if c.get("field") == "destination_number"
        and re.fullmatch(c.get("expression", ""), request.destination)
    ]
    assert matching == [entry.extension]


def test_lcr_conf_points_mod_lcr_at_its_database(tmp_path: Path) -> None:
    dsn = "pgsql://hostaddr=10.0.0.3 dbname=lcr user=fs password='p&<x'"
    text = lcr_conf_xml(dsn)
    root = ET.fromstring(text)
    assert root.get("name") == "lcr.conf"
    settings_ = root.find("settings")
    assert settings_ is not None and _params(settings_)["odbc-dsn"] == dsn
    profile = root.find("profiles/profile")
    assert profile is not None and profile.get("name") == "default"
    assert _params(profile) == {"id": "0", "order_by": "rate,quality,reliability"}
    _golden("lcr.conf.xml", text)
    write_switch_conf(tmp_path, [], CAMPAIGNS, NODE, SwitchOptions(lcr_odbc_dsn=dsn))
    loaded = [
        m.get("module")
        for m in ET.parse(tmp_path / "autoload_configs/modules.conf.xml").iter("load")
    ]
    assert loaded.index("mod_pgsql") < loaded.index("mod_lcr")
    assert (tmp_path / "autoload_configs/lcr.conf.xml").read_text() == text
    write_switch_conf(tmp_path / "plain", [], CAMPAIGNS, NODE)
    assert not (tmp_path / "plain/autoload_configs/lcr.conf.xml").exists()
    plain = ET.parse(tmp_path / "plain/autoload_configs/modules.conf.xml")
    assert "mod_pgsql" not in {m.get("module") for m in plain.iter("load")}


# mod_xml_cdr's settings, as its module load function reads them (mod_xml_cdr.c)
XML_CDR_PARAMS = {
    "url", "cred", "auth-scheme", "encode", "retries", "delay", "timeout", "log-dir",
    "log-b-leg", "prefix-a-leg", "err-log-dir",
}  # fmt: skip


def test_xml_cdr_posts_to_the_dialer_with_retries_and_an_error_log_dir() -> None:
    cdr = CdrPosting(url="http://10.0.0.2:8080/fsapi/cdr", credentials="fs:s3cret")
    text = xml_cdr_xml(cdr)
    root = ET.fromstring(text)
    assert root.get("name") == "xml_cdr.conf"
    params = _params(root)
    assert set(params) <= XML_CDR_PARAMS
    assert params["url"] == "http://10.0.0.2:8080/fsapi/cdr"
    assert (params["cred"], params["auth-scheme"]) == ("fs:s3cret", "basic")
    # the form-encoded body the endpoint and the transcripts' v1 captures have
    assert params["encode"] == "true"
    assert (params["retries"], params["delay"], params["err-log-dir"]) == ("2", "2", "xml_cdr_err")
    # agent legs are not posted; the err-log-dir file is a_<uuid>.cdr.xml (transcript v)
    assert (params["log-b-leg"], params["prefix-a-leg"]) == ("false", "true")
    _golden("xml_cdr.conf.xml", text)
    assert "cred" not in _params(ET.fromstring(xml_cdr_xml(CdrPosting())))
    assert "mod_xml_cdr" in set(_loaded(SwitchOptions()))


@pytest.mark.parametrize(
    "bad",
    [
        {"url": "ftp://x/cdr"},
        {"credentials": "u:$${pw}"},
        {"err_log_dir": "a\nb"},
        {"delay_s": 0},
        {"retries": -1},
    ],
)
def test_xml_cdr_refuses_values_freeswitch_would_misread(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="CDR"):
        CdrPosting(**bad)  # type: ignore[arg-type]
