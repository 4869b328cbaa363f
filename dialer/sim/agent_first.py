"""Agent-first click-to-call on the simulated switch:
``originate {vars}<agent contact> &bridge({vars}sofia/gateway/<gw>/<number>)``.

Event orders and results are copied from transcripts u1, u2, u3:

* the agent leg rings like a callcenter agent leg (`dialer.sim.agent_legs`: its behaviour is
  the scenario's ``agent_endpoints``); the originate's BACKGROUND_JOB is ``+OK <agent uuid>``
  as soon as the **agent** answers, before the customer is dialled (u1, u2); an agent that
  does not answer ends ``ALLOTTED_TIMEOUT`` (``leg_timeout``) and the job is
  ``-ERR ALLOTTED_TIMEOUT``, after HANGUP_COMPLETE, before DESTROY; the customer is never
  dialled (u3);
* the answered agent leg flips its caller ID, CALL_UPDATE, CS_EXECUTE, CHANNEL_EXECUTE
  bridge; the customer leg goes out through the gateway as a campaign call's would (the
  scenario's population decides its fate), with none of the originate's ``{}`` variables
  (they are not inherited by the bridge leg), ``originator`` = the agent uuid and the agent
  as its Other-Leg (originator);
* the customer answers: CHANNEL_BRIDGE and CALL_UPDATE on the agent leg; when the customer
  hangs up, the agent leg gets CHANNEL_UNBRIDGE, EXECUTE_COMPLETE bridge, then hangs up with
  the customer's cause (u1);
* the customer leg fails (486 ...): the agent leg hangs up with that cause, then its
  EXECUTE_COMPLETE bridge (u2); the job already said ``+OK``.

Invariant: the originate's reply is sent exactly once; every leg started is hung up.
"""

from __future__ import annotations

from collections.abc import Callable

from dialer.sim.bridge import announce_bridged
from dialer.sim.carrier import Reply
from dialer.sim.channel import TIME_FIELDS, Channel, ordered_profile
from dialer.sim.originate_parse import OriginateRequest, parse_dial_string
from dialer.sim.ports import AgentLegRequest
from dialer.sim.records import CallRecord
from dialer.sim.routing import flip_cid
from dialer.sim.switch import SimSwitch

__all__ = ["AgentFirst", "DialGateway", "is_agent_first"]

_DIALSTATUS = {"USER_BUSY": "BUSY", "NO_ANSWER": "NOANSWER", "CALL_REJECTED": "BUSY"}
"""``DIALSTATUS`` FreeSWITCH sets for a failed bridge (u2: USER_BUSY -> BUSY)."""

_TIMES = ("Profile-Created-Time", "Channel-Created-Time", *TIME_FIELDS)

DialGateway = Callable[[OriginateRequest, dict[str, str], CallRecord, Reply, "_CustomerLeg"], None]
"""`dialer.sim.originator.SimOriginator._originate_gateway`: a gateway leg with hooks."""


def is_agent_first(req: OriginateRequest) -> bool:
    """An originate to a phone (not a gateway) whose answered leg bridges to a gateway."""
    return req.app_name == "bridge" and req.endpoint.kind in ("profile", "user")


class _CustomerLeg:
    """The bridge's b-leg: set up as the agent's originatee, bridged once it answers."""

    def __init__(self, flow: AgentFirst, agent: Channel) -> None:
        self._flow = flow
        self.agent = agent
        self.customer: Channel | None = None

    def created(self, ch: Channel) -> None:
        """The b-leg inherits the agent's original caller ID as its ANI; its Other-Leg is
        the agent's (flipped) profile, times not yet set, seen from the inbound side (u1)."""
        self.customer = ch
        agent = self.agent
        p = ch.profile
        p["Caller-ID-Name"] = "Outbound Call"
        p.pop("Orig-Caller-ID-Name", None)
        p["Orig-Caller-ID-Number"] = agent.profile.get("Orig-Caller-ID-Number", "")
        p["ANI"] = agent.profile.get("ANI", "")
        p["Network-Addr"] = "127.0.0.1"
        ch.profile = dict(ordered_profile(p))
        ch.other_uuid, ch.other_type = agent.uuid, "originator"
        snapshot = dict(agent.profile)
        snapshot["Logical-Direction"] = "inbound"
        for name in _TIMES:
            snapshot[name] = "0"
        ch.other_profile = snapshot
        ch.variables["dialer_trunk"] = ch.gateway or ""
        ch.variables["originator"] = agent.uuid
        ch.variables["originating_leg_uuid"] = agent.uuid

    def answered(self, ch: Channel) -> None:
        self._flow.bridge(self.agent, ch)


