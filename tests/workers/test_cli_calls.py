"""``dialer calls disposition`` / ``calls show`` and ``campaigns create --webhook-url``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from campaigns.domain import LeadStatus
from campaigns.models import CallAttempt, Campaign, DncEntry, Lead
from dialer.postcall.fakes import ScriptedSender
from dialer.postcall.service import deliver_webhook
from dialer.postcall.webhooks import TryResult
from dialer.postcall.wiring import post_call_deps
from tests.support.clock import FakeClock
from workers.cli import app
from workers.cli.common import format_time, parse_time
from workers.context import app_context


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIALER_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    app_context.cache_clear()
    runner = CliRunner()
    created = runner.invoke(
        app, ["campaigns", "create", "spring", "--queue", "q",
              "--webhook-url", "https://crm.example/hook"],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    with app_context().sessions.begin() as s:
        campaign = s.scalars(select(Campaign)).one()
        lead = Lead(
            campaign_id=campaign.id, phone_e164="+8613800138000", phone_raw="13800138000",
            country="CN", number_type="mobile", status=LeadStatus.PENDING,
        )  # fmt: skip
        s.add(lead)
        s.flush()
        for uuid, outcome in (("u-ended", "no_answer"), ("u-live", None)):
            s.add(CallAttempt(call_uuid=uuid, lead_id=lead.id, campaign_id=campaign.id,
                              dialed_number=lead.phone_e164, outcome=outcome))  # fmt: skip
    yield runner
    app_context.cache_clear()


def test_webhook_url_is_stored_and_checked(cli: CliRunner) -> None:
    shown = cli.invoke(app, ["campaigns", "show", "spring"])
    assert "https://crm.example/hook (signed)" in shown.output
    with app_context().sessions() as s:
        secret = s.scalars(select(Campaign.webhook_secret)).one()
    assert secret is not None and secret not in shown.output
    bad = cli.invoke(app, ["campaigns", "create", "x", "--queue", "q", "--webhook-url", "ftp://x"])
    assert bad.exit_code == 1 and "is not an http:// or https:// URL" in bad.output


def test_disposition_errors_name_the_problem(cli: CliRunner) -> None:
    unknown = cli.invoke(app, ["calls", "disposition", "u-nope", "sale"])
    assert unknown.exit_code == 1 and "no call with uuid u-nope" in unknown.output
    # u-live is the lead's latest attempt and has no outcome yet
    live = cli.invoke(app, ["calls", "disposition", "u-live", "sale"])
    assert live.exit_code == 1 and "u-live is still in progress" in live.output
    code = cli.invoke(app, ["calls", "disposition", "u-live", "maybe"])
    assert code.exit_code == 1 and "unknown disposition 'maybe'" in code.output


def test_dnc_disposition_and_show(cli: CliRunner) -> None:
    with app_context().sessions.begin() as s:
        live = s.scalars(select(CallAttempt).where(CallAttempt.call_uuid == "u-live")).one()
        live.outcome = "connected"
    past = cli.invoke(app, ["calls", "disposition", "u-live", "callback",
                            "--callback-at", "2020-01-01T10:00"])  # fmt: skip
    assert past.exit_code == 1 and "not in the future" in past.output
    older = cli.invoke(app, ["calls", "disposition", "u-ended", "sale"])
    assert older.exit_code == 1 and "not its lead's latest attempt" in older.output
    done = cli.invoke(app, ["calls", "disposition", "u-live", "dnc", "--note", "asked"])
    assert done.exit_code == 0, done.output
    assert "lead dnc; number added to the DNC list of every campaign" in done.output
    with app_context().sessions() as s:
        assert s.scalars(select(DncEntry.number)).all() == ["+8613800138000"]
    shown = cli.invoke(app, ["calls", "show", "u-live"])
    assert "dnc" in shown.output and "asked" in shown.output


def test_callback_time_without_offset_is_the_operations_zone() -> None:
    at = parse_time("2026-11-22T10:00", "Asia/Shanghai", "--callback-at")
    assert at.astimezone(UTC) == datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
    later = datetime.now(UTC) + timedelta(days=1)
    assert parse_time(later.isoformat(), "Asia/Shanghai", "--callback-at") == later


def test_times_are_taken_and_printed_in_the_operations_zone(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIALER_TIMEZONE", "Asia/Tokyo")
    app_context.cache_clear()
    with app_context().sessions.begin() as s:
        live = s.scalars(select(CallAttempt).where(CallAttempt.call_uuid == "u-live")).one()
        live.outcome = "connected"
    done = cli.invoke(app, ["calls", "disposition", "u-live", "callback",
                            "--callback-at", "2030-01-01T10:00"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "due 2030-01-01 10:00:00+09:00" in done.output
    with app_context().sessions() as s:
        lead = s.scalars(select(Lead)).one()
        assert lead.next_attempt_at == datetime(2030, 1, 1, 1, 0, tzinfo=UTC)
    shown = cli.invoke(app, ["calls", "show", "u-live"])
    assert "2030-01-01 10:00:00+09:00" in shown.output
    dnc = cli.invoke(app, ["leads", "dnc", "+8613900139000", "--expires", "2030-01-01T09:00"])
    assert dnc.exit_code == 0, dnc.output
    assert "until 2030-01-01 09:00:00+09:00" in dnc.output
    with app_context().sessions() as s:
        entry = s.scalars(select(DncEntry)).one()
        assert entry.expires_at == datetime(2030, 1, 1, 0, 0, tzinfo=UTC)


def _secret(name: str) -> str | None:
    with app_context().sessions() as s:
        return s.scalars(select(Campaign.webhook_secret).where(Campaign.name == name)).one()


def test_a_webhook_secret_is_made_and_printed_once_given_kept_rotated_and_removed(
    cli: CliRunner,
) -> None:
    made = cli.invoke(app, ["campaigns", "create", "autumn", "--queue", "q",
                            "--webhook-url", "https://crm.example/a"])  # fmt: skip
    assert made.exit_code == 0, made.output
    secret = made.output.splitlines()[-1]
    assert secret.startswith("whsec_") and _secret("autumn") == secret
    given = cli.invoke(app, ["campaigns", "create", "winter", "--queue", "q",
                             "--webhook-url", "https://crm.example/w",
                             "--webhook-secret", "whsec_given-0123456789"])  # fmt: skip
    assert given.exit_code == 0 and "whsec_" not in given.output
    moved = cli.invoke(app, ["campaigns", "update", "autumn", "--webhook-url",
                             "https://crm.example/a2"])  # fmt: skip
    assert moved.exit_code == 0 and "whsec_" not in moved.output and _secret("autumn") == secret
    rotated = cli.invoke(app, ["campaigns", "update", "autumn", "--new-webhook-secret"])
    assert rotated.exit_code == 0, rotated.output
    new = rotated.output.splitlines()[-1]
    assert new.startswith("whsec_") and new != secret and _secret("autumn") == new
    mine = cli.invoke(app, ["campaigns", "update", "autumn", "--webhook-secret",
                            "whsec_mine-9876543210"])  # fmt: skip
    assert mine.exit_code == 0 and "whsec_" not in mine.output
    assert _secret("autumn") == "whsec_mine-9876543210"
    short = cli.invoke(app, ["campaigns", "update", "autumn", "--webhook-secret", "x"])
    assert short.exit_code == 1 and "16 to 200 characters" in short.output
    removed = cli.invoke(app, ["campaigns", "update", "autumn", "--no-webhook"])
    assert removed.exit_code == 0 and _secret("autumn") is None
    both = cli.invoke(app, ["campaigns", "update", "autumn", "--no-webhook",
                            "--new-webhook-secret"])  # fmt: skip
    assert both.exit_code == 1 and "--no-webhook removes the webhook" in both.output


def test_a_calls_webhook_deliveries_are_printed_try_by_try(cli: CliRunner) -> None:
    with app_context().sessions() as s:
        attempt_id = s.scalars(
            select(CallAttempt.id).where(CallAttempt.call_uuid == "u-ended")
        ).one()
    at = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
    sender = ScriptedSender([TryResult(503, "down for maintenance", "120")])
    deliver_webhook(attempt_id, post_call_deps(app_context().sessions, FakeClock(at), sender))
    shown = cli.invoke(app, ["calls", "deliveries", "u-ended"], terminal_width=300)
    assert shown.exit_code == 0, shown.output
    assert "call.ended (u-ended): retrying" in shown.output
    zone = app_context().settings.timezone
    row = [line for line in shown.output.splitlines() if "down for maintenance" in line]
    assert len(row) == 1 and "503" in row[0] and "https://crm.example/hook" in row[0]
    assert format_time(at, zone) in row[0]
    assert format_time(at + timedelta(seconds=120), zone) in row[0]
    quiet = cli.invoke(app, ["calls", "deliveries", "u-live"])
    assert quiet.exit_code == 0 and "no webhook deliveries" in quiet.output
    missing = cli.invoke(app, ["calls", "deliveries", "u-nope"])
    assert missing.exit_code == 1 and "no call with uuid u-nope" in missing.output


def test_show_gives_the_calls_recording_as_a_url_that_expires(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from dialer.recordings.adapters import LocalRecordingStorage

    monkeypatch.setenv("DIALER_RECORDINGS_DIR", str(tmp_path / "rec"))
    monkeypatch.setenv("DIALER_RECORDINGS_SECRET", "s3cret")
    monkeypatch.setenv("DIALER_PUBLIC_URL", "https://dialer.example")
    app_context.cache_clear()
    LocalRecordingStorage(tmp_path / "rec").put("u-ended", "wav", b"RIFF", datetime.now(UTC))
    shown = cli.invoke(app, ["calls", "show", "u-ended"], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    assert "https://dialer.example/files/recordings/u-ended?expires=" in shown.output
    none = cli.invoke(app, ["calls", "show", "u-live"], terminal_width=200)
    assert "/files/recordings/" not in none.output and "recording" in none.output
