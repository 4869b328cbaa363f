"""Preflight of a campaign: everything that must hold for its calls to reach agents, judged
from plain observations, one finding per check and node.

On every node (`dialer.runner.ports.NodeReadiness`): the campaign's queue is loaded, its
dialplan context is loaded and holds the extension its originates name, entering that queue;
each trunk it may dial through is a gateway whose status is ``UP``; at least one agent has a
tier in the queue. From the database (`CampaignFacts`): the calling window is open now (or
when it opens next) and leads are due (or when the next one is).

A ``fail`` finding means calls would not be placed or not reach an agent: ``dialer campaigns
start`` refuses it unless forced. A ``warn`` finding is a state that passes by itself (the
window opens later, agents are not ready yet). Every message is one line that says what is
wrong and what to do. Pure: no I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from campaigns.rules import CallingWindow
from dialer.runner.ports import NodeReadiness, ProbeRequest

# agent statuses mod_callcenter offers calls to
_TAKING_CALLS = frozenset({"Available", "Available (On Demand)"})
_GATEWAY_UP = "UP"
WINDOW_HORIZON_DAYS = 8  # every weekday once, and the day after


class Verdict(enum.StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Finding:
    """One check's result: ``check`` names it (``queue``, ``dialplan``, ``trunk``, ``agents``,
    ``node``, ``window``, ``leads``), ``message`` is the one line shown."""

    check: str
    verdict: Verdict
    message: str


@dataclass(frozen=True, slots=True)
class TrunkFacts:
    """A trunk the campaign may dial through and the nodes it is on (empty: every node)."""

    name: str
    nodes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CampaignFacts:
    """What the database says of a campaign at ``now`` (aware).

    ``trunks`` are the enabled trunks of its group (or of every trunk) with a weight above 0;
    ``window_opens_at`` is ``now`` when the calling window is open for some waiting lead,
    the next time it opens (within `WINDOW_HORIZON_DAYS`), or None for never;
    ``leads_waiting`` counts pending leads, ``leads_due`` those due at ``now``,
    ``next_due_at`` the earliest due time of a waiting lead.
    """

    name: str
    queue: str
    extension: str
    context: str
    trunk_group: str | None
    trunks: tuple[TrunkFacts, ...]
    now: datetime
    window_text: str
    window_opens_at: datetime | None
    leads_waiting: int
    leads_due: int
    next_due_at: datetime | None

    def probe_request(self) -> ProbeRequest:
        """What every node is asked for this campaign."""
        return ProbeRequest(self.queue, self.context, tuple(t.name for t in self.trunks))


@dataclass(frozen=True, slots=True)
class Preflight:
    """Every finding of one preflight, switch checks first (node by node), then the database's."""

    campaign: str
    findings: tuple[Finding, ...]

    @property
    def failures(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.verdict is Verdict.FAIL)

    @property
    def ok(self) -> bool:
        return not self.failures


def evaluate(facts: CampaignFacts, nodes: Sequence[NodeReadiness], zone: str) -> Preflight:
    """The findings for ``facts`` and what each node answered; times printed in ``zone``."""
    findings: list[Finding] = []
    if not nodes:
        findings.append(
            _fail("node", "no FreeSWITCH node is configured: set DIALER_FREESWITCH_NODES")
        )
    if not facts.trunks:
        findings.append(_no_trunk(facts))
    for node in nodes:
        findings.extend(_node_findings(facts, node))
    findings.append(_window_finding(facts, zone))
    findings.append(_leads_finding(facts, zone))
    return Preflight(facts.name, tuple(findings))


def _pass(check: str, message: str) -> Finding:
    return Finding(check, Verdict.PASS, message)


def _warn(check: str, message: str) -> Finding:
    return Finding(check, Verdict.WARN, message)


def _fail(check: str, message: str) -> Finding:
    return Finding(check, Verdict.FAIL, message)


def _no_trunk(facts: CampaignFacts) -> Finding:
    if facts.trunk_group:
        return _fail(
            "trunk",
            f"trunk group {facts.trunk_group} has no enabled trunk: add one "
            f"(dialer trunks add NAME --proxy HOST:PORT --group {facts.trunk_group})",
        )
    return _fail(
        "trunk",
        "no enabled trunk to dial through: add one (dialer trunks add NAME --proxy HOST:PORT)",
    )


def _node_findings(facts: CampaignFacts, node: NodeReadiness) -> list[Finding]:
    name = node.node
    if node.unreachable is not None:
        return [
            _fail(
                "node",
                f"cannot ask {name}: {node.unreachable}: start FreeSWITCH there "
                "or correct DIALER_FREESWITCH_NODES",
            )
        ]
    findings = [_queue_finding(facts, node), _dialplan_finding(facts, node)]
    findings.extend(_trunk_findings(facts, node))
    findings.append(_agents_finding(facts, node))
    return findings


