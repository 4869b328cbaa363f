"""The `DeskBus` contract (`dialer.desk.ports`): `MemoryDeskBus` and `RedisDeskBus`. A
subscriber gets its agent's events published after it subscribed, in order, and no other
agent's; one published from another thread arrives too; a closed feed gets nothing."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from dialer.desk.adapters import RedisDeskBus
from dialer.desk.fakes import MemoryDeskBus
from dialer.desk.ports import DeskBus, DeskEvent, DeskEventKind
from tests.conftest import Backend

PORT = "desk_bus"
WAIT_S = 3.0


@pytest.fixture
def bus(backend: Backend) -> Iterator[DeskBus]:
    if backend.is_fake:
        yield MemoryDeskBus()
        return
    real = RedisDeskBus(backend.redis(), prefix="test:desk")
    yield real
    real.close()


def call(agent: str, attempt_id: int) -> DeskEvent:
    return DeskEvent(agent, DeskEventKind.CALL, call_uuid=f"u{attempt_id}",
                     attempt_id=attempt_id, lead_id=1, campaign_id=2, at_us=10)  # fmt: skip


def test_a_subscriber_gets_its_agents_events_in_order_and_no_others(bus: DeskBus) -> None:
    async def run() -> None:
        mine = await bus.subscribe("a@default")
        also_mine = await bus.subscribe("a@default")
        theirs = await bus.subscribe("b@default")
        bus.publish(call("a@default", 1))
        bus.publish(DeskEvent("a@default", DeskEventKind.CALL_END, call_uuid="u1"))
        from_a_thread = threading.Thread(target=bus.publish, args=(call("a@default", 3),))
        from_a_thread.start()
        from_a_thread.join()
        got = [await mine.next_event(WAIT_S) for _ in range(3)]
        assert got == [
            call("a@default", 1),
            DeskEvent("a@default", DeskEventKind.CALL_END, call_uuid="u1"),
            call("a@default", 3),
        ]
        assert await also_mine.next_event(WAIT_S) == call("a@default", 1)
        assert await theirs.next_event(0.2) is None
        mine.close()
        mine.close()
        bus.publish(call("a@default", 4))
        assert await mine.next_event(0.2) is None
        assert [await also_mine.next_event(WAIT_S) for _ in range(3)][-1] == call("a@default", 4)
        also_mine.close()
        theirs.close()

    asyncio.run(run())
