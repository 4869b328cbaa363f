"""``dialer trunks|rates|route`` against a migrated SQLite database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
from typer.testing import CliRunner

import workers.cli.campaigns as campaigns_cli
import workers.cli.trunks as trunks_cli
from dialer.config import load_settings
from dialer.db.base import make_engine, make_session_factory
from dialer.db.migrate import upgrade
from dialer.routing.lines import declare_idle
from dialer.routing.ports import ReservationRequest
from dialer.routing.wiring import redis_trunk_state
from workers.cli import app
from workers.context import AppContext


@pytest.fixture
def context(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_client: redis.Redis[str]
) -> AppContext:
    """The CLI's context: a migrated SQLite file and the test Redis (trunk health)."""
    url = f"sqlite:///{tmp_path / 'dialer.db'}"
    upgrade(url)
    engine = make_engine(url)
    ctx = AppContext(
        load_settings(database_url=url),
        sessions=make_session_factory(engine),
        redis_client=redis_client,
    )
    monkeypatch.setattr(trunks_cli, "app_context", lambda: ctx)
    monkeypatch.setattr(campaigns_cli, "app_context", lambda: ctx)
    return ctx


@pytest.fixture
def cli(context: AppContext) -> CliRunner:
    return CliRunner()


def test_add_import_route_render(cli: CliRunner, tmp_path: Path) -> None:
    added = cli.invoke(
        app,
        [
            "trunks", "add", "xx", "--proxy", "8.8.8.8:5060", "--callee-prefix", "6",
            "--caller-id", "20220601", "--max-concurrency", "500", "--per-number-cap", "1",
            "--blind-areas", "北、新、西", "--group", "sales",
        ],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert cli.invoke(app, ["trunks", "add", "yy", "--proxy", "192.0.2.7"]).exit_code == 0
    again = cli.invoke(app, ["trunks", "add", "xx", "--proxy", "h"])
    assert again.exit_code == 1 and "already exists" in again.output
    deck = tmp_path / "deck.csv"
    deck.write_text("prefix,rate_per_min\n86,0.05\n86139,0.03\n", encoding="utf-8")
    imported = cli.invoke(app, ["rates", "import", str(deck), "--trunk", "xx"])
    assert imported.exit_code == 0, imported.output
    assert "2 rates imported for xx" in imported.output
    missing = cli.invoke(app, ["rates", "import", str(deck), "--trunk", "nope"])
    assert missing.exit_code == 1
    listed = cli.invoke(app, ["trunks", "list"])
    assert "xx" in listed.output and "yy" in listed.output
    shown = cli.invoke(app, ["trunks", "show", "xx"])
    assert '<gateway name="xx">' in shown.output
    assert "sofia/gateway/xx/613800138000" in shown.output
    routed = cli.invoke(app, ["route", "+8613912345678"], terminal_width=200)
    assert routed.exit_code == 0, routed.output
    assert "sofia/gateway/xx/613912345678" in routed.output
    assert "no rate" in routed.output  # yy has no rate deck
    blind = cli.invoke(app, ["route", "8613800138000"], terminal_width=200)
    assert "blind area" in blind.output and "北京市" in blind.output
    out = tmp_path / "conf"
    rendered = cli.invoke(app, ["trunks", "render", str(out)])
    assert rendered.exit_code == 0, rendered.output
    assert (out / "sip_profiles/external/xx.xml").exists()
    assert (out / "autoload_configs/distributor.conf.xml").exists()


def test_route_for_a_campaign_uses_its_group(cli: CliRunner, tmp_path: Path) -> None:
    deck = tmp_path / "deck.csv"
    deck.write_text("prefix,rate_per_min\n86,0.05\n", encoding="utf-8")
    for name, group in (("s1", "sales"), ("c1", "collections")):
        added = cli.invoke(app, ["trunks", "add", name, "--proxy", "192.0.2.1", "--group", group])
        assert added.exit_code == 0, added.output
        assert cli.invoke(app, ["rates", "import", str(deck), "--trunk", name]).exit_code == 0
    created = cli.invoke(
        app, ["campaigns", "create", "spring", "--queue", "sales@default", "--trunk-group", "sales"]
    )
    assert created.exit_code == 0, created.output
    routed = cli.invoke(
        app, ["route", "+8613912345678", "--campaign", "spring"], terminal_width=200
    )
    assert routed.exit_code == 0, routed.output
    assert "sofia/gateway/s1/13912345678" in routed.output
    assert "sofia/gateway/c1" not in routed.output
    unknown = cli.invoke(app, ["route", "+8613912345678", "--campaign", "nope"])
    assert unknown.exit_code == 1 and "no campaign" in unknown.output


def _rates_of(cli: CliRunner, trunk: str) -> str:
    listed = cli.invoke(app, ["trunks", "list"], terminal_width=200)
    row = next(line for line in listed.output.splitlines() if f" {trunk} " in line)
    return row.split()[-2]


def test_a_deck_with_a_bad_row_changes_nothing(cli: CliRunner, tmp_path: Path) -> None:
    assert cli.invoke(app, ["trunks", "add", "xx", "--proxy", "192.0.2.1"]).exit_code == 0
    good = tmp_path / "good.csv"
    good.write_text("prefix,rate_per_min\n86,0.05\n", encoding="utf-8")
    assert cli.invoke(app, ["rates", "import", str(good), "--trunk", "xx"]).exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "prefix,rate,increment\n86,0.04\n8613x,1\n86139,abc\n8615,0.02,1.5\n86,0.03\n",
        encoding="utf-8",
    )
    imported = cli.invoke(app, ["rates", "import", str(bad), "--trunk", "xx"])
    assert imported.exit_code == 1
    lines = imported.output.splitlines()
    assert lines[:4] == [
        "row 3: prefix '8613x' is not 1-16 digits",
        "row 4: rate_per_min 'abc' is not a decimal number",
        "row 5: billing_increment_s '1.5' is not a whole number >= 1",
        "row 6: prefix 86 priced differently on row 2",
    ]
    assert "4 bad row(s): nothing imported, the rates of xx are unchanged" in lines[4]
    assert _rates_of(cli, "xx") == "1"
    empty = tmp_path / "empty.csv"
    empty.write_text("prefix,rate_per_min\n", encoding="utf-8")
    refused = cli.invoke(app, ["rates", "import", str(empty), "--trunk", "xx"])
    assert refused.exit_code == 1 and "no rates: nothing imported" in refused.output
    assert _rates_of(cli, "xx") == "1"


