"""``dialer trunks|rates|route`` against a migrated SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import workers.cli.campaigns as campaigns_cli
import workers.cli.trunks as trunks_cli
from dialer.config import load_settings
from dialer.db.base import make_engine, make_session_factory
from dialer.db.migrate import upgrade
from workers.cli import app
from workers.context import AppContext


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    url = f"sqlite:///{tmp_path / 'dialer.db'}"
    upgrade(url)
    engine = make_engine(url)
    context = AppContext(load_settings(database_url=url), sessions=make_session_factory(engine))
    monkeypatch.setattr(trunks_cli, "app_context", lambda: context)
    monkeypatch.setattr(campaigns_cli, "app_context", lambda: context)
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
    deck.write_text("prefix,rate_per_min\n86,0.05\n86139,0.03\n8613x,1\n", encoding="utf-8")
    imported = cli.invoke(app, ["rates", "import", str(deck), "--trunk", "xx"])
    assert imported.exit_code == 0, imported.output
    assert "2 rates imported for xx (1 rows skipped)" in imported.output
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
