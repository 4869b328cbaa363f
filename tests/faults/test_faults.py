"""kill -9 of one process type during a running campaign, a restart, the campaign run to its
end: then nothing lost, nothing doubled, no limit broken, as the simulator saw the calls.

Each case runs the whole deployment (tests/faults/harness.py) on a fresh PostgreSQL
database and a Redis of its own, and prints the recovery time: from the restart of the
killed process to the first call placed after it (`benchmarks/bench_faults.py` tabulates it).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.domain import AttemptOutcome, LeadStatus
from campaigns.models import CallAttempt, Lead
from dialer.db.base import make_engine, make_session_factory
from dialer.runner.adapters import RedisLeaseStore
from tests.conftest import migrated_database, seed_running_campaign
from tests.faults import checks
from tests.faults.harness import Deployment, deployment, wait_until
from tests.support.redis_server import OwnRedis

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

LEADS = 150
TRUNK_LIMITS = {"cheap_cn": 8, "premium_cn": 5}
RATES = {"cheap_cn": "0.02", "premium_cn": "0.05"}
ATTEMPTS_BEFORE_FAULT = 30
DOWN_S = 2.0
START_BOUND_S = 60.0
RECOVERY_BOUND_S = 45.0
FINISH_BOUND_S = 120.0

FAULTS = ("worker", "beat", "listener", "simulator", "redis_aof", "redis_empty")


@dataclass(frozen=True)
class FaultRun:
    """What one fault case measured."""

    fault: str
    recovery_s: float
    finish_s: float  # from the restart to the campaign's end
    attempts: int
    records: int


def _holder_kind(run: Deployment, campaign_id: int) -> str:
    """The worker pacing the campaign now (its lease owner ends with its pid)."""
    lease = RedisLeaseStore(run.redis.client()).holder(campaign_id)
    pid = int(lease.owner.rsplit(":", 1)[-1]) if lease else -1
    by_pid = {proc.pid: kind for kind, proc in run.procs.items()}
    return by_pid.get(pid, "worker0")


def inject(run: Deployment, fault: str, campaign_id: int) -> None:
    """kill -9 what ``fault`` names, wait ``DOWN_S``, start it again."""
    if fault.startswith("redis"):
        run.redis.kill()
        time.sleep(DOWN_S)
        run.redis.start()
        return
    kind = _holder_kind(run, campaign_id) if fault == "worker" else fault
    run.kill(kind)
    time.sleep(DOWN_S)
    run.start(kind)


def attempts_of(sessions: sessionmaker[Session]) -> list[checks.Attempt]:
    with sessions() as session:
        rows = session.execute(select(CallAttempt.call_uuid, CallAttempt.outcome)).all()
    return [checks.Attempt(u, o) for u, o in rows]


def run_fault(
    fault: str, workdir: Path, db_url: str, sessions: sessionmaker[Session]
) -> tuple[FaultRun, Deployment]:
    """The campaign with ``fault`` injected once it is under way; bounded throughout."""
    campaign_id = seed_running_campaign(
        sessions, LEADS, TRUNK_LIMITS, prefix="137", rates=RATES,
        # the abandon safety stop would end the campaign early: abandons are counted here
        abandon_target_pct=100.0, abandon_run_limit=1000,
    )  # fmt: skip
    redis = OwnRedis(workdir / "redis", persistent=fault == "redis_aof")
    (workdir / "redis").mkdir()
    redis.start()
    try:
        with deployment(workdir, db_url, redis, sessions) as run:
            if not wait_until(lambda: run.attempts() >= ATTEMPTS_BEFORE_FAULT, START_BOUND_S):
                raise AssertionError(f"no calls: {run.log_tail('worker0')}")
            inject(run, fault, campaign_id)
            restarted = datetime.now(UTC)
            restarted_s = time.monotonic()
            recovered = wait_until(lambda: run.placed_since(restarted), RECOVERY_BOUND_S)
            recovery_s = time.monotonic() - restarted_s
            assert recovered, f"no call placed {RECOVERY_BOUND_S} s after the restart"
            finished = wait_until(lambda: run.settled() or bool(run.died()), FINISH_BOUND_S)
            assert not run.died(), {k: run.log_tail(k) for k in run.died()}
            finish_s = time.monotonic() - restarted_s
            assert finished, (
                f"campaign not finished in {FINISH_BOUND_S} s: {run.state()}\n"
                f"{run.log_tail('listener')}"
            )
        measured = FaultRun(
            fault, recovery_s, finish_s, run.attempts(), sum(map(len, run.records()))
        )
        return measured, run
    finally:
        redis.kill()


@pytest.fixture
def fault_db(request: pytest.FixtureRequest) -> Iterator[tuple[str, sessionmaker[Session]]]:
    with migrated_database("postgresql", request) as url:
        engine = make_engine(url)
        yield url, make_session_factory(engine)
        engine.dispose()


@pytest.mark.parametrize("fault", FAULTS)
def test_a_killed_process_loses_and_doubles_nothing(
    fault: str, tmp_path: Path, fault_db: tuple[str, sessionmaker[Session]]
) -> None:
    db_url, sessions = fault_db
    measured, run = run_fault(fault, tmp_path, db_url, sessions)
    print(
        f"\nfault {fault}: recovery {measured.recovery_s:.1f} s, "
        f"{measured.attempts} attempts, {measured.records} switch calls, "
        f"campaign done {measured.finish_s:.1f} s after the restart"
    )
    runs = run.records()
    attempts = attempts_of(sessions)
    print(f"most calls up at once per trunk: {checks.max_concurrent(runs)} (limits {TRUNK_LIMITS})")
    problems: dict[str, object] = {
        "numbers with two calls up at once": checks.overlapping_numbers(runs),
        "trunk limits broken": checks.limit_breaches(runs, TRUNK_LIMITS),
        "calls without exactly one matching attempt": checks.outcome_mismatches(runs, attempts),
        "customers who reached an agent dialled again": checks.agent_customers_redialled(runs),
    }
    with sessions() as session:
        dialing = session.scalar(
            select(func.count(Lead.id)).where(Lead.status == LeadStatus.DIALING)
        )
    reported = sum(1 for a in attempts if a.outcome == AttemptOutcome.ABANDONED)
    true = checks.true_abandons(runs)
    found = {name: found for name, found in problems.items() if found}
    assert not found, found
    assert dialing == 0
    assert reported == true, f"reported abandons {reported}, true ones {true}"
