"""How the listener settles a call its switch no longer has: from the stored CDR first; without
one, only after the bounded wait; a call only ringing when its switch restarted (new Core-UUID)
is not counted; anything else it cannot know is ``unknown``, never a guess."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import pytest

from campaigns.domain import AttemptOutcome
from dialer.calls.machine import CallState
from dialer.cdr.fakes import MemoryCdrStore
from dialer.cdr.parse import parse_cdr
from dialer.esl.fakes import FakeEslConnection
from dialer.listener.fakes import MemoryAttempts, MemoryLiveState, MemoryTrunks
from dialer.listener.ports import Unsettled
from dialer.listener.service import LISTENER_SUBSCRIPTION, NodeListener
from tests.support.cdr import with_dialer_ids
from tests.support.clock import T0, FakeClock
from tests.support.transcripts import http_capture_text

OLD_CORE, NEW_CORE = "d41c8639-93a7-4003-91c0-bef6027a810a", "6513270e-269e-4d37-b2a7-4de452e6b438"
RINGING = "00000000-0000-4000-8000-000000000001"


def _listener(
    core_uuid: str, cdr_wait_s: float = 0.0, cdrs: MemoryCdrStore | None = None
) -> tuple[NodeListener, MemoryAttempts, MemoryTrunks, FakeClock]:
    clock = FakeClock(T0)
    attempts, trunks = MemoryAttempts(), MemoryTrunks()
    listener = NodeListener(
        "fs1", MemoryLiveState(), attempts, trunks,
        clock=clock, cdrs=cdrs, cdr_wait_s=cdr_wait_s,
    )  # fmt: skip

    def reply(command: str) -> str:
        if command == "global_getvar core_uuid":
            return core_uuid
        if command.startswith("show channels"):
            return json.dumps({"row_count": 0})
        return "+OK\n"

    listener.attach(FakeEslConnection("fs1", LISTENER_SUBSCRIPTION, listener.on_event, reply))
    return listener, attempts, trunks, clock


def _track(listener: NodeListener, state: CallState, trunks: MemoryTrunks) -> None:
    listener.book.calls[state.call_uuid] = state
    trunks.held[state.call_uuid] = state.trunk


def _ringing(call_uuid: str = RINGING) -> CallState:
    return CallState(
        call_uuid, 1, 2, 3, "carrier_a", created=True, progressed=True, core_uuid=OLD_CORE
    )


def test_a_call_ringing_when_its_switch_restarted_uses_no_attempt() -> None:
    listener, attempts, trunks, _ = _listener(NEW_CORE)
    _track(listener, _ringing(), trunks)
    listener.reconcile()
    [(_, end)] = attempts.ended
    assert (end.outcome, end.unsettled, end.hangup_cause) == (None, False, "SWITCH_RESTARTED")
    assert trunks.held == {} and listener.book.calls == {}


@pytest.mark.parametrize("core_uuid", [OLD_CORE, ""], ids=["same-switch", "core-unknown"])
def test_without_proof_of_a_restart_a_lost_ringing_call_is_unknown(core_uuid: str) -> None:
    listener, attempts, trunks, _ = _listener(core_uuid)
    _track(listener, _ringing(), trunks)
    listener.reconcile()
    [(_, end)] = attempts.ended
    assert (end.outcome, end.unsettled) == (None, True)


def test_a_lost_call_waits_for_its_cdr_then_is_unknown() -> None:
    listener, attempts, trunks, clock = _listener(OLD_CORE, cdr_wait_s=30)
    answered = CallState(RINGING, 1, 2, 3, "carrier_a", created=True, answered_at_us=1)
    _track(listener, answered, trunks)
    listener.reconcile()
    clock.advance(29)
    listener.reconcile()
    assert attempts.ended == [] and RINGING in listener.book.calls  # its line stays held
    clock.advance(2)
    listener.reconcile()
    [(_, end)] = attempts.ended
    assert (end.outcome, end.unsettled, end.abandoned) == (None, True, False)
    assert trunks.held == {}


def test_a_lost_call_is_settled_from_its_stored_cdr_at_once() -> None:
    """What the switch recorded wins over what the listener saw before it lost the call
    (answered, queued: it would have been called abandoned)."""
    xml_text = with_dialer_ids(http_capture_text("v1_cdr_answered_bridged.cdr.xml"), 1, 2, 3)
    facts = parse_cdr(xml_text)
    cdrs = MemoryCdrStore()
    cdrs.add(facts, xml_text, T0)
    listener, attempts, trunks, _ = _listener(OLD_CORE, cdr_wait_s=3600, cdrs=cdrs)
    seen = CallState(
        facts.call_uuid, 1, 2, 3, "carrier_a", created=True, answered_at_us=1, queued_at_us=2
    )
    _track(listener, seen, trunks)
    listener.reconcile()
    [(_, end)] = attempts.ended
    assert (end.outcome, end.agent, end.hangup_cause) == (
        AttemptOutcome.CONNECTED,
        "agent6@default",
        "NORMAL_CLEARING",
    )
    assert trunks.held == {}


def test_a_call_seen_bridged_is_connected_even_without_its_cdr() -> None:
    listener, attempts, trunks, _ = _listener(NEW_CORE)
    bridged = CallState(
        RINGING, 1, 2, 3, "carrier_a", created=True, answered_at_us=1, connected_at_us=2,
        agent="agent1@default", core_uuid=OLD_CORE,
    )  # fmt: skip
    _track(listener, bridged, trunks)
    listener.reconcile()
    [(_, end)] = attempts.ended
    assert end.outcome is AttemptOutcome.CONNECTED


def test_a_call_awaiting_its_cdr_is_settled_when_its_wait_ends_not_at_the_next_reconcile() -> None:
    """After a switch restart the lost calls' leads stay ``dialing`` until they are settled:
    that is ``cdr_wait_s`` after the reconcile that missed them, not the periodic one after."""
    clock = FakeClock(T0)
    attempts, trunks = MemoryAttempts(), MemoryTrunks()
    listener = NodeListener(
        "fs1", MemoryLiveState(), attempts, trunks, clock=clock, cdr_wait_s=30,
        reconcile_every_s=3600, beat_every_s=0.01,
    )  # fmt: skip
    listener.attach(FakeEslConnection("fs1", LISTENER_SUBSCRIPTION, listener.on_event, _reply))
    _track(listener, CallState(RINGING, 1, 2, 3, "carrier_a", answered_at_us=1), trunks)
    worker = threading.Thread(target=listener.run, daemon=True)
    worker.start()
    try:
        listener.on_connect()
        assert _within(lambda: listener.stats.reconciles == 1, 5.0)
        clock.advance(31)
        assert _within(lambda: len(attempts.ended) == 1, 5.0)
    finally:
        listener.stop()
        worker.join(timeout=5)


def _reply(command: str) -> str:
    if command == "global_getvar core_uuid":
        return OLD_CORE
    if command.startswith("show channels"):
        return json.dumps({"row_count": 0})
    return "+OK\n"


def _within(condition: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_an_originate_lost_with_its_switch_is_settled_soon_after_the_reconnect() -> None:
    """An originate sent as the switch died leaves an attempt no event, channel or CDR will
    ever speak of: after the reconnect it is taken up ``unsettled_after_s`` later (then its
    CDR wait), not at a periodic reconcile an hour away."""
    clock = FakeClock(T0)
    attempts, trunks = MemoryAttempts(), MemoryTrunks()
    attempts.pending.append(("fs1", T0, Unsettled(RINGING, 1, 2, 3, "carrier_a")))
    listener = NodeListener(
        "fs1", MemoryLiveState(), attempts, trunks, clock=clock, cdr_wait_s=10,
        unsettled_after_s=30, reconcile_every_s=3600, beat_every_s=0.01,
    )  # fmt: skip
    listener.attach(FakeEslConnection("fs1", LISTENER_SUBSCRIPTION, listener.on_event, _reply))
    worker = threading.Thread(target=listener.run, daemon=True)
    worker.start()
    try:
        listener.on_connect()
        assert _within(lambda: listener.stats.reconciles == 1, 5.0)
        clock.advance(32)
        assert _within(lambda: listener.stats.reconciles == 2, 5.0)
        clock.advance(11)
        assert _within(lambda: len(attempts.ended) == 1, 5.0)
        [(_, end)] = attempts.ended
        assert end.unsettled and end.call_uuid == RINGING
    finally:
        listener.stop()
        worker.join(timeout=5)
