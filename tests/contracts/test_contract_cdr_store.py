"""The `CdrStore` contract (`dialer.cdr.ports`): `MemoryCdrStore` and `SqlCdrStore` on SQLite
and PostgreSQL. A CDR is kept once per leg, the first copy wins, what is read back is what
was stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from dialer.cdr.adapters import SqlCdrStore
from dialer.cdr.billing import Charge
from dialer.cdr.fakes import MemoryCdrStore
from dialer.cdr.parse import parse_cdr
from dialer.cdr.ports import CdrStore
from tests.conftest import Backend
from tests.support.cdr import with_dialer_ids
from tests.support.transcripts import http_capture_text

PORT = "cdr_store"
T0 = datetime(2026, 12, 3, 9, 5, tzinfo=UTC)


@pytest.fixture
def store(backend: Backend) -> CdrStore:
    return MemoryCdrStore() if backend.is_fake else SqlCdrStore(backend.sessions())


def test_a_cdr_is_kept_once_per_leg_and_read_back_whole(store: CdrStore) -> None:
    bridged = with_dialer_ids(http_capture_text("v1_cdr_answered_bridged.cdr.xml"), 7, 8, 9)
    busy = http_capture_text("v1_cdr_busy.cdr.xml")
    first, other = parse_cdr(bridged), parse_cdr(busy)
    assert store.get(first.call_uuid) is None
    assert store.add(first, bridged, T0) is True
    assert store.add(other, busy, T0) is True
    assert store.get(first.call_uuid) == first
    assert store.get(other.call_uuid) == other
    # a retried post or a re-imported file: the first copy stays
    assert store.add(parse_cdr(busy.replace("USER_BUSY", "NORMAL_CLEARING")), busy, T0) is False
    assert store.get(other.call_uuid) == other
    assert store.get("00000000-0000-4000-8000-000000000000") is None


def test_cost_lines_are_what_was_stored_with_its_charge(store: CdrStore) -> None:
    bridged = with_dialer_ids(http_capture_text("v1_cdr_answered_bridged.cdr.xml"), 7, 8, 9)
    busy = http_capture_text("v1_cdr_busy.cdr.xml")
    first, other = parse_cdr(bridged), parse_cdr(busy)
    priced = Charge(20, 24, Decimal("0.024000"), Decimal("0.06"), 6)
    store.add(first, bridged, T0, priced)
    store.add(other, busy, T0)
    started = datetime.fromtimestamp(first.started_us / 1e6, UTC)
    whole = store.cost_lines(started - timedelta(days=1), started + timedelta(days=1))
    assert [x.call_uuid for x in whole] == sorted(
        [first.call_uuid, other.call_uuid],
        key=lambda u: (parse_cdr(bridged if u == first.call_uuid else busy).started_us, u),
    )
    line = next(x for x in whole if x.call_uuid == first.call_uuid)
    assert (line.campaign_id, line.trunk, line.answered) == (7, "carrier_a", True)
    assert (line.billsec, line.billed_s, line.cost) == (20, 24, Decimal("0.024000"))
    assert (line.agent, line.queue_wait_s) == ("agent6@default", 1)
    assert abs((line.started_at - started).total_seconds()) < 1e-3
    unpriced = next(x for x in whole if x.call_uuid == other.call_uuid)
    assert (unpriced.cost, unpriced.answered, unpriced.queue_wait_s) == (None, False, None)
    # [since, until): a line starting at `until` is left out
    assert store.cost_lines(started + timedelta(seconds=1), started + timedelta(days=1)) == [
        x for x in whole if x.started_at >= started + timedelta(seconds=1)
    ]
    assert store.cost_lines(started - timedelta(days=2), started - timedelta(days=1)) == []
