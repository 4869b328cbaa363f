"""Throughput of the simulated mod_callcenter on the in-memory port (no sockets).

Scenario 1: 200 agents answering after 1 s, 20 callers/s for 300 simulated seconds, each
customer talking 60 s. Scenario 2: 1,000 callers waiting at once while every agent is busy
(the dispatcher's worst case: a scan of every waiting member each 0.1 s).
Prints simulated seconds per wall second and callcenter events per wall second.

Run: .venv/bin/python benchmarks/bench_callcenter.py
"""

from __future__ import annotations

import functools
import time

from dialer.sim.callcenter import Callcenter
from dialer.sim.callcenter.config import AgentConfig, CallcenterConfig, QueueConfig, TierConfig
from dialer.sim.callcenter.fakes import FakeSwitchPort

CUST_VARS = {"caller_id_name": "Outbound Call", "caller_id_number": "6138000000"}


def _engine(n_agents: int) -> tuple[FakeSwitchPort, Callcenter]:
    names = [f"agent{i}@default" for i in range(n_agents)]
    cfg = CallcenterConfig(
        queues=[QueueConfig(name="q@default", moh_sound="local_stream://moh")],
        agents=[
            AgentConfig(name=n, contact=f"sofia/external/{n}", status="Available") for n in names
        ],
        tiers=[
            TierConfig(agent=n, queue="q@default", level=1, position=i) for i, n in enumerate(names)
        ],
    )
    port = FakeSwitchPort()
    return port, Callcenter(port, cfg)


def _arrivals(
    port: FakeSwitchPort, engine: Callcenter, n_calls: int, every_s: float, talk_s: float
) -> None:
    def arrive(i: int) -> None:
        uuid = f"cust-{i}"
        port.add_channel(uuid, CUST_VARS)
        engine.enter_queue(uuid, "q@default", lambda _c: None)
        port.call_later(talk_s, functools.partial(port.hangup, uuid, "NORMAL_CLEARING"))

    for i in range(n_calls):
        port.call_later(i * every_s, functools.partial(arrive, i))


def _run(label: str, port: FakeSwitchPort, sim_s: float) -> None:
    start = time.perf_counter()
    port.advance(sim_s)
    wall_s = time.perf_counter() - start
    cc_events = sum(1 for e in port.log if e.name.startswith("cc:"))
    print(
        f"{label}: {sim_s:.0f} simulated s in {wall_s:.2f} wall s "
        f"({sim_s / wall_s:.1f}x real time), {cc_events} cc events "
        f"({cc_events / wall_s:.0f}/s), bridged {len(port.cc('bridge-agent-start'))}"
    )


def main() -> None:
    port, engine = _engine(200)
    _arrivals(port, engine, n_calls=6000, every_s=0.05, talk_s=60.0)
    _run("200 agents, 20 calls/s, 60 s talk", port, 300.0)

    port, engine = _engine(50)
    _arrivals(port, engine, n_calls=1050, every_s=0.001, talk_s=120.0)
    _run("50 agents, 1000 callers waiting", port, 60.0)


if __name__ == "__main__":
    main()
