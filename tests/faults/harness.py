"""A running dialer deployment of separate OS processes, for kill -9 faults.

The simulator (`dialer sim serve`, at a speed-up, writing its per-call journal), the API (CDR
posts), the listener, two pacing workers and beat run against a PostgreSQL database and a
Redis server of the run's own on a free loopback port (never the shared one: faults kill
it). Every process is the leader of its own process group; `Deployment.close` kills every
group that is left, so nothing outlives the test. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.domain import LeadStatus
from campaigns.models import CallAttempt, Lead
from dialer.sim.records import CallRecord, read_journal
from tests.support.redis_server import OwnRedis
from workers.cli.run import DEFAULT_WORKER_QUEUES, api_argv, beat_argv, listener_argv, worker_argv

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "sim" / "campaign.yaml"
SPEED = 50.0
CDR_CREDENTIALS = "cdr:fault-suite"
_DIALER = [sys.executable, "-c", "from workers.cli import app; app(prog_name='dialer')"]
_STOP_WAIT_S = 10.0
_POLL_S = 0.2

# The process kinds a fault may kill: each is restarted by `Deployment.restart`.
KINDS = ("simulator", "api", "listener", "worker0", "worker1", "beat")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(condition: Callable[[], bool], timeout_s: float) -> bool:
    """Poll ``condition`` until it holds or ``timeout_s`` passed; its last answer."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(_POLL_S)
    return condition()


@dataclass
class Deployment:
    """The processes of one run, in ``workdir`` (logs, journal, beat schedule)."""

    workdir: Path
    db_url: str
    redis: OwnRedis
    sessions: sessionmaker[Session]
    esl_port: int = field(default_factory=free_port)
    api_port: int = field(default_factory=free_port)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    starts: dict[str, int] = field(default_factory=dict)

    def journal(self, start: int) -> Path:
        """The simulator's journal of its ``start``-th run (1-based): a restarted simulator's
        clock starts again, so each run's times are compared only among themselves."""
        return self.workdir / f"calls-{start}.jsonl"

    def environment(self) -> dict[str, str]:
        kept = {k: v for k, v in os.environ.items() if not k.startswith("DIALER_")}
        node = {"name": "fs1", "host": "127.0.0.1", "port": self.esl_port}
        return {
            **kept,
            "PYTHONPATH": str(ROOT),
            "DIALER_DATABASE_URL": self.db_url,
            "DIALER_REDIS_URL": self.redis.url,
            "DIALER_FREESWITCH_NODES": json.dumps([node]),
            "DIALER_PACING_PERIOD_S": "0.2",
            "DIALER_PACING_SLICE_S": "5",
            "DIALER_HEALTH_DIR": str(self.workdir / "health"),
            "DIALER_API_PORT": str(self.api_port),
            "DIALER_FSAPI_CREDENTIALS": CDR_CREDENTIALS,
            "DIALER_CDR_WAIT_S": "5",
        }

    def argv(self, kind: str) -> list[str]:
        if kind == "simulator":
            return [
                *_DIALER, "sim", "serve", "--scenario", str(SCENARIO),
                "--listen", f"127.0.0.1:{self.esl_port}", "--speed", str(SPEED),
                "--records", str(self.journal(self.starts["simulator"])),
                "--cdr-url", f"http://127.0.0.1:{self.api_port}/fsapi/cdr",
                "--cdr-credentials", CDR_CREDENTIALS,
                "--cdr-err-dir", str(self.workdir / "cdr-err"),
            ]  # fmt: skip
        if kind == "api":
            return api_argv()
        if kind == "listener":
            return listener_argv()
        if kind == "beat":
            return beat_argv(str(self.workdir / "beat-schedule"), "warning")
        if kind.startswith("worker"):
            return worker_argv(DEFAULT_WORKER_QUEUES, "threads", 4, kind, "warning")
        raise ValueError(f"unknown process kind {kind!r}")

    def start(self, kind: str) -> None:
        """Start ``kind`` as the leader of a new process group (its log appended to)."""
        self.starts[kind] = self.starts.get(kind, 0) + 1
        argv = self.argv(kind)
        with (self.workdir / f"{kind}.log").open("ab") as log:
            self.procs[kind] = subprocess.Popen(
                argv, cwd=self.workdir, env=self.environment(), stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def start_all(self) -> None:
        self.start("api")
        self.start("simulator")
        if not wait_until(self._esl_listening, 30):
            raise AssertionError(f"the simulator never listened: {self.log_tail('simulator')}")
        for kind in ("listener", "worker0", "worker1", "beat"):
            self.start(kind)

    def _esl_listening(self) -> bool:
        with socket.socket() as probe:
            probe.settimeout(0.5)
            return probe.connect_ex(("127.0.0.1", self.esl_port)) == 0

    def kill(self, kind: str) -> None:
        """``kill -9`` of ``kind``'s whole process group; waits until it is gone."""
        proc = self.procs.pop(kind)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=_STOP_WAIT_S)

    def died(self) -> list[str]:
        """The kinds whose process exited by itself (a loop that could not go on)."""
        return [kind for kind, proc in self.procs.items() if proc.poll() is not None]

    def close(self) -> None:
        """SIGTERM then SIGKILL to every process group left, whatever state they are in."""
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + _STOP_WAIT_S
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=_STOP_WAIT_S)
        self.procs.clear()

    def log_tail(self, kind: str, lines: int = 30) -> str:
        path = self.workdir / f"{kind}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    # the database, read only

    def attempts(self) -> int:
        with self.sessions() as session:
            return session.scalar(select(func.count(CallAttempt.id))) or 0

    def placed_since(self, moment: datetime) -> bool:
        with self.sessions() as session:
            found = session.scalars(
                select(CallAttempt.id).where(CallAttempt.originated_at > moment)
            ).first()
        return found is not None

    def settled(self) -> bool:
        """No lead dialling, none due; every attempt has its outcome."""
        now = datetime.now(UTC)
        with self.sessions() as session:
            leads = session.execute(select(Lead.status, Lead.next_attempt_at)).all()
            open_attempts = session.scalar(
                select(func.count(CallAttempt.id)).where(CallAttempt.outcome.is_(None))
            )
        return not open_attempts and all(
            s is not LeadStatus.DIALING and not (s is LeadStatus.PENDING and at <= now)
            for s, at in leads
        )

    def state(self) -> str:
        """Lead statuses and attempts without outcome, for a failure message."""
        with self.sessions() as session:
            leads = session.execute(select(Lead.status, func.count()).group_by(Lead.status)).all()
            open_attempts = session.scalar(
                select(func.count(CallAttempt.id)).where(CallAttempt.outcome.is_(None))
            )
        return f"leads {dict((str(s), n) for s, n in leads)}, attempts open {open_attempts}"

    def records(self) -> list[list[CallRecord]]:
        """The simulator's records, one list per run of it, in order."""
        runs = range(1, self.starts.get("simulator", 0) + 1)
        return [read_journal(self.journal(n)) if self.journal(n).exists() else [] for n in runs]


@contextmanager
def deployment(
    workdir: Path, db_url: str, redis: OwnRedis, sessions: sessionmaker[Session]
) -> Iterator[Deployment]:
    """A started `Deployment`, every process group of it killed at the end."""
    run = Deployment(workdir, db_url, redis, sessions)
    try:
        run.start_all()
        yield run
    finally:
        run.close()
