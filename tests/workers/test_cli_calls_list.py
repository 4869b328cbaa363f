"""``dialer calls list`` finds calls; ``calls show`` says why one ended; both print times in
the operation's zone (``DIALER_TIMEZONE``) with their offset."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from campaigns.models import CallAttempt, Campaign, Lead
from workers.cli import app
from workers.context import app_context

T0 = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)  # 23:00 in Asia/Shanghai
# (uuid, campaign, minutes after T0, outcome, trunk, cause, q850, sip status)
CALLS = (
    ("00000000-0000-4000-8000-000000000001", "spring", 0, "connected", "cheap_cn",
     "NORMAL_CLEARING", 16, "200"),
    ("00000000-0000-4000-8000-000000000002", "spring", 5, "failed", "mid_cn",
     "NORMAL_TEMPORARY_FAILURE", 41, "503"),
    ("00000000-0000-4000-8000-000000000003", "autumn", 10, "busy", "cheap_cn",
     "USER_BUSY", 17, "486"),
    ("00000000-0000-4000-8000-000000000004", "spring", 15, "abandoned", "cheap_cn",
     "NO_ROUTE_DESTINATION", 3, ""),
)  # fmt: skip


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIALER_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("DIALER_TIMEZONE", "Asia/Shanghai")
    app_context.cache_clear()
    runner = CliRunner()
    for name in ("spring", "autumn"):
        created = runner.invoke(app, ["campaigns", "create", name, "--queue", "q"])
        assert created.exit_code == 0, created.output
    with app_context().sessions.begin() as s:
        campaigns = {c.name: c.id for c in s.scalars(select(Campaign))}
        for n, (uuid, campaign, minutes, outcome, trunk, cause, q850, sip) in enumerate(CALLS):
            lead = Lead(
                campaign_id=campaigns[campaign], phone_e164=f"+861380013800{n}",
                phone_raw=f"1380013800{n}", country="CN", number_type="mobile",
            )  # fmt: skip
            s.add(lead)
            s.flush()
            started = T0 + timedelta(minutes=minutes)
            s.add(
                CallAttempt(
                    call_uuid=uuid,
                    lead_id=lead.id,
                    campaign_id=lead.campaign_id,
                    dialed_number=lead.phone_e164,
                    originated_at=started,
                    ended_at=started + timedelta(seconds=30),
                    outcome=outcome,
                    trunk=trunk,
                    hangup_cause=cause,
                    hangup_cause_q850=q850,
                    sip_status=sip or None,
                )
            )
    yield runner
    app_context.cache_clear()


def listed(output: str) -> list[str]:
    """The call uuids of a ``calls list`` output, in the order printed."""
    return [uuid for line in output.splitlines() for uuid, *_ in CALLS if uuid in line]


def test_calls_are_listed_newest_first_with_why_they_ended(cli: CliRunner) -> None:
    result = cli.invoke(app, ["calls", "list"])
    assert result.exit_code == 0, result.output
    assert listed(result.output) == [c[0] for c in reversed(CALLS)]
    for text in ("NO_ROUTE_DESTINATION", "mid_cn", "+8613800138001", "autumn", "abandoned"):
        assert text in result.output
    # started 15:15 UTC, ended 30 s later: in the operation's zone, with its offset
    assert "2026-11-21 23:15:00+08:00" in result.output
    assert "2026-11-21 23:15:30+08:00" in result.output


def test_calls_are_filtered_and_limited(cli: CliRunner) -> None:
    spring = cli.invoke(app, ["calls", "list", "--campaign", "spring"])
    assert listed(spring.output) == [CALLS[3][0], CALLS[1][0], CALLS[0][0]]
    busy = cli.invoke(app, ["calls", "list", "--outcome", "busy"])
    assert listed(busy.output) == [CALLS[2][0]]
    # --since without an offset is in the operation's zone: 23:05 in Shanghai is 15:05 UTC
    since = cli.invoke(app, ["calls", "list", "--since", "2026-11-21T23:05"])
    assert listed(since.output) == [CALLS[3][0], CALLS[2][0], CALLS[1][0]]
    newest = cli.invoke(app, ["calls", "list", "--limit", "2"])
    assert listed(newest.output) == [CALLS[3][0], CALLS[2][0]]
    assert "2 newest" in newest.output


def test_bad_filters_name_the_problem(cli: CliRunner) -> None:
    unknown = cli.invoke(app, ["calls", "list", "--campaign", "winter"])
    assert unknown.exit_code == 1 and "no campaign named 'winter'" in unknown.output
    outcome = cli.invoke(app, ["calls", "list", "--outcome", "maybe"])
    assert outcome.exit_code == 1 and "unknown outcome 'maybe'" in outcome.output
    since = cli.invoke(app, ["calls", "list", "--since", "yesterday"])
    assert since.exit_code == 1 and "--since 'yesterday' is not an ISO-8601" in since.output


def test_show_says_why_a_call_ended(cli: CliRunner) -> None:
    result = cli.invoke(app, ["calls", "show", CALLS[1][0]])
    assert result.exit_code == 0, result.output
    lines = {" ".join(line.replace("│", " ").split()) for line in result.output.splitlines()}
    assert "trunk mid_cn" in lines
    assert "hangup cause NORMAL_TEMPORARY_FAILURE" in lines
    assert "Q.850 code 41" in lines
    assert "SIP status 503" in lines
    assert "started 2026-11-21 23:05:00+08:00" in lines
