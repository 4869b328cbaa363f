"""The ``originate`` API command on the simulated switch: admission, the customer leg, where
the answered leg goes (``&app(args)`` or the dialplan), and ``uuid_kill`` of a ringing leg.

Event orders are copied from the transcripts (a, d2, l, o):
- sps / max_sessions refusal: no channel event, ``-ERR DESTINATION_OUT_OF_ORDER``;
- gateway DOWN: CHANNEL_DESTROY only, ``-ERR GATEWAY_DOWN``;
- uuid_kill while ringing: HANGUP ... HANGUP_COMPLETE, then BACKGROUND_JOB.
The reply callback receives FreeSWITCH's reply line (with trailing newline) exactly once.
"""

from __future__ import annotations

from typing import Protocol

from dialer.sim.admission import REFUSAL_CAUSE
from dialer.sim.agent_first import AgentFirst, is_agent_first
from dialer.sim.carrier import CarrierLegs, OnceReply, Reply, sip_variables
from dialer.sim.channel import Channel
from dialer.sim.originate_parse import OriginateRequest
from dialer.sim.population import PopulationRule, pick_rule, plan_callee
from dialer.sim.records import CallRecord
from dialer.sim.routing import flip_cid, transfer_to_dialplan
from dialer.sim.sip import SIP_FAILURES, ring_limit
from dialer.sim.switch import SimSwitch

__all__ = ["DialplanRunner", "LegHooks", "SimOriginator"]


class LegHooks(Protocol):
    """A leg originated by an application (``bridge``) rather than by ``originate``."""

    def created(self, ch: Channel) -> None:
        """The leg exists; none of its events went out yet."""

    def answered(self, ch: Channel) -> None:
        """The far end answered the leg."""


class DialplanRunner(Protocol):
    """Runs an extension on an answered customer leg (`dialer.sim.dialplan.Dialplan`)."""

    def run(self, ch: Channel, extension: str, context: str, record: CallRecord) -> None:
        """Run ``extension`` in ``context`` on the answered channel ``ch``."""


