"""Several pacers over several switch nodes with different limits (a first, small form of
issue 18's scale simulation): calls per node beside each node's limits, node-limit and
trunk-limit breaches, tick lateness.

Run: ``.venv/bin/python benchmarks/bench_nodes_sim.py [--campaigns 20] [--pacers 4]
[--seconds 20] [--launch 5] [--redis-url redis://127.0.0.1:6379/14]`` (needs PostgreSQL at
127.0.0.1:5432 and Redis; a database of its own and the Redis db are emptied afterwards).

Four simulated FreeSWITCH nodes (in this process, scenarios/sim/campaign.yaml at 1x) with
their own ``fsctl sps`` / ``max_sessions``; ``--campaigns`` campaigns, each asking for
``--launch`` calls every 1-s tick (more than the nodes take, so the nodes' limits bound
the calls), shared among ``--pacers`` pacer threads, each with its own Event Socket
connections as a pacing worker has. Breaches are counted by the simulators themselves: a
node refuses (``-ERR DESTINATION_OUT_OF_ORDER``) any originate over its sps or sessions;
trunk lines are sampled from the simulators' calls every 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from campaigns.domain import CampaignStatus  # noqa: E402
from campaigns.models import Campaign, Lead  # noqa: E402
from campaigns.rules import CallingWindow  # noqa: E402
from dialer.clock import SYSTEM_CLOCK, UUID_IDS  # noqa: E402
from dialer.config import FsNode, Settings  # noqa: E402
from dialer.db.base import make_engine, make_session_factory, transaction  # noqa: E402
from dialer.db.migrate import upgrade  # noqa: E402
from dialer.nodes.adapters import ConnectionStatusReader  # noqa: E402
from dialer.nodes.service import set_switch_limits  # noqa: E402
from dialer.pacing import Decision, Mode, Outcome, Snapshot  # noqa: E402
from dialer.routing.model import Trunk  # noqa: E402
from dialer.routing.ratedeck import RateEntry  # noqa: E402
from dialer.routing.service import add_trunk, import_rates  # noqa: E402
from dialer.routing.wiring import redis_trunk_state  # noqa: E402
from dialer.runner.tick import CampaignTicker  # noqa: E402
from dialer.runner.wiring import esl_switch, tick_deps  # noqa: E402
from dialer.sim.simulator import SimulatorServer  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
SCENARIO = ROOT / "scenarios" / "sim" / "campaign.yaml"
# node: (fsctl sps, fsctl max_sessions)
NODES = {"fs1": (61, 200), "fs2": (41, 120), "fs3": (21, 80), "fs4": (11, 60)}
# gateways of the scenario: max lines. No listener runs here, so no line is freed at hangup:
# the trunks bound the calls of the whole run, and are sized above what the nodes take.
TRUNKS = {"cheap_cn": 1_500, "premium_cn": 300}
LEADS_PER_CAMPAIGN = 2_000


class Burst:
    mode = Mode.PROGRESSIVE

    def __init__(self, launch: int) -> None:
        self.launch = launch

    def decide(self, snapshot: Snapshot) -> Decision:
        return Decision(self.launch)

    def observe(self, outcome: Outcome) -> None:
        return None


def seed(sessions: object, campaigns: int) -> list[int]:
    ids = []
    with transaction(sessions) as session:  # type: ignore[arg-type]
        for name, lines in TRUNKS.items():
            add_trunk(session, Trunk(name=name, proxy_host="192.0.2.1", max_concurrency=lines))
            import_rates(session, name, [RateEntry("86", Decimal("0.03"))])
        for c in range(campaigns):
            campaign = Campaign(
                name=f"nodes{c}",
                queue_name="campaign@default",
                status=CampaignStatus.RUNNING,
                calling_window=CallingWindow.always_open().model_dump(mode="json"),
            )
            session.add(campaign)
            session.flush()
            ids.append(campaign.id)
            session.add_all(
                Lead(
                    campaign_id=campaign.id,
                    phone_e164=f"+86138{c * LEADS_PER_CAMPAIGN + i:08d}",
                    phone_raw=f"138{c * LEADS_PER_CAMPAIGN + i:08d}",
                    country="CN",
                    time_zones="Asia/Shanghai",
                    number_type="mobile",
                )
                for i in range(LEADS_PER_CAMPAIGN)
            )
    return ids


def pacer(
    tickers: list[CampaignTicker], seconds: float, lateness_ms: list[float], lock: threading.Lock
) -> None:
    start = time.monotonic()
    k = 0
    while (deadline := start + k) < start + seconds:
        time.sleep(max(deadline - time.monotonic(), 0.0))
        late = (time.monotonic() - deadline) * 1000
        for ticker in tickers:
            ticker.tick()
        with lock:
            lateness_ms.append(late)
        k += 1


def lines_up(servers: dict[str, SimulatorServer]) -> Counter[str]:
    """Calls up now on each gateway, over every node."""
    up: Counter[str] = Counter()
    for server in servers.values():
        sim = server.sim
        records = server.call(lambda sim=sim: list(sim.records.all()))
        up.update(r.gateway for r in records if not r.refused and r.hangup_s is None)
    return up


def run(url: str, client: redis.Redis[str], args: argparse.Namespace) -> None:
    sessions = make_session_factory(make_engine(url))
    ids = seed(sessions, args.campaigns)
    servers = {name: SimulatorServer(str(SCENARIO)) for name in NODES}
    for server in servers.values():
        server.start()
    nodes = [FsNode(name=n, host=s.sim.host, port=s.sim.port_number) for n, s in servers.items()]
    settings = Settings(freeswitch_nodes=nodes)
    trunks = redis_trunk_state(client, "bench", keep_health=False)
    switches = [esl_switch(nodes, connect_wait_s=10) for _ in range(args.pacers)]
    reader = ConnectionStatusReader(switches[0].connections)
    for name, (sps, most) in NODES.items():
        set_switch_limits(reader, name, sps=sps, max_sessions=most)
    shares: list[list[CampaignTicker]] = [[] for _ in range(args.pacers)]
    for i, cid in enumerate(ids):
        switch = switches[i % args.pacers]
        deps = tick_deps(
            settings, client, sessions, switch, SYSTEM_CLOCK, UUID_IDS,
            namespace="bench", trunks=trunks,
        )  # fmt: skip
        lease = deps.leases.acquire(cid, "bench", 60_000)
        assert lease is not None
        shares[i % args.pacers].append(CampaignTicker(lease, Burst(args.launch), deps))
    lateness_ms: list[float] = []
    lock = threading.Lock()
    threads = [
        threading.Thread(target=pacer, args=(share, args.seconds, lateness_ms, lock))
        for share in shares
    ]
    for t in threads:
        t.start()
    peak_lines: Counter[str] = Counter()
    while any(t.is_alive() for t in threads):
        for gateway, n in lines_up(servers).items():
            peak_lines[gateway] = max(peak_lines[gateway], n)
        time.sleep(0.5)
    for t in threads:
        t.join()
    time.sleep(0.5)
    for switch in switches:
        switch.close()
    print(f"{args.campaigns} campaigns x {args.launch} calls asked per 1-s tick, "
          f"{args.pacers} pacers, {args.seconds:.0f} s, 4 nodes")  # fmt: skip
    total = 0
    for name, server in servers.items():
        sim = server.sim
        records = server.call(lambda sim=sim: list(sim.records.all()))
        admission = sim.switch.admission
        adm = server.call(lambda a=admission: (a.peak, a.sps_peak))
        sps, most = NODES[name]
        refused = sum(1 for r in records if r.refused)
        total += len(records)
        print(
            f"  {name}: sps {sps} (passes {sps - 1}/s), max_sessions {most}: "
            f"{len(records)} calls ({len(records) / args.seconds:.1f}/s), "
            f"peak sessions {adm[0]}, peak per second {adm[1]}, refused by the node {refused}"
        )
        server.stop()
    breaches = sum(1 for g, n in peak_lines.items() if n > TRUNKS.get(g, 0))
    print(f"  calls {total}; trunk peaks {dict(peak_lines)} of {TRUNKS}: {breaches} breaches")
    lateness_ms.sort()
    p99 = lateness_ms[int(0.99 * (len(lateness_ms) - 1))]
    print(f"  tick round lateness: p50 {statistics.median(lateness_ms):.1f} ms, "
          f"p99 {p99:.1f} ms, max {lateness_ms[-1]:.1f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=20)
    parser.add_argument("--pacers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--launch", type=int, default=5)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()
    name = f"dialer_bench_nodes_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = psycopg.connect(PG_ADMIN, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    client: redis.Redis[str] = redis.Redis.from_url(args.redis_url, decode_responses=True)
    client.flushdb()
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        upgrade(url)
        run(url, client, args)
    finally:
        client.flushdb()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
