"""``dialer fsconf render``: the whole tree from the database and the settings."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

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
