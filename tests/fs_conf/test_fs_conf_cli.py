"""``dialer fsconf render``: the whole tree from the database and the settings."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from campaigns.models import DncEntry
from workers.cli import app
from workers.context import app_context


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIALER_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    app_context.cache_clear()
    yield CliRunner()
    app_context.cache_clear()


def _ok(cli: CliRunner, *args: str) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_render_writes_the_tree_from_campaigns_and_trunks(cli: CliRunner, tmp_path: Path) -> None:
    _ok(cli, "campaigns", "create", "spring", "--queue", "sales@default")
    _ok(cli, "campaigns", "create", "autumn", "--queue", "sales@default")
    _ok(cli, "campaigns", "create", "debts", "--queue", "collections@acme")
    _ok(cli, "trunks", "add", "carrier_a", "--proxy", "192.0.2.1:5080")
    _ok(cli, "fsconf", "render", "--out", "conf", "--amd", "--safe-harbor", "/s/a&b.wav",
        "--allow-default-password")  # fmt: skip
    conf = tmp_path / "conf"
    queues = [
        q.get("name") for q in ET.parse(conf / "autoload_configs/callcenter.conf.xml").iter("queue")
    ]
    assert queues == ["collections@acme", "sales@default"]
    plan = ET.parse(conf / "dialplan/campaign.xml")
    names = {e.get("name") for e in plan.iter("extension")}
    assert {"cc_spring", "cc_autumn", "cc_debts", "dialer_amd"} <= names
    plays = [a.get("data") for a in plan.iter("action") if a.get("application") == "playback"]
    assert plays == ["/s/a&b.wav"]
    esl = {
        p.get("name"): p.get("value")
        for p in ET.parse(conf / "autoload_configs/event_socket.conf.xml").iter("param")
    }
    assert (esl["listen-ip"], esl["listen-port"], esl["password"]) == (
        "127.0.0.1",
        "8021",
        "ClueCon",
    )
    assert (conf / "sip_profiles/external/carrier_a.xml").exists()
    loaded = {
        m.get("module") for m in ET.parse(conf / "autoload_configs/modules.conf.xml").iter("load")
    }
    assert "mod_amd" in loaded


def test_render_one_tree_per_node(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nodes = [
        {"name": "fs1", "port": 8021, "password": "pw1"},
        {"name": "fs2", "host": "10.0.0.2", "password": "x<y"},
    ]
    monkeypatch.setenv("DIALER_FREESWITCH_NODES", json.dumps(nodes))
    _ok(cli, "campaigns", "create", "spring", "--queue", "sales@default")
    _ok(cli, "fsconf", "render", "--out", "conf", "--esl-acl", "10.0.0.0/24")
    second = ET.parse(tmp_path / "conf/fs2/autoload_configs/event_socket.conf.xml")
    params = {p.get("name"): p.get("value") for p in second.iter("param")}
    assert (params["listen-ip"], params["password"]) == ("10.0.0.2", "x<y")
    assert (tmp_path / "conf/fs1/dialplan/campaign.xml").exists()
    only = cli.invoke(app, ["fsconf", "render", "--out", "one", "--node", "fs3",
                            "--esl-acl", "10.0.0.0/24"])  # fmt: skip
    assert only.exit_code == 1 and "fs3" in only.output


def test_render_refuses_a_bad_strategy(cli: CliRunner) -> None:
    result = cli.invoke(app, ["fsconf", "render", "--out", "conf", "--strategy", "fastest",
                              "--allow-default-password"])  # fmt: skip
    assert result.exit_code == 1 and "strategy" in result.output


def test_render_refuses_the_default_password_and_applies_an_acl(
    cli: CliRunner, tmp_path: Path
) -> None:
    refused = cli.invoke(app, ["fsconf", "render", "--out", "conf"])
    assert refused.exit_code == 1
    [line] = refused.output.strip().splitlines()
    assert "ClueCon" in line and "--esl-password" in line and "--allow-default-password" in line
    assert not (tmp_path / "conf").exists()
    rendered = cli.invoke(
        app,
        ["fsconf", "render", "--out", "conf", "--esl-password", "n3w-secret",
         "--esl-listen-ip", "0.0.0.0", "--esl-acl", "10.1.0.0/16,192.0.2.7"],
    )  # fmt: skip
    assert rendered.exit_code == 0, rendered.output
    assert "DIALER_FREESWITCH_NODES" in rendered.output  # the settings still say ClueCon
    conf = tmp_path / "conf/autoload_configs"
    esl = {
        p.get("name"): p.get("value")
        for p in ET.parse(conf / "event_socket.conf.xml").iter("param")
    }
    assert (esl["listen-ip"], esl["password"], esl["apply-inbound-acl"]) == (
        "0.0.0.0", "n3w-secret", "dialer_esl",
    )  # fmt: skip
    [ours] = [
        x for x in ET.parse(conf / "acl.conf.xml").iter("list") if x.get("name") == "dialer_esl"
    ]
    assert ours.get("default") == "deny"
    assert [n.get("cidr") for n in ours.iter("node")] == ["10.1.0.0/16", "192.0.2.7/32"]
    open_port = cli.invoke(
        app,
        ["fsconf", "render", "--out", "c2", "--esl-password", "x", "--esl-listen-ip", "0.0.0.0"],
    )
    assert open_port.exit_code == 1 and "--esl-acl" in open_port.output


def test_render_lists_the_global_dnc_for_the_switch_and_leaves_lcr_out_on_sqlite(
    cli: CliRunner, tmp_path: Path
) -> None:
    _ok(cli, "campaigns", "create", "spring", "--queue", "sales@default")
    _ok(cli, "trunks", "add", "carrier_a", "--proxy", "192.0.2.1:5080")
    _ok(cli, "leads", "dnc", "+8613800138000")
    _ok(cli, "leads", "dnc", "+86139", "--prefix")
    _ok(cli, "leads", "dnc", "+8613700137000", "--campaign", "spring")  # the dialer's own check
    _ok(cli, "leads", "dnc", "+8613600136000", "--expires", "2100-01-01T00:00")
    with app_context().sessions.begin() as session:  # lapsed since
        session.execute(
            update(DncEntry)
            .where(DncEntry.number == "+8613600136000")
            .values(expires_at=datetime(2001, 1, 1, tzinfo=UTC))
        )
    _ok(cli, "fsconf", "render", "--out", "conf", "--allow-default-password")
    conf = tmp_path / "conf"
    listed = (conf / "blacklists/dialer_dnc.list").read_text().splitlines()
    assert listed == ["13800138000", "8613800138000"]
    plan = (conf / "dialplan/campaign.xml").read_text()
    assert 'expression="^(0?139|86139)"' in plan
    modules = (conf / "autoload_configs/modules.conf.xml").read_text()
    assert '<load module="mod_lcr"/>' not in modules and "mod_lcr left out" in modules
    assert not (conf / "autoload_configs/lcr.conf.xml").exists()
    assert not (conf / "autoload_configs/hiredis.conf.xml").exists()


def test_render_points_mod_lcr_and_mod_hiredis_at_the_dialers_servers(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ok(cli, "campaigns", "create", "spring", "--queue", "sales@default")
    # the database stays SQLite for the test; the settings' URLs are what the render reads
    from workers.cli import fsconf

    monkeypatch.setattr(fsconf, "pgsql_dsn", lambda _url: "pgsql://host='10.0.0.3' dbname='d'")
    monkeypatch.setenv("DIALER_REDIS_URL", "redis://:pw@10.0.0.4:6380/2")
    app_context.cache_clear()
    _ok(cli, "fsconf", "render", "--out", "conf", "--allow-default-password")
    conf = tmp_path / "conf/autoload_configs"
    lcr = {p.get("name"): p.get("value") for p in ET.parse(conf / "lcr.conf.xml").iter("param")}
    assert lcr["odbc-dsn"] == "pgsql://host='10.0.0.3' dbname='d'"
    hiredis = {
        p.get("name"): p.get("value") for p in ET.parse(conf / "hiredis.conf.xml").iter("param")
    }
    assert (hiredis["hostname"], hiredis["port"], hiredis["password"]) == ("10.0.0.4", "6380", "pw")
    loaded = [m.get("module") for m in ET.parse(conf / "modules.conf.xml").iter("load")]
    assert loaded[0] == "mod_pgsql" and "mod_lcr" in loaded and "mod_hiredis" in loaded


def test_render_points_mod_xml_curl_at_the_api_per_node(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIALER_FSAPI_CREDENTIALS", "fs1:s3cret")
    monkeypatch.setenv("DIALER_API_PORT", "8099")
    app_context.cache_clear()
    _ok(cli, "campaigns", "create", "spring", "--queue", "sales@default")
    _ok(cli, "fsconf", "render", "--out", "conf", "--allow-default-password")
    conf = tmp_path / "conf/autoload_configs"
    binding = ET.parse(conf / "xml_curl.conf.xml").find("bindings/binding")
    assert binding is not None
    params = {p.get("name"): p for p in binding.iter("param")}
    url = params["gateway-url"]
    assert url.get("value") == "http://127.0.0.1:8099/fsapi/xml_curl?node=fs1"
    assert url.get("bindings") == "dialplan|directory|configuration"
    assert params["gateway-credentials"].get("value") == "fs1:s3cret"
    assert params["auth-scheme"].get("value") == "basic"
    loaded = [m.get("module") for m in ET.parse(conf / "modules.conf.xml").iter("load")]
    # loaded before the modules whose configuration it serves
    assert loaded.index("mod_xml_curl") < loaded.index("mod_callcenter")
    _ok(cli, "fsconf", "render", "--out", "off", "--no-xml-curl", "--allow-default-password")
    assert not (tmp_path / "off/autoload_configs/xml_curl.conf.xml").exists()
    off = ET.parse(tmp_path / "off/autoload_configs/modules.conf.xml")
    assert "mod_xml_curl" not in [m.get("module") for m in off.iter("load")]