def test_a_deck_without_a_header_needs_no_header(cli: CliRunner, tmp_path: Path) -> None:
    assert cli.invoke(app, ["trunks", "add", "xx", "--proxy", "192.0.2.1"]).exit_code == 0
    deck = tmp_path / "deck.csv"
    deck.write_text("86,0.05\n86139,0.03,6,0.01\n", encoding="utf-8")
    refused = cli.invoke(app, ["rates", "import", str(deck), "--trunk", "xx"])
    assert refused.exit_code == 1
    assert "row 1: '86,0.05' is data, not a header" in refused.output
    assert "--no-header (columns prefix,rate_per_min,billing_increment_s,connection_fee)" in (
        refused.output.replace("\n", " ")
    )
    assert _rates_of(cli, "xx") == "0"
    imported = cli.invoke(app, ["rates", "import", str(deck), "--trunk", "xx", "--no-header"])
    assert imported.exit_code == 0, imported.output
    assert "2 rates imported for xx" in imported.output
    shown = cli.invoke(app, ["route", "+8613912345678"], terminal_width=200)
    assert "│ 0.030000 │ 86139 " in shown.output


def test_a_deck_that_is_not_utf8_is_refused_in_one_line(cli: CliRunner, tmp_path: Path) -> None:
    assert cli.invoke(app, ["trunks", "add", "xx", "--proxy", "192.0.2.1"]).exit_code == 0
    deck = tmp_path / "deck.csv"
    deck.write_bytes("前缀,费率\n86,0.05\n".encode("gbk"))
    refused = cli.invoke(app, ["rates", "import", str(deck), "--trunk", "xx"])
    assert refused.exit_code == 1 and isinstance(refused.exception, SystemExit)
    assert "deck.csv is not UTF-8 text; nothing imported" in refused.output


def _trunk_with_rates(cli: CliRunner, tmp_path: Path, name: str, rate: str, *extra: str) -> None:
    added = cli.invoke(app, ["trunks", "add", name, "--proxy", "192.0.2.1", *extra])
    assert added.exit_code == 0, added.output
    deck = tmp_path / f"{name}.csv"
    deck.write_text(f"prefix,rate_per_min\n86,{rate}\n1,{rate}\n", encoding="utf-8")
    imported = cli.invoke(app, ["rates", "import", str(deck), "--trunk", name])
    assert imported.exit_code == 0, imported.output


