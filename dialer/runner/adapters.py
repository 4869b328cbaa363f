"""Real adapters of the runner's seams: SQL campaign rows, the listener's live state, ESL
nodes, Redis campaign leases.

A campaign's calls are originated to its dialplan entry (`fs_conf.dialplan.dialplan_entry`:
the extension that answers, sends the caller into the campaign's mod_callcenter queue and
plays the safe-harbor message when no agent takes the call within 2 s).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import redis
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from campaigns.describe import describe_calling_window
from campaigns.domain import NOT_DIALLED, CampaignStatus, ClaimedLead, LeadStatus
from campaigns.lead_lists import in_live_list
from campaigns.models import CallAttempt, Campaign, Lead
from campaigns.selection import claim_due_leads, open_zone_sets
from campaigns.service import calling_window_of, get_campaign
from dialer.agent_state import AgentState
from dialer.calls.machine import CallState
from dialer.db.base import transaction
from dialer.esl.ports import EslConnection, EslDisconnected, EslError, ManagedEslConnection
from dialer.listener.ports import LiveState
from dialer.pacing import Mode
from dialer.routing.orm import TrunkRow, campaign_routing_of
from dialer.runner.ports import (
    NOT_SENT_CAUSE,
    UNROUTABLE,
    UNSAFE_VALUE,
    UNSAFE_VALUE_CAUSE,
    CampaignPlan,
    EndedAttempt,
    Lease,
    NewAttempt,
    NodeReadiness,
    ProbeRequest,
    TieredAgent,
)
from dialer.runner.preflight import CampaignFacts, TrunkFacts, window_opens_at
from fs_conf.dialplan import dialplan_entry

# Calls longer than this are not fed back to the pacer (their end is outside the scan).
MAX_CALL = timedelta(hours=6)


def plan_of(campaign: Campaign) -> CampaignPlan:
    entry = dialplan_entry(campaign.name, campaign.queue_name)
    return CampaignPlan(
        campaign_id=campaign.id,
        name=campaign.name,
        running=campaign.status is CampaignStatus.RUNNING,
        mode=Mode(campaign.dial_mode.value),
        extension=entry.extension,
        context=entry.context,
        queue=campaign.queue_name,
        routing=campaign_routing_of(campaign),
        abandon_target=campaign.abandon_target_pct / 100,
        abandon_window_s=campaign.abandon_window_days * 86_400.0,
        record=bool(campaign.record),
    )


class SqlCampaignStore:
    """`dialer.runner.ports.CampaignStore` on the campaigns tables (SQLite or PostgreSQL)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._zones: dict[int, tuple[datetime, list[str]]] = {}

    def _open_zones(self, session: Session, campaign: Campaign, now: datetime) -> list[str]:
        # Windows open and close on whole minutes: the distinct zones of the campaign's
        # pending leads are looked up once per minute, not on every tick.
        minute = now.replace(second=0, microsecond=0)
        cached = self._zones.get(campaign.id)
        if cached is not None and cached[0] == minute:
            return cached[1]
        zones = open_zone_sets(session, campaign.id, calling_window_of(campaign), now)
        self._zones[campaign.id] = (minute, zones)
        return zones

    def plan(self, campaign_id: int) -> CampaignPlan | None:
        with self._sessions() as session:
            campaign = session.get(Campaign, campaign_id)
            return None if campaign is None else plan_of(campaign)

    def count_due(self, campaign_id: int, now: datetime, cap: int) -> int:
        with self._sessions() as session:
            campaign = session.get(Campaign, campaign_id)
            if campaign is None:
                return 0
            zones = self._open_zones(session, campaign, now)
            due = (
                select(Lead.id)
                .where(
                    Lead.campaign_id == campaign_id,
                    Lead.status == LeadStatus.PENDING,
                    Lead.next_attempt_at <= now,
                    Lead.time_zones.in_(zones),
                    in_live_list(),
                )
                .limit(cap)
                .subquery()
            )
            return int(session.scalar(select(func.count()).select_from(due)) or 0)

    def claim(self, campaign_id: int, limit: int, now: datetime, claimer: str) -> list[ClaimedLead]:
        with transaction(self._sessions) as session:
            campaign = session.get(Campaign, campaign_id)
            if campaign is None:
                return []
            zones = self._open_zones(session, campaign, now)
            return claim_due_leads(
                session, campaign_id, limit, now, zones, claimer, campaign.retry_order
            )

    def start_attempts(
        self, attempts: Sequence[NewAttempt], claimer: str, now: datetime
    ) -> dict[str, int]:
        with transaction(self._sessions) as session:
            held = _hold(session, {a.lead_id for a in attempts}, claimer)
            rows = [
                CallAttempt(
                    call_uuid=a.call_uuid,
                    lead_id=a.lead_id,
                    campaign_id=a.campaign_id,
                    attempt_no=a.attempt_no,
                    node=a.node,
                    trunk=a.trunk,
                    caller_id=a.caller_id,
                    dialed_number=a.dialed_number,
                    originated_at=now,
                )
                for a in attempts
                if a.lead_id in held
            ]
            session.add_all(rows)
            session.flush()
            return {r.call_uuid: r.id for r in rows}

    def unclaim(self, lead_ids: Sequence[int], claimer: str) -> None:
        with transaction(self._sessions) as session:
            _settle(session, lead_ids, claimer, status=LeadStatus.PENDING)

    def cancel_attempts(self, call_uuids: Sequence[str], claimer: str, now: datetime) -> None:
        with transaction(self._sessions) as session:
            lead_ids = _end_unsent(session, call_uuids, NOT_SENT_CAUSE, now)
            _settle(session, lead_ids, claimer, status=LeadStatus.PENDING)

    def fail_attempts(self, call_uuids: Sequence[str], claimer: str, now: datetime) -> None:
        with transaction(self._sessions) as session:
            lead_ids = _end_unsent(session, call_uuids, UNSAFE_VALUE_CAUSE, now)
            _settle(session, lead_ids, claimer, status=LeadStatus.FAILED, last_outcome=UNSAFE_VALUE)

    def park(self, lead_ids: Sequence[int], claimer: str, until: datetime) -> None:
        with transaction(self._sessions) as session:
            _settle(
                session,
                lead_ids,
                claimer,
                status=LeadStatus.PENDING,
                next_attempt_at=until,
                last_outcome=UNROUTABLE,
            )

    def release_orphans(self, campaign_id: int, claimed_before: datetime, keep: str) -> int:
        in_flight = select(CallAttempt.lead_id).where(
            CallAttempt.campaign_id == campaign_id, CallAttempt.outcome.is_(None)
        )
        with transaction(self._sessions) as session:
            result = session.execute(
                update(Lead)
                .where(
                    Lead.campaign_id == campaign_id,
                    Lead.status == LeadStatus.DIALING,
                    Lead.claimed_at < claimed_before,
                    Lead.claimed_by != keep,
                    Lead.id.not_in(in_flight),
                )
                .values(status=LeadStatus.PENDING, claimed_at=None, claimed_by=None)
                .execution_options(synchronize_session=False)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def ended_since(self, campaign_id: int, since: datetime, limit: int) -> list[EndedAttempt]:
        with self._sessions() as session:
            rows = session.scalars(
                select(CallAttempt)
                .where(
                    CallAttempt.campaign_id == campaign_id,
                    # bounds the scan by the (campaign_id, originated_at) index
                    CallAttempt.originated_at >= since - MAX_CALL,
                    CallAttempt.ended_at >= since,
                    CallAttempt.outcome.is_not(None),
                )
                .order_by(CallAttempt.ended_at, CallAttempt.id)
                .limit(limit)
            ).all()
            return [_ended(r) for r in rows]

    def latest_ended(self, campaign_id: int, since: datetime, limit: int) -> list[EndedAttempt]:
        with self._sessions() as session:
            rows = session.scalars(
                select(CallAttempt)
                .where(
                    CallAttempt.campaign_id == campaign_id,
                    CallAttempt.originated_at >= since - MAX_CALL,
                    CallAttempt.ended_at >= since,
                    CallAttempt.outcome.is_not(None),
                )
                .order_by(CallAttempt.ended_at.desc(), CallAttempt.id.desc())
                .limit(limit)
            ).all()
            return [_ended(r) for r in reversed(rows)]

    def budget_counts(self, campaign_id: int, since: datetime) -> tuple[int, int]:
        scope = (CallAttempt.campaign_id == campaign_id, CallAttempt.originated_at >= since)
        with self._sessions() as session:
            answered = session.scalar(
                select(func.count()).where(
                    *scope,
                    CallAttempt.answered_at.is_not(None),
                    CallAttempt.outcome != "answering_machine",
                )
            )
            abandoned = session.scalar(
                select(func.count()).where(*scope, CallAttempt.abandoned.is_(True))
            )
            return int(answered or 0), int(abandoned or 0)


def _ended(r: CallAttempt) -> EndedAttempt:
    return EndedAttempt(
        r.id,
        r.outcome or "",
        r.abandoned,
        r.originated_at,
        r.ended_at or r.originated_at,
        r.answered_at,
        r.connected_at,
        r.agent,
        r.call_uuid,
    )


def _end_unsent(
    session: Session, call_uuids: Sequence[str], cause: str, now: datetime
) -> list[int]:
    """Open attempts among ``call_uuids`` end ``not_dialled`` with ``cause``; their leads."""
    if not call_uuids:
        return []
    rows = session.scalars(
        select(CallAttempt).where(CallAttempt.call_uuid.in_(list(call_uuids)))
    ).all()
    for row in rows:
        if row.outcome is None:
            row.outcome, row.ended_at, row.hangup_cause = NOT_DIALLED, now, cause
    return [r.lead_id for r in rows]


def _settle(session: Session, lead_ids: Sequence[int], claimer: str, **values: object) -> None:
    """Leads ``claimer`` still holds take ``values`` and lose the claim."""
    if not lead_ids:
        return
    session.execute(
        update(Lead)
        .where(
            Lead.id.in_(list(lead_ids)),
            Lead.status == LeadStatus.DIALING,
            Lead.claimed_by == claimer,
        )
        .values(claimed_at=None, claimed_by=None, **values)
        .execution_options(synchronize_session=False)
    )


def _hold(session: Session, lead_ids: Collection[int], claimer: str) -> set[int]:
    """The leads among ``lead_ids`` that ``claimer`` still holds, locked until the commit.

    PostgreSQL: ``SELECT ... FOR UPDATE`` (in id order, as every locker should), re-checked
    on the newest row version after a wait. SQLite: a SELECT would run outside the write
    transaction (the driver opens it at the first write), so the check is itself a write,
    a no-op UPDATE that takes the database's one write lock in the same statement.
    """
    if not lead_ids:
        return set()
    held_by_claimer = (
        Lead.id.in_(sorted(lead_ids)),
        Lead.status == LeadStatus.DIALING,
        Lead.claimed_by == claimer,
    )
    if session.get_bind().dialect.name == "postgresql":
        locked = select(Lead.id).where(*held_by_claimer).order_by(Lead.id).with_for_update()
        return set(session.scalars(locked))
    touched = session.execute(
        update(Lead)
        .where(*held_by_claimer)
        .values(claimed_by=Lead.claimed_by)
        .returning(Lead.id)
        .execution_options(synchronize_session=False)
    )
    return set(touched.scalars())


class LiveStateView:
    """`dialer.runner.ports.LiveView` over the listener's `LiveState` of several nodes."""

    def __init__(self, live: LiveState, nodes: Sequence[str]) -> None:
        self._live = live
        self._nodes = list(nodes)

    def agents(self) -> list[AgentState]:
        return [a for node in self._nodes for a in self._live.agents(node).values()]

    def calls(self, campaign_id: int) -> list[CallState]:
        return [
            c
            for node in self._nodes
            for c in self._live.calls(node).values()
            if c.campaign_id == campaign_id
        ]


class EslSwitch:
    """`dialer.runner.ports.Originator` over one `EslConnection` per node (the worker's own)."""

    def __init__(self, connections: Mapping[str, EslConnection], job_timeout_s: float = 90.0):
        self._connections = dict(connections)
        self._job_timeout_s = job_timeout_s

    def nodes(self) -> list[str]:
        return sorted(n for n, c in self._connections.items() if c.connected)

    @property
    def connections(self) -> Mapping[str, EslConnection]:
        """Every node's connection by node name, connected or not."""
        return self._connections

    def originate(self, node: str, args: str) -> bool:
        future = self._connections[node].bgapi("originate " + args, self._job_timeout_s)
        # Only an immediate disconnect proves the command never left; any later failure is
        # the listener's to settle (it sees the job's result or reconciles the attempt).
        return not (future.done() and isinstance(future.exception(), EslDisconnected))

    def close(self) -> None:
        """Close every node's connection."""
        for connection in self._connections.values():
            connection.close()


def running_campaign_ids(sessions: sessionmaker[Session]) -> list[int]:
    with sessions() as session:
        ids = session.scalars(
            select(Campaign.id)
            .where(Campaign.status == CampaignStatus.RUNNING)
            .order_by(Campaign.id)
        )
        return list(ids)


def _lease_key(campaign_id: int) -> str:
    # One hash tag per campaign keeps a campaign's keys in one Redis Cluster slot.
    return f"dialer:{{c{campaign_id}}}:lease"


def _fence_key(campaign_id: int) -> str:
    return f"dialer:{{c{campaign_id}}}:fence"


_ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local token = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'token', token)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return token
"""
_RENEW = """
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""
_RELEASE = """
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
"""


