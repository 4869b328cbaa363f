"""A database that cannot be reached, or a URL that cannot name one, is one line naming
DIALER_DATABASE_URL and exit 1, for every command, instead of SQLAlchemy's traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workers.cli import app
from workers.context import app_context

# commands of every group that opens the database
COMMANDS = [
    ["campaigns", "list"],
    ["campaigns", "create", "spring", "--queue", "sales@default"],
    ["leads", "dnc", "+8613800138000"],
    ["leads", "import", "leads.csv", "--campaign", "spring"],
    ["calls", "list"],
    ["trunks", "list"],
    ["route", "13800138000"],
    ["db", "upgrade"],
    ["fsconf", "render", "--out", "conf", "--allow-default-password"],
]
UNREACHABLE = "postgresql://dialer:s3cret@127.0.0.1:1/dialer"  # nothing listens on port 1
BAD_URLS = ["postgresql://dialer@db:port/dialer", "sqlite+nodriver:///x.db"]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "leads.csv").write_text("phone\n13800138000\n", encoding="utf-8")
    app_context.cache_clear()
    yield CliRunner()
    app_context.cache_clear()


def _one_line_error(cli: CliRunner, args: list[str]) -> str:
    app_context.cache_clear()
    result = cli.invoke(app, args)
    assert result.exit_code == 1, (args, result.output, result.exception)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, (args, result.output)
    assert "DIALER_DATABASE_URL" in lines[0] and "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(c[:2]) for c in COMMANDS])
def test_an_unreachable_database_is_one_line(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.setenv("DIALER_DATABASE_URL", UNREACHABLE)
    line = _one_line_error(cli, args)
    assert "cannot use the database" in line and "127.0.0.1:1" in line
    assert "s3cret" not in line


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_bad_database_url_is_one_line(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("DIALER_DATABASE_URL", url)
    for args in COMMANDS:
        _one_line_error(cli, args)