class SimOriginator:
    """Originates customer legs on a `SimSwitch`; ``dialplan`` runs the answered ones."""

    def __init__(self, switch: SimSwitch, dialplan: DialplanRunner) -> None:
        self.sw = switch
        self.carrier = CarrierLegs(switch)
        self.dialplan = dialplan
        self._kill_replies: dict[str, OnceReply] = {}
        self._script_positions: dict[int, int] = {}
        self.agent_first = AgentFirst(switch, self._originate_gateway)

    def originate(self, req: OriginateRequest, reply: Reply) -> None:
        """Start an originate; ``reply`` gets ``+OK <uuid>`` / ``-ERR <CAUSE>`` once."""
        sw = self.sw
        variables = req.channel_vars()
        uuid = variables.get("origination_uuid") or sw.new_call_uuid()
        ep = req.endpoint
        record = CallRecord(
            uuid, ep.name if ep.kind == "gateway" else ep.kind, ep.target, sw.now_s()
        )
        if not sw.admission.admit_session(sw.now_s(), sw.live_sessions()):
            record.refused = REFUSAL_CAUSE
            record.originate_reply = f"-ERR {REFUSAL_CAUSE}"
            sw.records.add(record)
            sw.clock.call_later(0.002, lambda: reply(f"-ERR {REFUSAL_CAUSE}\n"))
            return
        if uuid in sw.channels:
            sw.clock.call_later(0.0, lambda: reply(f"-ERR {REFUSAL_CAUSE}\n"))
            return
        sw.records.add(record)
        if is_agent_first(req):
            self.agent_first.originate(req, variables, record, reply)
        elif ep.kind == "gateway":
            self._originate_gateway(req, variables, record, reply)
        else:
            self._originate_local(req, variables, record, reply)

    def kill(self, uuid: str, cause: str = "NORMAL_CLEARING") -> bool:
        """``uuid_kill``: a ringing originate gets its reply right after HANGUP_COMPLETE."""
        sw = self.sw
        ch = sw.channels.get(uuid)
        if ch is None or not ch.is_up:
            return False
        once = self._kill_replies.pop(uuid, None)
        record = sw.records.get(uuid)
        if record is not None and record.hangup_s is None and not ch.answered:
            record.failed(cause, sw.now_s())
        done = (lambda: once(f"-ERR {cause}\n")) if once is not None else None
        sw.hangups.hang_up(ch, cause, after_complete=done)
        return True

    def _originate_gateway(
        self,
        req: OriginateRequest,
        variables: dict[str, str],
        record: CallRecord,
        reply: Reply,
        leg: LegHooks | None = None,
    ) -> None:
        """A gateway leg; ``leg`` (a bridge's b-leg) sets the leg up before its first event
        and takes it once answered, instead of the originate's own destination."""
        sw = self.sw
        ep = req.endpoint
        gw = sw.scenario.gateways.get(ep.name)
        cid_num = variables.get("origination_caller_id_number", req.cid_num or "0000000000")
        cid_name = variables.get("origination_caller_id_name", req.cid_name)
        name = f"sofia/{gw.profile if gw else 'external'}/{ep.target}"
        proxy = gw.proxy if gw else "127.0.0.1"
        base = [
            ("sip_gateway_name", ep.name),
            ("sip_local_network_addr", "127.0.0.1"),
            ("sip_profile_name", "gateway"),
            ("video_media_flow", "disabled"),
            ("text_media_flow", "disabled"),
        ]
        ch = sw.channels.create_leg(
            record.uuid, name, cid_name, cid_num, ep.target, variables, base
        )
        ch.gateway = ep.name
        if leg is not None:
            leg.created(ch)
        ch.variables["sip_destination_url"] = f"sip:{ep.target}@{proxy}"
        ch.variables["originate_endpoint"] = "sofia"
        sw.gateway_stats.call_placed(ep.name)
        if gw is None or gw.status == "DOWN":
            self._gateway_down(
                ch, record, "GATEWAY_DOWN" if gw is not None else "INVALID_GATEWAY", reply
            )
            return
        ch.variables.update(sip_variables(ch.uuid, ep.name, ep.target, proxy, gw.profile))
        active_calls = sw.gateway_stats.call_started(ep.name)
        sw.channels.start_leg(ch)
        timeout_s, timeout_cause = ring_limit(variables, req.timeout_s)
        rule = pick_rule(sw.scenario.population, ep.name, ep.target)
        plan = plan_callee(rule, sw.call_rng, self._next_scripted(rule))
        record.planned_outcome = plan.outcome
        record.machine = plan.machine
        carrier = self.carrier
        over = sw.admission.carrier_over_limit(gw, active_calls, sw.now_s())
        if gw.status == "UNREACHABLE":
            sw.channels.later(
                ch, 0.02, lambda: carrier.sip_failure(ch, record, "failure", reply, local=True)
            )
        elif gw.status == "BLACKHOLE":
            sw.channels.later(
                ch, timeout_s, lambda: carrier.no_response(ch, record, reply, timeout_cause)
            )
        elif over:
            sw.channels.later(
                ch,
                plan.post_dial_delay_s,
                lambda: carrier.sip_failure(ch, record, "failure", reply),
            )
        elif plan.outcome in SIP_FAILURES:
            delay = plan.post_dial_delay_s + plan.ring_s
            sw.channels.later(
                ch, delay, lambda: carrier.sip_failure(ch, record, plan.outcome, reply)
            )
        else:
            once = OnceReply(record, reply)
            self._kill_replies[ch.uuid] = once
            on_up = (
                (lambda: leg.answered(ch))
                if leg is not None
                else (lambda: self._after_originate(ch, req, record))
            )
            carrier.ring(ch, record, plan, (timeout_s, timeout_cause), once, on_up)

    def _gateway_down(self, ch: Channel, record: CallRecord, cause: str, reply: Reply) -> None:
        """The session is torn down before it ran: only CHANNEL_DESTROY, from the loop."""
        sw = self.sw
        record.failed(cause, sw.now_s())
        ch.name = "N/A"
        ch.state = "CS_NONE"
        ch.variables = {
            k: ch.variables[k] for k in ("direction", "is_outbound", "uuid", "call_uuid")
        } | {"session_id": ch.variables.get("session_id", "0")}
        ch.profile = {}

        def destroy() -> None:
            if ch.gateway:
                sw.gateway_stats.call_failed(ch.gateway)
            sw.channels.destroy_unstarted(ch)
            reply(f"-ERR {cause}\n")

        sw.clock.call_later(0.0, destroy)

    def _next_scripted(self, rule: PopulationRule) -> str | None:
        """Next entry of a rule's ``script`` (None once exhausted or without script)."""
        idx = self._script_positions.get(id(rule), 0)
        if idx >= len(rule.script):
            return None
        self._script_positions[id(rule)] = idx + 1
        return rule.script[idx]

    def _originate_local(
        self, req: OriginateRequest, variables: dict[str, str], record: CallRecord, reply: Reply
    ) -> None:
        """Endpoints that are not gateways: loopback, user, null answer at once; error/CAUSE
        fails with CAUSE."""
        ep = req.endpoint
        names = {"loopback": f"loopback/{ep.target}-a", "user": f"sofia/internal/{ep.target}"}
        name = names.get(ep.kind, f"{ep.kind}/{ep.target}" if ep.target else ep.kind)
        sw = self.sw
        cid_num = variables.get("origination_caller_id_number", req.cid_num or "0000000000")
        ch = sw.channels.create_leg(
            record.uuid,
            name,
            variables.get("origination_caller_id_name"),
            cid_num,
            ep.target or ep.kind,
            variables,
            [("originate_endpoint", ep.kind)],
        )
        if ep.kind == "error":
            record.failed(ep.target, sw.now_s())
            sw.hangups.hang_up(ch, ep.target, after_complete=lambda: reply(f"-ERR {ep.target}\n"))
            return
        sw.channels.start_leg(ch)

        def answer() -> None:
            sw.media.media_up(ch)
            record.answered_s = sw.now_s()
            sw.records.note(record)
            ch.answer_state = "answered"
            ch.profile["Channel-Answered-Time"] = str(sw.clock.now_us())
            sw.bus.channel_event(ch, "CHANNEL_ANSWER")
            sw.channels.set_callstate(ch, "ACTIVE")
            record.originate_reply = f"+OK {ch.uuid}"
            reply(f"+OK {ch.uuid}\n")
            self._after_originate(ch, req, record)

        sw.channels.later(ch, 0.01, answer)

    def _after_originate(self, ch: Channel, req: OriginateRequest, record: CallRecord) -> None:
        self._kill_replies.pop(ch.uuid, None)
        sw = self.sw
        if not ch.is_up:
            return
        if req.app_name is not None:
            flip_cid(ch)
            sw.bus.channel_event(ch, "CALL_UPDATE", prefix=[("Direction", "RECV")])
            sw.channels.set_state(ch, "CS_EXECUTE")
            sw.channels.execute(ch, req.app_name, req.app_args)
            if req.app_name == "park":
                sw.bus.channel_event(ch, "CHANNEL_PARK")
            elif req.app_name == "hangup":
                sw.hangups.hang_up(ch, req.app_args or "NORMAL_CLEARING")
            return
        transfer_to_dialplan(sw, ch, req)
        self.dialplan.run(ch, req.destination, req.context, record)
