"""Agent phone legs: what mod_callcenter originates to a callback agent.

Behaviour of a simulated phone comes from the scenario's ``agent_endpoints``: answer after a
delay, reject with 486, or never answer (``leg_timeout`` → ALLOTTED_TIMEOUT after N+0.9 s,
as originate compares whole seconds). Event orders follow transcripts a, h, r, s, t.
Invariant: exactly one of ``on_answer`` / ``on_fail`` runs, once, for every leg.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from dialer.sim.bus import EventBus
from dialer.sim.channel import Channel, ordered_profile
from dialer.sim.channel_table import ChannelTable
from dialer.sim.clock import SimClock
from dialer.sim.hangup import Hangups
from dialer.sim.media import Media
from dialer.sim.originate_parse import parse_dial_string
from dialer.sim.ports import AgentLegRequest
from dialer.sim.scenario import AgentEndpoint
from dialer.sim.sip import ring_limit

__all__ = ["AgentLegs"]


class AgentLegs:
    """Rings simulated agent phones. ``endpoint(contact)`` is the phone's behaviour."""

    def __init__(
        self,
        clock: SimClock,
        rng: random.Random,
        bus: EventBus,
        channels: ChannelTable,
        media: Media,
        hangups: Hangups,
        endpoint: Callable[[str], AgentEndpoint],
        new_uuid: Callable[[], str],
    ) -> None:
        self._clock = clock
        self._rng = rng
        self._bus = bus
        self._channels = channels
        self._media = media
        self._hangups = hangups
        self._endpoint = endpoint
        self._new_uuid = new_uuid

    def originate(self, leg: AgentLegRequest) -> str:
        """Start a leg to ``leg.contact`` (dial string with its ``{}`` / ``[]`` variables)
        with ``leg.variables`` set from its creation; returns its uuid at once."""
        contact, on_fail = leg.contact, leg.on_fail
        parsed = parse_dial_string(contact)
        if not isinstance(parsed, tuple):
            uuid = self._new_uuid()
            self._clock.call_later(0.0, lambda: on_fail(uuid, "DESTINATION_OUT_OF_ORDER"))
            return uuid
        global_vars, ep, _ = parsed
        merged = dict(global_vars)
        merged.update(ep.leg_vars)
        merged.update(leg.variables)
        # an originate's own origination_uuid stays a variable of the leg (u1); one in the
        # contact is only the leg's uuid
        uuid = merged.get("origination_uuid", "") or self._new_uuid()
        if "origination_uuid" not in leg.variables:
            merged.pop("origination_uuid", None)
        user = ep.target.split("@")[0]
        name = f"sofia/{ep.name}/{ep.target}" if ep.kind == "profile" else ep.raw
        cid_num = merged.get("origination_caller_id_number", "0000000000")
        cid_name = merged.get("origination_caller_id_name", leg.caller_id_name)
        base = [("sip_profile_name", ep.name), ("video_media_flow", "disabled")]
        ch = self._channels.create_leg(uuid, name, cid_name, cid_num, user, merged, base)
        ch.kind = "agent"
        ch.variables["sip_destination_url"] = f"sip:{ep.target}"
        ch.variables["originate_endpoint"] = "sofia"
        self._channels.start_leg(ch)
        self._ring(ch, self._endpoint(contact), leg)
        return uuid

    def _ring(
        self,
        ch: Channel,
        behaviour: AgentEndpoint,
        leg: AgentLegRequest,
    ) -> None:
        channels = self._channels
        delay = behaviour.answer_delay_s.sample(self._rng)
        limit_s, limit_cause = ring_limit(ch.variables, None)
        self._hangups.on_hangup(
            ch.uuid, lambda cause: leg.on_fail(ch.uuid, cause) if not ch.answered else None
        )
        if behaviour.behaviour != "reject":
            channels.later(ch, 0.0, lambda: self._progress(ch))
        if behaviour.behaviour == "reject":
            channels.later(ch, delay, lambda: self._reject(ch))
        elif behaviour.behaviour == "answer" and delay < limit_s:
            channels.later(ch, delay, lambda: self._answer(ch, behaviour, leg.on_answer))
        else:
            channels.later(ch, limit_s, lambda: self._hangups.hang_up(ch, limit_cause))

    def _progress(self, ch: Channel) -> None:
        ch.profile["Network-Addr"] = "127.0.0.1"
        ch.profile["Channel-Progress-Time"] = str(self._clock.now_us())
        self._bus.channel_event(ch, "CHANNEL_PROGRESS")
        self._channels.set_callstate(ch, "RINGING")

    def _answer(
        self, ch: Channel, behaviour: AgentEndpoint, on_answer: Callable[[str], None]
    ) -> None:
        self._media.media_up(ch)
        ch.answer_state = "answered"
        ch.profile["Network-Addr"] = "127.0.0.1"
        ch.profile["Channel-Answered-Time"] = str(self._clock.now_us())
        self._bus.channel_event(ch, "CHANNEL_ANSWER")
        self._channels.set_callstate(ch, "ACTIVE")
        member = self._channels.get(ch.variables.get("cc_member_session_uuid", ""))
        if member is not None and member.is_up:
            ch.other_profile = dict(member.profile)
            member.other_uuid, member.other_type = ch.uuid, "originatee"
            member.profile["Callee-ID-Name"] = ch.profile.get("Caller-ID-Name", "")
            member.profile["Callee-ID-Number"] = ch.dest
            member.profile = dict(ordered_profile(member.profile))
        if behaviour.hangup_after_s is not None:
            hangup_after_s = float(behaviour.hangup_after_s)
            self._channels.later(ch, hangup_after_s, lambda: self._hangups.remote_bye(ch))
        on_answer(ch.uuid)

    def _reject(self, ch: Channel) -> None:
        ch.profile["Network-Addr"] = "127.0.0.1"
        v = ch.variables
        v["sip_hangup_disposition"] = "recv_refuse"
        v["sip_invite_failure_status"] = "486"
        v["sip_invite_failure_phrase"] = "Busy Here"
        v["sip_term_status"] = "486"
        v["sip_term_cause"] = "17"
        self._hangups.hang_up(ch, "USER_BUSY")
