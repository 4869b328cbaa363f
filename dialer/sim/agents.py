"""Agent phone legs (what mod_callcenter originates to a callback agent) and bridges.

Behaviour of a simulated phone comes from the scenario's ``agent_endpoints``: answer after a
delay, reject with 486, or never answer (``leg_timeout`` → ALLOTTED_TIMEOUT after N+0.9 s,
as originate compares whole seconds). Event orders follow transcripts a, h, r, s, t.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from dialer.sim.channel import Channel
from dialer.sim.flows import Flows, ring_limit
from dialer.sim.originate_parse import Endpoint, parse_dial_string
from dialer.sim.routing import execute, ordered_keys


class AgentLegs:
    """Implements `SwitchPort.originate_agent_leg` and `SwitchPort.bridge`."""

    def __init__(self, flows: Flows) -> None:
        self.flows = flows
        self.sw = flows.sw

    def originate_agent_leg(
        self,
        contact: str,
        variables: Mapping[str, str],
        on_answer: Callable[[str], None],
        on_fail: Callable[[str, str], None],
    ) -> str:
        """`SwitchPort.originate_agent_leg`."""
        sw = self.sw
        parsed = parse_dial_string(contact)
        if not isinstance(parsed, tuple):
            uuid = sw.new_uuid()
            sw.clock.call_later(0.0, lambda: on_fail(uuid, "DESTINATION_OUT_OF_ORDER"))
            return uuid
        global_vars, ep, _ = parsed
        merged = dict(global_vars)
        merged.update(ep.leg_vars)
        merged.update(variables)
        uuid = merged.pop("origination_uuid", "") or sw.new_uuid()
        user = ep.target.split("@")[0]
        name = f"sofia/{ep.name}/{ep.target}" if ep.kind == "profile" else ep.raw
        cid_num = merged.get("origination_caller_id_number", "0000000000")
        cid_name = merged.get("origination_caller_id_name", "Outbound Call")
        base = [("sip_profile_name", ep.name), ("video_media_flow", "disabled")]
        ch = self.flows.new_leg(uuid, name, cid_name, cid_num, user, merged, base)
        ch.kind = "agent"
        ch.variables["sip_destination_url"] = f"sip:{ep.target}"
        ch.variables["originate_endpoint"] = "sofia"
        self.flows.start_leg(ch)
        self._ring_agent(ch, contact, ep, on_answer, on_fail)
        return uuid

    def _ring_agent(
        self,
        ch: Channel,
        contact: str,
        ep: Endpoint,
        on_answer: Callable[[str], None],
        on_fail: Callable[[str, str], None],
    ) -> None:
        sw = self.sw
        behaviour = sw.scenario.agent_endpoint(contact)
        delay = behaviour.answer_delay_s.sample(sw.rng)
        limit_s, limit_cause = ring_limit(ch.variables, None)
        sw.on_hangup(ch.uuid, lambda cause: on_fail(ch.uuid, cause) if not ch.answered else None)

        def progress() -> None:
            ch.profile["Network-Addr"] = "127.0.0.1"
            ch.profile["Channel-Progress-Time"] = str(sw.clock.now_us())
            sw.chan_event(ch, "CHANNEL_PROGRESS")
            sw.set_callstate(ch, "RINGING")

        def answer() -> None:
            sw.media_up(ch)
            ch.answer_state = "answered"
            ch.profile["Network-Addr"] = "127.0.0.1"
            ch.profile["Channel-Answered-Time"] = str(sw.clock.now_us())
            sw.chan_event(ch, "CHANNEL_ANSWER")
            sw.set_callstate(ch, "ACTIVE")
            member = sw.channels.get(ch.variables.get("cc_member_session_uuid", ""))
            if member is not None and member.is_up:
                ch.other_profile = dict(member.profile)
                member.other_uuid, member.other_type = ch.uuid, "originatee"
                member.profile["Callee-ID-Name"] = ch.profile.get("Caller-ID-Name", "")
                member.profile["Callee-ID-Number"] = ch.dest
                member.profile = {k: member.profile[k] for k in ordered_keys(member.profile)}
            if behaviour.hangup_after_s is not None:
                sw.later(ch, float(behaviour.hangup_after_s), lambda: self.flows.remote_bye(ch))
            on_answer(ch.uuid)

        if behaviour.behaviour != "reject":
            sw.later(ch, 0.0, progress)
        if behaviour.behaviour == "reject":
            sw.later(ch, delay, lambda: self._agent_rejects(ch))
        elif behaviour.behaviour == "answer" and delay < limit_s:
            sw.later(ch, delay, answer)
        else:
            sw.later(ch, limit_s, lambda: sw.do_hangup(ch, limit_cause))

    def _agent_rejects(self, ch: Channel) -> None:
        ch.profile["Network-Addr"] = "127.0.0.1"
        v = ch.variables
        v["sip_hangup_disposition"] = "recv_refuse"
        v["sip_invite_failure_status"] = "486"
        v["sip_invite_failure_phrase"] = "Busy Here"
        v["sip_term_status"] = "486"
        v["sip_term_cause"] = "17"
        self.sw.do_hangup(ch, "USER_BUSY")

    def bridge(self, member_uuid: str, agent_uuid: str) -> None:
        """`SwitchPort.bridge` with the event order of transcript (a)."""
        sw = self.sw
        member = sw.channels.get(member_uuid)
        agent = sw.channels.get(agent_uuid)
        if member is None or agent is None or not member.is_up or not agent.is_up:
            for leg in (member, agent):
                if leg is not None and leg.is_up:
                    sw.do_hangup(leg, "NORMAL_CLEARING")
            return
        member.other_uuid, agent.other_uuid = agent_uuid, member_uuid
        member.other_type, agent.other_type = "originatee", "originator"
        agent.profile["Transfer-Source"] = (
            f"{int(sw.now_s())}:{sw.new_uuid()}:uuid_br:{member_uuid}"
        )
        sw.set_state(agent, "CS_HIBERNATE")
        sw.set_state(agent, "CS_RESET")
        for state in ("CS_HIBERNATE", "CS_RESET", "CS_SOFT_EXECUTE"):
            sw.set_state(member, state)
        sw.set_state(agent, "CS_SOFT_EXECUTE")
        execute(self.sw, member, "uuid_bridge", agent_uuid)
        execute(self.sw, agent, "uuid_bridge", member_uuid)
        sw.set_state(agent, "CS_CONSUME_MEDIA")
        now = str(sw.clock.now_us())
        member.profile["Channel-Bridged-Time"] = now
        member.bridged_to, agent.bridged_to = agent_uuid, member_uuid
        for leg, other in ((member, agent), (agent, member)):
            leg.variables["last_bridge_to"] = other.uuid
            leg.variables["bridge_channel"] = other.name
            leg.variables["bridge_uuid"] = other.uuid
            leg.variables["signal_bond"] = other.uuid
        sw.chan_event(
            member,
            "CHANNEL_BRIDGE",
            prefix=[("Bridge-A-Unique-ID", member_uuid), ("Bridge-B-Unique-ID", agent_uuid)],
        )
        sw.set_state(agent, "CS_EXCHANGE_MEDIA")
        for leg, other in ((member, agent), (agent, member)):
            sw.chan_event(
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
        record = sw.records.get(member_uuid)
        if record is not None:
            record.bridged_s = sw.now_s()
            record.agent = agent.variables.get("cc_agent", "")
            record.agent_uuid = agent_uuid
        if member.talk_s > 0:
            sw.cancel_timers(member)
            sw.later(member, member.talk_s, lambda: self.flows.remote_bye(member))
