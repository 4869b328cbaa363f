"""`NodeListener`: the events of one node -> live state, attempt records, released trunks.

Threads: the connection's reader calls `on_event`/`on_connect`, which only enqueue; `run`
(one thread per node) does all the work in arrival order, so the call book needs no lock.

Reconciliation (after every (re)connect and every ``reconcile_every_s``): a tracked call
that the switch no longer lists in ``show channels as json`` has lost its hangup event
(unless an event for it arrived after the snapshot was requested: it may be newer than the
snapshot); so has an attempt row without outcome, older than ``unsettled_after_s``, of a
call the switch does not have and we never heard of (an originate sent as the connection
broke): after a (re)connect, a reconcile is due as soon as such attempts are old enough.
Such a call is settled from its CDR (`dialer.cdr.settle.end_from_cdr`) when one is stored;
otherwise it waits for it ``cdr_wait_s``, then is settled without it
(`dialer.cdr.settle.unsettled_end`: connected if seen bridged, not counted if only ringing
on a switch whose Core-UUID has changed since, ``unknown`` otherwise). Nothing is settled as
lost on the word of a missing event. Agents are reloaded from ``callcenter_config agent
list`` and ``tier list`` (agents no longer listed are dropped); between reconciles their
events keep them current. So no call stays in flight forever, and a listener that is
restarted picks its calls up from the live state it left in Redis.

Backends away: the work of one event (or one reconcile) that fails on a backend error (Redis,
the database, the switch: ``transient``) is done again with backoff until it succeeds, so an
event is never skipped, and the events behind it wait in order. The book's own change is made
once; what fails and is retried is the writing out (`_durably`). Any other error in one
item's work is logged with the item and the loop goes on. The loop beats ``heartbeat`` on each
item and at least every ``beat_every_s``, also while it waits for a backend.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from dialer.agent_state import AgentState
from dialer.backend_errors import is_backend_error
from dialer.calls.agent_first import AgentFirstEnd, lost_end
from dialer.calls.machine import CC_SUBCLASS, CallBook, CallEnd, CallState, as_call_end
from dialer.calls.trunk import trunk_verdict
from dialer.cdr.parse import CdrFacts
from dialer.cdr.ports import CdrLookup
from dialer.cdr.settle import end_from_cdr, unsettled_end
from dialer.clock import SYSTEM_CLOCK, Clock
from dialer.desk.service import desk_event
from dialer.esl.events import Event
from dialer.esl.ports import EslConnection, EslError, Subscription
from dialer.listener.ports import (
    ApiCallSink,
    AttemptSink,
    DeskPublisher,
    LiveState,
    TrunkHealthFeed,
    TrunkRelease,
)
from dialer.listener.safety import AbandonSafety
from dialer.listener.switch_state import (
    agent_change,
    live_channel_uuids,
    parse_agent_list,
    parse_tier_list,
    reconciled,
)
from dialer.liveness.service import LoopBeat
from dialer.metrics import ABANDONS, DESK_EVENTS, ESL_CONNECTS, OUTCOMES
from dialer.retry import DEFAULT_BACKOFF, Backoff, retry_transient

log = logging.getLogger(__name__)

# Channel lifecycle we read, BACKGROUND_JOB, HEARTBEAT and mod_callcenter. The filters keep
# the switch from queueing anything else for us: only outbound legs (ours; inbound traffic
# of the node is not), heartbeats, callcenter events; BACKGROUND_JOB is added by
# `Subscription.commands` because a filter would drop it otherwise.
LISTENER_SUBSCRIPTION = Subscription(
    events=(
        "CHANNEL_CREATE",
        "CHANNEL_PROGRESS",
        "CHANNEL_PROGRESS_MEDIA",
        "CHANNEL_ANSWER",
        "CHANNEL_HANGUP_COMPLETE",
        "BACKGROUND_JOB",
        "HEARTBEAT",
    ),
    custom=(CC_SUBCLASS,),
    filters=(
        ("Call-Direction", "outbound"),
        ("Event-Name", "HEARTBEAT"),
        ("Event-Subclass", CC_SUBCLASS),
    ),
)
_RECONCILE = object()
_CONNECTED = object()  # a (re)connect: reconcile, and the next event starts the book's watch
_STOP = object()


@dataclass
class ListenerStats:
    events: int = 0
    ended: int = 0
    lost: int = 0
    reconciles: int = 0
    retries: int = 0
    failed_items: int = 0


class NodeListener:
    """Listener logic for one node; ``attach(conn)`` before ``run``.

    ``clock`` stamps what it records (agent changes, lost calls, trunk health: epoch seconds
    of its wall time) and paces the reconciles (``reconcile_every_s`` of its monotonic time).
    ``safety`` checks each recorded end (the abandon safety stop, `dialer.listener.safety`).
    """

    def __init__(
        self,
        node: str,
        live: LiveState,
        attempts: AttemptSink,
        trunks: TrunkRelease,
        *,
        reconcile_every_s: float = 60.0,
        unsettled_after_s: float = 30.0,
        api_timeout_s: float = 10.0,
        clock: Clock = SYSTEM_CLOCK,
        health: TrunkHealthFeed | None = None,
        safety: AbandonSafety | None = None,
        api_calls: ApiCallSink | None = None,
        cdrs: CdrLookup | None = None,
        cdr_wait_s: float = 120.0,
        heartbeat: LoopBeat | None = None,
        beat_every_s: float = 5.0,
        transient: Callable[[BaseException], bool] = is_backend_error,
        backoff: Backoff = DEFAULT_BACKOFF,
        desk: DeskPublisher | None = None,
    ) -> None:
        self.node = node
        self._desk = desk
        self._safety = safety
        self._api_calls = api_calls
        self._cdrs = cdrs
        self._cdr_wait_s = cdr_wait_s
        # calls gone from the switch without a CDR yet: monotonic deadline of their wait
        self._awaiting_cdr: dict[str, float] = {}
        self._heartbeat = heartbeat
        self._beat_every_s = beat_every_s
        self._transient = transient
        self._backoff = backoff
        self._stopping = threading.Event()
        self._health_fed = ""
        self._health = health
        self._live = live
        self._attempts = attempts
        self._trunks = trunks
        self._reconcile_every_s = reconcile_every_s
        self._unsettled_after_s = unsettled_after_s
        self._api_timeout_s = api_timeout_s
        self._clock = clock
        self._queue: queue.Queue[tuple[int, object]] = queue.Queue()
        self._seq = 0
        self._seq_lock = threading.Lock()
        self._last_seq: dict[str, int] = {}
        self._conn: EslConnection | None = None
        self._watch_pending = False
        self.book = CallBook()
        for state in live.calls(node).values():
            self.book.calls[state.call_uuid] = state
        self.agents: dict[str, AgentState] = live.agents(node)
        # our clock - the switch's, as of the last timed event (agent list times are shifted)
        self._skew_s = 0.0
        self.stats = ListenerStats()

    def attach(self, conn: EslConnection) -> None:
        self._conn = conn

    def _now_s(self) -> float:
        return self._clock.now().timestamp()

    # --- called on the connection's thread --------------------------------------------------
    def on_event(self, event: Event) -> None:
        self._put(event)

    def on_connect(self) -> None:
        ESL_CONNECTS.labels(self.node).inc()
        self._put(_CONNECTED)

    def stop(self) -> None:
        self._stopping.set()
        self._put(_STOP)

    def _put(self, item: object) -> None:
        with self._seq_lock:
            self._seq += 1
            self._queue.put((self._seq, item))

    # --- the worker thread -----------------------------------------------------------------
    def run(self) -> None:
        """The worker loop, until `stop`. It ends otherwise only on an error outside any
        one item's work: logged, and its heartbeat then says so (the process should exit).
        """
        try:
            self._loop()
        except Exception as exc:
            log.critical("listener %s: worker loop died", self.node, exc_info=True)
            if self._heartbeat is not None:
                self._heartbeat.failed(f"worker loop died: {type(exc).__name__}: {exc}")
            return
        if self._heartbeat is not None:
            self._heartbeat.stopped()

    def _loop(self) -> None:
        next_reconcile = self._clock.monotonic_s() + self._reconcile_every_s
        while True:
            self._beat()
            # The queue waits wall seconds: under a scaled clock an idle listener reconciles
            # late, never early; each event re-reads the clock.
            wait_s = max(0.0, next_reconcile - self._clock.monotonic_s())
            try:
                seq, item = self._queue.get(timeout=min(wait_s, self._beat_every_s))
            except queue.Empty:
                if self._clock.monotonic_s() < next_reconcile:
                    continue
                item, seq = _RECONCILE, 0
            if item is _STOP:
                return
            connected = item is _CONNECTED
            if connected:
                self._watch_pending = True
                item = _RECONCILE
            if item is _RECONCILE:
                self._work(lambda: self._durably("reconcile", self.reconcile), "reconcile")
                next_reconcile = self._clock.monotonic_s() + self._reconcile_every_s
                if connected:
                    # attempts whose originate went out as the connection was lost are
                    # taken up as soon as they are old enough, not a whole period later
                    adopt_at = self._clock.monotonic_s() + self._unsettled_after_s + 1.0
                    next_reconcile = min(next_reconcile, adopt_at)
                # a call waiting for its CDR keeps its lead dialling: settle it when its wait
                # ends, not a whole period later
                next_reconcile = min([next_reconcile, *self._awaiting_cdr.values()])
            elif isinstance(item, Event):
                self._work(partial(self.handle, item, seq), f"event {item.name} #{seq}")
            if seq:
                self._queue.task_done()

    def _work(self, work: Callable[[], object], what: str) -> None:
        # One item's work: what is left failing after `_durably` (a read of the reconcile,
        # a defect) is logged and the loop goes on with the next item.
        try:
            work()
        except Exception as exc:
            if self._stopping.is_set():
                return
            self.stats.failed_items += 1
            level = logging.WARNING if self._transient(exc) else logging.ERROR
            log.log(level, "listener %s: %s failed", self.node, what, exc_info=True)

    def idle(self) -> bool:
        """True when nothing is queued and no item is being worked on."""
        return self._queue.unfinished_tasks == 0

    def _beat(self, status: str = "ok") -> None:
        if self._heartbeat is not None:
            self._heartbeat.beat(status)

    def _durably(self, what: str, work: Callable[[], object]) -> None:
        """Do ``work`` (writing out a change already made to the book) until it succeeds:
        retried with backoff while a backend is away, so the change is never lost."""

        def retrying(status: str) -> None:
            self.stats.retries += 1
            self._beat(status)

        retry_transient(
            work,
            what=f"listener {self.node}: {what}",
            transient=self._transient,
            clock=self._clock,
            log=log,
            backoff=self._backoff,
            should_stop=self._stopping.is_set,
            on_retry=retrying,
        )

    def drain(self) -> None:
        """Process everything queued so far (tests, shutdown)."""
        while True:
            try:
                seq, item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is _STOP:
                self._queue.put((seq, item))
                self._queue.task_done()
                return
            try:
                if item is _CONNECTED:
                    self._watch_pending = True
                    self.reconcile()
                elif item is _RECONCILE:
                    self.reconcile()
                elif isinstance(item, Event):
                    self.handle(item, seq)
            finally:
                self._queue.task_done()

    def handle(self, event: Event, seq: int = 0) -> CallEnd | None:
        self.stats.events += 1
        now_s = self._now_s()
        if event.timestamp_us:
            self._skew_s = now_s - event.timestamp_us / 1e6
            if self._watch_pending:
                # events before this one, while we were away, were never seen
                self.book.watching_since(event.timestamp_us)
                self._watch_pending = False
        if event.name == "CUSTOM" and event.subclass == CC_SUBCLASS:
            name = event.get("CC-Agent")
            agent = agent_change(self.agents.get(name), event, now_s)
            if agent is not None:
                self.agents[agent.name] = agent
                self._durably("agent", lambda: self._live.put_agent(self.node, agent))
            self._publish_to_desk(event)
        api_key = self.book.agent_first_key(event)
        api_end = self.book.apply_agent_first(event)
        if api_end is not None:
            self._last_seq.pop(api_end.call_uuid, None)
            self._durably("api call end", lambda: self._finish_agent_first(api_end))
            return None
        if api_key in self.book.agent_first:
            self._last_seq[api_key] = seq
            return None
        key = self.book.call_uuid_of(event)
        end = self.book.apply(event)
        if end is not None:
            self._durably("call end", lambda: self._finish(end))
            return end
        state = self.book.calls.get(key) if key else None
        if state is not None:
            self._last_seq[key] = seq
            self._durably("call", lambda: self._live.put_call(self.node, state))
        return None

    def _publish_to_desk(self, event: Event) -> None:
        """An agent's event to its desk, once: a screen pop is live or useless, so a failed
        publish is logged, not retried (the desk can read the card again)."""
        found = desk_event(event) if self._desk is not None else None
        if found is None or self._desk is None:
            return
        try:
            self._desk.publish(found)
            DESK_EVENTS.labels(found.kind.value).inc()
        except Exception as exc:
            log.warning("listener %s: desk event for %s not published: %s", self.node,
                        found.agent, exc)  # fmt: skip

    def _finish(self, end: CallEnd) -> None:
        self._last_seq.pop(end.call_uuid, None)
        self._awaiting_cdr.pop(end.call_uuid, None)
        if end.trunk:
            self._trunks.release(end.trunk, end.call_uuid)
            self._feed_health(end)
        self._attempts.record(self.node, end)
        if self._safety is not None:
            self._safety.check(end)
        self._live.drop_call(self.node, end.call_uuid)
        self.stats.ended += 1
        # counted once the whole end is written (a retried write would count twice)
        campaign = str(end.campaign_id or "")
        outcome = end.outcome.value if end.outcome is not None else "none"
        OUTCOMES.labels(campaign, outcome, end.hangup_cause or "").inc()
        if end.abandoned:
            ABANDONS.labels(campaign).inc()

    def _finish_agent_first(self, end: AgentFirstEnd) -> None:
        """An agent-first call ended: its line freed, its trunk's health fed (as a campaign
        call's would be), its end recorded on the API call."""
        if end.trunk:
            self._trunks.release(end.trunk, end.call_uuid)
            if end.agent_answered_at is not None and not end.unsettled:  # else: no verdict
                self._feed_health(as_call_end(end))
        if self._api_calls is not None:
            self._api_calls.record_end(self.node, end)
        self.stats.ended += 1

    def _feed_health(self, end: CallEnd) -> None:
        # Health is advisory: failing to record it must not stop the call's record. A result
        # that says nothing about the trunk still goes: it may void the trunk's trial call.
        # Fed once per end, also when the end's writing out is retried after it.
        if self._health is None or self._health_fed == end.call_uuid:
            return
        self._health_fed = end.call_uuid
        try:
            self._health.record(end.trunk, trunk_verdict(end), self._now_s(), end.call_uuid)
        except Exception:
            log.exception("listener %s: trunk health of %s not recorded", self.node, end.trunk)

    def reconcile(self) -> None:
        conn = self._conn
        if conn is None or not conn.connected:
            return
        with self._seq_lock:
            snapshot_seq = self._seq
        try:
            core_uuid = _core_uuid(conn.api("global_getvar core_uuid", self._api_timeout_s))
            live = live_channel_uuids(conn.api("show channels as json", self._api_timeout_s))
            agents = parse_agent_list(conn.api("callcenter_config agent list", self._api_timeout_s))
            tiers = parse_tier_list(conn.api("callcenter_config tier list", self._api_timeout_s))
        except (EslError, ValueError) as exc:
            log.warning("listener %s: reconcile failed: %s", self.node, exc)
            return
        self.stats.reconciles += 1
        self._reload_agents(agents, tiers)
        self.drain()
        now_us = int(self._now_s() * 1_000_000)
        self._adopt_unsettled(live)
        for call_uuid in list(self.book.calls):
            if call_uuid in live:
                self._awaiting_cdr.pop(call_uuid, None)
                continue
            if self._last_seq.get(call_uuid, 0) > snapshot_seq:
                continue
            self._settle_missing(call_uuid, core_uuid, now_us)
        for call_uuid in list(self.book.agent_first):
            if call_uuid not in live and self._last_seq.get(call_uuid, 0) <= snapshot_seq:
                self._settle_lost_agent_first(call_uuid, now_us)

    def _settle_lost_agent_first(self, call_uuid: str, now_us: int) -> None:
        """An agent-first call the switch no longer has: ended ``unknown`` (no CDR is kept
        of agent legs), its line freed."""
        end = lost_end(self.book.agent_first[call_uuid], now_us)
        self.book.agent_first.pop(call_uuid, None)
        self.book.close(call_uuid)
        self.stats.lost += 1
        self._durably("lost api call", partial(self._finish_agent_first, end))

    def _settle_missing(self, call_uuid: str, core_uuid: str, now_us: int) -> None:
        """A call the switch no longer has: from its CDR, or without one after the wait."""
        state = self.book.calls[call_uuid]
        facts = self._stored_cdr(call_uuid)
        if facts is not None:
            end = end_from_cdr(facts, state)
        else:
            now_s = self._clock.monotonic_s()
            deadline = self._awaiting_cdr.setdefault(call_uuid, now_s + self._cdr_wait_s)
            if now_s < deadline:
                return
            restarted = bool(core_uuid and state.core_uuid and core_uuid != state.core_uuid)
            end = unsettled_end(state, now_us, switch_restarted=restarted)
            self.stats.lost += 1
        self._awaiting_cdr.pop(call_uuid, None)
        self.book.close(call_uuid)
        self._durably("lost call", partial(self._finish, end))

    def _stored_cdr(self, call_uuid: str) -> CdrFacts | None:
        if self._cdrs is None:
            return None
        try:
            return self._cdrs.get(call_uuid)
        except Exception:
            # the store is down: the call waits for the next reconcile
            log.exception("listener %s: CDR of %s not read", self.node, call_uuid)
            return None

    def _reload_agents(self, listed: list[AgentState], tiers: dict[str, tuple[str, ...]]) -> None:
        fresh = {
            a.name: reconciled(self.agents.get(a.name), a, tiers.get(a.name, ()), self._skew_s)
            for a in listed
        }
        for name in set(self.agents) - set(fresh):
            self._live.drop_agent(self.node, name)
        for agent in fresh.values():
            self._live.put_agent(self.node, agent)
        self.agents = fresh

    def _adopt_unsettled(self, live: set[str]) -> None:
        # Attempts the originator recorded but whose call we never heard of (the bgapi was
        # lost with a connection, or every event of the call came while we were down): if
        # the switch does not have them either, they are over and get ended below.
        before = self._clock.now() - timedelta(seconds=self._unsettled_after_s)
        for row in self._attempts.unsettled(self.node, before):
            if row.call_uuid in live or row.call_uuid in self.book.calls:
                continue
            if row.call_uuid in self.book.finished:
                continue
            self.book.calls[row.call_uuid] = CallState(
                row.call_uuid, row.campaign_id, row.lead_id, row.attempt_id, row.trunk
            )


def _core_uuid(reply: str) -> str:
    """``global_getvar core_uuid`` -> the switch run's Core-UUID ("" when not given)."""
    text = reply.strip()
    return "" if not text or text.startswith("-") else text
