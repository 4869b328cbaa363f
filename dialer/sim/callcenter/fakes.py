"""An in-memory `SwitchPort` with a virtual clock, for the engine's unit tests.

Channels are dicts of variables; agent legs follow a script per contact substring
(`AgentScript`): answer or fail with a cause after a delay. Every event the engine fires and
every channel event the fake produces is appended to `FakeSwitchPort.log` as a `Logged` record.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from dialer.sim.ports import AgentLegRequest, EngineEvent

__all__ = ["AgentScript", "FakeSwitchPort", "Logged"]


@dataclass(frozen=True)
class Logged:
    """One emitted event: ``name`` is ``cc:<CC-Action>`` for callcenter::info events, else the
    event name (CHANNEL_HANGUP, PLAYBACK_START ...)."""

    at_s: float
    name: str
    headers: dict[str, str]
    channel_uuid: str | None = None
    channel_vars: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AgentScript:
    """What the phone at a contact does: ``outcome`` "answer" or a hangup cause name."""

    outcome: str = "answer"
    delay_s: float = 1.0


@dataclass
class _Timer:
    cancelled: bool = False


@dataclass
class _Channel:
    uuid: str
    variables: dict[str, str]
    up: bool = True
    cause: str = ""
    playing: bool = False
    bridged_to: str | None = None
    early_watchers: list[Callable[[str], None]] = field(default_factory=list)
    watchers: list[Callable[[str], None]] = field(default_factory=list)
    on_answer: Callable[[str], None] | None = None
    on_fail: Callable[[str, str], None] | None = None
    ring_timer: _Timer | None = None


class FakeSwitchPort:
    """Deterministic single-threaded switch stand-in (implements ``SwitchPort``)."""

    def __init__(self, start_s: float = 1_795_270_000.0, seed: int = 7) -> None:
        self._now_s = start_s
        self._rng = random.Random(seed)
        self._seq = itertools.count()
        self._heap: list[tuple[float, int, _Timer, Callable[[], None]]] = []
        self.channels: dict[str, _Channel] = {}
        self.scripts: dict[str, AgentScript] = {}
        self.log: list[Logged] = []
        self._uuid_seq = itertools.count(1)

    # -- clock --------------------------------------------------------------------------
    @property
    def rng(self) -> random.Random:
        return self._rng

    def now_s(self) -> float:
        return self._now_s

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> _Timer:
        timer = _Timer()
        heapq.heappush(self._heap, (self._now_s + max(0.0, delay_s), next(self._seq), timer, fn))
        return timer

    def cancel(self, handle: object) -> None:
        if isinstance(handle, _Timer):
            handle.cancelled = True

    def run_until(self, until_s: float) -> None:
        """Run every timer due up to ``until_s`` (absolute), then set the clock there."""
        while self._heap and self._heap[0][0] <= until_s:
            at_s, _, timer, fn = heapq.heappop(self._heap)
            self._now_s = max(self._now_s, at_s)
            if not timer.cancelled:
                fn()
        self._now_s = max(self._now_s, until_s)

    def advance(self, delta_s: float) -> None:
        self.run_until(self._now_s + delta_s)

    def new_uuid(self) -> str:
        return f"00000000-0000-4000-8000-{next(self._uuid_seq):012d}"

    # -- events -------------------------------------------------------------------------
    def fire_event(self, event: EngineEvent) -> None:
        headers = event.headers
        name = f"cc:{headers.get('CC-Action', '')}" if event.subclass else event.name
        chan = self.channels.get(event.channel_uuid or "")
        variables = dict(chan.variables) if chan else {}
        self.log.append(Logged(self._now_s, name, dict(headers), event.channel_uuid, variables))

    def _chan_event(self, name: str, uuid: str, **headers: str) -> None:
        self.log.append(Logged(self._now_s, name, {"Unique-ID": uuid, **headers}, uuid))

    # -- channels -----------------------------------------------------------------------
    def add_channel(self, uuid: str, variables: Mapping[str, str]) -> None:
        """An answered customer leg (the test plays the dialplan)."""
        self.channels[uuid] = _Channel(uuid, dict(variables))

    def originate_agent_leg(self, leg: AgentLegRequest) -> str:
        contact, on_answer, on_fail = leg.contact, leg.on_answer, leg.on_fail
        uuid = self.new_uuid()
        chan = _Channel(uuid, dict(leg.variables), on_answer=on_answer, on_fail=on_fail)
        self.channels[uuid] = chan
        self._chan_event("CHANNEL_CREATE", uuid, contact=contact)
        script = next((s for k, s in self.scripts.items() if k in contact), AgentScript())

        def settle() -> None:
            if not chan.up or chan.on_answer is None:
                return
            if script.outcome == "answer":
                answer, chan.on_answer, chan.on_fail = chan.on_answer, None, None
                self._chan_event("CHANNEL_ANSWER", uuid)
                answer(uuid)
            else:
                self.hangup(uuid, script.outcome)

        chan.ring_timer = self.call_later(script.delay_s, settle)
        return uuid

    def bridge(self, member_uuid: str, agent_uuid: str) -> None:
        self.channels[member_uuid].bridged_to = agent_uuid
        self.channels[agent_uuid].bridged_to = member_uuid
        self._chan_event("CHANNEL_BRIDGE", member_uuid, other=agent_uuid)

    def hangup(self, uuid: str, cause: str) -> None:
        chan = self.channels.get(uuid)
        if chan is None or not chan.up:
            return
        chan.up, chan.cause = False, cause
        if chan.ring_timer is not None:
            self.cancel(chan.ring_timer)
        self._chan_event("CHANNEL_HANGUP", uuid, cause=cause)
        for fn in chan.early_watchers:
            fn(cause)
        chan.early_watchers.clear()
        if chan.playing:
            self.stop_playback(uuid)
        self._chan_event("CHANNEL_HANGUP_COMPLETE", uuid, cause=cause)
        other = self.channels.get(chan.bridged_to or "")
        if other is not None and other.up:
            self._chan_event("CHANNEL_UNBRIDGE", uuid)
            self.hangup(other.uuid, cause)
        watchers, chan.watchers = chan.watchers, []
        for fn in watchers:
            self.call_later(0.0, functools.partial(fn, cause))
        if chan.on_fail is not None:
            fail, chan.on_fail, chan.on_answer = chan.on_fail, None, None
            self.call_later(0.0, lambda: fail(uuid, cause))

    def on_hangup(self, uuid: str, fn: Callable[[str], None]) -> None:
        chan = self.channels.get(uuid)
        if chan is None or not chan.up:
            cause = chan.cause if chan else "NORMAL_CLEARING"
            self.call_later(0.0, lambda: fn(cause))
            return
        chan.watchers.append(fn)

    def on_channel_hangup(self, uuid: str, fn: Callable[[str], None]) -> None:
        chan = self.channels.get(uuid)
        if chan is None or not chan.up:
            cause = chan.cause if chan else "NORMAL_CLEARING"
            self.call_later(0.0, lambda: fn(cause))
            return
        chan.early_watchers.append(fn)

    def channel_exists(self, uuid: str) -> bool:
        chan = self.channels.get(uuid)
        return chan is not None and chan.up

    def channel_vars(self, uuid: str) -> dict[str, str]:
        chan = self.channels.get(uuid)
        return dict(chan.variables) if chan else {}

    def set_var(self, uuid: str, name: str, value: str) -> None:
        chan = self.channels.get(uuid)
        if chan is not None:
            chan.variables[name] = value

    def playback(self, uuid: str, file: str) -> None:
        chan = self.channels.get(uuid)
        if chan is not None:
            chan.playing = True
            self._chan_event("PLAYBACK_START", uuid, file=file)

    def stop_playback(self, uuid: str) -> None:
        chan = self.channels.get(uuid)
        if chan is not None and chan.playing:
            chan.playing = False
            self._chan_event("PLAYBACK_STOP", uuid)

    # -- test helpers -------------------------------------------------------------------
    def names(self, prefix: str = "") -> list[str]:
        """Names of the logged events (optionally only those starting with ``prefix``)."""
        return [e.name for e in self.log if e.name.startswith(prefix)]

    def cc(self, action: str) -> list[Logged]:
        return [e for e in self.log if e.name == f"cc:{action}"]
