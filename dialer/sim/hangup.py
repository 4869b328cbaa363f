"""Hanging channels up on the simulated switch: the event sequence, the CDR variables, the
partner of a bridge, hangup watchers and CHANNEL_DESTROY.

Sequence per leg (transcripts a, b, c, d): CHANNEL_HANGUP (both legs of a bridge first), then
per leg CHANNEL_UNBRIDGE, CHANNEL_UNPARK / CHANNEL_EXECUTE_COMPLETE of a running application,
CS_HANGUP, CALLSTATE HANGUP, CS_REPORTING, CHANNEL_HANGUP_COMPLETE; CHANNEL_DESTROY comes from
the loop afterwards. Invariants: a channel is hung up at most once; CHANNEL_DESTROY always
follows CHANNEL_HANGUP_COMPLETE; every watcher runs exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dialer.sim.bus import EventBus
from dialer.sim.cdr import cdr_variables
from dialer.sim.channel import Channel
from dialer.sim.channel_table import ChannelTable
from dialer.sim.clock import SimClock
from dialer.sim.gateway_stats import GatewayStats
from dialer.sim.media import Media
from dialer.sim.records import Records

__all__ = ["Hangups"]

_Q850 = {
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
"""``hangup_cause_q850`` of each hangup cause the simulator produces."""

Watcher = Callable[[str], None]


class Hangups:
    """Hangs channels up and tells the watchers of each channel."""

    def __init__(
        self,
        clock: SimClock,
        bus: EventBus,
        channels: ChannelTable,
        media: Media,
        gateways: GatewayStats,
        records: Records,
    ) -> None:
        self._clock = clock
        self._bus = bus
        self._channels = channels
        self._media = media
        self._gateways = gateways
        self._records = records
        self._complete_watchers: dict[str, list[Watcher]] = {}
        self._hangup_watchers: dict[str, list[Watcher]] = {}
        self.after_unbridge: Callable[[Channel], None] | None = None
        """Set by the dialplan: a customer left alone by its agent continues there."""
        self.on_report: Callable[[Channel], None] | None = None
        """Set by the CDR posting: a customer leg in CS_REPORTING, its CDR variables set,
        before its CHANNEL_HANGUP_COMPLETE (mod_xml_cdr's place, transcript v)."""
        self.on_hangup_hook: Callable[[Channel], None] | None = None
        """Set by the simulator: a leg with an ``api_hangup_hook`` entering CS_HANGUP (where
        FreeSWITCH runs the hook, after the leg's media bugs, its recording, are closed)."""

    def hangup(self, uuid: str, cause: str) -> None:
        """Hang a live channel up locally (a no-op for unknown or hung-up channels)."""
        ch = self._channels.get(uuid)
        if ch is not None and ch.is_up:
            self.hang_up(ch, cause)

    def remote_bye(self, ch: Channel) -> None:
        """The far end hangs up (BYE)."""
        if ch.is_up:
            v = ch.variables
            v["sip_hangup_disposition"] = "recv_bye"
            v["sip_term_status"] = "200"
            v["proto_specific_hangup_cause"] = "sip:200"
            v["sip_term_cause"] = "16"
            self.hang_up(ch, "NORMAL_CLEARING")

    def hang_up(
        self,
        ch: Channel,
        cause: str,
        *,
        after_hangup_event: Callable[[], None] | None = None,
        after_complete: Callable[[], None] | None = None,
        after_destroy: Callable[[], None] | None = None,
    ) -> None:
        """Full hangup sequence; a bridged partner is hung up with the same cause. The
        callbacks run after the CHANNEL_HANGUP events, after the CHANNEL_HANGUP_COMPLETE
        events and after CHANNEL_DESTROY."""
        if not ch.is_up:
            return
        self._channels.cancel_timers(ch)
        partner = self._channels.get(ch.bridged_to or "")
        if partner is not None and ch.kind == "agent" and not partner.hangup_after_bridge:
            self._agent_leaves_bridge(ch, partner, cause)
            return
        for leg in (ch, partner):
            if leg is not None and leg.is_up:
                self._hangup_event(leg, cause)
        if after_hangup_event is not None:
            after_hangup_event()
        order = [partner, ch] if partner is not None else [ch]
        for leg in order:
            if leg is not None:
                self._complete(leg, ch, partner)
        if after_complete is not None:
            after_complete()
        for leg in order:
            if leg is not None:
                self._finish(leg)
        self._clock.call_later(0.0, lambda: self._destroy_all(order, after_destroy))

    def on_hangup(self, uuid: str, fn: Watcher) -> None:
        """Call ``fn(cause)`` after the channel's HANGUP_COMPLETE (soon, from the loop, when
        it is unknown or already hung up)."""
        ch = self._channels.get(uuid)
        if ch is None or not ch.is_up:
            cause = ch.hangup_cause if ch is not None else None
            self._clock.call_later(0.0, lambda: fn(cause or "NORMAL_CLEARING"))
            return
        self._complete_watchers.setdefault(uuid, []).append(fn)

    def on_channel_hangup(self, uuid: str, fn: Watcher) -> None:
        """Call ``fn(cause)`` right after the channel's CHANNEL_HANGUP event."""
        ch = self._channels.get(uuid)
        if ch is None or not ch.is_up:
            self.on_hangup(uuid, fn)
            return
        self._hangup_watchers.setdefault(uuid, []).append(fn)

    def _hangup_event(self, leg: Channel, cause: str) -> None:
        self._channels.cancel_timers(leg)
        leg.hangup_cause = cause
        leg.answer_state = "hangup"
        leg.profile["Channel-Hangup-Time"] = str(self._clock.now_us())
        self._bus.channel_event(leg, "CHANNEL_HANGUP")
        for watcher in self._hangup_watchers.pop(leg.uuid, []):
            watcher(cause)

    def _complete(self, leg: Channel, ch: Channel, partner: Channel | None) -> None:
        if leg is ch and partner is not None:
            self._bus.channel_event(
                ch,
                "CHANNEL_UNBRIDGE",
                prefix=[("Bridge-A-Unique-ID", ch.uuid), ("Bridge-B-Unique-ID", partner.uuid)],
            )
        if leg.application == "park":
            self._bus.channel_event(leg, "CHANNEL_UNPARK")
        if leg.application:
            self._channels.execute_complete(leg, leg.application, leg.application_data)
        self._channels.set_state(leg, "CS_HANGUP")
        self._channels.set_callstate(leg, "HANGUP")
        if self.on_hangup_hook is not None and leg.variables.get("api_hangup_hook"):
            self.on_hangup_hook(leg)
        self._channels.set_state(leg, "CS_REPORTING")
        self._report_vars(leg)
        if self.on_report is not None and leg.kind == "customer":
            self.on_report(leg)
        self._bus.channel_event(leg, "CHANNEL_HANGUP_COMPLETE")

    def _agent_leaves_bridge(self, agent: Channel, member: Channel, cause: str) -> None:
        """The agent hangs up and the customer leg has ``hangup_after_bridge=false``: the
        customer is unbridged and its dialplan continues (`after_unbridge`)."""
        agent.bridged_to = member.bridged_to = None
        self.hang_up(agent, cause)
        self._bus.channel_event(
            member,
            "CHANNEL_UNBRIDGE",
            prefix=[("Bridge-A-Unique-ID", member.uuid), ("Bridge-B-Unique-ID", agent.uuid)],
        )
        if member.application:
            self._channels.execute_complete(member, member.application, member.application_data)
        if self.after_unbridge is not None:
            self.after_unbridge(member)

    def _report_vars(self, ch: Channel) -> None:
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
            ch.profile, cause, _Q850.get(cause, 16), self._clock.now_us()
        ):
            ch.variables[name] = value

    def _finish(self, ch: Channel) -> None:
        if ch.gateway:
            self._gateways.call_ended(ch.gateway)
        self._media.forget(ch.uuid)
        self._hangup_watchers.pop(ch.uuid, None)
        record = self._records.get(ch.uuid)
        if record is not None and record.hangup_s is None:
            record.hangup_s = self._clock.now_s()
            record.hangup_cause = ch.hangup_cause or ""
        if record is not None:
            self._records.note(record)
        for watcher in self._complete_watchers.pop(ch.uuid, []):
            watcher(ch.hangup_cause or "NORMAL_CLEARING")

    def _destroy_all(self, legs: Sequence[Channel | None], then: Callable[[], None] | None) -> None:
        done = [leg for leg in legs if leg is not None and not leg.destroyed]
        for leg in done:
            leg.destroyed = True
            self._bus.channel_event(leg, "CHANNEL_DESTROY")
            self._channels.set_state(leg, "CS_DESTROY")
        for leg in done:
            self._channels.retire(leg)
        if then is not None:
            then()