def _pacer_key(campaign_id: int) -> str:
    return f"dialer:{{c{campaign_id}}}:pacer"


# KEYS: lease, pacer state; ARGV: token, state JSON, ttl s. Written only under the current
# lease and never over a state saved under a higher token.
_SAVE_PACER = """
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
local saved = redis.call('HGET', KEYS[2], 'token')
if saved and tonumber(saved) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[2], 'token', ARGV[1], 'state', ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
"""


class RedisPacerStates:
    """`dialer.runner.ports.PacerStateStore` in Redis: one hash per campaign (token, state
    as JSON) in the campaign's hash slot, saved by a script that checks the lease key."""

    def __init__(self, client: redis.Redis[str]) -> None:
        self._redis = client
        self._save = client.register_script(_SAVE_PACER)

    def save(self, lease: Lease, state: Mapping[str, Any], ttl_s: int) -> bool:
        keys = [_lease_key(lease.campaign_id), _pacer_key(lease.campaign_id)]
        args = [lease.token, json.dumps(state), max(1, ttl_s)]
        return bool(self._save(keys=keys, args=args))

    def load(self, campaign_id: int) -> Mapping[str, Any] | None:
        text = self._redis.hget(_pacer_key(campaign_id), "state")
        if text is None:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None


class RedisLeaseStore:
    """`dialer.runner.ports.LeaseStore` in Redis: one hash per campaign lease (owner, token),
    expiring by itself, and a counter per campaign that only grows (the fencing tokens)."""

    def __init__(self, client: redis.Redis[str]) -> None:
        self._redis = client
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    def acquire(self, campaign_id: int, owner: str, ttl_ms: int) -> Lease | None:
        keys = [_lease_key(campaign_id), _fence_key(campaign_id)]
        token = self._acquire(keys=keys, args=[owner, ttl_ms])
        return None if token is None else Lease(campaign_id, owner, int(token))

    def renew(self, lease: Lease, ttl_ms: int) -> bool:
        keys = [_lease_key(lease.campaign_id)]
        return bool(self._renew(keys=keys, args=[lease.token, ttl_ms]))

    def release(self, lease: Lease) -> bool:
        return bool(self._release(keys=[_lease_key(lease.campaign_id)], args=[lease.token]))

    def is_current(self, lease: Lease) -> bool:
        return self._redis.hget(_lease_key(lease.campaign_id), "token") == str(lease.token)

    def holder(self, campaign_id: int) -> Lease | None:
        found = self._redis.hgetall(_lease_key(campaign_id))
        if not found:
            return None
        return Lease(campaign_id, found["owner"], int(found["token"]))


