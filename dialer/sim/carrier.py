"""The far end of a gateway leg once its INVITE went out: SIP failures, ringing, early media,
answer, no answer, and a carrier that never responds.

Event orders are copied from the transcripts (b, c, d, d3, l, l2, o, p, q, q2):
- failures by SIP response (486/404/480/503/603): HANGUP ... HANGUP_COMPLETE, BACKGROUND_JOB,
  DESTROY; no PROGRESS; 487: BACKGROUND_JOB after DESTROY;
- NO_ANSWER after 180: HANGUP, BACKGROUND_JOB, then the rest;
- no response at all (blackhole): BACKGROUND_JOB after DESTROY.
``reply`` receives FreeSWITCH's originate reply line (with trailing newline) exactly once.
"""

from __future__ import annotations

from collections.abc import Callable

from dialer.sim.channel import Channel
from dialer.sim.channel_table import is_truthy
from dialer.sim.population import CalleePlan
from dialer.sim.records import CallRecord
from dialer.sim.routing import execute_on_answer
from dialer.sim.sip import SIP_FAILURES, SIP_TERM_CAUSE
from dialer.sim.switch import SimSwitch

__all__ = ["CarrierLegs", "OnceReply", "Reply", "sip_variables"]

Reply = Callable[[str], None]
"""Receives the originate reply line, e.g. ``+OK <uuid>\\n`` or ``-ERR USER_BUSY\\n``."""


class OnceReply:
    """An originate's reply, sent at most once; the call record keeps its text."""

    def __init__(self, record: CallRecord, reply: Reply) -> None:
        self.sent = False
        self._record = record
        self._reply = reply

    def __call__(self, text: str) -> None:
        if not self.sent:
            self.sent = True
            self._record.originate_reply = text.strip()
            self._reply(text)


def sip_variables(uuid: str, gateway: str, target: str, proxy: str, profile: str) -> dict[str, str]:
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


class CarrierLegs:
    """Plays the callee's side of gateway legs on a `SimSwitch`."""

    def __init__(self, switch: SimSwitch) -> None:
        self.sw = switch

    def sip_failure(
        self,
        ch: Channel,
        record: CallRecord,
        outcome: str,
        reply: Reply,
        *,
        local: bool = False,
    ) -> None:
        """The far end (or, ``local``, sofia itself) refuses the INVITE with ``outcome``'s
        SIP response."""
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
        self.count_failure(ch, record, cause)
        done = lambda: reply(f"-ERR {cause}\n")  # noqa: E731
        if code == 487:
            self.sw.hangups.hang_up(ch, cause, after_destroy=done)
        else:
            self.sw.hangups.hang_up(ch, cause, after_complete=done)

    def no_response(self, ch: Channel, record: CallRecord, reply: Reply, cause: str) -> None:
        """The INVITE timed out without any response (a blackholed carrier)."""
        self.count_failure(ch, record, cause)
        self.sw.hangups.hang_up(ch, cause, after_destroy=lambda: reply(f"-ERR {cause}\n"))

    def count_failure(self, ch: Channel, record: CallRecord, cause: str) -> None:
        """Record the failed originate and count it on the leg's gateway."""
        record.failed(cause, self.sw.now_s())
        if ch.gateway:
            self.sw.gateway_stats.call_failed(ch.gateway)

    def ring(
        self,
        ch: Channel,
        record: CallRecord,
        plan: CalleePlan,
        limit: tuple[float, str],
        once: OnceReply,
        on_up: Callable[[], None],
    ) -> None:
        """Progress (180, or 183 with early media), then answer or no answer at ``limit``
        (seconds, cause). ``once`` takes the originate reply; ``on_up`` runs when the
        originate returns with a live leg."""
        sw = self.sw
        ignore_early = is_truthy(ch.variables.get("ignore_early_media"))

        def reply_up() -> None:
            once(f"+OK {ch.uuid}\n")
            on_up()

        def progress() -> None:
            record.progress_s = sw.now_s()
            self._remote_responded(ch)
            ch.profile["Channel-Progress-Time"] = str(sw.clock.now_us())
            if plan.early_media:
                ch.profile["Channel-Progress-Media-Time"] = str(sw.clock.now_us())
                ch.answer_state = "early"
                sw.bus.channel_event(ch, "CHANNEL_PROGRESS_MEDIA")
                sw.channels.set_callstate(ch, "EARLY")
                sw.media.media_up(ch)
                if not ignore_early:
                    ch.variables["originate_early_media"] = "true"
                    reply_up()
            else:
                sw.bus.channel_event(ch, "CHANNEL_PROGRESS")
                sw.channels.set_callstate(ch, "RINGING")

        def answer() -> None:
            if not ch.media_up:
                sw.media.media_up(ch)
            record.answered_s = sw.now_s()
            sw.records.note(record)
            ch.answer_state = "answered"
            ch.profile["Channel-Answered-Time"] = str(sw.clock.now_us())
            ch.variables["endpoint_disposition"] = "ANSWER"
            sw.bus.channel_event(ch, "CHANNEL_ANSWER")
            sw.channels.set_callstate(ch, "ACTIVE")
            ch.talk_s = plan.talk_s if plan.talk_from_bridge else 0.0
            sw.channels.later(ch, plan.talk_s, lambda: sw.hangups.remote_bye(ch))
            execute_on_answer(sw.channels, ch)
            if not once.sent:
                reply_up()

        timeout_s, cause = limit

        def no_answer() -> None:
            self.count_failure(ch, record, cause)
            sw.hangups.hang_up(ch, cause, after_hangup_event=lambda: once(f"-ERR {cause}\n"))

        sw.channels.later(ch, plan.post_dial_delay_s, progress)
        answer_at = plan.post_dial_delay_s + plan.ring_s
        if plan.outcome == "answer" and answer_at < timeout_s:
            sw.channels.later(ch, answer_at, answer)
        else:
            sw.channels.later(ch, timeout_s, no_answer)

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
