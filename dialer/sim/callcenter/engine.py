"""The simulated mod_callcenter: ``callcenter_config``, the ``callcenter`` application and the
agent dispatcher, driven through `dialer.sim.ports.SwitchPort` only.

Event order per caller (transcripts a, e, h, j, k, r, s): member-queue-start > members-count >
PLAYBACK_START (moh); then either agent-state-change(Receiving) > agent-offering > ... >
bridge-agent-start > PLAYBACK_STOP > members-count > (app returns ``answered``) > bridge >
agent-state-change(In a queue call) > ... > bridge-agent-end > member-queue-end(Terminated) >
agent-state-change(Waiting); or PLAYBACK_STOP > member-queue-end(Cancel, reason) >
members-count > (app returns ``cancel``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from dialer.sim.callcenter import tables as t
from dialer.sim.callcenter.api import ConfigApi
from dialer.sim.callcenter.config import CallcenterConfig
from dialer.sim.callcenter.dispatch import RING_STRATEGIES, Dispatcher
from dialer.sim.callcenter.member import (
    MEMBER_CHECK_PERIOD_S,
    MemberSession,
    max_wait_reached,
    no_agent_timeout_reached,
)
from dialer.sim.callcenter.offer import Offer
from dialer.sim.callcenter.rows import LoadedQueue, MemberRow
from dialer.sim.callcenter.simagents import SimAgents
from dialer.sim.callcenter.store import Store
from dialer.sim.ports import CALLCENTER_SUBCLASS, EngineEvent, SwitchPort

__all__ = ["Callcenter"]


class Callcenter:
    """mod_callcenter for one simulated switch (implements ``CallcenterEngine``)."""

    def __init__(self, port: SwitchPort, config: CallcenterConfig) -> None:
        self.port = port
        self.store = Store(
            xml=config, now_s=self.now, emit=self.emit, cancel_member_offers=self.cancel_offers
        )
        self._config_api = ConfigApi(self.store)
        self.sessions: dict[str, MemberSession] = {}
        self.offers: dict[str, Offer] = {}
        self.dispatcher = Dispatcher(self)
        self.store.load_config()
        self.agents_sim = SimAgents(self, config)

    # -- plumbing ---------------------------------------------------------------------------
    def now(self) -> int:
        """``local_epoch_time_now``: whole epoch seconds."""
        return math.floor(self.port.now_s())

    def emit(self, headers: dict[str, str], function: str, line: int) -> None:
        """Fire a callcenter::info event without channel data; empty values are dropped as
        ``switch_event_add_header_string`` drops them."""
        self.emit_channel(None, headers, function, line)

    def emit_channel(
        self, channel_uuid: str | None, headers: dict[str, str], function: str, line: int
    ) -> None:
        clean = {k: v for k, v in headers.items() if v}
        self.port.fire_event(
            EngineEvent(
                "CUSTOM",
                clean,
                function,
                line,
                subclass=CALLCENTER_SUBCLASS,
                channel_uuid=channel_uuid,
            )
        )

    def api(self, args: str) -> str:
        """``callcenter_config <args>``; "" = ``-ERR no reply`` on the Event Socket."""
        return self._config_api(args)

    # -- the callcenter application ---------------------------------------------------------
    def enter_queue(
        self, member_uuid: str, queue_name: str, on_exit: Callable[[str], None]
    ) -> None:
        """Run ``callcenter <queue_name>`` on channel ``member_uuid`` (see ports.py)."""
        port = self.port
        queue = self.store.get_queue(queue_name)
        if queue is None:
            port.call_later(0.0, lambda: on_exit(""))
            return
        chan = port.channel_vars(member_uuid)
        now = self.now()
        session = MemberSession(
            member_uuid=port.new_uuid(),
            session_uuid=member_uuid,
            queue_name=queue_name,
            joined_s=now,
            cid_name=chan.get("caller_id_name", ""),
            cid_number=chan.get("caller_id_number", ""),
            dnis=chan.get("rdnis", ""),
            on_exit=on_exit,
        )
        resumed = self._find_abandoned(queue, session.cid_number)
        if resumed is not None:
            session.member_uuid = resumed.uuid
            session.row_joined_s = resumed.joined_epoch
        for name, value in (
            ("cc_side", "member"),
            ("cc_member_uuid", session.member_uuid),
            ("cc_queue_joined_epoch", str(now)),
            ("cc_queue", queue_name),
        ):
            port.set_var(member_uuid, name, value)
        self.emit_channel(
            member_uuid,
            {
                "CC-Queue": queue_name,
                "CC-Action": "member-queue-resume" if resumed else "member-queue-start",
                **session.cc_headers(),
            },
            "callcenter_function",
            3113,
        )
        if resumed is not None:
            resumed.session_uuid, resumed.state = member_uuid, t.MEMBER_WAITING
            resumed.rejoined_epoch = now
        else:
            self._insert_member(queue, session, t.c_atoi(chan.get("cc_base_score")))
        self.sessions[session.member_uuid] = session
        self.queue_count(queue_name)
        self.send_presence(queue_name)
        moh = chan.get("cc_moh_override") or queue.config.moh_sound
        if moh:
            port.playback(member_uuid, moh)
        port.on_channel_hangup(member_uuid, lambda _cause: self._member_hung_up(session))
        session.check_timer = port.call_later(0.0, lambda: self._member_check(session))
        self.dispatcher.ensure()

    def _find_abandoned(self, queue: LoadedQueue, cid_number: str) -> MemberRow | None:
        if not queue.config.abandoned_resume_allowed:
            return None
        found = [
            m
            for m in self.store.members.values()
            if m.queue == queue.config.name
            and m.cid_number == cid_number
            and m.state == t.MEMBER_ABANDONED
        ]
        return max(found, key=lambda m: m.abandoned_epoch) if found else None

    def _insert_member(self, queue: LoadedQueue, session: MemberSession, base_score: int) -> None:
        strategy = queue.config.strategy.lower()
        self.store.members[session.member_uuid] = MemberRow(
            queue=queue.config.name,
            instance_id=t.INSTANCE_ID,
            uuid=session.member_uuid,
            session_uuid=session.session_uuid,
            cid_number=session.cid_number,
            cid_name=session.cid_name,
            system_epoch=session.joined_s,
            joined_epoch=session.joined_s,
            base_score=base_score,
            serving_agent=strategy if strategy in RING_STRATEGIES else "",
        )

    def queue_count(self, queue_name: str) -> None:
        """``cc_queue_count``: the members-count event."""
        self.emit(
            {
                "CC-Queue": queue_name,
                "CC-Action": "members-count",
                "CC-Count": str(self.store.waiting_count(queue_name)),
                "CC-Selection": "Single-Queue",
            },
            "cc_queue_count",
            878,
        )

    def send_presence(self, queue_name: str) -> None:
        """``cc_send_presence``: PRESENCE_IN with the queue's count of Waiting members."""
        waiting = sum(
            1
            for m in self.store.members.values()
            if m.queue == queue_name and m.state == t.MEMBER_WAITING
        )
        presence = EngineEvent(
            "PRESENCE_IN",
            {
                "proto": "callcenter",
                "login": queue_name,
                "from": queue_name,
                "force-status": f"Active ({waiting} waiting)" if waiting else "Idle",
                "rpid": "unknown",
                "event_type": "presence",
                "alt_event_type": "dialog",
                "event_count": "0",
                "channel-state": "CS_ROUTING" if waiting else "CS_HANGUP",
                "unique-id": queue_name,
                "answer-state": "confirmed" if waiting else "terminated",
                "presence-call-direction": "inbound",
            },
            "cc_send_presence",
            3392,
        )
        self.port.fire_event(presence)

    def _member_check(self, session: MemberSession) -> None:
        """``cc_member_thread_run``: one check, then the next in 0.5 s."""
        if session.done:
            return
        queue = self.store.get_queue(session.queue_name)
        if queue is None:
            return
        reason = None if session.agent_found else self._cancel_reason(queue, session)
        if reason is not None:
            self._leave(session, reason)
            return
        session.check_timer = self.port.call_later(
            MEMBER_CHECK_PERIOD_S, lambda: self._member_check(session)
        )

    def _cancel_reason(self, queue: LoadedQueue, session: MemberSession) -> str | None:
        if max_wait_reached(queue, session, self.now()):
            # an agent being connected gets its chance first (see offer_settled)
            if session.connecting <= 0:
                return t.CANCEL_TIMEOUT
            session.timeout_pending = True
        if no_agent_timeout_reached(queue, session):
            return t.CANCEL_NO_AGENT_TIMEOUT
        return None

    def offer_settled(self, session: MemberSession) -> None:
        """An offer failed: a max-wait-time that struck while connecting applies now."""
        if not session.done and session.timeout_pending and session.connecting <= 0:
            self._leave(session, t.CANCEL_TIMEOUT)
            return
        self.dispatcher.ensure()

    def _member_hung_up(self, session: MemberSession) -> None:
        if session.done:
            return
        if session.agent_found:
            self.exit_answered(session)
        else:
            self._leave(session, t.CANCEL_BREAK_OUT)

    def _leave(self, session: MemberSession, reason: str) -> None:
        """The application gives up: Abandoned row, member-queue-end(Cancel), ``cancel``."""
        port = self.port
        self._finish_app(session)
        now = self.now()
        self.mark_abandoned(session.member_uuid)
        self.cancel_offers(session.member_uuid, "ORIGINATOR_CANCEL")
        self.emit_channel(
            session.session_uuid,
            {
                "CC-Queue": session.queue_name,
                "CC-Action": "member-queue-end",
                "CC-Member-Leaving-Time": str(now),
                "CC-Member-Joined-Time": str(session.joined_s),
                "CC-Cause": "Cancel",
                "CC-Cancel-Reason": reason,
                **session.cc_headers(),
            },
            "callcenter_function",
            3274,
        )
        port.set_var(session.session_uuid, "cc_queue_canceled_epoch", str(now))
        port.set_var(session.session_uuid, "cc_cause", "cancel")
        port.set_var(session.session_uuid, "cc_cancel_reason", reason)
        queue = self.store.get_queue(session.queue_name)
        if queue is not None:
            queue.calls_abandoned += 1
        self.sessions.pop(session.member_uuid, None)
        self.queue_count(session.queue_name)
        self.send_presence(session.queue_name)
        session.on_exit("cancel")

    def exit_answered(self, session: MemberSession) -> None:
        """An agent answered: the application returns ``answered`` (the bridge follows)."""
        self._finish_app(session)
        self.port.set_var(session.session_uuid, "cc_cause", "answered")
        queue = self.store.get_queue(session.queue_name)
        if queue is not None:
            queue.calls_answered += 1
        self.queue_count(session.queue_name)
        self.send_presence(session.queue_name)
        session.on_exit("answered")

    def _finish_app(self, session: MemberSession) -> None:
        session.done = True
        if session.check_timer is not None:
            self.port.cancel(session.check_timer)
        self.port.stop_playback(session.session_uuid)

    def mark_abandoned(self, member_uuid: str) -> None:
        """Row state Abandoned; deleted after the queue's discard-abandoned-after."""
        member = self.store.member(member_uuid)
        if member is None:
            return
        member.state, member.session_uuid = t.MEMBER_ABANDONED, ""
        member.abandoned_epoch = self.now()
        queue = self.store.get_queue(member.queue)
        discard_after_s = queue.config.discard_abandoned_after_s if queue else 0
        self._schedule_discard(member_uuid, discard_after_s)

    def _schedule_discard(self, member_uuid: str, discard_after_s: int) -> None:
        """The dispatcher deletes an Abandoned row once ``abandoned + discard < now``."""
        member = self.store.member(member_uuid)
        if member is None:
            return
        due_s = member.abandoned_epoch + discard_after_s + 1
        delay = max(0.0, due_s - self.port.now_s())

        def discard() -> None:
            row = self.store.member(member_uuid)
            if row is not None and row.state == t.MEMBER_ABANDONED:
                self.store.delete_member(member_uuid)

        self.port.call_later(delay, discard)

    def cancel_offers(self, member_uuid: str, cause: str) -> None:
        """``hupall_matching_var cc_member_pre_answer_uuid``: hang up unanswered agent legs."""
        session = self.sessions.get(member_uuid)
        if session is None:
            return
        for agent_uuid in list(session.offers):
            offer = self.offers.get(agent_uuid)
            if offer is not None and not offer.answered:
                self.port.hangup(agent_uuid, cause)
