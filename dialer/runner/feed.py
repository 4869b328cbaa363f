"""What a campaign's pacer learns, and the abandon budget's counts, from the listener's records.

`OutcomeFeed` turns the listener's records into the pacer's outcomes, in the order things
happened (the estimators weigh by order, and the pacing simulator feeds them so):

* an answer when it happens: a call in the live state with an answer time, launched by this
  pacer (its launch time in `InFlight`), is learnt once, when first seen (`answer_of`);
* the rest when the attempt ends (`timed_outcomes_of`: a handled call at its hangup), without
  the answer again if it was learnt live.

It keeps the window's answered and abandoned counts: read from the rows when it starts (plus
the answers learnt live whose call is still up), then kept up to date from the same events.
It starts either from what the previous slice handed on (`Carried`: the next feed goes on
where it stood, so what ended in between is fed at the first tick) or, without that, from the
newest outcomes of the last hour, never the oldest.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dialer.agent_state import AgentState
from dialer.calls.machine import CallState
from dialer.pacing import Outcome, OutcomeKind
from dialer.runner.carry import Carried
from dialer.runner.ports import CampaignStore, EndedAttempt
from dialer.runner.snapshot import (
    InFlight,
    answer_of,
    answered_by_person,
    timed_outcomes_of,
    wrap_up_by_agent,
)

# Rows a feed looks back past its position: the listener may commit a row a little late.
FEED_OVERLAP_S = 5.0
FEED_LIMIT = 10_000
# How far back a feed that starts without a handed-on state relearns.
RELEARN_SPAN = timedelta(hours=1)

Event = tuple[float, Outcome]


def _at(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


def in_order(events: list[Event]) -> list[Outcome]:
    """The outcomes by the moment each happened (ties: in the order given)."""
    return [outcome for _, outcome in sorted(events, key=lambda event: event[0])]


class OutcomeFeed:
    """One slice's feed for campaign ``campaign_id``; ``in_flight`` is the ticker's record of
    its launches (launch times, calls that ended)."""

    def __init__(self, store: CampaignStore, campaign_id: int, in_flight: InFlight) -> None:
        self._store = store
        self._campaign_id = campaign_id
        self._in_flight = in_flight
        self._seen_ended: dict[int, datetime] = {}
        self._answers_learnt: set[str] = set()
        self._feed_since = datetime.fromtimestamp(0, UTC)
        self._counted_until = self._feed_since
        self._window_start = self._feed_since
        self.answered = 0
        self.abandoned = 0

    def start(
        self,
        now: datetime,
        window_s: float,
        agents: list[AgentState],
        carried: Carried | None,
        relearn_limit: int,
    ) -> list[Outcome]:
        """Position the feed at ``now`` and read the window's counts; what to learn first
        (without ``carried``: the newest ``relearn_limit`` outcomes of the last hour)."""
        self._feed_since = now
        self._window_start = now - timedelta(seconds=window_s)
        learn: list[Outcome] = []
        if carried is None:
            recent = self._store.latest_ended(self._campaign_id, now - RELEARN_SPAN, relearn_limit)
            learn = in_order(self._ended_events(recent, agents, count=False))
        else:
            self._resume(carried, now)
        # Attempts that ended by now are in these counts; answers learnt live whose attempt
        # has not ended are not in the rows yet.
        self._counted_until = now
        answered, self.abandoned = self._store.budget_counts(self._campaign_id, self._window_start)
        self.answered = answered + len(self._answers_learnt)
        return learn

    def _resume(self, carried: Carried, now: datetime) -> None:
        if _at(carried.feed_since_s) < now - RELEARN_SPAN:
            # Pacing stopped that long ago (a campaign paused and started again): its calls
            # are over, only what the pacer learnt still holds. The feed relearns nothing it
            # already knows, from the last hour on.
            self._feed_since = now - RELEARN_SPAN
            return
        self._in_flight.launched_s.update(carried.launched_s)
        self._in_flight.seen.update(carried.launched_seen)
        self._answers_learnt = set(carried.answers_learnt)
        self._seen_ended = {k: _at(v) for k, v in carried.seen_ended.items()}
        # The first tick feeds what ended since the hand-off (a dead worker's last slice:
        # since its last save), merged in time order with the answers seen live meanwhile.
        self._feed_since = max(_at(carried.feed_since_s), now - RELEARN_SPAN)

    def carried(self, pacer: dict[str, Any]) -> Carried:
        """What the next slice needs to go on where this feed stands; ``pacer`` is the
        pacer's state."""
        return Carried(
            pacer=dict(pacer),
            feed_since_s=self._feed_since.timestamp(),
            seen_ended={k: v.timestamp() for k, v in self._seen_ended.items()},
            answers_learnt=set(self._answers_learnt),
            launched_s=dict(self._in_flight.launched_s),
            launched_seen=set(self._in_flight.seen),
        )

    def observe(self, agents: list[AgentState], live_calls: list[CallState]) -> list[Outcome]:
        """What happened since the last call, in order; the counts updated."""
        since = self._feed_since - timedelta(seconds=FEED_OVERLAP_S)
        ended = self._store.ended_since(self._campaign_id, since, FEED_LIMIT)
        fresh = [row for row in ended if row.attempt_id not in self._seen_ended]
        events = self._ended_events(fresh, agents, count=True)
        events += self._answer_events(live_calls)
        horizon = self._feed_since - timedelta(seconds=2 * FEED_OVERLAP_S)
        self._seen_ended = {k: v for k, v in self._seen_ended.items() if v >= horizon}
        return in_order(events)

    def _ended_events(
        self, rows: list[EndedAttempt], agents: list[AgentState], count: bool
    ) -> list[Event]:
        """What ended attempts teach (an answer learnt live is not taught twice); with
        ``count`` their answers and abandons enter the window's counts."""
        wraps = wrap_up_by_agent(agents)
        events: list[Event] = []
        for row in rows:
            self._seen_ended[row.attempt_id] = row.ended_at
            self._in_flight.ended(row.call_uuid)
            learnt = row.call_uuid in self._answers_learnt
            self._answers_learnt.discard(row.call_uuid)
            for at_s, outcome in timed_outcomes_of(row, wraps.get(row.agent or "", 0.0)):
                if not (learnt and outcome.kind is OutcomeKind.ANSWERED):
                    events.append((at_s, outcome))
            if count and row.originated_at >= self._window_start:
                self._count(row, learnt)
            self._feed_since = max(self._feed_since, row.ended_at)
        return events

    def _count(self, row: EndedAttempt, learnt: bool) -> None:
        if row.ended_at > self._counted_until:
            self.answered += answered_by_person(row) and not learnt
            self.abandoned += row.abandoned
        elif learnt:  # in the rows read at the start and among the answers learnt live
            self.answered -= 1

    def _answer_events(self, live_calls: list[CallState]) -> list[Event]:
        """Answers the listener has seen on calls still up, each learnt (and counted) once,
        when first seen."""
        events: list[Event] = []
        for call in live_calls:
            if call.call_uuid in self._answers_learnt:
                continue
            answer = answer_of(call, self._in_flight.launched_s.get(call.call_uuid))
            if answer is not None:
                self._answers_learnt.add(call.call_uuid)
                self.answered += 1
                events.append(answer)
        return events
