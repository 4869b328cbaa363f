"""Call flows on the simulated switch: customer originates, dialplan, agent legs, bridges.

Event orders are copied from the transcripts (a, b, c, d, d2, d3, l, l2, o, p, q, q2):
- failures by SIP response (486/404/480/503/603): HANGUP ... HANGUP_COMPLETE, BACKGROUND_JOB,
  DESTROY; no PROGRESS;
- NO_ANSWER after 180 and uuid_kill while ringing: HANGUP, BACKGROUND_JOB, then the rest;
- no response at all (blackhole): BACKGROUND_JOB after DESTROY;
- gateway DOWN: CHANNEL_DESTROY only, ``-ERR GATEWAY_DOWN``;
- sps / max_sessions refusal: no channel event, ``-ERR DESTINATION_OUT_OF_ORDER``.
The originate reply callback receives FreeSWITCH's reply line (with trailing newline).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from dialer.sim.channel import Channel, new_profile
from dialer.sim.originate_parse import OriginateRequest
from dialer.sim.records import CallRecord
from dialer.sim.routing import execute, execute_on_answer, flip_cid, transfer_to_dialplan
from dialer.sim.scenario import CalleePlan, pick_rule, plan_callee
from dialer.sim.switch import Switch

Reply = Callable[[str], None]

SIP_FAILURES: dict[str, tuple[str, int, str]] = {
    "busy": ("USER_BUSY", 486, "Busy Here"),
    "invalid": ("UNALLOCATED_NUMBER", 404, "Not Found"),
    "unavailable": ("NO_USER_RESPONSE", 480, "Temporarily Unavailable"),
    "rejected": ("CALL_REJECTED", 603, "Decline"),
    "failure": ("NORMAL_TEMPORARY_FAILURE", 503, "Service Unavailable"),
    "cancelled": ("ORIGINATOR_CANCEL", 487, "Request Terminated"),
}
SIP_TERM_CAUSE = {486: "17", 404: "1", 480: "18", 603: "21", 503: "41", 487: "487"}


def ring_limit(variables: Mapping[str, str], timeout_arg: int | None) -> tuple[float, str]:
    """How long a leg may ring and the cause when it does not answer: ``leg_timeout=N``
    ends it with ALLOTTED_TIMEOUT after N+0.9 s (originate compares whole seconds with ``>``,
    transcript s), else ``originate_timeout`` (default 60 s) with NO_ANSWER."""
    leg_timeout = variables.get("leg_timeout", "")
    if leg_timeout.isdigit():
        return int(leg_timeout) + 0.9, "ALLOTTED_TIMEOUT"
    timeout = variables.get("originate_timeout", "")
    return float(timeout) if timeout.isdigit() else float(timeout_arg or 60), "NO_ANSWER"


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("true", "yes", "on", "1")


class Flows:
    """Drives calls on a `Switch`."""

    def __init__(self, switch: Switch) -> None:
        self.sw = switch
        self._kill_replies: dict[str, Reply] = {}

    # --- customer originate ---------------------------------------------------------------
    def originate(self, req: OriginateRequest, reply: Reply) -> None:
        """Start an originate; ``reply`` gets ``+OK <uuid>`` / ``-ERR <CAUSE>`` once."""
        sw = self.sw
        variables = req.channel_vars()
        uuid = variables.get("origination_uuid") or sw.new_call_uuid()
        ep = req.endpoint
        number = ep.target
        record = CallRecord(uuid, ep.name if ep.kind == "gateway" else ep.kind, number, sw.now_s())
        if not sw.admit_session():
            record.refused = "DESTINATION_OUT_OF_ORDER"
            record.originate_reply = "-ERR DESTINATION_OUT_OF_ORDER"
            sw.records.add(record)
            sw.clock.call_later(0.002, lambda: reply("-ERR DESTINATION_OUT_OF_ORDER\n"))
            return
        if uuid in sw.channels:
            sw.clock.call_later(0.0, lambda: reply("-ERR DESTINATION_OUT_OF_ORDER\n"))
            return
        sw.records.add(record)
        if ep.kind == "gateway":
            self._originate_gateway(req, uuid, variables, record, reply)
        else:
            self._originate_local(req, uuid, variables, record, reply)

    def new_leg(
        self,
        uuid: str,
        name: str,
        cid_name: str | None,
        cid_num: str,
        dest: str,
        variables: Mapping[str, str],
        base_vars: list[tuple[str, str]],
    ) -> Channel:
        sw = self.sw
        now = sw.clock.now_us()
        ch = Channel(uuid=uuid, name=name, created_us=now)
        ch.profile = new_profile(uuid, name, now, cid_name, cid_num, "Outbound Call", dest)
        ch.variables = {
            "direction": "outbound",
            "is_outbound": "true",
            "uuid": uuid,
            "call_uuid": uuid,
        }
        sw.add_channel(ch)
        ch.variables.update(base_vars)
        ch.variables["channel_name"] = name
        ch.variables.update(variables)
        ch.variables.setdefault("originate_early_media", "false")
        ch.hangup_after_bridge = _truthy(variables.get("hangup_after_bridge"))
        return ch

    def start_leg(self, ch: Channel) -> None:
        sw = self.sw
        sw.chan_event(ch, "CHANNEL_OUTGOING", with_vars=False)
        ch.state = "CS_INIT"
        sw.chan_event(ch, "CHANNEL_STATE", with_vars=False)
        sw.chan_event(ch, "CHANNEL_CREATE")
        sw.chan_event(ch, "CHANNEL_ORIGINATE")
        sw.set_state(ch, "CS_ROUTING")
        sw.set_state(ch, "CS_CONSUME_MEDIA")

    def _originate_gateway(
        self,
        req: OriginateRequest,
        uuid: str,
        variables: dict[str, str],
        record: CallRecord,
        reply: Reply,
    ) -> None:
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
        ch = self.new_leg(uuid, name, cid_name, cid_num, ep.target, variables, base)
        ch.gateway = ep.name
        ch.variables["sip_destination_url"] = f"sip:{ep.target}@{proxy}"
        ch.variables["originate_endpoint"] = "sofia"
        sw.gateway_calls[ep.name] = sw.gateway_calls.get(ep.name, 0) + 1
        if gw is None or gw.status == "DOWN":
            cause = "GATEWAY_DOWN" if gw is not None else "INVALID_GATEWAY"
            self._fail_record(record, cause)
            ch.name = "N/A"
            ch.state = "CS_NONE"
            ch.variables = {
                k: ch.variables[k] for k in ("direction", "is_outbound", "uuid", "call_uuid")
            } | {"session_id": ch.variables.get("session_id", "0")}
            ch.profile = {}
            sw.clock.call_later(0.0, lambda: self._gateway_down(ch, cause, reply))
            return
        ch.variables.update(self._sip_vars(ch.uuid, ep.name, ep.target, proxy, gw.profile))
        sw.gateway_active[ep.name] = sw.gateway_active.get(ep.name, 0) + 1
        self.start_leg(ch)
        timeout_s, timeout_cause = ring_limit(variables, req.timeout_s)
        rule = pick_rule(sw.scenario.population, ep.name, ep.target)
        plan = plan_callee(rule, sw.call_rng, sw.next_scripted(rule))
        record.planned_outcome = plan.outcome
        record.machine = plan.machine
        over = self._carrier_over_limit(ep.name)
        if gw.status == "UNREACHABLE":
            sw.later(ch, 0.02, lambda: self._sip_failure(ch, record, "failure", reply, local=True))
        elif gw.status == "BLACKHOLE":
            sw.later(
                ch, timeout_s, lambda: self._blackhole_timeout(ch, record, reply, timeout_cause)
            )
        elif over:
            sw.later(
                ch, plan.post_dial_delay_s, lambda: self._sip_failure(ch, record, "failure", reply)
            )
        elif plan.outcome in SIP_FAILURES:
            delay = plan.post_dial_delay_s + plan.ring_s
            sw.later(ch, delay, lambda: self._sip_failure(ch, record, plan.outcome, reply))
        else:
            self._ringing_flow(ch, req, record, plan, (timeout_s, timeout_cause), reply)

    def _sip_vars(
        self, uuid: str, gateway: str, target: str, proxy: str, profile: str
    ) -> dict[str, str]:
        """Media and SIP variables sofia sets on an outgoing gateway leg (values of the lab)."""
        port = str(16384 + 2 * (int(uuid[-4:], 16) % 8192))
        sdp = (
            "v=0\r\no=FreeSWITCH 1 2 IN IP4 127.0.0.1\r\ns=FreeSWITCH\r\nc=IN IP4 127.0.0.1\r\n"
            f"t=0 0\r\nm=audio {port} RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\n"
            "a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
            "a=ptime:20\r\na=sendrecv\r\n"
        )
        return {
            "rtp_use_codec_string": "PCMU,PCMA",
            "local_media_ip": "127.0.0.1",
            "local_media_port": port,
            "advertised_media_ip": "127.0.0.1",
            "audio_media_flow": "sendrecv",
            "rtp_local_sdp_str": sdp,
            "sip_outgoing_contact_uri": (
                f"<sip:gw+{gateway}@127.0.0.1:5080;transport=udp;gw={gateway}>"
            ),
            "sip_req_uri": f"{target}@{proxy}",
            "sip_to_host": proxy,
            "sip_from_host": proxy.split(":")[0],
            "sofia_profile_name": profile,
            "recovery_profile_name": profile,
            "sofia_profile_url": "sip:mod_sofia@127.0.0.1:5080",
        }

    def _remote_responded(self, ch: Channel) -> None:
        """First SIP response from the far end: the network variables appear."""
        ch.profile["Network-Addr"] = "127.0.0.1"
        host, _, port = ch.variables.get("sip_to_host", "127.0.0.1:5060").partition(":")
        v = ch.variables
        v.setdefault("sip_call_id", f"{ch.uuid[::-1]}")
        v.setdefault("sip_local_network_addr", "127.0.0.1")
        v.setdefault("sip_reply_host", host)
        v.setdefault("sip_reply_port", port or "5060")
        v.setdefault("sip_network_ip", host)
        v.setdefault("sip_network_port", port or "5060")

    def _carrier_over_limit(self, gateway: str) -> bool:
        sw = self.sw
        gw = sw.scenario.gateways[gateway]
        if gw.max_calls and sw.gateway_active.get(gateway, 0) > gw.max_calls:
            return True
        if gw.max_cps:
            second = int(sw.now_s())
            window, count = sw.gateway_cps.get(gateway, (second, 0))
            if window != second:
                window, count = second, 0
            sw.gateway_cps[gateway] = (window, count + 1)
            return count + 1 > gw.max_cps
        return False

    def _fail_record(self, record: CallRecord, cause: str) -> None:
        record.hangup_cause = cause
        record.hangup_s = self.sw.now_s()
        record.originate_reply = f"-ERR {cause}"

    def _gateway_down(self, ch: Channel, cause: str, reply: Reply) -> None:
        sw = self.sw
        if ch.gateway:
            sw.gateway_failed[ch.gateway] = sw.gateway_failed.get(ch.gateway, 0) + 1
        sw.destroy_only(ch)
        reply(f"-ERR {cause}\n")

    def _sip_failure(
        self,
        ch: Channel,
        record: CallRecord,
        outcome: str,
        reply: Reply,
        *,
        local: bool = False,
    ) -> None:
        cause, code, phrase = SIP_FAILURES[outcome]
        if not local:
            self._remote_responded(ch)
        v = ch.variables
        v["sip_hangup_disposition"] = "send_refuse" if local else "recv_refuse"
        v["sip_invite_failure_status"] = str(code)
        v["sip_invite_failure_phrase"] = phrase
        v["sip_term_status"] = str(code)
        v["proto_specific_hangup_cause"] = f"sip:{code}"
        v["sip_term_cause"] = SIP_TERM_CAUSE[code]
        self._fail_record(record, cause)
        self._count_failed(ch)
        done = lambda: reply(f"-ERR {cause}\n")  # noqa: E731
        if code == 487:
            self.sw.do_hangup(ch, cause, after_destroy=done)
        else:
            self.sw.do_hangup(ch, cause, after_complete=done)

    def _count_failed(self, ch: Channel) -> None:
        if ch.gateway:
            self.sw.gateway_failed[ch.gateway] = self.sw.gateway_failed.get(ch.gateway, 0) + 1

    def _blackhole_timeout(self, ch: Channel, record: CallRecord, reply: Reply, cause: str) -> None:
        self._fail_record(record, cause)
        self._count_failed(ch)
        self.sw.do_hangup(ch, cause, after_destroy=lambda: reply(f"-ERR {cause}\n"))

    def _ringing_flow(
        self,
        ch: Channel,
        req: OriginateRequest,
        record: CallRecord,
        plan: CalleePlan,
        limit: tuple[float, str],
        reply: Reply,
    ) -> None:
        sw = self.sw
        ignore_early = _truthy(ch.variables.get("ignore_early_media"))
        state = {"replied": False}

        def once(text: str) -> None:
            if not state["replied"]:
                state["replied"] = True
                record.originate_reply = text.strip()
                reply(text)

        def progress() -> None:
            record.progress_s = sw.now_s()
            self._remote_responded(ch)
            ch.profile["Channel-Progress-Time"] = str(sw.clock.now_us())
            if plan.early_media:
                ch.profile["Channel-Progress-Media-Time"] = str(sw.clock.now_us())
                ch.answer_state = "early"
                sw.chan_event(ch, "CHANNEL_PROGRESS_MEDIA")
                sw.set_callstate(ch, "EARLY")
                sw.media_up(ch)
                if not ignore_early:
                    ch.variables["originate_early_media"] = "true"
                    once(f"+OK {ch.uuid}\n")
                    self._after_originate(ch, req, record)
            else:
                sw.chan_event(ch, "CHANNEL_PROGRESS")
                sw.set_callstate(ch, "RINGING")

        def answer() -> None:
            if not ch.media_up:
                sw.media_up(ch)
            record.answered_s = sw.now_s()
            ch.answer_state = "answered"
            ch.profile["Channel-Answered-Time"] = str(sw.clock.now_us())
            ch.variables["endpoint_disposition"] = "ANSWER"
            sw.chan_event(ch, "CHANNEL_ANSWER")
            sw.set_callstate(ch, "ACTIVE")
            ch.talk_s = plan.talk_s if plan.talk_from_bridge else 0.0
            sw.later(ch, plan.talk_s, lambda: self.remote_bye(ch))
            execute_on_answer(self.sw, ch)
            if not state["replied"]:
                once(f"+OK {ch.uuid}\n")
                self._after_originate(ch, req, record)

        timeout_s, cause = limit

        def no_answer() -> None:
            self._fail_record(record, cause)
            self._count_failed(ch)
            sw.do_hangup(ch, cause, after_hangup_event=lambda: once(f"-ERR {cause}\n"))

        self._kill_replies[ch.uuid] = once
        sw.later(ch, plan.post_dial_delay_s, progress)
        answer_at = plan.post_dial_delay_s + plan.ring_s
        if plan.outcome == "answer" and answer_at < timeout_s:
            sw.later(ch, answer_at, answer)
        else:
            sw.later(ch, timeout_s, no_answer)

    def kill(self, uuid: str, cause: str = "NORMAL_CLEARING") -> bool:
        """``uuid_kill``: a ringing originate gets its reply right after HANGUP_COMPLETE."""
        sw = self.sw
        ch = sw.channels.get(uuid)
        if ch is None or not ch.is_up:
            return False
        once = self._kill_replies.pop(uuid, None)
        record = sw.records.get(uuid)
        if record is not None and record.hangup_s is None and not ch.answered:
            self._fail_record(record, cause)
        done = (lambda: once(f"-ERR {cause}\n")) if once is not None else None
        sw.do_hangup(ch, cause, after_complete=done)
        return True

    def remote_bye(self, ch: Channel) -> None:
        """The far end hangs up (BYE)."""
        if ch.is_up:
            v = ch.variables
            v["sip_hangup_disposition"] = "recv_bye"
            v["sip_term_status"] = "200"
            v["proto_specific_hangup_cause"] = "sip:200"
            v["sip_term_cause"] = "16"
            self.sw.do_hangup(ch, "NORMAL_CLEARING")

    def _originate_local(
        self,
        req: OriginateRequest,
        uuid: str,
        variables: dict[str, str],
        record: CallRecord,
        reply: Reply,
    ) -> None:
        sw = self.sw
        ep = req.endpoint
        cid_num = variables.get("origination_caller_id_number", req.cid_num or "0000000000")
        names = {"loopback": f"loopback/{ep.target}-a", "user": f"sofia/internal/{ep.target}"}
        name = names.get(ep.kind, f"{ep.kind}/{ep.target}" if ep.target else ep.kind)
        ch = self.new_leg(
            uuid,
            name,
            variables.get("origination_caller_id_name"),
            cid_num,
            ep.target or ep.kind,
            variables,
            [("originate_endpoint", ep.kind)],
        )
        if ep.kind == "error":
            self._fail_record(record, ep.target)
            sw.do_hangup(ch, ep.target, after_complete=lambda: reply(f"-ERR {ep.target}\n"))
            return
        self.start_leg(ch)

        def answer() -> None:
            sw.media_up(ch)
            record.answered_s = sw.now_s()
            ch.answer_state = "answered"
            ch.profile["Channel-Answered-Time"] = str(sw.clock.now_us())
            sw.chan_event(ch, "CHANNEL_ANSWER")
            sw.set_callstate(ch, "ACTIVE")
            record.originate_reply = f"+OK {ch.uuid}"
            reply(f"+OK {ch.uuid}\n")
            self._after_originate(ch, req, record)

        sw.later(ch, 0.01, answer)

    # --- after the originate returned -----------------------------------------------------
    def _after_originate(self, ch: Channel, req: OriginateRequest, record: CallRecord) -> None:
        self._kill_replies.pop(ch.uuid, None)
        self._route(ch, req, record)

    def _route(self, ch: Channel, req: OriginateRequest, record: CallRecord) -> None:
        sw = self.sw
        if not ch.is_up:
            return
        if req.app_name is not None:
            flip_cid(ch)
            sw.chan_event(ch, "CALL_UPDATE", prefix=[("Direction", "RECV")])
            sw.set_state(ch, "CS_EXECUTE")
            execute(sw, ch, req.app_name, req.app_args)
            if req.app_name == "park":
                sw.chan_event(ch, "CHANNEL_PARK")
            elif req.app_name == "hangup":
                sw.do_hangup(ch, req.app_args or "NORMAL_CLEARING")
            return
        transfer_to_dialplan(sw, ch, req)
        self.dialplan.run(ch, req.destination, req.context, record)

    # assigned by the composition root (dialer.sim.dialplan.Dialplan)
    dialplan: DialplanRunner


class DialplanRunner:
    """Interface of the dialplan executor used by `Flows` (see `dialer.sim.dialplan`)."""

    def run(self, ch: Channel, extension: str, context: str, record: CallRecord) -> None:
        """Run ``extension`` in ``context`` on the answered channel ``ch``."""
        raise NotImplementedError
