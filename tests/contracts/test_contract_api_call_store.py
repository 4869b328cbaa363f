"""The `ApiCallStore` contract (`dialer.apicalls.ports`): `MemoryApiCallStore` and
`SqlApiCallStore` on SQLite and PostgreSQL. One call per (API key, Idempotency-Key), also
under concurrent inserts; callbacks claimed by one claimer at a time; the first end stands."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from campaigns.domain import AttemptOutcome
from dialer.apicalls.adapters import SqlApiCallStore
from dialer.apicalls.fakes import MemoryApiCallStore
from dialer.apicalls.ports import (
    CLAIM_TTL,
    ApiCallStore,
    CallKind,
    CallStatus,
    NewApiCall,
    Placed,
)
from dialer.calls.agent_first import AgentFirstEnd
from tests.conftest import Backend

PORT = "api_call_store"
T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
EXT = {"crm": {"ticket": 17, "tags": ["a", "ü"]}, "n": None}


@pytest.fixture
def store(backend: Backend) -> ApiCallStore:
    if backend.is_fake:
        return MemoryApiCallStore()
    return SqlApiCallStore(backend.sessions())


def new(uuid: str, key: str | None = None, **fields: object) -> NewApiCall:
    call = NewApiCall(
        call_uuid=uuid,
        kind=CallKind.CLICK_TO_CALL,
        key_id="sys1",
        number="+8613800138000",
        status=CallStatus.DIALING,
        created_at=T0,
        idempotency_key=key,
        request_sha256="a" * 64,
        agent="1001@default",
        trunks=("carrier_a", "carrier_b"),
        ext=EXT,
        trunk="carrier_a",
        caller_id="20220601",
        node="fs1",
    )
    return replace(call, **fields)  # type: ignore[arg-type]


def end(uuid: str, outcome: AttemptOutcome | None = AttemptOutcome.CONNECTED) -> AgentFirstEnd:
    t = T0 + timedelta(seconds=1)
    return AgentFirstEnd(
        call_uuid=uuid,
        call_id=1,
        outcome=outcome,
        disposition="connected",
        hangup_cause="NORMAL_CLEARING",
        trunk="carrier_a",
        dialed_number="613800138000",
        agent_answered_at=t,
        answered_at=t + timedelta(seconds=1),
        connected_at=t + timedelta(seconds=1),
        ended_at=t + timedelta(seconds=20),
        sip_status="200",
        hangup_cause_q850=16,
    )


def test_a_call_reads_back_with_its_ext_unchanged(store: ApiCallStore) -> None:
    call, sha, created = store.insert(new("u-1"))
    assert created and sha == "a" * 64
    got = store.get("u-1")
    assert got == call and got.ext == EXT and got.trunks == ("carrier_a", "carrier_b")
    assert got.originated_at == T0 and got.status is CallStatus.DIALING
    assert store.get("u-2") is None


def test_one_call_per_key_and_idempotency_key(store: ApiCallStore) -> None:
    first, _, _ = store.insert(new("u-1", key="k"))
    again, sha, created = store.insert(new("u-2", key="k", request_sha256="b" * 64))
    assert not created and again == first and sha == "a" * 64
    assert store.get("u-2") is None
    _, _, other_key = store.insert(new("u-3", key="k", key_id="sys2"))
    assert other_key  # another API key's Idempotency-Key is its own
    found = store.by_idempotency_key("sys1", "k")
    assert found is not None and found[0].call_uuid == "u-1"
    assert store.by_idempotency_key("sys1", "nope") is None


def test_concurrent_inserts_with_one_key_store_one_call(store: ApiCallStore) -> None:
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: store.insert(new(f"c-{i}", key="same")), range(8)))
    assert sum(created for _, _, created in results) == 1
    assert len({call.call_uuid for call, _, _ in results}) == 1


def test_callbacks_are_claimed_once_started_once_and_handed_back(store: ApiCallStore) -> None:
    for i, due in enumerate((T0 + timedelta(minutes=2), T0, T0 + timedelta(hours=1))):
        store.insert(
            new(f"cb-{i}", kind=CallKind.CALLBACK, status=CallStatus.SCHEDULED, due_at=due)
        )
    now = T0 + timedelta(minutes=5)
    claimed = store.claim_due_callbacks(now, 10, "w1")
    assert [c.call_uuid for c in claimed] == ["cb-1", "cb-0"]
    assert store.claim_due_callbacks(now, 10, "w2") == []
    store.release_callback("cb-0", "w1")
    assert [c.call_uuid for c in store.claim_due_callbacks(now, 10, "w2")] == ["cb-0"]
    placed = Placed("1001@default", "carrier_a", "20220601", "fs1", now)
    assert store.start_callback("cb-1", "w2", placed) is False  # w1's
    assert store.start_callback("cb-1", "w1", placed) is True
    started = store.get("cb-1")
    assert started is not None and started.status is CallStatus.DIALING
    assert started.originated_at == now and started.trunk == "carrier_a"
    assert store.agents_in_calls() == {"1001@default"}
    assert store.claim_due_callbacks(now, 10, "w3") == []


def test_a_claim_its_claimer_never_handed_back_lapses(store: ApiCallStore) -> None:
    store.insert(new("cb-1", kind=CallKind.CALLBACK, status=CallStatus.SCHEDULED, due_at=T0))
    assert [c.call_uuid for c in store.claim_due_callbacks(T0, 10, "dead")] == ["cb-1"]
    assert store.claim_due_callbacks(T0 + CLAIM_TTL, 10, "w2") == []
    later = T0 + CLAIM_TTL + timedelta(seconds=1)
    assert [c.call_uuid for c in store.claim_due_callbacks(later, 10, "w2")] == ["cb-1"]
    placed = Placed("1001@default", "carrier_a", None, "fs1", later)
    assert store.start_callback("cb-1", "dead", placed) is False
    assert store.start_callback("cb-1", "w2", placed) is True


def test_the_first_end_stands_and_a_failed_call_stays_failed(store: ApiCallStore) -> None:
    store.insert(new("u-1"))
    ended = store.record_end("fs1", end("u-1"))
    assert ended is not None and ended.status is CallStatus.ENDED
    assert ended.outcome == "connected" and ended.sip_status == "200"
    assert ended.answered_at == T0 + timedelta(seconds=2)
    assert store.record_end("fs1", end("u-1", AttemptOutcome.BUSY)) is None
    assert store.record_end("fs1", end("unknown")) is None
    store.fail("u-1", "late", T0)
    got = store.get("u-1")
    assert got is not None and got.status is CallStatus.ENDED and got.outcome == "connected"
    store.insert(new("u-2"))
    store.fail("u-2", "switch fs1 disconnected", T0)
    failed = store.get("u-2")
    assert failed is not None and failed.status is CallStatus.FAILED
    assert failed.disposition == "switch fs1 disconnected"
    assert store.agents_in_calls() == set()


def test_calls_dialing_for_hours_are_settled_unknown(store: ApiCallStore) -> None:
    store.insert(new("old"))
    store.insert(new("new", created_at=T0 + timedelta(hours=5)))
    later = T0 + timedelta(hours=5, minutes=1)
    assert store.settle_stale(T0 + timedelta(hours=1), later) == ["old"]
    old, fresh = store.get("old"), store.get("new")
    assert old is not None and old.status is CallStatus.ENDED and old.outcome == "unknown"
    assert old.ended_at == later
    assert fresh is not None and fresh.status is CallStatus.DIALING
    assert store.settle_stale(T0 + timedelta(hours=1), later) == []