def campaign_facts(session: Session, name: str, now: datetime) -> CampaignFacts:
    """What the preflight needs of campaign ``name`` from the database at aware ``now``;
    raises `campaigns.service.CampaignError` for an unknown campaign."""
    campaign = get_campaign(session, name)
    entry = dialplan_entry(campaign.name, campaign.queue_name)
    trunks = [
        TrunkFacts(row.name, tuple(row.fs_nodes or ()))
        for row in session.scalars(select(TrunkRow).order_by(TrunkRow.name))
        if row.enabled and row.weight > 0
        and (not campaign.trunk_group or campaign.trunk_group in (row.groups or ()))
    ]  # fmt: skip
    waiting = (Lead.campaign_id == campaign.id, Lead.status == LeadStatus.PENDING, in_live_list())
    zone_sets = session.scalars(select(Lead.time_zones).where(*waiting).distinct())
    due = func.sum(case((Lead.next_attempt_at <= now, 1), else_=0))
    count, due_now, next_due = session.execute(
        select(func.count(), due, func.min(Lead.next_attempt_at)).where(*waiting)
    ).one()
    window = calling_window_of(campaign)
    return CampaignFacts(
        name=campaign.name,
        queue=campaign.queue_name,
        extension=entry.extension,
        context=entry.context,
        trunk_group=campaign.trunk_group,
        trunks=tuple(trunks),
        now=now,
        window_text=describe_calling_window(window),
        window_opens_at=window_opens_at(window, zone_sets, now),
        leads_waiting=int(count or 0),
        leads_due=int(due_now or 0),
        next_due_at=next_due,
    )


