"""The simulated switch core: event bus, channels, hangup/bridge mechanics, `SwitchPort`.

Call flows (originate, dialplan) live in `dialer.sim.flows`; API commands in
`dialer.sim.api`. Everything runs on the asyncio loop thread; no locks.
Invariants: every channel event carries the channel data of its channel at emission time;
a channel is hung up at most once; CHANNEL_DESTROY always follows CHANNEL_HANGUP_COMPLETE.
"""

from __future__ import annotations

import random
import time
import uuid as uuidlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from dialer.sim.cdr import cdr_variables
from dialer.sim.channel import (
    Channel,
    channel_data,
    media_variables,
    playback_headers,
    profile_vars,
)
from dialer.sim.clock import SimClock, Timer
from dialer.sim.events import CALLING_SITES, CoreIdentity, SimEvent, core_headers
from dialer.sim.ports import CallcenterEngine, TimerHandle
from dialer.sim.records import Records
from dialer.sim.scenario import PopulationRule, Scenario

Q850 = {
    "NORMAL_CLEARING": 16,
    "USER_BUSY": 17,
    "NO_USER_RESPONSE": 18,
    "NO_ANSWER": 19,
    "CALL_REJECTED": 21,
    "UNALLOCATED_NUMBER": 1,
    "NORMAL_TEMPORARY_FAILURE": 41,
    "ORIGINATOR_CANCEL": 16,
    "ALLOTTED_TIMEOUT": 602,
    "LOSE_RACE": 502,
    "DESTINATION_OUT_OF_ORDER": 27,
    "NO_ROUTE_DESTINATION": 3,
    "GATEWAY_DOWN": 609,
    "MANAGER_REQUEST": 503,
    "INVALID_GATEWAY": 608,
}


class EventSink(Protocol):
    """An Event Socket connection that may want events."""

    def wants(self, name: str, subclass: str | None) -> bool:
        """Whether the subscription includes this event (filters aside)."""

    def log_line(self, level: int, data: bytes) -> None:
        """Send a ``log/data`` frame if the connection's ``log`` level includes ``level``."""

    def offer(self, event: SimEvent) -> None:
        """Queue ``event`` if subscribed and not filtered out."""


@dataclass
class Counters:
    """Session counters printed by ``status`` and used for the sps/max-sessions limits."""

    since_startup: int = 0
    peak: int = 0
    sps_window_s: int = 0
    sps_in_window: int = 0
    sps_peak: int = 0
    max_sessions: int = 1000
    sps_limit: int = 30
    started_s: float = field(default_factory=time.time)


