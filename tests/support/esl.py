"""Event Socket traffic in a test: `EventLog`, an ``on_event`` handler for any
`dialer.esl.ports.EslConnection` (the fake, or a TCP adapter against the switch simulator)
that a test waits on; `originate_args`, a campaign call's originate."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from dialer.clock import SYSTEM_CLOCK, Clock
from dialer.esl.events import Event
from dialer.esl.originate import OriginateSpec, build_originate
from dialer.esl.ports import EslTimeout


class EventLog:
    """An event handler that keeps every event it is given, for a test that waits for one
    to arrive; thread-safe: the connection's reader appends."""

    def __init__(self, clock: Clock = SYSTEM_CLOCK) -> None:
        self.events: list[Event] = []
        self._clock = clock
        self._cond = threading.Condition()

    def __call__(self, event: Event) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def wait_for(self, pred: Callable[[Event], bool], timeout_s: float) -> Event:
        """The first event (oldest first) matching ``pred``; `EslTimeout` after ``timeout_s``."""
        deadline = self._clock.monotonic_s() + timeout_s
        with self._cond:
            seen = 0
            while True:
                for event in self.events[seen:]:
                    if pred(event):
                        return event
                seen = len(self.events)
                left = deadline - self._clock.monotonic_s()
                if left <= 0:
                    raise EslTimeout(f"no matching event within {timeout_s} s")
                self._cond.wait(left)


def originate_args(
    call_uuid: str, gateway: str = "carrier_a", screen_pop: Mapping[str, str] | None = None
) -> str:
    """The arguments of an ``originate`` of lead 12345 (attempt 99, campaign 7) to
    6138000000 through ``gateway``, into ``cc_sales XML campaign``; the switch simulator's
    lab scenario answers on ``carrier_a`` and fails on ``carrier_down``."""
    spec = OriginateSpec(
        call_uuid=call_uuid,
        dial_string=f"sofia/gateway/{gateway}/6138000000",
        caller_id="20220601",
        extension="cc_sales",
        context="campaign",
        campaign_id=7,
        lead_id=12345,
        attempt_id=99,
        screen_pop=dict(screen_pop or {}),
    )
    return build_originate(spec, datetime.now(UTC))
