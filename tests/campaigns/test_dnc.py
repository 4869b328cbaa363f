"""DNC at dial time: what a new entry does to the leads at once, and what a claim checks, on
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from campaigns import service
from campaigns.dnc import DncError, add_entry
from campaigns.domain import LeadStatus
from campaigns.models import DncEntry, Lead
from campaigns.rules import CallingWindow
from campaigns.selection import claim_due_leads
from workers.cli import app
from workers.context import app_context

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIALER_DATABASE_URL", db_url)
    app_context.cache_clear()
    yield CliRunner()
    app_context.cache_clear()


def test_a_number_listed_after_its_import_is_never_claimed(
    cli: CliRunner, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    created = cli.invoke(
        app, ["campaigns", "create", "spring", "--queue", "sales@default", "--window",
              CallingWindow.always_open().model_dump_json()],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    (tmp_path / "two.csv").write_text("phone\n13800138000\n13800138001\n", encoding="utf-8")
    imported = cli.invoke(app, ["leads", "import", "two.csv", "--campaign", "spring"])
    assert imported.exit_code == 0, imported.output
    listed = cli.invoke(app, ["leads", "dnc", "+8613800138000"])
    assert listed.exit_code == 0, listed.output
    with sessions.begin() as session:
        campaign_id = service.get_campaign(session, "spring").id
        claimed = claim_due_leads(session, campaign_id, 10, datetime.now(UTC) + timedelta(1))
    assert [lead.phone_e164 for lead in claimed] == ["+8613800138001"]


def _campaign(session: Session, name: str, numbers: list[str]) -> int:
    spec = service.parse_spec(name=name, queue_name="q", calling_window=CallingWindow.always_open())
    campaign = service.create_campaign(session, spec)
    session.add_all(
        Lead(
            campaign_id=campaign.id, phone_e164=n, phone_raw=n, country="CN",
            number_type="mobile", next_attempt_at=NOW - timedelta(minutes=1),
        )
        for n in numbers
    )  # fmt: skip
    session.flush()
    return campaign.id


def _statuses(sessions: sessionmaker[Session]) -> dict[tuple[int, str], LeadStatus]:
    with sessions() as session:
        rows = session.execute(select(Lead.campaign_id, Lead.phone_e164, Lead.status))
        return {(cid, phone): status for cid, phone, status in rows}


A, B, C = "+8613800138000", "+8613800138001", "+8613900000000"


def test_a_new_entry_marks_the_pending_leads_it_covers_at_once(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        one = _campaign(session, "one", [A, B, C])
        two = _campaign(session, "two", [A, B, C])
        session.execute(
            update(Lead)
            .where(Lead.campaign_id == two, Lead.phone_e164 == B)
            .values(status=LeadStatus.DIALING)
        )
    with sessions.begin() as session:
        add_entry(session, A, region="CN", now=NOW)  # global: every campaign
        add_entry(session, "+861390", region="CN", is_prefix=True, campaign_id=one, now=NOW)
        add_entry(session, "+86138001380", region="CN", is_prefix=True, campaign_id=two, now=NOW)
    assert _statuses(sessions) == {
        (one, A): LeadStatus.DNC,
        (one, B): LeadStatus.PENDING,  # another campaign's prefix
        (one, C): LeadStatus.DNC,
        (two, A): LeadStatus.DNC,
        (two, B): LeadStatus.DIALING,  # being dialled: the claim of its next attempt checks it
        (two, C): LeadStatus.PENDING,  # another campaign's prefix
    }


def test_an_entry_that_lapsed_already_is_refused(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        _campaign(session, "one", [A])
    with pytest.raises(DncError, match="not in the future"), sessions.begin() as session:
        add_entry(session, A, region="CN", expires_at=NOW, now=NOW)
    with sessions() as session:
        assert session.scalars(select(DncEntry)).all() == []
    assert set(_statuses(sessions).values()) == {LeadStatus.PENDING}


def test_a_claim_turns_listed_leads_dnc_and_returns_the_others(
    sessions: sessionmaker[Session],
) -> None:
    """Entries written straight into the table (a national list loaded in bulk) and leads
    that were being dialled when their entry came are caught by the claim itself."""
    with sessions.begin() as session:
        one = _campaign(session, "one", [A, B, C, "+8613700000000"])
        other = _campaign(session, "other", [])
        session.add_all(
            [
                DncEntry(number=A),  # global, exact
                DncEntry(number="+861390", is_prefix=True, campaign_id=one),
                DncEntry(number=B, campaign_id=other),  # another campaign's
                DncEntry(number="+86137", is_prefix=True, expires_at=NOW),  # lapsed
            ]
        )
    with sessions.begin() as session:
        claimed = claim_due_leads(session, one, 10, NOW, claimer="w#1")
    assert sorted(lead.phone_e164 for lead in claimed) == ["+8613700000000", B]
    statuses = _statuses(sessions)
    assert (statuses[(one, A)], statuses[(one, C)]) == (LeadStatus.DNC, LeadStatus.DNC)
    with sessions() as session:
        marked = session.scalars(select(Lead).where(Lead.status == LeadStatus.DNC)).all()
        assert {(lead.claimed_at, lead.claimed_by) for lead in marked} == {(None, None)}


@pytest.mark.parametrize("prefix", ["+8６１３８", "+0861", "+86 13x"])
def test_a_prefix_must_be_ascii_digits_to_its_end(
    sessions: sessionmaker[Session], prefix: str
) -> None:
    with pytest.raises(DncError, match="must be '\\+' and 1-15 digits"), sessions.begin() as s:
        add_entry(s, prefix, region="CN", is_prefix=True, now=NOW)
