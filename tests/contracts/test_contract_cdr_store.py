"""The `CdrStore` contract (`dialer.cdr.ports`): `MemoryCdrStore` and `SqlCdrStore` on SQLite
and PostgreSQL. A CDR is kept once per leg, the first copy wins, what is read back is what
was stored."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dialer.cdr.adapters import SqlCdrStore
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
