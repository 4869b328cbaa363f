"""NodeListener with in-memory seams whose backends fail for a while: an event's work is
retried until it succeeds (never skipped), a defect in one event's work does not stop the loop,
and the loop's heartbeat says it is alive, waiting, or dead."""

from __future__ import annotations

import threading

import pytest
import redis
from sqlalchemy.exc import OperationalError

from campaigns.domain import AttemptOutcome
from dialer.calls.machine import CallEnd, CallState
from dialer.esl.fakes import FakeEslConnection
from dialer.listener.fakes import MemoryAttempts, MemoryLiveState, MemoryTrunks
from dialer.listener.service import LISTENER_SUBSCRIPTION, NodeListener
from dialer.liveness.fakes import MemoryHeartbeats
from dialer.liveness.service import LoopBeat, failed_loops
from dialer.retry import Backoff
from tests.dialer.listener.test_listener_service import T_UUID, events
from tests.support.clock import FakeClock
from tests.support.waiting import wait_until

FAST = Backoff(initial_s=0.001, max_s=0.01)


class FlakyLive(MemoryLiveState):
    """Redis gone for the first ``down_for`` writes of calls."""

    down_for = 3

    def put_call(self, node: str, state: CallState) -> None:
        self._fail()
        super().put_call(node, state)

    def drop_call(self, node: str, call_uuid: str) -> None:
        self._fail()
        super().drop_call(node, call_uuid)

    def _fail(self) -> None:
        if self.down_for > 0:
            self.down_for -= 1
            raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6390.")


class FlakyTrunks(MemoryTrunks):
    down_for = 2

    def release(self, trunk: str, call_uuid: str) -> None:
        if self.down_for > 0:
            self.down_for -= 1
            raise redis.ConnectionError("Connection closed by server.")
        super().release(trunk, call_uuid)


class FlakyDatabase(MemoryAttempts):
    """The database connection lost for the first recording."""

    down_for = 1

    def record(self, node: str, end: CallEnd) -> None:
        if self.down_for > 0:
            self.down_for -= 1
            raise OperationalError("UPDATE leads", {}, Exception("server closed the connection"))
        super().record(node, end)


class BrokenAttempts(MemoryAttempts):
    """A defect: recording raises a non-backend error."""

    def record(self, node: str, end: CallEnd) -> None:
        raise KeyError("defect")


def run_call(listener: NodeListener, conn: FakeEslConnection) -> None:
    """Feed a whole call to the running loop, wait until it handled every event, stop it."""
    worker = threading.Thread(target=listener.run)
    worker.start()
    call = events("t_origination_uuid_export_vars")
    for e in call:
        conn.emit(e)
    assert wait_until(listener.idle, 10)
    assert worker.is_alive()
    listener.stop()
    worker.join(timeout=10)
    assert not worker.is_alive()


def test_a_call_that_ends_while_redis_is_down_is_recorded_once_it_returns() -> None:
    live, trunks, attempts = FlakyLive(), FlakyTrunks({T_UUID: "carrier_a"}), FlakyDatabase()
    beats = MemoryHeartbeats()
    clock = FakeClock()
    heartbeat = LoopBeat(beats, "listener", "node-fs1", 30, clock)
    listener = NodeListener(
        "fs1", live, attempts, trunks, clock=clock, heartbeat=heartbeat, backoff=FAST
    )
    conn = FakeEslConnection("fs1", LISTENER_SUBSCRIPTION, listener.on_event, lambda c: "")
    listener.attach(conn)
    statuses: list[str] = []
    beats_put = beats.put
    beats.put = lambda beat: (statuses.append(beat.status), beats_put(beat))[1]  # type: ignore[method-assign]
    run_call(listener, conn)
    [(_, end)] = attempts.ended
    assert end.outcome is AttemptOutcome.CONNECTED
    assert trunks.held == {} and live.calls("fs1") == {}
    assert listener.stats.retries == 6 and listener.stats.failed_items == 0
    assert sum(s.startswith("retrying listener fs1") for s in statuses) == 6
    assert beats.of("listener") == []  # stopped cleanly: no heartbeat left


def test_a_defect_in_one_event_is_logged_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    attempts = BrokenAttempts()
    listener = NodeListener("fs1", MemoryLiveState(), attempts, MemoryTrunks(), backoff=FAST)
    conn = FakeEslConnection("fs1", LISTENER_SUBSCRIPTION, listener.on_event, lambda c: "")
    listener.attach(conn)
    run_call(listener, conn)
    assert listener.stats.failed_items == 1
    assert "KeyError" in caplog.text


class DyingClock(FakeClock):
    """A clock that breaks: the loop itself (not one event's work) fails."""

    def monotonic_s(self) -> float:
        raise RuntimeError("clock gone")


def test_a_worker_loop_that_dies_leaves_a_failed_heartbeat() -> None:
    beats = MemoryHeartbeats()
    clock = DyingClock()
    heartbeat = LoopBeat(beats, "listener", "node-fs1", 30, FakeClock())
    listener = NodeListener(
        "fs1", MemoryLiveState(), MemoryAttempts(), MemoryTrunks(), clock=clock,
        heartbeat=heartbeat,
    )  # fmt: skip
    listener.run()  # returns: the loop is over
    [beat] = beats.of("listener")
    [line] = failed_loops([beat], beat.beat_s, beat.host, lambda pid: True)
    assert "node-fs1" in line and "worker loop died: RuntimeError: clock gone" in line
