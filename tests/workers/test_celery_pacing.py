"""The pacing tasks through Celery (eager): slices hand on under one lease; the supervisor
starts only campaigns whose lease lapsed, once; the commands build the right processes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from dialer.agent_state import AgentState
from dialer.clock import SYSTEM_CLOCK, UUID_IDS
from dialer.config import load_settings
from dialer.pacing import Mode
from dialer.runner.fakes import MemoryCampaignStore, MemoryLeaseStore, MemoryLiveView, MemorySwitch
from dialer.runner.ports import CampaignPlan, LeaseStore
from dialer.runner.tick import TickDeps
from dialer.runner.wiring import memory_tick_deps
from workers.cli.run import up_commands
from workers.context import AppContext
from workers.worker import WorkerRoot, install_root

CID = 3


class StoppingStore(MemoryCampaignStore):
    """The campaign is paused after ``running_for`` reads of its plan."""

    running_for = 25

    def plan(self, campaign_id: int) -> CampaignPlan | None:
        self.running_for -= 1
        found = super().plan(campaign_id)
        if found is None or self.running_for > 0:
            return found
        return CampaignPlan(CID, "c", False, Mode.PROGRESSIVE, "cc_c", "campaign")


@dataclass
class FakeRuntime:
    """`PacingRuntime` on the in-memory twins and the real clock."""

    store: StoppingStore
    switch: MemorySwitch = field(default_factory=MemorySwitch)
    lease_store: MemoryLeaseStore = field(default_factory=lambda: MemoryLeaseStore(SYSTEM_CLOCK))
    running: list[int] = field(default_factory=list)
    kicked: set[int] = field(default_factory=set)

    @property
    def leases(self) -> LeaseStore:
        return self.lease_store

    def tick_deps(self) -> TickDeps:
        live = MemoryLiveView([AgentState("a1", "Available", "Waiting")])
        return memory_tick_deps(
            SYSTEM_CLOCK,
            UUID_IDS,
            store=self.store,
            live=live,
            switch=self.switch,
            leases=self.lease_store,
        )

    def running_campaigns(self) -> list[int]:
        return list(self.running)

    def kick(self, campaign_id: int, ttl_s: int) -> bool:
        first = campaign_id not in self.kicked
        self.kicked.add(campaign_id)
        return first


@pytest.fixture
def runtime() -> Iterator[FakeRuntime]:
    """The worker's root on test settings (slices of 50 ms, a tick every 10 ms) and a fake
    pacing runtime; tasks run inline."""
    from workers.celery_app import app

    app.conf.update(task_always_eager=True)
    store = StoppingStore()
    store.plans[CID] = CampaignPlan(CID, "c", True, Mode.PROGRESSIVE, "cc_c", "campaign")
    rt = FakeRuntime(store)
    settings = load_settings(pacing_period_s=0.01, pacing_slice_s=0.05)
    install_root(app, WorkerRoot(AppContext(settings), pacing=rt))
    yield rt
    install_root(app, None)
    app.conf.update(task_always_eager=False)


def test_pace_hands_slices_on_under_one_lease_until_the_campaign_stops(
    runtime: FakeRuntime,
) -> None:
    from workers.celery_app import app

    ticks: list[float] = []
    original = runtime.store.plan

    def counting(campaign_id: int) -> CampaignPlan | None:
        ticks.append(time.monotonic())  # every tick reads the plan once
        return original(campaign_id)

    runtime.store.plan = counting  # type: ignore[method-assign]
    result = app.tasks["dialer.pace"].apply(args=(CID,))
    assert result.get() == "slice done"  # the first slice; the ones it handed on ran inline
    assert len(ticks) > 6  # several slices ran (about 5 ticks per slice)
    assert runtime.lease_store._fences[CID] == 1  # one lease for all slices
    assert runtime.lease_store.holder(CID) is None  # released when the campaign stopped


def test_supervisor_starts_lapsed_campaigns_once(runtime: FakeRuntime) -> None:
    from workers.celery_app import app

    held = runtime.lease_store.acquire(CID, "elsewhere", 60_000)
    assert held is not None
    runtime.running = [CID, 99]  # 99: no plan, its slice stops at once
    assert app.tasks["dialer.supervise"].apply().get() == [99]
    assert app.tasks["dialer.supervise"].apply().get() == []  # kicked recently
    assert runtime.lease_store.holder(99) is None


def test_up_runs_listener_api_two_workers_and_beat() -> None:
    commands = up_commands(16, "info", "sched")
    assert set(commands) == {"listener", "api", "worker", "imports", "beat"}
    assert "workers.api" in commands["api"]
    worker = commands["worker"]
    assert worker[worker.index("-Q") + 1] == "pacing,originate,post-call"
    assert worker[worker.index("-P") + 1] == "threads"
    imports = commands["imports"]
    assert imports[imports.index("-P") + 1] == "prefork"
    assert "beat" in commands["beat"] and "workers.listener" in commands["listener"]


@pytest.mark.integration
def test_slices_travel_through_a_real_broker_and_worker(
    runtime: FakeRuntime, real_broker: Any
) -> None:
    """Redis broker (db 14) and a thread-pool worker: the supervisor's kick starts the
    campaign, slices hand on through the queue under one lease until the campaign stops."""
    from celery.contrib.testing.worker import start_worker

    app = real_broker
    runtime.running = [CID]
    runtime.store.running_for = 60
    with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False):
        app.tasks["dialer.supervise"].delay()
        deadline = time.monotonic() + 15
        while runtime.store.running_for > 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
    assert runtime.kicked == {CID}
    assert runtime.store.running_for <= 0
    assert runtime.lease_store._fences[CID] == 1
    assert runtime.lease_store.holder(CID) is None