def test_route_reads_the_number_as_the_importer_does(
    cli: CliRunner, tmp_path: Path, context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    _trunk_with_rates(cli, tmp_path, "xx", "0.05")
    created = cli.invoke(app, ["campaigns", "create", "spring", "--queue", "sales@default"])
    assert created.exit_code == 0, created.output
    national = cli.invoke(app, ["route", "13800138000", "--campaign", "spring"])
    assert national.exit_code == 0, national.output
    assert national.output.startswith("+8613800138000: 北京市")
    spaced = cli.invoke(app, ["route", "+86 10 6512 3456"], terminal_width=200)
    assert spaced.exit_code == 0, spaced.output
    assert spaced.output.startswith("+861065123456: 北京市")
    assert "sofia/gateway/xx/01065123456" in spaced.output
    for number, reason in (
        ("12345", "cannot route '12345' (read in region CN): "),
        ("abc", "cannot route 'abc' (read in region CN): not a phone number"),
        ("+86 1", "cannot route '+86 1' (read in region CN): "),
    ):
        refused = cli.invoke(app, ["route", number])
        assert refused.exit_code == 1 and isinstance(refused.exception, SystemExit), number
        assert refused.output.startswith(f"error: {reason}"), refused.output
        assert len(refused.output.strip().splitlines()) == 1, refused.output
    us = AppContext(
        load_settings(database_url=context.settings.database_url, default_region="US"),
        sessions=context.sessions,
        redis_client=context.redis,
    )
    monkeypatch.setattr(trunks_cli, "app_context", lambda: us)
    american = cli.invoke(app, ["route", "650 253 0000"])
    assert american.exit_code == 0, american.output
    assert american.output.startswith("+16502530000:")


def test_no_trunk_left_is_an_error_naming_the_prefix(cli: CliRunner, tmp_path: Path) -> None:
    none_yet = cli.invoke(app, ["route", "+8613912345678"])
    assert none_yet.exit_code == 1
    assert "cannot be routed: there is no trunk at all (dialer trunks add)" in none_yet.output
    _trunk_with_rates(cli, tmp_path, "xx", "0.05", "--blind-prefixes", "8613,86139")
    _trunk_with_rates(cli, tmp_path, "yy", "0.05", "--disabled")
    routed = cli.invoke(app, ["route", "+8613912345678"], terminal_width=200)
    assert routed.exit_code == 1
    assert "number prefix 86139 in blind area" in routed.output
    assert (
        "cannot be routed: every trunk is excluded: xx: blind area (number prefix 86139 in "
        "blind area); yy: disabled (trunk disabled)"
    ) in " ".join(routed.output.split())


def test_route_shows_live_trunk_health(cli: CliRunner, tmp_path: Path, context: AppContext) -> None:
    _trunk_with_rates(cli, tmp_path, "cheap", "0.01")
    _trunk_with_rates(cli, tmp_path, "dear", "0.05")
    _trunk_with_rates(cli, tmp_path, "gone", "0.02")
    health = redis_trunk_state(context.redis, context.namespace).health
    assert health is not None
    now_s = context.clock.now().timestamp()
    for _ in range(5):
        health.record("cheap", True, now_s)
    health.set_gateway("gone", False)
    routed = cli.invoke(app, ["route", "+8613912345678"], terminal_width=200)
    assert routed.exit_code == 0, routed.output
    rows = [[c.strip() for c in line.split("│")[1:3]] for line in routed.output.splitlines()]
    assert ["1", "dear"] in rows and ["1", "cheap"] not in rows
    until = datetime.fromtimestamp(now_s + 30.0, UTC).astimezone(ZoneInfo("Asia/Shanghai"))
    text = " ".join(routed.output.split())
    assert f"cheap │ suspended │ {until.isoformat(sep=' ', timespec='seconds')} │ 5 trunk" in text
    assert "gone │ gateway down │ - │ the switch reports the gateway DOWN" in text
    assert f"cheap │ down │ suspended until {until.isoformat(sep=' ', timespec='seconds')}" in text
    _trunk_with_rates(cli, tmp_path, "only", "0.01", "--group", "solo")
    for _ in range(5):
        health.record("only", True, now_s)
    created = cli.invoke(app, ["campaigns", "create", "c", "--queue", "q", "--trunk-group", "solo"])
    assert created.exit_code == 0, created.output
    refused = cli.invoke(app, ["route", "+8613912345678", "--campaign", "c"])
    assert refused.exit_code == 1
    assert "cannot be routed: every trunk is excluded: only: down (suspended until " in (
        " ".join(refused.output.split())
    )
    later = redis_trunk_state(context.redis, context.namespace).health
    assert later is not None and later.snapshot(["dear"]) == {}


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["evil\n"], "trunk name 'evil\\n': 1-63 letters, digits, _ . -"),
        (["a/b"], "trunk name 'a/b'"),
        (["xx", "--callee-prefix", "6\n"], "callee prefix '6\\n' must be 1-20 digits"),
        (["xx", "--callee-prefix", "6#"], "callee prefix '6#' must be 1-20 digits"),
        (["xx", "--caller-id", "2022,20x"], "caller ID '20x' must be 1-32 digits"),
        (["xx", "--blind-prefixes", "86\n1"], "blind-area prefix '86\\n1' must be 1-20 digits"),
        (["xx", "--blind-areas", "北京\x07"], "blind area '北京\\x07' must be a printable"),
        (["xx", "--proxy", "8.8.8.8:50x"], "proxy '8.8.8.8:50x': port '50x' is not a number"),
        (["xx", "--proxy", "host\n:5060"], "proxy host 'host\\n' is not a host name"),
        (["xx", "--proxy", "a b"], "proxy host 'a b' is not a host name or IP address"),
        (["xx", "--proxy", "[::1]x"], "proxy '[::1]x' is not [IPv6] or [IPv6]:PORT"),
        (["xx", "--profile", "../x"], "sip profile '../x': 1-63 letters"),
        (["xx", "--group", "sales\n"], "trunk group 'sales\\n': 1-63 letters"),
        (["xx", "--fs-node", "fs 1"], "FreeSWITCH node 'fs 1': 1-63 letters"),
        (["xx", "--time-zone", "Mars/Base"], "time zone 'Mars/Base' is not an IANA zone"),
        (["xx", "--register", "--username", "u\r", "--password", "p"], "username holds a"),
        (["xx", "--ping-s", "-1"], "ping_interval_s must be >= 0"),
    ],
)
def test_trunks_add_refuses_what_the_dial_path_would(
    cli: CliRunner, args: list[str], problem: str
) -> None:
    argv = ["trunks", "add", *args]
    if "--proxy" not in args:
        argv += ["--proxy", "192.0.2.1"]
    refused = cli.invoke(app, argv)
    assert refused.exit_code == 1 and isinstance(refused.exception, SystemExit)
    assert refused.output.startswith(f"error: {problem}"), refused.output
    assert len(refused.output.strip().splitlines()) == 1, refused.output
    listed = cli.invoke(app, ["trunks", "list"], terminal_width=200)
    assert "192.0.2.1" not in listed.output


