"""Seams of the API calls context: where API calls are kept (`ApiCallStore`), what they are
checked against (`Directory`: agents, campaigns, DNC, the routing table), and the plain data
that crosses them.

An API call is agent-first (`dialer.esl.originate.build_agent_first`): the agent's phone
rings, and once the agent answers the customer is dialled through a routed trunk. Its
``call_uuid`` is the agent leg's uuid; its line on the trunk is reserved under that uuid.

`dialer.apicalls.fakes` holds the in-memory twins, `dialer.apicalls.adapters` the database
ones; the contract tests in ``tests/contracts`` hold both to the same assertions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from campaigns.rules import CallingWindow
from dialer.calls.agent_first import AgentFirstEnd
from dialer.routing.model import CampaignRouting
from dialer.routing.table import RoutingTable

STALE_AFTER = timedelta(hours=4)
"""A call ``dialing`` this long has lost its end: no call lasts so long (its line's lease
lapsed after an hour)."""
CLAIM_TTL = timedelta(seconds=60)
"""How long a claim on a due callback holds (a dispatch pass takes well under a second)."""


class CallKind(StrEnum):
    CLICK_TO_CALL = "click_to_call"
    CALLBACK = "callback"


class CallStatus(StrEnum):
    """``scheduled``: a callback waiting for its time and a free agent; ``dialing``: the
    originate left, no end yet; ``ended``: the switch ended it (``outcome`` says how);
    ``failed``: it never reached the switch (``disposition`` says why)."""

    SCHEDULED = "scheduled"
    DIALING = "dialing"
    ENDED = "ended"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One API call as kept. Times aware UTC, None until they happen; ``ext`` is the
    caller's opaque JSON, returned as given."""

    id: int
    call_uuid: str
    kind: CallKind
    key_id: str
    number: str
    status: CallStatus
    created_at: datetime
    agent: str | None = None
    campaign: str | None = None
    campaign_id: int | None = None
    trunks: tuple[str, ...] = ()
    ext: Any = None
    due_at: datetime | None = None
    outcome: str | None = None
    disposition: str | None = None
    trunk: str | None = None
    caller_id: str | None = None
    node: str | None = None
    hangup_cause: str | None = None
    hangup_cause_q850: int | None = None
    sip_status: str | None = None
    originated_at: datetime | None = None
    agent_answered_at: datetime | None = None
    answered_at: datetime | None = None
    connected_at: datetime | None = None
    ended_at: datetime | None = None
    recording_path: str | None = None


@dataclass(frozen=True, slots=True)
class NewApiCall:
    """An API call to store. ``idempotency_key`` (with ``key_id``) is unique: a second call
    with the same pair is not stored (`ApiCallStore.insert`); ``request_sha256`` tells
    whether a retry asked for the same thing."""

    call_uuid: str
    kind: CallKind
    key_id: str
    number: str
    status: CallStatus
    created_at: datetime
    idempotency_key: str | None = None
    request_sha256: str = ""
    agent: str | None = None
    campaign_id: int | None = None
    campaign: str | None = None  # the name of campaign_id, as the request gave it
    trunks: tuple[str, ...] = ()
    ext: Any = None
    due_at: datetime | None = None
    trunk: str | None = None
    caller_id: str | None = None
    node: str | None = None


@dataclass(frozen=True, slots=True)
class Placed:
    """Where a call's originate went: its trunk, caller ID, node, when, its agent."""

    agent: str
    trunk: str
    caller_id: str | None
    node: str
    at: datetime


class ApiCallStore(Protocol):
    def insert(self, call: NewApiCall) -> tuple[ApiCall, str, bool]:
        """Store ``call``; (the stored call, its request's SHA-256, True). When its
        (``key_id``, ``idempotency_key``) is taken: (the call stored first, the first
        request's SHA-256, False), nothing written; decided by a unique constraint, so two
        concurrent inserts with one key store one call."""
        ...

    def by_idempotency_key(self, key_id: str, idempotency_key: str) -> tuple[ApiCall, str] | None:
        """The call stored under the pair, with its request's SHA-256."""
        ...

    def get(self, call_uuid: str) -> ApiCall | None: ...

    def fail(self, call_uuid: str, reason: str, at: datetime) -> None:
        """A call that never reached the switch (only while not ended)."""
        ...

    def claim_due_callbacks(self, now: datetime, limit: int, claimer: str) -> list[ApiCall]:
        """Up to ``limit`` scheduled callbacks due at ``now``, oldest due first, claimed for
        ``claimer``: no other claimer gets them until `release_callback`, or until the claim
        is `CLAIM_TTL` old (its claimer died before it handed them back)."""
        ...

    def release_callback(self, call_uuid: str, claimer: str) -> None:
        """Hand a claimed callback back: it stays scheduled."""
        ...

    def start_callback(self, call_uuid: str, claimer: str, placed: Placed) -> bool:
        """The claimed callback is dialled as ``placed``: status ``dialing``. False (nothing
        written) when it is no longer ``claimer``'s."""
        ...

    def settle_stale(self, originated_before: datetime, at: datetime) -> list[str]:
        """End every call still ``dialing`` that was originated before ``originated_before``
        (its end was never recorded: the API died before its originate, or the listener
        lost it across a restart) with outcome ``unknown``; their uuids, sorted."""
        ...

    def agents_in_calls(self) -> set[str]:
        """Agents with an API call being dialled or talked (status ``dialing``)."""
        ...

    def record_end(self, node: str, end: AgentFirstEnd) -> ApiCall | None:
        """Record the switch's end of the call; the first end stands (None for a repeat or
        an unknown call)."""
        ...


@dataclass(frozen=True, slots=True)
class CampaignFacts:
    """What an API call reads of a campaign."""

    id: int
    name: str
    default_region: str
    queue: str
    window: CallingWindow
    routing: CampaignRouting
    webhook_url: str | None = None
    record: bool = False
    """The campaign records its calls: so do the API calls placed for it."""


@dataclass(frozen=True, slots=True)
class AgentFacts:
    """An agent's phone (its contact as stored) and the queues it has tiers in."""

    name: str
    contact: str
    queues: tuple[str, ...] = field(default_factory=tuple)


class Directory(Protocol):
    """Agents, campaigns, DNC and trunks as they are now."""

    def agent(self, name: str) -> AgentFacts | None: ...

    def agents_of_queue(self, queue: str) -> list[AgentFacts]: ...

    def campaign(self, name: str) -> CampaignFacts | None: ...

    def campaign_by_id(self, campaign_id: int) -> CampaignFacts | None: ...

    def dnc_listed(self, number_e164: str, campaign_id: int | None, now: datetime) -> bool:
        """An active DNC entry (global, or of the campaign) covers the number."""
        ...

    def routing_table(self) -> RoutingTable:
        """The trunks with their rates (may be a few seconds old)."""
        ...


class AgentHolds(Protocol):
    """Keeps an agent on an API call from mod_callcenter's queue calls, on every node (each
    node's mod_callcenter has its own agents): mod_callcenter does not see a call it did not
    place, and would offer the agent a queue call while its phone is on the API call."""

    def hold(self, agent: str) -> None:
        """Before the agent leg is placed: offer the agent no queue call (state ``Idle``,
        `dialer.agent_admin.hold_command`). Does not wait for the switches; never raises (a
        node that refuses is logged)."""
        ...

    def release(self, agent: str) -> None:
        """After the call: the agent takes queue calls again where it is still held and
        ``Available`` (`dialer.agent_admin.resume`); a status changed meanwhile (a break, a
        logout) stands. Never raises (a node that cannot be told is logged)."""
        ...
