"""``dialer leads import|lists|delete-list`` against a migrated SQLite database: a file whose
import went wrong can be imported again, and a list is deleted only while none of its leads
was dialled, archived otherwise (its leads are then never claimed)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

import workers.cli.campaigns as campaigns_cli
import workers.cli.leads as leads_cli
from campaigns.models import CallAttempt, Lead
from campaigns.selection import claim_due_leads
from dialer.config import load_settings
from dialer.db.base import make_engine, make_session_factory
from dialer.db.migrate import upgrade
from dialer.runner.adapters import SqlCampaignStore
from workers.cli import app
from workers.context import AppContext


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> sessionmaker[Session]:
    url = f"sqlite:///{tmp_path / 'dialer.db'}"
    upgrade(url)
    sessions = make_session_factory(make_engine(url))
    context = AppContext(load_settings(database_url=url), sessions=sessions)
    monkeypatch.setattr(leads_cli, "app_context", lambda: context)
    monkeypatch.setattr(campaigns_cli, "app_context", lambda: context)
    return sessions


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), terminal_width=400)
    return result.exit_code, " ".join(result.output.split())


def test_a_wrong_column_import_can_be_redone_and_lists_deleted_or_archived(
    db: sessionmaker[Session], tmp_path: Path
) -> None:
    assert _run("campaigns", "create", "spring", "--queue", "sales@default")[0] == 0
    small = tmp_path / "small.csv"
    small.write_text("name,phone\nA,13800138000\nB,13800138001\nC,13800138002\n")
    code, out = _run("leads", "import", str(small), "--campaign", "spring", "--phone-column",
                     "name")  # fmt: skip
    assert code == 0 and "invalid │ 3" in out
    assert (
        "no row was accepted: every phone number in column 'name' (read in region CN) is "
        "invalid (reasons in "
        f"{small}.rejects.csv). A wrong --phone-column or --region? Then `dialer leads "
        "delete-list 1` and import the file again" in out
    ), out
    code, out = _run("leads", "import", str(small), "--campaign", "spring")
    assert code == 0 and "as lead list #1 (small.csv: 0 accepted" in out and "--force" in out
    copy = tmp_path / "copy.csv"
    copy.write_bytes(small.read_bytes())
    code, out = _run("leads", "import", str(copy), "--campaign", "spring")
    assert "as lead list #1 (small.csv" in out and "delete-list 1" in out
    assert "rejects" not in out and not (tmp_path / "copy.csv.rejects.csv").exists()
    code, out = _run("leads", "import", str(copy), "--campaign", "spring", "--force")
    assert code == 0 and "lead list #2" in out and "accepted │ 3" in out

    code, out = _run("leads", "lists", "--campaign", "spring")
    assert code == 0
    assert "│ 1 │ small.csv │ spring │" in out and "│ 3 │ 0 │ 0 │ 0 │ 3 │ 0 │ complete │" in out
    assert "│ 2 │ copy.csv │ spring │" in out and "│ 3 │ 3 │ 0 │ 0 │ 0 │ 0 │ complete │" in out
    assert _run("leads", "delete-list", "small.csv") == (
        0, "lead list #1 (small.csv) deleted with its 0 leads"
    )  # fmt: skip

    with db.begin() as session:
        lead = session.scalars(select(Lead).order_by(Lead.id)).first()
        assert lead is not None
        session.add(CallAttempt(call_uuid="u1", lead_id=lead.id, campaign_id=lead.campaign_id,
                                dialed_number=lead.phone_e164))  # fmt: skip
    due_at = datetime(2030, 1, 2, 2, 0, tzinfo=UTC)  # a Wednesday, 10:00 in China
    store = SqlCampaignStore(db)
    assert store.count_due(lead.campaign_id, due_at, 10) == 3
    code, out = _run("leads", "delete-list", "2")
    assert code == 1 and "has 1 leads dialled" in out and "--archive" in out
    assert "│ 2 │ copy.csv │ spring │" in _run("leads", "lists")[1]
    code, out = _run("leads", "delete-list", "copy.csv", "--archive")
    assert code == 0 and "archived" in out
    assert "│ 3 │ 3 │ 0 │ 0 │ 0 │ 1 │ archived │" in _run("leads", "lists")[1]
    assert store.count_due(lead.campaign_id, due_at, 10) == 0
    with db.begin() as session:
        assert claim_due_leads(session, lead.campaign_id, 10, due_at) == []
    assert _run("leads", "delete-list", "9")[1] == (
        "error: no lead list '9'; `dialer leads lists` shows them"
    )
