"""The simulated switch's channels: creation, running and call states, variables, timers and
dialplan applications (CHANNEL_EXECUTE / CHANNEL_EXECUTE_COMPLETE).

A channel is live from its creation until it is destroyed; the last few destroyed channels
are kept so that late events about them (an Other-Leg block, a callcenter event) still find
their data. Event orders are those of transcripts a, j, l.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from dialer.sim.admission import Admission
from dialer.sim.bus import EventBus
from dialer.sim.channel import Channel, new_profile, profile_vars
from dialer.sim.clock import SimClock, Timer

__all__ = ["ChannelTable", "is_truthy"]

_RECENT_KEPT = 256
_CALLSTATE_NUMBERS = {
    "DOWN": 0,
    "RINGING": 2,
    "EARLY": 4,
    "ACTIVE": 5,
    "RING_WAIT": 6,
    "HANGUP": 10,
}


def is_truthy(value: str | None) -> bool:
    """FreeSWITCH's ``switch_true`` for a channel variable."""
    return (value or "").lower() in ("true", "yes", "on", "1")


class ChannelTable:
    """Live channels by uuid, and the events of their life before hangup."""

    def __init__(
        self,
        clock: SimClock,
        bus: EventBus,
        admission: Admission,
        new_uuid: Callable[[], str],
    ) -> None:
        self._live: dict[str, Channel] = {}
        self._recent: dict[str, Channel] = {}
        self._session_ids = 0
        self._clock = clock
        self.bus = bus
        self._admission = admission
        self._new_uuid = new_uuid

    # --- registry ---------------------------------------------------------------------------
    def get(self, uuid: str) -> Channel | None:
        """The live channel ``uuid``, if any."""
        return self._live.get(uuid)

    def __contains__(self, uuid: object) -> bool:
        return uuid in self._live

    def __len__(self) -> int:
        return len(self._live)

    def values(self) -> Iterator[Channel]:
        """Live channels, oldest first (a snapshot: safe to hang up while iterating)."""
        return iter(list(self._live.values()))

    def lookup(self, uuid: str) -> Channel | None:
        """A live channel, or a recently destroyed one."""
        return self._live.get(uuid) or self._recent.get(uuid)

    def retire(self, ch: Channel) -> None:
        """Forget a destroyed channel, keeping the last few for late events about them."""
        self._live.pop(ch.uuid, None)
        self._recent[ch.uuid] = ch
        while len(self._recent) > _RECENT_KEPT:
            self._recent.pop(next(iter(self._recent)))

    # --- creation ---------------------------------------------------------------------------
    def create_leg(
        self,
        uuid: str,
        name: str,
        cid_name: str | None,
        cid_num: str,
        dest: str,
        variables: Mapping[str, str],
        base_vars: list[tuple[str, str]],
    ) -> Channel:
        """A new outbound leg (caller profile 1, its variables), counted as a session."""
        now_us = self._clock.now_us()
        ch = Channel(uuid=uuid, name=name, created_us=now_us)
        ch.profile = new_profile(uuid, name, now_us, cid_name, cid_num, "Outbound Call", dest)
        ch.variables = {
            "direction": "outbound",
            "is_outbound": "true",
            "uuid": uuid,
            "call_uuid": uuid,
        }
        self._live[ch.uuid] = ch
        self._session_ids += 1
        ch.variables.setdefault("session_id", str(self._session_ids))
        self._admission.session_created(len(self._live))
        ch.variables.update(base_vars)
        ch.variables["channel_name"] = name
        ch.variables.update(variables)
        ch.variables.setdefault("originate_early_media", "false")
        ch.hangup_after_bridge = is_truthy(variables.get("hangup_after_bridge"))
        return ch

    def start_leg(self, ch: Channel) -> None:
        """The events of a leg going out: OUTGOING, CREATE, ORIGINATE, ROUTING, CONSUME_MEDIA."""
        self.bus.channel_event(ch, "CHANNEL_OUTGOING", with_vars=False)
        ch.state = "CS_INIT"
        self.bus.channel_event(ch, "CHANNEL_STATE", with_vars=False)
        self.bus.channel_event(ch, "CHANNEL_CREATE")
        self.bus.channel_event(ch, "CHANNEL_ORIGINATE")
        self.set_state(ch, "CS_ROUTING")
        self.set_state(ch, "CS_CONSUME_MEDIA")

    # --- states -----------------------------------------------------------------------------
    def set_state(self, ch: Channel, state: str) -> None:
        """Change the running state and emit CHANNEL_STATE (no variables)."""
        ch.state = state
        self.bus.channel_event(ch, "CHANNEL_STATE", with_vars=False)

    def set_callstate(self, ch: Channel, callstate: str) -> None:
        """Change the call state and emit CHANNEL_CALLSTATE (no variables)."""
        original = ch.callstate
        ch.callstate = callstate
        self.bus.channel_event(
            ch,
            "CHANNEL_CALLSTATE",
            with_vars=False,
            prefix=[
                ("Original-Channel-Call-State", original),
                ("Channel-Call-State-Number", str(_CALLSTATE_NUMBERS.get(callstate, 0))),
            ],
        )

    def destroy_unstarted(self, ch: Channel) -> None:
        """A session torn down before it ran (gateway DOWN): CHANNEL_DESTROY only."""
        ch.destroyed = True
        self.bus.channel_event(ch, "CHANNEL_DESTROY")
        self.set_state(ch, "CS_DESTROY")
        self.retire(ch)

    # --- timers -----------------------------------------------------------------------------
    def later(self, ch: Channel, delay_s: float, fn: Callable[[], None]) -> Timer:
        """A timer owned by ``ch``: `cancel_timers` (on hangup) drops it."""
        timer = self._clock.call_later(delay_s, fn)
        ch.timers.append(timer)
        return timer

    def cancel_timers(self, ch: Channel) -> None:
        """Drop every pending timer that belongs to ``ch``."""
        for timer in ch.timers:
            self._clock.cancel(timer)
        ch.timers.clear()

    # --- variables --------------------------------------------------------------------------
    def exists(self, uuid: str) -> bool:
        """True while the channel is up."""
        ch = self._live.get(uuid)
        return ch is not None and ch.is_up

    def variables(self, uuid: str) -> dict[str, str]:
        """Copy of a channel's variables, with the caller-profile names FreeSWITCH's
        ``switch_channel_get_variable`` falls back to (caller_id_number, rdnis ...)."""
        ch = self._live.get(uuid)
        return profile_vars(ch) | ch.variables if ch is not None else {}

    def set_variable(self, uuid: str, name: str, value: str) -> None:
        """Set a channel variable (a no-op for an unknown channel)."""
        ch = self._live.get(uuid)
        if ch is not None:
            ch.variables[name] = value

    # --- dialplan applications --------------------------------------------------------------
    def execute(self, ch: Channel, app: str, data: str = "") -> None:
        """CHANNEL_EXECUTE for an application that keeps running until completed."""
        ch.application = app
        ch.application_data = data
        ch.variables["current_application"] = app
        if data:
            ch.variables["current_application_data"] = data
        extra = [("Application", app)]
        if data:
            extra.append(("Application-Data", data))
        if app != "uuid_bridge":
            extra.append(("Application-UUID", self._new_uuid()))
        self.bus.channel_event(ch, "CHANNEL_EXECUTE", extra=extra)

    def complete(self, ch: Channel) -> None:
        """CHANNEL_EXECUTE_COMPLETE of the running application, if one runs."""
        if ch.application:
            self.execute_complete(ch, ch.application, ch.application_data)

    def execute_complete(self, ch: Channel, app: str, data: str) -> None:
        """CHANNEL_EXECUTE_COMPLETE of ``app`` (FreeSWITCH's ``_none_`` response)."""
        ch.application = ""
        ch.variables["last_app"] = app
        if data:
            ch.variables["last_arg"] = data
        extra = [("Application", app)]
        if data:
            extra.append(("Application-Data", data))
        extra += [("Application-Response", "_none_"), ("Application-UUID", self._new_uuid())]
        self.bus.channel_event(ch, "CHANNEL_EXECUTE_COMPLETE", extra=extra)

    def run_briefly(self, ch: Channel, app: str, data: str) -> None:
        """An application that returns at once: CHANNEL_EXECUTE then _COMPLETE."""
        self.execute(ch, app, data)
        self.complete(ch)