def test_trunks_add_takes_ipv6_and_plus_caller_ids(cli: CliRunner) -> None:
    added = cli.invoke(
        app, ["trunks", "add", "v6", "--proxy", "[2001:db8::1]:5070", "--caller-id", "+8610"]
    )
    assert added.exit_code == 0, added.output
    shown = cli.invoke(app, ["trunks", "show", "v6"], terminal_width=200)
    assert "[2001:db8::1]:5070" in shown.output


def test_list_shows_lines_in_use_and_health(cli: CliRunner, context: AppContext) -> None:
    for name in ("busy", "sick"):
        assert cli.invoke(app, ["trunks", "add", name, "--proxy", "192.0.2.1"]).exit_code == 0
    state = redis_trunk_state(context.redis, context.namespace)
    declare_idle(state.reservations, ["busy"], "test")
    for uuid in ("c1", "c2"):
        request = ReservationRequest(uuid, "busy", max_concurrency=0, max_cps=0, lease_s=60)
        assert state.reservations.reserve(request).granted
    assert state.health is not None
    state.health.set_gateway("sick", False)
    listed = cli.invoke(app, ["trunks", "list"], terminal_width=200)
    assert listed.exit_code == 0, listed.output
    rows = {
        cells[0]: cells
        for line in listed.output.splitlines()
        if len(cells := [c.strip() for c in line.split("│")[1:-1]]) == 11
    }
    assert rows["busy"][7:9] == ["2", "up"]
    assert rows["sick"][7:9] == ["0", "gateway down"]