_INVALID_GATEWAY = "Invalid Gateway!"
# xml_locate_function (mod_commands.c): a section or tag that is not there, bad arguments
_XML_NOT_FOUND = ("can't find anything", "-Error")


class EslSwitchProbe:
    """`dialer.runner.ports.SwitchProbe` over one short Event Socket connection per node.

    Replies as transcript x shows them: ``callcenter_config queue list`` (a ``|`` table with
    a ``name`` column), ``xml_locate dialplan context name <context>`` (the ``<context>``
    element, or ``can't find anything``), ``sofia status gateway <name>`` (a ``Status`` line,
    or ``Invalid Gateway!``), ``callcenter_config queue list tiers|agents <queue>``.
    ``connect`` opens a started connection to a node (or raises `EslError` when the node
    cannot be reached at all); the probe closes it.
    """

    def __init__(
        self,
        nodes: Sequence[str],
        connect: Callable[[str], ManagedEslConnection],
        connect_timeout_s: float = 5.0,
        timeout_s: float = 5.0,
    ) -> None:
        self._nodes = list(nodes)
        self._connect = connect
        self._connect_timeout_s = connect_timeout_s
        self._timeout_s = timeout_s

    def observe(self, request: ProbeRequest) -> list[NodeReadiness]:
        return [self._observe(node, request) for node in self._nodes]

    def _observe(self, node: str, request: ProbeRequest) -> NodeReadiness:
        try:
            conn = self._connect(node)
        except EslError as exc:
            return NodeReadiness(node, unreachable=str(exc) or type(exc).__name__)
        try:
            if not conn.wait_connected(self._connect_timeout_s):
                return NodeReadiness(node, unreachable="its Event Socket does not let us in")
            return self._ask(conn, request)
        except EslError as exc:
            return NodeReadiness(node, unreachable=str(exc) or type(exc).__name__)
        finally:
            conn.close()

    def _ask(self, conn: EslConnection, request: ProbeRequest) -> NodeReadiness:
        def api(command: str) -> str:
            return conn.api(command, self._timeout_s)

        queues = {row["name"] for row in _rows(api("callcenter_config queue list"), "name")}
        context = api(f"xml_locate dialplan context name {request.context}")
        loaded = not context.startswith(_XML_NOT_FOUND)
        gateways = {g: _gateway_status(api(f"sofia status gateway {g}")) for g in request.gateways}
        tiers = _rows(api(f"callcenter_config queue list tiers {request.queue}"), "agent")
        agents = api(f"callcenter_config queue list agents {request.queue}")
        status = {row["name"]: row.get("status", "") for row in _rows(agents, "name")}
        return NodeReadiness(
            conn.node,
            queues=frozenset(queues),
            context_loaded=loaded,
            extensions=_extensions(context) if loaded else {},
            gateways=gateways,
            tiered_agents=tuple(
                TieredAgent(row["agent"], status.get(row["agent"], "")) for row in tiers
            ),
        )


