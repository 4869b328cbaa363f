"""Looking calls up: the filters a query accepts, and the service over the in-memory log."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dialer.postcall.call_log import MAX_CALLS_LISTED, CallLogError, call_query
from dialer.postcall.fakes import MemoryCallLog
from dialer.postcall.service import list_calls, show_call


def test_a_query_refuses_what_cannot_match() -> None:
    with pytest.raises(CallLogError, match="unknown outcome 'maybe'"):
        call_query(outcome="maybe")
    with pytest.raises(CallLogError, match="--limit must be between 1 and"):
        call_query(limit=0)
    with pytest.raises(CallLogError, match="--limit must be between 1 and"):
        call_query(limit=MAX_CALLS_LISTED + 1)
    with pytest.raises(CallLogError, match="has no time zone offset"):
        call_query(since=datetime(2026, 1, 1))
    assert call_query(outcome="not_dialled", since=datetime(2026, 1, 1, tzinfo=UTC)).limit == 50


def test_the_service_names_what_it_cannot_find() -> None:
    log = MemoryCallLog(campaigns={"spring"})
    assert list_calls(log, "spring", None, None, 10) == []
    with pytest.raises(CallLogError, match="no campaign named 'autumn'"):
        list_calls(log, "autumn", None, None, 10)
    with pytest.raises(CallLogError, match="no call with uuid u-9"):
        show_call(log, "u-9")
