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


@pytest.mark.slow
def test_an_unreachable_broker_is_one_line(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``leads import --queue`` asks the workers over the broker: one that cannot be reached
    is named by its variable (after kombu's own connection retries)."""
    from workers.celery_app import app as celery

    monkeypatch.setenv("DIALER_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    assert cli.invoke(app, ["campaigns", "create", "spring", "--queue", "q"]).exit_code == 0
    before = {k: celery.conf.get(k) for k in ("task_always_eager", "broker_url")}
    celery.conf.update(task_always_eager=False, broker_url="redis://127.0.0.1:1/0")
    celery._pool = None  # the pool of an earlier test's broker
    try:
        result = cli.invoke(
            app, ["leads", "import", "leads.csv", "--campaign", "spring", "--queue"]
        )
    finally:
        celery.conf.update(before)
        celery._pool = None
    assert result.exit_code == 1, result.output
    [line] = result.output.strip().splitlines()
    assert "DIALER_REDIS_URL" in line and "cannot reach Redis" in line