class AgentFirst:
    """Runs agent-first originates on ``switch``; ``dial_gateway`` places the b-leg."""

    def __init__(self, switch: SimSwitch, dial_gateway: DialGateway) -> None:
        self.sw = switch
        self._dial_gateway = dial_gateway

    def originate(
        self, req: OriginateRequest, variables: dict[str, str], record: CallRecord, reply: Reply
    ) -> None:
        """Ring the agent (``req.endpoint``); ``reply`` gets the originate's result once."""
        sw = self.sw
        sent = [False]

        def once(text: str) -> None:
            if not sent[0]:
                sent[0] = True
                record.originate_reply = text.strip()
                reply(text)

        def on_fail(_uuid: str, cause: str) -> None:
            record.failed(cause, sw.now_s())
            once(f"-ERR {cause}\n")

        def on_answer(uuid: str) -> None:
            record.answered_s = sw.now_s()
            once(f"+OK {uuid}\n")
            agent = sw.channels.get(uuid)
            if agent is not None and agent.is_up:
                self._execute_bridge(agent, req)

        sw.agent_legs.originate(
            AgentLegRequest(req.endpoint.raw, variables, on_answer, on_fail, caller_id_name=None)
        )

    def _execute_bridge(self, agent: Channel, req: OriginateRequest) -> None:
        sw = self.sw
        flip_cid(agent)
        sw.bus.channel_event(agent, "CALL_UPDATE", prefix=[("Direction", "RECV")])
        sw.channels.set_state(agent, "CS_EXECUTE")
        sw.channels.execute(agent, "bridge", req.app_args)
        sw.channels.set_callstate(agent, "RING_WAIT")
        parsed = parse_dial_string(req.app_args)
        if not isinstance(parsed, tuple) or parsed[1].kind != "gateway":
            cause = "CHAN_NOT_IMPLEMENTED"
            sw.hangups.hang_up(agent, cause)
            return
        global_vars, endpoint, refused = parsed
        b_req = OriginateRequest(
            global_vars=global_vars,
            endpoint=endpoint,
            destination="",
            app_name=None,
            app_args="",
            dialplan="XML",
            context="default",
            cid_name=None,
            cid_num=None,
            timeout_s=None,
            refused_vars=refused,
        )
        b_vars = b_req.channel_vars()
        b_vars.pop("origination_uuid", None)
        uuid = sw.new_call_uuid()
        b_record = CallRecord(uuid, endpoint.name, endpoint.target, sw.now_s())
        sw.records.add(b_record)
        leg = _CustomerLeg(self, agent)

        def b_result(text: str) -> None:
            if text.startswith("-ERR") and leg.customer is not None:
                self._customer_failed(agent, leg.customer, text.split()[-1])

        self._dial_gateway(b_req, b_vars, b_record, b_result, leg)
        customer = leg.customer
        if customer is not None:
            sw.hangups.on_hangup(agent.uuid, lambda _c: self._agent_gone(customer))

    def bridge(self, agent: Channel, customer: Channel) -> None:
        """The customer answered: the agent leg is bridged to it (u1)."""
        sw = self.sw
        if not agent.is_up:
            sw.hangups.hang_up(customer, "NORMAL_CLEARING")
            return
        now_us = str(sw.clock.now_us())
        agent.other_uuid, agent.other_type = customer.uuid, "originatee"
        agent.other_profile = None
        agent.profile["Channel-Bridged-Time"] = now_us
        agent.profile["Callee-ID-Name"] = "Outbound Call"
        agent.profile["Callee-ID-Number"] = customer.dest
        agent.profile = dict(ordered_profile(agent.profile))
        v = agent.variables
        v["originated_legs"] = f"{customer.uuid};Outbound Call;{customer.dest}"
        v["originate_disposition"] = "SUCCESS"
        v["DIALSTATUS"] = "SUCCESS"
        v["originate_causes"] = f"{customer.uuid};NONE"
        for leg, other in ((agent, customer), (customer, agent)):
            leg.variables["last_bridge_to"] = other.uuid
            leg.variables["bridge_channel"] = other.name
            leg.variables["bridge_uuid"] = other.uuid
            leg.variables["signal_bond"] = other.uuid
        sw.channels.set_callstate(agent, "ACTIVE")
        sw.bus.channel_event(
            agent,
            "CHANNEL_BRIDGE",
            prefix=[("Bridge-A-Unique-ID", agent.uuid), ("Bridge-B-Unique-ID", customer.uuid)],
        )
        sw.channels.set_state(customer, "CS_EXCHANGE_MEDIA")
        announce_bridged(sw.bus, customer, agent)
        sw.hangups.on_hangup(customer.uuid, lambda cause: self._customer_left(agent, cause))

    def _customer_left(self, agent: Channel, cause: str) -> None:
        """The bridged customer hung up: the agent is unbridged, its bridge returns, and it
        hangs up with the customer's cause (``hangup_after_bridge``)."""
        sw = self.sw
        if not agent.is_up:
            return
        customer_uuid = agent.other_uuid or ""
        agent.variables["last_bridge_hangup_cause"] = cause
        agent.variables["bridge_hangup_cause"] = cause
        sw.bus.channel_event(
            agent,
            "CHANNEL_UNBRIDGE",
            prefix=[("Bridge-A-Unique-ID", agent.uuid), ("Bridge-B-Unique-ID", customer_uuid)],
        )
        sw.channels.complete(agent)
        sw.hangups.hang_up(agent, cause)

    def _customer_failed(self, agent: Channel, customer: Channel, cause: str) -> None:
        """The customer leg never answered: the failed bridge's cause ends the agent leg,
        which keeps the b-leg's SIP failure in its variables (u2)."""
        if not agent.is_up:
            return
        b = customer.variables
        v = agent.variables
        v["originate_signal_bond"] = customer.uuid
        v["originated_legs"] = f"{customer.uuid};Outbound Call;{customer.dest}"
        for name in ("sip_invite_failure_status", "sip_invite_failure_phrase"):
            if name in b:
                v[name] = b[name]
        v["last_bridge_hangup_cause"] = cause
        if "proto_specific_hangup_cause" in b:
            v["last_bridge_proto_specific_hangup_cause"] = b["proto_specific_hangup_cause"]
        v["originate_disposition"] = cause
        v["DIALSTATUS"] = _DIALSTATUS.get(cause, cause)
        v["originate_causes"] = f"{customer.uuid};{cause}"
        v["originate_failed_cause"] = cause
        self.sw.channels.set_callstate(agent, "ACTIVE")
        self.sw.hangups.hang_up(agent, cause)

    def _agent_gone(self, customer: Channel) -> None:
        """The agent hung up first: the customer leg goes too."""
        if customer.is_up:
            self.sw.hangups.hang_up(customer, "NORMAL_CLEARING")
