"""The README's "Using it", followed as written: every command of its first block, in order,
against the switch simulator over TCP with the scenario the README names, on SQLite and a
test Redis; then calls are connected to the agent the README adds.

Two lines stand for processes: ``dialer sim serve`` starts the simulator in this process (on a
free port, which the commands after it reach through ``DIALER_FREESWITCH_NODES``), and
``dialer up`` runs what it runs for calls to go out, the event listener and the campaign's
pacing, in this process for a bounded time (as ``dialer demo`` does), keeping the simulator's
time. The simulator's clock starts now, or when the README's calling window next opens, so
the leads imported now are due and inside their window.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from sqlalchemy import select
from typer.testing import CliRunner

from campaigns.models import CallAttempt
from campaigns.rules import CallingWindow
from campaigns.samples import write_sample_leads
from campaigns.service import get_campaign
from dialer.config import FsNode
from dialer.pacing import Mode, make_pacer
from dialer.runner.preflight import window_opens_at
from dialer.runner.tick import CampaignTicker
from dialer.runner.ticker import run_slice
from dialer.sim.scenario import load_scenario
from dialer.sim.simulator import SimulatorServer
from tests.conftest import REDIS_URLS
from workers import demo as demo_root
from workers import listener as listener_root
from workers.cli import app
from workers.context import app_context
from workers.worker import WorkerPacing

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SPEED = 10.0
UP_WALL_S = 8.0
DRAIN_WALL_S = 30.0
DECK = "prefix,rate_per_min\n86,0.020\n"


def readme_commands() -> list[list[str]]:
    """The commands of the first ``sh`` block under "## Using it": continuation lines
    joined, comments, ``&`` and ``[optional]`` parts left out."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Using it") :]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "no sh block under Using it"
    joined = match.group(1).replace("\\\n", " ")
    commands = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        kept, optional = [], False
        for word in words:
            optional = optional or word.startswith("[")
            if not optional and word != "&":
                kept.append(word)
            optional = optional and not word.endswith("]")
        commands.append(kept)
    return commands


@pytest.fixture
def workdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_client: redis.Redis[str]
) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIALER_DATABASE_URL", f"sqlite:///{tmp_path / 'dialer.db'}")
    monkeypatch.setenv("DIALER_REDIS_URL", REDIS_URLS.default)
    app_context.cache_clear()
    write_sample_leads(tmp_path / "leads.csv", 200)
    (tmp_path / "deck.csv").write_text(DECK, encoding="utf-8")
    yield tmp_path
    app_context.cache_clear()


def sim_start_s(window_json: str) -> float:
    """Now, or the next opening of the README's calling window (Asia/Shanghai leads)."""
    window = CallingWindow.model_validate(json.loads(window_json))
    now = datetime.now(UTC)
    opens = window_opens_at(window, ["Asia/Shanghai"], now)
    assert opens is not None
    return opens.timestamp() + (0.0 if opens == now else 60.0)


def run_up(server: SimulatorServer, node: FsNode, campaign: str) -> None:
    """What ``dialer up`` runs for the campaign's calls, for ``UP_WALL_S`` of wall time."""
    ctx = app_context()
    up = demo_root.demo_context(ctx, node, server.time())
    with ctx.sessions() as session:
        campaign_id = get_campaign(session, campaign).id
    [listener] = listener_root.start_listeners(up, None, 5.0 * SPEED)
    pacing = WorkerPacing(up)
    try:
        assert listener.client.wait_connected(10)
        pacing.switch()
        deps = pacing.tick_deps()
        lease = deps.leases.acquire(campaign_id, "readme", 10_000)
        assert lease is not None
        ticker = CampaignTicker(lease, make_pacer(Mode.PREDICTIVE), deps)
        run_slice(ticker.tick, up.clock, 1.0, UP_WALL_S * SPEED)
        deps.leases.release(lease)
        # no more calls go out; the listener records the calls still up when they end
        deadline_s = up.clock.monotonic_s() + DRAIN_WALL_S * SPEED
        while server.call(lambda: any(ch.is_up for ch in server.sim.switch.channels.values())):
            assert up.clock.monotonic_s() < deadline_s, "calls still up"
            up.clock.sleep_s(1.0)
        up.clock.sleep_s(2.0)
    finally:
        pacing.close()
        listener.stop()


def test_following_the_readme_connects_calls_to_the_agent(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands = readme_commands()
    assert commands[0][:3] == ["dialer", "sim", "serve"] and ["dialer", "up"] in commands
    window = next(c[c.index("--window") + 1] for c in commands if "--window" in c)
    cli = CliRunner()
    server: SimulatorServer | None = None
    node: FsNode | None = None
    try:
        for argv in commands:
            assert argv[0] == "dialer", argv
            if argv[1:3] == ["sim", "serve"]:
                scenario = load_scenario(ROOT / argv[argv.index("--scenario") + 1])
                scenario = replace(scenario, speed=SPEED, start_epoch_s=sim_start_s(window))
                server = SimulatorServer(scenario)
                server.start()
                node = FsNode(name="fs1", host=server.sim.host, port=server.sim.port_number)
                nodes = json.dumps([node.model_dump()])
                monkeypatch.setenv("DIALER_FREESWITCH_NODES", nodes)
                app_context.cache_clear()
            elif argv[1:] == ["up"]:
                assert server is not None and node is not None
                run_up(server, node, "spring")
            else:
                result = cli.invoke(app, argv[1:], env={"COLUMNS": "250"})
                assert result.exit_code == 0, (argv, result.output)
                if argv[1:3] == ["campaigns", "check"]:
                    assert "FAIL" not in result.output, result.output
                    assert "pass queue: queue sales@default exists on fs1" in result.output
                    assert "pass agents: 1 agent in queue sales@default on fs1, 1 Available" in (
                        result.output
                    )
        assert server is not None
        records = server.call(lambda: list(server.sim.records.all()))
    finally:
        if server is not None:
            server.stop()
    connected = [r for r in records if r.bridged_s is not None]
    assert connected and {r.agent for r in connected} == {"1001"}, records[:5]
    assert all(r.gateway == "carrier1" for r in records)
    # the dialer recorded them as its calls, connected to that agent
    with app_context().sessions() as session:
        rows = session.scalars(
            select(CallAttempt).where(CallAttempt.call_uuid.in_([r.uuid for r in connected]))
        ).all()
    assert len(rows) == len(connected)
    assert all(row.connected_at is not None and row.agent == "1001" for row in rows), [
        (row.connected_at, row.agent) for row in rows
    ]