def _queue_finding(facts: CampaignFacts, node: NodeReadiness) -> Finding:
    queue = facts.queue
    if queue in node.queues:
        return _pass("queue", f"queue {queue} exists on {node.node}")
    return _fail(
        "queue",
        f"queue {queue} does not exist on {node.node}: load it in "
        f"callcenter.conf.xml (dialer fsconf render, then callcenter_config queue load "
        f"{queue}) or create the campaign with an existing --queue",
    )


def _dialplan_finding(facts: CampaignFacts, node: NodeReadiness) -> Finding:
    where = f"dialplan context {facts.context} on {node.node}"
    fix = "install the campaigns' dialplan (dialer fsconf render) and run reloadxml"
    if not node.context_loaded:
        return _fail("dialplan", f"{where} is not loaded: {fix}")
    entered = node.extensions.get(facts.extension)
    if entered is None:
        return _fail("dialplan", f"extension {facts.extension} is not in {where}: {fix}")
    if facts.queue not in entered:
        queues = ", ".join(entered) or "no queue"
        return _fail(
            "dialplan",
            f"extension {facts.extension} in {where} enters {queues}, not {facts.queue}: {fix}",
        )
    return _pass("dialplan", f"extension {facts.extension} in {where} enters {facts.queue}")


def _trunk_findings(facts: CampaignFacts, node: NodeReadiness) -> Iterable[Finding]:
    for trunk in facts.trunks:
        if trunk.nodes and node.node not in trunk.nodes:
            continue
        status = node.gateways.get(trunk.name)
        if status is None:
            yield _fail(
                "trunk",
                f"trunk {trunk.name} is not a gateway on {node.node}: add it "
                "to the sofia profile (dialer fsconf render) and rescan the profile",
            )
        elif status.upper() != _GATEWAY_UP:
            yield _fail(
                "trunk",
                f"trunk {trunk.name} is {status} on {node.node}: the carrier "
                "does not answer; check the carrier or disable the trunk",
            )
        else:
            yield _pass("trunk", f"trunk {trunk.name} is up on {node.node}")


def _agents_finding(facts: CampaignFacts, node: NodeReadiness) -> Finding:
    queue, agents = facts.queue, node.tiered_agents
    if not agents:
        return _fail(
            "agents",
            f"no agent has a tier in queue {queue} on {node.node}: add one "
            f"(dialer agents add NAME --contact DIAL_STRING --queue {queue})",
        )
    ready = sum(1 for a in agents if a.status in _TAKING_CALLS)
    counts = f"{len(agents)} agent{'s' if len(agents) != 1 else ''} in queue {queue} on {node.node}"
    if ready == 0:
        return _warn(
            "agents", f"{counts}, none Available: make them ready (dialer agents ready NAME)"
        )
    return _pass("agents", f"{counts}, {ready} Available")


def _at(when: datetime, zone: str) -> str:
    return when.astimezone(ZoneInfo(zone)).isoformat(sep=" ", timespec="seconds")


def _window_finding(facts: CampaignFacts, zone: str) -> Finding:
    opens = facts.window_opens_at
    if opens is None:
        return _fail(
            "window",
            f"the calling window ({facts.window_text}) never opens for the "
            "waiting leads: widen it or check their time zones",
        )
    if opens <= facts.now:
        return _pass("window", f"calling window open now: {facts.window_text}")
    return _warn(
        "window", f"calling window closed now, opens {_at(opens, zone)}; window {facts.window_text}"
    )


def _leads_finding(facts: CampaignFacts, zone: str) -> Finding:
    if facts.leads_waiting == 0:
        return _fail(
            "leads",
            f"no lead is waiting to be called: import leads (dialer leads "
            f"import FILE --campaign {facts.name})",
        )
    if facts.leads_due > 0:
        return _pass("leads", f"{facts.leads_due} of {facts.leads_waiting} waiting leads due now")
    when = f"; the next is due {_at(facts.next_due_at, zone)}" if facts.next_due_at else ""
    return _warn("leads", f"none of {facts.leads_waiting} waiting leads is due now{when}")


def window_opens_at(
    window: CallingWindow, zone_sets: Iterable[str], now: datetime
) -> datetime | None:
    """``now`` if ``window`` is open at ``now`` for one of ``zone_sets`` (leads' comma-joined
    zone lists; none: the window's fallback zone), else the first moment within
    `WINDOW_HORIZON_DAYS` when it opens for one of them, else None."""
    sets = list(dict.fromkeys(zone_sets)) or [""]
    if any(window.is_open(z, now) for z in sets):
        return now
    zones = {z for s in sets for z in s.split(",") if z} | {window.fallback_timezone}
    starts = sorted(
        start for z in zones for start in _window_starts(window, ZoneInfo(z), now) if start > now
    )
    return next((s for s in starts if any(window.is_open(z, s) for z in sets)), None)


def _window_starts(window: CallingWindow, zone: ZoneInfo, now: datetime) -> Iterable[datetime]:
    today = now.astimezone(zone).date()
    for offset in range(WINDOW_HORIZON_DAYS + 1):
        day = today + timedelta(days=offset)
        for w in window.windows:
            if day.weekday() in w.days:
                yield datetime.combine(day, w.start, tzinfo=zone)
