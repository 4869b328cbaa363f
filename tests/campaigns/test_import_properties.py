"""Property tests of the import: every row ends in exactly one outcome and the counts add up."""

from __future__ import annotations

import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from campaigns import service
from campaigns.dnc import add_entry
from campaigns.importer.classify import (
    DncPrefixes,
    Layout,
    RowOutcome,
    classify_batch,
    split_batch,
)
from campaigns.importer.service import ImportOptions, import_file
from campaigns.importer.sources import BadRow, TableRow
from campaigns.importer.wiring import import_deps
from campaigns.models import Lead, utcnow
from dialer.clock import SYSTEM_CLOCK
from dialer.db.base import make_engine, make_session_factory
from dialer.db.migrate import upgrade

phones = st.one_of(
    st.sampled_from(["13800138000", "13800138001", "+12125551234", "010 6234 5678", "13900000000"]),
    st.text(alphabet="0123456789+ -()", max_size=16),
    st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=8),
)
LAYOUT = Layout(phone_index=0, columns=("phone", "name"), has_header=True)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(phones, st.text(max_size=5)), max_size=40), st.booleans())
def test_each_row_is_a_candidate_or_a_reject_once(cells: list[tuple[str, str]], bad: bool) -> None:
    batch: list[TableRow | BadRow] = [TableRow(i + 2, [p, n]) for i, (p, n) in enumerate(cells)]
    if bad:
        batch.append(BadRow(len(batch) + 2, "", "line too long"))
    candidates, rejects = classify_batch(batch, LAYOUT, "CN")
    kept, dropped = split_batch(
        candidates, frozenset({"+8613900000000"}), DncPrefixes.of(["+1212"])
    )
    rows = sorted([c.row_no for c in kept] + [r.row_no for r in rejects + dropped])
    assert rows == [r.row_no for r in batch]
    assert len({c.number.e164 for c in kept}) == len(kept)
    assert all(not c.number.e164.startswith("+1212") for c in kept)


@pytest.fixture(scope="module")
def sqlite_sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('prop') / 'p.db'}"
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        add_entry(session, "+1212", region="CN", is_prefix=True, now=utcnow())
    yield make_session_factory(engine)
    engine.dispose()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(phones, min_size=1, max_size=30).filter(lambda ns: any(n.strip() for n in ns)),
    st.integers(min_value=1, max_value=7),
)
def test_import_counts_add_up_and_match_the_database(
    sqlite_sessions: sessionmaker[Session], numbers: list[str], batch_rows: int
) -> None:
    name = f"p{uuid.uuid4().hex[:10]}"
    with sqlite_sessions.begin() as session:
        campaign = service.create_campaign(session, service.parse_spec(name=name, queue_name="q"))
        campaign_id = campaign.id
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "leads.csv"
        src.write_text(
            "phone\n" + "".join('"' + n.replace('"', '""') + '"\n' for n in numbers),
            encoding="utf-8",
        )
        deps = import_deps(sqlite_sessions, SYSTEM_CLOCK)
        summary = import_file(deps, src, ImportOptions(name, batch_rows=batch_rows))
        rejects = (Path(tmp) / "leads.csv.rejects.csv").read_text(encoding="utf-8-sig")
    assert summary.rows == sum(1 for n in numbers if n.strip())  # blank lines are not rows
    assert Counter(summary.counts).total() == summary.rows
    accepted = summary.counts[RowOutcome.ACCEPTED]
    assert accepted + rejects.count("\n") - 1 == summary.rows
    with sqlite_sessions() as session:
        in_db = session.scalar(
            select(func.count()).select_from(Lead).where(Lead.campaign_id == campaign_id)
        )
    assert in_db == accepted
