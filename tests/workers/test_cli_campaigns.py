from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, event, update
from typer.testing import CliRunner

from campaigns.domain import LeadStatus
from campaigns.models import Lead
from tests.support.net import unreachable_nodes
from workers.cli import app
from workers.context import app_context


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIALER_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    # no switch: the preflight of ``campaigns start`` finds the node unreachable
    monkeypatch.setenv("DIALER_FREESWITCH_NODES", unreachable_nodes())
    app_context.cache_clear()
    yield CliRunner()
    app_context.cache_clear()


def test_campaign_lifecycle_and_import(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(app, ["campaigns", "create", "spring", "--queue", "sales@default"])
    assert result.exit_code == 0, result.output
    (tmp_path / "leads.csv").write_text("phone,name\n13800138000,A\n12345,B\n", encoding="utf-8")
    result = cli.invoke(app, ["leads", "import", "leads.csv", "--campaign", "spring"])
    assert result.exit_code == 0, result.output
    assert "accepted" in result.output and "invalid" in result.output
    refused = cli.invoke(app, ["campaigns", "start", "spring"])
    assert refused.exit_code == 1 and "cannot ask fs1: no Event Socket at" in refused.output
    assert cli.invoke(app, ["campaigns", "start", "spring", "--force"]).exit_code == 0
    again = cli.invoke(app, ["campaigns", "start", "spring"])
    assert again.exit_code == 1
    assert "cannot start campaign 'spring': it is running" in again.output
    shown = cli.invoke(app, ["campaigns", "show", "spring"])
    assert "pending 1" in shown.output


def test_wrong_input_gets_a_clear_error(cli: CliRunner, tmp_path: Path) -> None:
    bad_window = cli.invoke(
        app,
        ["campaigns", "create", "x", "--queue", "q", "--window", '{"windows":[{"days":"funday"}]}'],
    )
    assert bad_window.exit_code == 1 and "unknown weekday" in bad_window.output
    missing = cli.invoke(app, ["leads", "import", "nope.csv", "--campaign", "x"])
    assert missing.exit_code == 1 and "cannot open" in missing.output


def test_a_preview_campaign_is_refused_at_start_not_left_silent(cli: CliRunner) -> None:
    created = cli.invoke(app, ["campaigns", "create", "look", "--queue", "q", "--mode", "preview"])
    assert created.exit_code == 0, created.output
    started = cli.invoke(app, ["campaigns", "start", "look"])
    assert started.exit_code == 1 and "preview mode is not dialled yet" in started.output
    shown = cli.invoke(app, ["campaigns", "show", "look"])
    assert "draft" in shown.output and "running" not in shown.output, shown.output


def test_windows_and_retry_rules_are_printed_for_people(cli: CliRunner) -> None:
    retry = '{"rules": {"busy": {"delay_s": 60}}}'
    created = cli.invoke(app, ["campaigns", "create", "spring", "--queue", "q", "--retry", retry])
    assert created.exit_code == 0, created.output
    for command in ("show", "list"):
        args = ["campaigns", command, "spring"] if command == "show" else ["campaigns", command]
        shown = cli.invoke(app, args, env={"COLUMNS": "200"})
        assert shown.exit_code == 0, shown.output
        assert "Mon–Sat 09:00–20:00" in shown.output, shown.output
        assert "[0, 1" not in shown.output and '"days"' not in shown.output
    shown = cli.invoke(app, ["campaigns", "show", "spring"], env={"COLUMNS": "200"})
    assert "Mon–Sat 09:00–20:00 (lead's local time" in shown.output
    assert "busy: retry after 60 s, at most 3 attempts" in shown.output
    assert '"delay_s"' not in shown.output


def test_show_prints_one_read_of_the_lead_counts(cli: CliRunner) -> None:
    """A lead that fails while ``campaigns show`` runs is counted the same in its header and
    in its table."""
    assert cli.invoke(app, ["campaigns", "create", "spring", "--queue", "q"]).exit_code == 0
    sessions = app_context().sessions
    with sessions.begin() as session:
        session.add_all(
            Lead(
                campaign_id=1, phone_e164=f"+86138001380{i:02d}", phone_raw=str(i),
                country="CN", number_type="mobile",
                status=LeadStatus.DIALING if i < 4 else LeadStatus.FAILED,
            )
            for i in range(8)
        )  # fmt: skip
    engine = sessions.kw["bind"]
    failed: list[int] = []

    def a_lead_fails(conn: Connection, _cursor: object, statement: str, *_: object) -> None:
        if failed or "FROM leads" not in statement or conn.info.get("writer"):
            return
        failed.append(1)
        with engine.begin() as writer:
            writer.info["writer"] = True
            writer.execute(update(Lead).where(Lead.id == 1).values(status=LeadStatus.FAILED))
            writer.info.pop("writer")

    event.listen(engine, "after_cursor_execute", a_lead_fails)
    try:
        shown = cli.invoke(app, ["campaigns", "show", "spring"])
    finally:
        event.remove(engine, "after_cursor_execute", a_lead_fails)
    assert shown.exit_code == 0 and failed, shown.output
    header = re.search(r"leads\s*│\s*(.+?)\s*│", shown.output)
    assert header is not None, shown.output
    in_header = {k: int(v) for k, v in re.findall(r"(\w+) (\d+)", header.group(1)) if int(v)}
    in_table = {k: int(v) for k, v in re.findall(r"leads (\w+)\s*│\s*(\d+)", shown.output)}
    assert in_header == in_table, shown.output
    assert sum(in_header.values()) == 8


def test_retry_order_is_set_at_creation_changed_and_shown(cli: CliRunner) -> None:
    created = cli.invoke(app, ["campaigns", "create", "spring", "--queue", "q"])
    assert created.exit_code == 0, created.output
    shown = cli.invoke(app, ["campaigns", "show", "spring"]).output
    assert "│ retry order    │ retries_first" in shown
    changed = cli.invoke(app, ["campaigns", "update", "spring", "--retry-order", "due_order"])
    assert changed.exit_code == 0 and "retry order due_order" in changed.output, changed.output
    assert "│ retry order    │ due_order" in cli.invoke(app, ["campaigns", "show", "spring"]).output
    other = ["campaigns", "create", "autumn", "--queue", "q", "--retry-order", "fresh_first"]
    assert cli.invoke(app, other).exit_code == 0
    assert "fresh_first" in cli.invoke(app, ["campaigns", "show", "autumn"]).output
    nothing = cli.invoke(app, ["campaigns", "update", "spring"])
    assert nothing.exit_code == 1 and "nothing to change" in nothing.output
    wrong = cli.invoke(app, ["campaigns", "update", "spring", "--retry-order", "oldest"])
    assert wrong.exit_code == 2
    missing = cli.invoke(app, ["campaigns", "update", "nope", "--retry-order", "due_order"])
    assert missing.exit_code == 1 and "no campaign named 'nope'" in missing.output


def test_numbers_without_country_follow_the_default_region_setting(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIALER_DEFAULT_REGION", "US")
    app_context.cache_clear()
    created = cli.invoke(app, ["campaigns", "create", "spring", "--queue", "sales@default"])
    assert created.exit_code == 0, created.output
    shown = cli.invoke(app, ["campaigns", "show", "spring"], env={"COLUMNS": "200"})
    assert re.search(r"default region\s+│ US\s", shown.output), shown.output
    listed = cli.invoke(app, ["leads", "dnc", "650 253 0000"])
    assert listed.exit_code == 0, listed.output
    assert "DNC number +16502530000 added" in listed.output
    # a campaign's own entry is read in that campaign's region
    made = cli.invoke(app, ["campaigns", "create", "autumn", "--queue", "q", "--region", "GB"])
    assert made.exit_code == 0, made.output
    own = cli.invoke(app, ["leads", "dnc", "020 7946 0018", "--campaign", "autumn"])
    assert own.exit_code == 0, own.output
    assert "DNC number +442079460018 added" in own.output
    given = cli.invoke(app, ["leads", "dnc", "13800138000", "--region", "CN"])
    assert "DNC number +8613800138000 added" in given.output, given.output


def test_recording_is_off_by_default_switched_on_at_creation_or_later_and_shown(
    cli: CliRunner,
) -> None:
    assert cli.invoke(app, ["campaigns", "create", "spring", "--queue", "q"]).exit_code == 0
    assert "│ recording      │ off" in cli.invoke(app, ["campaigns", "show", "spring"]).output
    on = cli.invoke(app, ["campaigns", "update", "spring", "--record"])
    assert on.exit_code == 0 and "record True" in on.output, on.output
    assert "│ recording      │ on" in cli.invoke(app, ["campaigns", "show", "spring"]).output
    off = cli.invoke(app, ["campaigns", "update", "spring", "--no-record"])
    assert off.exit_code == 0 and "record False" in off.output, off.output
    assert "│ recording      │ off" in cli.invoke(app, ["campaigns", "show", "spring"]).output
    made = ["campaigns", "create", "autumn", "--queue", "q", "--record"]
    assert cli.invoke(app, made).exit_code == 0
    assert "│ recording      │ on" in cli.invoke(app, ["campaigns", "show", "autumn"]).output