class Switch:
    """Owns the clock, the RNG, channels, subscribers, records and the callcenter engine."""

    def __init__(self, scenario: Scenario, clock: SimClock | None = None) -> None:
        self.scenario = scenario
        self.clock = clock or SimClock(scenario.speed, scenario.start_epoch_s)
        self._rng = random.Random(scenario.seed)
        # customers draw from their own stream, in originate order only, so that their uuids
        # and behaviour do not depend on when timers (agents, engine, media) drew numbers
        self.call_rng = random.Random(f"calls-{scenario.seed}")
        self.identity = CoreIdentity(core_uuid=self.new_uuid(), hostname=scenario.hostname)
        self.sequence = 0
        self.channels: dict[str, Channel] = {}
        self.sinks: list[EventSink] = []
        self.records = Records()
        self.engine: CallcenterEngine | None = None
        self.counters = Counters(
            max_sessions=scenario.max_sessions,
            sps_limit=scenario.sessions_per_second,
            started_s=self.clock.now_s(),
        )
        self.session_ids = 0
        self.global_vars: dict[str, str] = {
            "hostname": scenario.hostname,
            "domain": "127.0.0.1",
            "switch_serial": "1",
        }
        self._hangup_watchers: dict[str, list[Callable[[str], None]]] = {}
        self._early_watchers: dict[str, list[Callable[[str], None]]] = {}
        self.recent: dict[str, Channel] = {}
        self._playing_since: dict[str, float] = {}
        self._playing: dict[str, str] = {}
        self.gateway_calls: dict[str, int] = {}
        self.gateway_failed: dict[str, int] = {}
        self.gateway_active: dict[str, int] = {}
        self.gateway_cps: dict[str, tuple[int, int]] = {}
        self._script_pos: dict[int, int] = {}
        self.after_unbridge: Callable[[Channel], None] | None = None

    # --- SwitchPort: time, randomness, ids -------------------------------------------
    @property
    def rng(self) -> random.Random:
        """The single seeded RNG of the run."""
        return self._rng

    def now_s(self) -> float:
        """Simulated epoch seconds."""
        return self.clock.now_s()

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> TimerHandle:
        """Run ``fn`` after ``delay_s`` simulated seconds."""
        return self.clock.call_later(delay_s, fn)

    def cancel(self, handle: TimerHandle) -> None:
        """Cancel a timer."""
        self.clock.cancel(handle)

    def new_uuid(self) -> str:
        """A v4 UUID drawn from the seeded RNG."""
        return str(uuidlib.UUID(int=self._rng.getrandbits(128), version=4))

    def new_call_uuid(self) -> str:
        """A v4 UUID for a customer leg, from the customers' stream."""
        return str(uuidlib.UUID(int=self.call_rng.getrandbits(128), version=4))

    # --- events ------------------------------------------------------------------------
    def emit(
        self,
        name: str,
        headers: Sequence[tuple[str, str]] | Mapping[str, str] = (),
        *,
        subclass: str | None = None,
        channel: Channel | None = None,
        with_vars: bool = False,
        site_key: str | None = None,
        site: tuple[str, str, int] | None = None,
        body: str | None = None,
        prefix_headers: list[tuple[str, str]] | None = None,
    ) -> SimEvent | None:
        """Build an event (core headers, channel data, extra headers) and offer it to all.
        Nothing is built when no connection is subscribed to it (returns None)."""
        self.sequence += 1
        if not any(sink.wants(name, subclass) for sink in self.sinks):
            return None
        where = site or CALLING_SITES.get(site_key or name, ("switch_core.c", "", 0))
        hdrs = core_headers(
            self.identity, name, subclass, self.clock.now_us(), self.sequence, where
        )
        if prefix_headers:
            hdrs.extend(prefix_headers)
        if channel is not None:
            other = self.lookup(channel.other_uuid or "")
            hdrs.extend(channel_data(channel, other, with_variables=with_vars))
        items = headers.items() if isinstance(headers, Mapping) else headers
        hdrs.extend(items)
        event = SimEvent(name, subclass, hdrs, body)
        for sink in list(self.sinks):
            sink.offer(event)
        return event

    def fire_event(
        self,
        event_name: str,
        headers: Mapping[str, str],
        *,
        subclass: str | None = None,
        channel_uuid: str | None = None,
        calling_function: str = "",
        calling_line: int = 0,
        calling_file: str = "mod_callcenter.c",
    ) -> None:
        """`SwitchPort.fire_event` for the callcenter engine."""
        ch = self.lookup(channel_uuid or "")
        self.emit(
            event_name,
            list(headers.items()),
            subclass=subclass,
            channel=ch,
            with_vars=ch is not None,
            site=(calling_file, calling_function, calling_line),
        )

    def chan_event(
        self,
        ch: Channel,
        name: str,
        *,
        with_vars: bool = True,
        extra: list[tuple[str, str]] | None = None,
        site_key: str | None = None,
        prefix: list[tuple[str, str]] | None = None,
    ) -> None:
        """Emit a channel event for ``ch``."""
        self.emit(
            name,
            extra or [],
            channel=ch,
            with_vars=with_vars,
            site_key=site_key,
            prefix_headers=prefix,
        )

    def log(self, level: int, site: tuple[str, str, int], text: str) -> None:
        """A console log line (mod_event_socket ``log/data``), e.g. the CRIT lines of a
        refused session; level 2 = CRIT, 3 = ERR, 4 = WARNING ..."""
        names = {0: "CONSOLE", 1: "ALERT", 2: "CRIT", 3: "ERR", 4: "WARNING", 5: "NOTICE"}
        now_us = self.clock.now_us()
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now_us // 1_000_000))
        body = (
            f"{stamp}.{now_us % 1_000_000:06d} 99.00% [{names.get(level, 'DEBUG')}] "
            f"{site[0]}:{site[2]} {text}\n"
        ).encode()
        head = (
            f"Content-Type: log/data\nContent-Length: {len(body)}\nLog-Level: {level}\n"
            f"Text-Channel: 0\nLog-File: {site[0]}\nLog-Func: {site[1]}\n"
            f"Log-Line: {site[2]}\nUser-Data: \n\n"
        ).encode()
        for sink in list(self.sinks):
            sink.log_line(level, head + body)

    def set_state(self, ch: Channel, state: str) -> None:
        """Change the running state and emit CHANNEL_STATE (no variables)."""
        ch.state = state
        self.chan_event(ch, "CHANNEL_STATE", with_vars=False)

    def set_callstate(self, ch: Channel, callstate: str) -> None:
        """Change the call state and emit CHANNEL_CALLSTATE (no variables)."""
        original = ch.callstate
        ch.callstate = callstate
        numbers = {"DOWN": 0, "RINGING": 2, "EARLY": 4, "ACTIVE": 5, "HANGUP": 10}
        self.chan_event(
            ch,
            "CHANNEL_CALLSTATE",
            with_vars=False,
            prefix=[
                ("Original-Channel-Call-State", original),
                ("Channel-Call-State-Number", str(numbers.get(callstate, 0))),
            ],
        )

    def media_up(self, ch: Channel) -> None:
        """Codecs negotiated: two CODEC events, then the codec block in channel data."""
        ch.media_up = True
        # derived from the uuid: drawing from the RNG here would tie the draw sequence to timing
        for name, value in media_variables(int(ch.uuid.replace("-", "")[:8], 16)):
            ch.variables.setdefault(name, value)
        self.chan_event(
            ch,
            "CODEC",
            with_vars=False,
            site_key="CODEC_READ",
            extra=[
                ("channel-read-codec-name", "PCMU"),
                ("channel-read-codec-rate", "8000"),
                ("channel-read-codec-bit-rate", "64000"),
            ],
        )
        self.chan_event(
            ch,
            "CODEC",
            with_vars=False,
            site_key="CODEC_WRITE",
            extra=[
                ("Channel-Write-Codec-Name", "PCMU"),
                ("Channel-Write-Codec-Rate", "8000"),
                ("Channel-Write-codec-bit-rate", "64000"),
            ],
        )

    # --- channels -------------------------------------------------------------------------
    def live_sessions(self) -> int:
        """Channels that exist (not yet destroyed)."""
        return len(self.channels)

    def admit_session(self) -> bool:
        """Apply ``fsctl sps`` and ``max_sessions`` the way FreeSWITCH does (N-1 per second;
        refused attempts are counted in the per-second peak)."""
        now_whole = int(self.now_s())
        c = self.counters
        if c.sps_window_s != now_whole:
            c.sps_window_s, c.sps_in_window = now_whole, 0
        c.sps_in_window += 1
        c.sps_peak = max(c.sps_peak, c.sps_in_window)
        session_site = ("switch_core_session.c", "switch_core_session_request_uuid", 2422)
        if c.sps_in_window >= c.sps_limit:
            self.log(2, session_site, f"Throttle Error! {c.sps_limit - 1}")
        elif self.live_sessions() >= c.max_sessions:
            limit_site = (session_site[0], session_site[1], 2429)
            self.log(2, limit_site, f"Over Session Limit! {c.max_sessions}")
        else:
            return True
        self.log(2, ("mod_sofia.c", "sofia_outgoing_channel", 4751), "Error Creating Session")
        return False

    def add_channel(self, ch: Channel) -> None:
        """Register a new session (counts for ``status``)."""
        self.channels[ch.uuid] = ch
        self.session_ids += 1
        ch.variables.setdefault("session_id", str(self.session_ids))
        self.counters.since_startup += 1
        self.counters.peak = max(self.counters.peak, len(self.channels))

    def cancel_timers(self, ch: Channel) -> None:
        """Drop every pending timer that belongs to ``ch``."""
        for t in ch.timers:
            self.clock.cancel(t)
        ch.timers.clear()

    def later(self, ch: Channel, delay_s: float, fn: Callable[[], None]) -> Timer:
        """A timer owned by ``ch`` (cancelled on hangup)."""
        t = self.clock.call_later(delay_s, fn)
        ch.timers.append(t)
        return t

    def report_vars(self, ch: Channel) -> None:
        """The CDR variables FreeSWITCH sets on entering CS_REPORTING."""
        cause = ch.hangup_cause or "NORMAL_CLEARING"
        v = ch.variables
        if ch.name.startswith("sofia/") and "sip_hangup_disposition" not in v:
            if ch.answered:
                v["sip_hangup_disposition"] = "send_bye"
            else:
                v["sip_hangup_disposition"] = "send_cancel"
                v["sip_invite_failure_status"] = "487"
                v["sip_invite_failure_phrase"] = "CANCEL"
        for name, value in cdr_variables(
            ch.profile, cause, Q850.get(cause, 16), self.clock.now_us()
        ):
            ch.variables[name] = value

    def hangup(self, uuid: str, cause: str) -> None:
        """`SwitchPort.hangup`: hang a channel up locally."""
        ch = self.channels.get(uuid)
        if ch is not None and ch.is_up:
            self.do_hangup(ch, cause)

    def do_hangup(
        self,
        ch: Channel,
        cause: str,
        *,
        after_hangup_event: Callable[[], None] | None = None,
        after_complete: Callable[[], None] | None = None,
        after_destroy: Callable[[], None] | None = None,
    ) -> None:
        """Full hangup sequence; a bridged partner is hung up with the same cause."""
        if not ch.is_up:
            return
        self.cancel_timers(ch)
        partner = self.channels.get(ch.bridged_to or "")
        if partner is not None and ch.kind == "agent" and not partner.hangup_after_bridge:
            self._agent_leaves_bridge(ch, partner, cause)
            return
        for leg in (ch, partner):
            if leg is None or not leg.is_up:
                continue
            self.cancel_timers(leg)
            leg.hangup_cause = cause
            leg.answer_state = "hangup"
            leg.profile["Channel-Hangup-Time"] = str(self.clock.now_us())
            self.chan_event(leg, "CHANNEL_HANGUP")
            for watcher in self._early_watchers.pop(leg.uuid, []):
                watcher(cause)
        if after_hangup_event is not None:
            after_hangup_event()
        order = [partner, ch] if partner is not None else [ch]
        for leg in order:
            if leg is None:
                continue
            if leg is ch and partner is not None:
                self.chan_event(
                    ch,
                    "CHANNEL_UNBRIDGE",
                    prefix=[("Bridge-A-Unique-ID", ch.uuid), ("Bridge-B-Unique-ID", partner.uuid)],
                )
            if leg.application == "park":
                self.chan_event(leg, "CHANNEL_UNPARK")
            if leg.application:
                self.execute_complete(leg, leg.application, leg.application_data)
            self.set_state(leg, "CS_HANGUP")
            self.set_callstate(leg, "HANGUP")
            self.set_state(leg, "CS_REPORTING")
            self.report_vars(leg)
            self.chan_event(leg, "CHANNEL_HANGUP_COMPLETE")
        if after_complete is not None:
            after_complete()
        for leg in order:
            if leg is not None:
                self._finish(leg)
        self.clock.call_later(0.0, lambda: self._destroy_all(order, after_destroy))

    def _agent_leaves_bridge(self, agent: Channel, member: Channel, cause: str) -> None:
        """The agent hangs up and the customer leg has ``hangup_after_bridge=false``: the
        customer is unbridged and its dialplan continues (`after_unbridge`)."""
        agent.bridged_to = member.bridged_to = None
        self.do_hangup(agent, cause)
        self.chan_event(
            member,
            "CHANNEL_UNBRIDGE",
            prefix=[("Bridge-A-Unique-ID", member.uuid), ("Bridge-B-Unique-ID", agent.uuid)],
        )
        if member.application:
            self.execute_complete(member, member.application, member.application_data)
        if self.after_unbridge is not None:
            self.after_unbridge(member)

    def execute_complete(self, ch: Channel, app: str, data: str) -> None:
        """CHANNEL_EXECUTE_COMPLETE of ``app`` (FreeSWITCH's ``_none_`` response)."""
        ch.application = ""
        ch.variables["last_app"] = app
        if data:
            ch.variables["last_arg"] = data
        extra = [("Application", app)]
        if data:
            extra.append(("Application-Data", data))
        extra += [("Application-Response", "_none_"), ("Application-UUID", self.new_uuid())]
        self.chan_event(ch, "CHANNEL_EXECUTE_COMPLETE", extra=extra)

    def _finish(self, ch: Channel) -> None:
        if ch.gateway:
            self.gateway_active[ch.gateway] = max(0, self.gateway_active.get(ch.gateway, 1) - 1)
        self._playing.pop(ch.uuid, None)
        self._early_watchers.pop(ch.uuid, None)
        record = self.records.get(ch.uuid)
        if record is not None and record.hangup_s is None:
            record.hangup_s = self.now_s()
            record.hangup_cause = ch.hangup_cause or ""
        for watcher in self._hangup_watchers.pop(ch.uuid, []):
            watcher(ch.hangup_cause or "NORMAL_CLEARING")

    def _destroy_all(self, legs: Sequence[Channel | None], then: Callable[[], None] | None) -> None:
        done = [leg for leg in legs if leg is not None and not leg.destroyed]
        for leg in done:
            leg.destroyed = True
            self.chan_event(leg, "CHANNEL_DESTROY")
            self.set_state(leg, "CS_DESTROY")
        for leg in done:
            self._retire(leg)
        if then is not None:
            then()

    def _retire(self, ch: Channel) -> None:
        """Forget a destroyed channel, keeping the last few for late events about them."""
        self.channels.pop(ch.uuid, None)
        self.recent[ch.uuid] = ch
        while len(self.recent) > 256:
            self.recent.pop(next(iter(self.recent)))

    def lookup(self, uuid: str) -> Channel | None:
        """A live channel, or a recently destroyed one."""
        return self.channels.get(uuid) or self.recent.get(uuid)

    def destroy_only(self, ch: Channel) -> None:
        """A session torn down before it ran (gateway DOWN): CHANNEL_DESTROY only."""
        ch.destroyed = True
        self.chan_event(ch, "CHANNEL_DESTROY")
        self.set_state(ch, "CS_DESTROY")
        self._retire(ch)

    # --- SwitchPort: channel access ------------------------------------------------------
    def on_hangup(self, uuid: str, fn: Callable[[str], None]) -> None:
        """Call ``fn(cause)`` after the channel's HANGUP_COMPLETE."""
        ch = self.channels.get(uuid)
        if ch is None or not ch.is_up:
            cause = ch.hangup_cause if ch is not None else None
            self.clock.call_later(0.0, lambda: fn(cause or "NORMAL_CLEARING"))
            return
        self._hangup_watchers.setdefault(uuid, []).append(fn)

    def on_channel_hangup(self, uuid: str, fn: Callable[[str], None]) -> None:
        """Call ``fn(cause)`` right after the channel's CHANNEL_HANGUP event."""
        ch = self.channels.get(uuid)
        if ch is None or not ch.is_up:
            self.on_hangup(uuid, fn)
            return
        self._early_watchers.setdefault(uuid, []).append(fn)

    def channel_exists(self, uuid: str) -> bool:
        """True while the channel is up."""
        ch = self.channels.get(uuid)
        return ch is not None and ch.is_up

    def channel_vars(self, uuid: str) -> dict[str, str]:
        """Copy of a channel's variables, with the caller-profile names FreeSWITCH's
        ``switch_channel_get_variable`` falls back to (caller_id_number, rdnis ...)."""
        ch = self.channels.get(uuid)
        return profile_vars(ch) | ch.variables if ch is not None else {}

    def set_var(self, uuid: str, name: str, value: str) -> None:
        """Set a channel variable."""
        ch = self.channels.get(uuid)
        if ch is not None:
            ch.variables[name] = value

    def playback(self, uuid: str, file: str) -> None:
        """PLAYBACK_START on a channel (until `stop_playback`)."""
        ch = self.channels.get(uuid)
        if ch is None or not ch.is_up:
            return
        self._playing[uuid] = file
        self._playing_since[uuid] = self.now_s()
        self.chan_event(ch, "PLAYBACK_START", extra=playback_headers(file))

    def stop_playback(self, uuid: str) -> None:
        """PLAYBACK_STOP for what `playback` started."""
        file = self._playing.pop(uuid, None)
        ch = self.channels.get(uuid)
        if file is None or ch is None:
            return
        started_s = self._playing_since.pop(uuid, self.now_s())
        played_ms = int((self.now_s() - started_s) * 1000)
        ch.variables["playback_last_offset_pos"] = str(played_ms * 8)
        ch.variables["playback_seconds"] = str(played_ms // 1000)
        ch.variables["playback_ms"] = str(played_ms)
        ch.variables["playback_samples"] = str(played_ms * 8)
        self.chan_event(
            ch, "PLAYBACK_STOP", extra=[*playback_headers(file), ("Playback-Status", "done")]
        )

    def next_scripted(self, rule: PopulationRule) -> str | None:
        """Next entry of a rule's ``script`` (None once exhausted or without script)."""
        idx = self._script_pos.get(id(rule), 0)
        if idx >= len(rule.script):
            return None
        self._script_pos[id(rule)] = idx + 1
        return rule.script[idx]
