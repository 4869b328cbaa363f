"""Bridging two answered legs on the simulated switch (``uuid_bridge``, as mod_callcenter does
it), with the event order of transcript (a): the agent leg's state changes, CHANNEL_EXECUTE
uuid_bridge on both legs, CHANNEL_BRIDGE, CALL_UPDATE on both legs.

Invariant: only two live legs are bridged; when either is gone, the other is hung up with
NORMAL_CLEARING instead. Hanging up a bridged leg is `dialer.sim.hangup`'s business.
"""

from __future__ import annotations

from collections.abc import Callable

from dialer.sim.bus import EventBus
from dialer.sim.channel import Channel
from dialer.sim.channel_table import ChannelTable
from dialer.sim.clock import SimClock
from dialer.sim.hangup import Hangups
from dialer.sim.records import Records

__all__ = ["Bridges"]


def announce_bridged(bus: EventBus, a: Channel, b: Channel) -> None:
    """The CALL_UPDATE each leg of a new bridge sends, naming the other (``a`` first), as
    mod_sofia does once two legs are bridged."""
    for leg, other in ((a, b), (b, a)):
        bus.channel_event(
            leg,
            "CALL_UPDATE",
            prefix=[
                ("Direction", "SEND"),
                ("Sent-Callee-ID-Name", other.cid_name),
                ("Sent-Callee-ID-Number", other.cid_num),
                ("Bridged-To", other.uuid),
            ],
            site_key="CALL_UPDATE_SOFIA",
        )


class Bridges:
    """Bridges customer (member) legs to agent legs."""

    def __init__(
        self,
        clock: SimClock,
        bus: EventBus,
        channels: ChannelTable,
        hangups: Hangups,
        records: Records,
        new_uuid: Callable[[], str],
    ) -> None:
        self._clock = clock
        self._bus = bus
        self._channels = channels
        self._hangups = hangups
        self._records = records
        self._new_uuid = new_uuid

    def bridge(self, member_uuid: str, agent_uuid: str) -> None:
        """Bridge two answered legs; the member's talk time (from the bridge) starts now."""
        channels = self._channels
        member = channels.get(member_uuid)
        agent = channels.get(agent_uuid)
        if member is None or agent is None or not member.is_up or not agent.is_up:
            for leg in (member, agent):
                if leg is not None and leg.is_up:
                    self._hangups.hang_up(leg, "NORMAL_CLEARING")
            return
        member.other_uuid, agent.other_uuid = agent_uuid, member_uuid
        member.other_type, agent.other_type = "originatee", "originator"
        agent.profile["Transfer-Source"] = (
            f"{int(self._clock.now_s())}:{self._new_uuid()}:uuid_br:{member_uuid}"
        )
        channels.set_state(agent, "CS_HIBERNATE")
        channels.set_state(agent, "CS_RESET")
        for state in ("CS_HIBERNATE", "CS_RESET", "CS_SOFT_EXECUTE"):
            channels.set_state(member, state)
        channels.set_state(agent, "CS_SOFT_EXECUTE")
        channels.execute(member, "uuid_bridge", agent_uuid)
        channels.execute(agent, "uuid_bridge", member_uuid)
        channels.set_state(agent, "CS_CONSUME_MEDIA")
        member.profile["Channel-Bridged-Time"] = str(self._clock.now_us())
        member.bridged_to, agent.bridged_to = agent_uuid, member_uuid
        for leg, other in ((member, agent), (agent, member)):
            leg.variables["last_bridge_to"] = other.uuid
            leg.variables["bridge_channel"] = other.name
            leg.variables["bridge_uuid"] = other.uuid
            leg.variables["signal_bond"] = other.uuid
        self._bus.channel_event(
            member,
            "CHANNEL_BRIDGE",
            prefix=[("Bridge-A-Unique-ID", member_uuid), ("Bridge-B-Unique-ID", agent_uuid)],
        )
        channels.set_state(agent, "CS_EXCHANGE_MEDIA")
        announce_bridged(self._bus, member, agent)
        record = self._records.get(member_uuid)
        if record is not None:
            record.bridged_s = self._clock.now_s()
            record.agent = agent.variables.get("cc_agent", "")
            record.agent_uuid = agent_uuid
            self._records.note(record)
        if member.talk_s > 0:
            channels.cancel_timers(member)
            channels.later(member, member.talk_s, lambda: self._hangups.remote_bye(member))
