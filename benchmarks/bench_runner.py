"""Pacing figures: tick latency with many campaigns, originates per second from one pacer.

Run: ``.venv/bin/python benchmarks/bench_runner.py [--campaigns 50] [--agents 20] [--rounds 30]``
(needs PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379; uses Redis db 14 and a
database of its own, both removed afterwards).

1. Tick latency: N running campaigns x M agents (the listener's agent state in Redis, random
   READY / talking agents each round), PostgreSQL leads, Redis leases and trunk reservations,
   the predictive pacer; the switch is the in-memory one (bgapi is asynchronous, its cost is
   figure 2). Every campaign ticks once per round; p50/p99/max of one tick (target p99 <= 50 ms).
2. Originates per second from one pacer: one campaign, a pacer launching 100 calls per tick,
   ticks back to back, originated over one `EslClient` to the switch simulator running in its
   own process (limits raised); counts calls whose originate left, per second of wall time
   (target >= 200/s).
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import redis
import yaml
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from campaigns.domain import CampaignStatus  # noqa: E402
from campaigns.models import Campaign, Lead  # noqa: E402
from campaigns.rules import CallingWindow  # noqa: E402
from dialer.agent_state import AgentState  # noqa: E402
from dialer.clock import SYSTEM_CLOCK, UUID_IDS  # noqa: E402
from dialer.config import FsNode, Settings  # noqa: E402
from dialer.db.base import make_engine, make_session_factory, transaction  # noqa: E402
from dialer.db.migrate import upgrade  # noqa: E402
from dialer.listener.wiring import live_state  # noqa: E402
from dialer.pacing import Decision, Mode, Outcome, Snapshot, make_pacer  # noqa: E402
from dialer.routing.lines import declare_idle  # noqa: E402
from dialer.routing.model import Trunk  # noqa: E402
from dialer.routing.ratedeck import RateEntry  # noqa: E402
from dialer.routing.service import add_trunk, import_rates, load_routing_table  # noqa: E402
from dialer.routing.wiring import redis_trunk_state  # noqa: E402
from dialer.runner.fakes import MemorySwitch  # noqa: E402
from dialer.runner.tick import CampaignTicker  # noqa: E402
from dialer.runner.wiring import esl_switch, tick_deps  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/14"
ALWAYS = CallingWindow.always_open()
QUEUE = "bench@default"


class Burst:
    """A pacer that launches ``launch`` calls every tick."""

    mode = Mode.PROGRESSIVE

    def __init__(self, launch: int) -> None:
        self.launch = launch

    def decide(self, snapshot: Snapshot) -> Decision:
        return Decision(self.launch)

    def observe(self, outcome: Outcome) -> None:
        return None


def seed(sessions: object, campaigns: int, leads: int, first_phone: int) -> list[int]:
    ids = []
    with transaction(sessions) as session:  # type: ignore[arg-type]
        if not load_routing_table(session).trunks:
            add_trunk(session, Trunk(name="bench", proxy_host="192.0.2.1"))
            import_rates(session, "bench", [RateEntry("86", Decimal("0.03"))])
        for c in range(campaigns):
            campaign = Campaign(
                name=f"bench{first_phone}_{c}",
                queue_name=QUEUE,
                status=CampaignStatus.RUNNING,
                calling_window=ALWAYS.model_dump(mode="json"),
            )
            session.add(campaign)
            session.flush()
            ids.append(campaign.id)
            base = first_phone + c * leads
            session.execute(
                insert(Lead),
                [
                    {
                        "campaign_id": campaign.id,
                        "phone_e164": f"+86138{base + i:08d}",
                        "phone_raw": f"138{base + i:08d}",
                        "country": "CN",
                        "time_zones": "Asia/Shanghai",
                        "number_type": "mobile",
                    }
                    for i in range(leads)
                ],
            )
    return ids


def tick_latency(
    url: str, client: redis.Redis[str], campaigns: int, agents: int, rounds: int
) -> None:
    sessions = make_session_factory(make_engine(url))
    ids = seed(sessions, campaigns, 2_000, 0)
    live = live_state(client)
    trunks = redis_trunk_state(client, keep_health=False)
    tickers = []
    for cid in ids:
        # one node per campaign: each campaign sees its own agents
        settings = Settings(freeswitch_nodes=[FsNode(name=f"n{cid}")])
        deps = tick_deps(
            settings, client, sessions, MemorySwitch(), SYSTEM_CLOCK, UUID_IDS, trunks=trunks
        )
        # no switch here to rebuild the lines from: the trunks start idle
        declare_idle(deps.reservations, [t.name for t in deps.table.trunks], "bench")
        lease = deps.leases.acquire(cid, "bench", 60_000)
        assert lease is not None
        tickers.append(CampaignTicker(lease, make_pacer(Mode.PREDICTIVE), deps))
    rng = random.Random(7)
    latencies_ms: list[float] = []
    launched = 0
    for _ in range(rounds):
        now_s = time.time()
        for cid in ids:
            for a in range(agents):
                state = "Waiting" if rng.random() < 0.3 else "In a queue call"
                since_s = now_s - rng.uniform(0.0, 120.0)
                agent = AgentState(
                    f"a{a}", "Available", state, since_s, wrap_up_s=10.0, queues=(QUEUE,)
                )
                live.put_agent(f"n{cid}", agent)
        for ticker in tickers:
            start = time.perf_counter()
            assert ticker.tick()
            latencies_ms.append((time.perf_counter() - start) * 1000)
        launched = sum(t.stats.launched for t in tickers)
    latencies_ms.sort()
    p99 = latencies_ms[int(0.99 * (len(latencies_ms) - 1))]
    print(
        f"tick latency, {campaigns} campaigns x {agents} agents, {len(latencies_ms)} ticks "
        f"({launched} calls launched): p50 {statistics.median(latencies_ms):.1f} ms, "
        f"p99 {p99:.1f} ms, max {latencies_ms[-1]:.1f} ms (target p99 <= 50 ms)"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def originate_rate(url: str, client: redis.Redis[str], calls: int) -> None:
    sessions = make_session_factory(make_engine(url))
    (cid,) = seed(sessions, 1, calls, 50_000_000)
    scenario = yaml.safe_load((ROOT / "scenarios" / "sim" / "campaign.yaml").read_text())
    scenario["switch"].update(max_sessions=100_000, sessions_per_second=100_000)
    scenario["gateways"] = {"bench": {"proxy": "192.0.2.1:5060"}}
    port = free_port()
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump(scenario, f)
    dialer = str(Path(sys.executable).parent / "dialer")
    sim = subprocess.Popen(
        [dialer, "sim", "serve", "--listen", f"127.0.0.1:{port}", "--scenario", f.name],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    try:
        time.sleep(1.5)
        node = FsNode(name="fs1", host="127.0.0.1", port=port)
        switch = esl_switch([node], connect_wait_s=10)
        assert switch.nodes() == ["fs1"]
        deps = tick_deps(
            Settings(freeswitch_nodes=[node]),
            client,
            sessions,
            switch,
            SYSTEM_CLOCK,
            UUID_IDS,
            trunks=redis_trunk_state(client, keep_health=False),
        )
        lease = deps.leases.acquire(cid, "bench", 60_000)
        assert lease is not None
        ticker = CampaignTicker(lease, Burst(100), deps)
        start = time.perf_counter()
        while ticker.stats.launched < calls:
            assert ticker.tick()
        elapsed = time.perf_counter() - start
        print(
            f"originates from one pacer: {ticker.stats.launched} in {elapsed:.2f} s = "
            f"{ticker.stats.launched / elapsed:.0f}/s (target >= 200/s)"
        )
        switch.close()
    finally:
        sim.terminate()
        sim.wait()
        os.unlink(f.name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--campaigns", type=int, default=50)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--originates", type=int, default=2_000)
    args = parser.parse_args()
    name = f"dialer_bench_runner_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = psycopg.connect(PG_ADMIN, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    client: redis.Redis[str] = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    client.flushdb()
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        upgrade(url)
        print(f"started {datetime.now(UTC):%H:%M:%S}")
        tick_latency(url, client, args.campaigns, args.agents, args.rounds)
        originate_rate(url, client, args.originates)
    finally:
        client.flushdb()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
