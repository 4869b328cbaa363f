"""The web console under watch: 50 running campaigns, 1,000 agents on the board.

Run: ``.venv/bin/python benchmarks/bench_console.py [--campaigns 50] [--agents 1000]
[--sessions 20] [--seconds 30] [--redis-url redis://127.0.0.1:6379/58]`` (needs Redis and
``/usr/bin/chromium``; a SQLite file of its own; the Redis database given is emptied).

`dialer api` runs as its own process (``python -m workers.api``, one uvicorn process) over
a database holding the campaigns (each with 20 leads) and the agents, and a Redis holding
the listener's live state of the agents. Printed:

1. page load: from navigation to the data on the page (the campaigns table with every
   campaign, the board with every agent), median of 5 loads each;
2. the API process's CPU (user + system, from /proc) while ``--sessions`` browser pages
   watch (half the campaign list, half the agent board, each refreshing itself as in use)
   for ``--seconds``: CPU seconds per second, i.e. the share of one core.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from campaigns.domain import CampaignStatus  # noqa: E402
from campaigns.models import Lead  # noqa: E402
from campaigns.rules import CallingWindow  # noqa: E402
from campaigns.service import create_campaign, parse_spec  # noqa: E402
from dialer.agent_state import AgentState  # noqa: E402
from dialer.agents.orm import AgentRow, AgentTierRow  # noqa: E402
from dialer.apikeys.ports import Role  # noqa: E402
from dialer.db.base import make_engine, make_session_factory, transaction  # noqa: E402
from dialer.db.migrate import upgrade  # noqa: E402
from dialer.listener.wiring import live_state  # noqa: E402
from tests.support.api import issue_test_keys  # noqa: E402
from tests.support.net import free_port  # noqa: E402

STATES = [("Available", "Waiting"), ("Available", "In a queue call"), ("On Break", "Idle"),
          ("Available", "Idle")]  # fmt: skip


def seed(sessions: sessionmaker[Session], campaigns: int, agents: int) -> None:
    with transaction(sessions) as session:
        for c in range(campaigns):
            spec = parse_spec(name=f"c{c:02d}", queue_name="sales@default",
                              calling_window=CallingWindow.always_open())  # fmt: skip
            campaign = create_campaign(session, spec)
            campaign.status = CampaignStatus.RUNNING
            session.flush()
            session.add_all(
                Lead(campaign_id=campaign.id, phone_e164=f"+86138{c:02d}{i:06d}",
                     phone_raw=f"138{c:02d}{i:06d}", country="CN", time_zones="Asia/Shanghai",
                     number_type="mobile")
                for i in range(20)
            )  # fmt: skip
        for a in range(agents):
            row = AgentRow(name=f"{1000 + a}@default", contact=f"user/{1000 + a}")
            row.tiers.append(AgentTierRow(queue="sales@default", level=1, position=1))
            session.add(row)


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=50)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/58")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    client: redis.Redis[str] = redis.Redis.from_url(args.redis_url, decode_responses=True)
    client.flushdb()
    live = live_state(client)
    for a in range(args.agents):
        status, state = STATES[a % len(STATES)]
        live.put_agent("fs1", AgentState(f"{1000 + a}@default", status, state, time.time()))
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        sessions = make_session_factory(make_engine(url))
        seed(sessions, args.campaigns, args.agents)
        token = issue_test_keys(sessions)[Role.MANAGER]
        port = free_port()
        env = {**os.environ, "DIALER_DATABASE_URL": url, "DIALER_REDIS_URL": args.redis_url,
               "DIALER_API_PORT": str(port), "DIALER_HEALTH_DIR": f"{tmp}/health"}  # fmt: skip
        api = subprocess.Popen([sys.executable, "-m", "workers.api"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    httpx.get(base + "/login", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                            args=["--no-sandbox"])  # fmt: skip
                context = browser.new_context()
                context.add_cookies([{"name": "dialer_session", "value": token,
                                      "url": base}])  # fmt: skip
                loads: dict[str, list[float]] = {"campaigns": [], "agents": []}
                checks = {
                    "campaigns": ("/console", f"document.querySelectorAll('#campaigns tbody tr')"
                                  f".length === {args.campaigns}"),
                    "agents": ("/console/agents", f"document.querySelectorAll('#agents tbody tr')"
                               f".length === {args.agents}"),
                }  # fmt: skip
                page = context.new_page()
                for name, (path, ready) in checks.items():
                    for _ in range(5):
                        start = time.perf_counter()
                        page.goto(base + path)
                        page.wait_for_function(ready, timeout=30_000)
                        loads[name].append(time.perf_counter() - start)
                page.close()
                pages = []
                for i in range(args.sessions):
                    watcher = context.new_page()
                    path, ready = checks["campaigns" if i % 2 == 0 else "agents"]
                    watcher.goto(base + path)
                    pages.append(watcher)
                for watcher, i in zip(pages, range(args.sessions), strict=True):
                    watcher.wait_for_function(checks["campaigns" if i % 2 == 0 else "agents"][1],
                                              timeout=60_000)  # fmt: skip
                before, started = cpu_s(api.pid), time.perf_counter()
                time.sleep(args.seconds)
                used = cpu_s(api.pid) - before
                elapsed = time.perf_counter() - started
                browser.close()
        finally:
            api.terminate()
            api.wait(timeout=30)
    client.flushdb()
    for name, what in (("campaigns", f"{args.campaigns} campaigns"),
                       ("agents", f"board of {args.agents} agents")):  # fmt: skip
        print(
            f"page load, {what}: median {1000 * statistics.median(loads[name]):.0f} ms, "
            f"max {1000 * max(loads[name]):.0f} ms (navigation to the data shown)"
        )
    print(
        f"API process CPU while {args.sessions} pages watch ({args.sessions // 2} campaign "
        f"lists, {args.sessions - args.sessions // 2} agent boards) for {elapsed:.0f} s: "
        f"{used / elapsed:.2f} CPU seconds per second"
    )


if __name__ == "__main__":
    main()