def _rows(reply: str, column: str) -> list[dict[str, str]]:
    """A mod_callcenter ``|`` table (header line, rows, ``+OK``; only ``+OK`` when empty)."""
    lines = [ln for ln in reply.splitlines() if ln and not ln.startswith(("+OK", "-ERR"))]
    if not lines or column not in lines[0].split("|"):
        return []
    header = lines[0].split("|")
    return [
        dict(zip(header, cols, strict=True))
        for cols in (ln.split("|") for ln in lines[1:])
        if len(cols) == len(header)
    ]


def _gateway_status(reply: str) -> str | None:
    if reply.strip() == _INVALID_GATEWAY:
        return None
    for line in reply.splitlines():
        key, _, value = line.partition("\t")
        if key.strip() == "Status":
            return value.strip()
    return None


def _extensions(context_xml: str) -> dict[str, tuple[str, ...]]:
    """Each extension of a ``<context>`` -> the queues its ``callcenter`` actions enter."""
    try:
        root = ET.fromstring(context_xml)
    except ET.ParseError:
        return {}
    return {
        ext.get("name", ""): tuple(
            (action.get("data") or "").split(" ")[0]
            for action in ext.iter("action")
            if action.get("application") == "callcenter"
        )
        for ext in root.iter("extension")
    }
