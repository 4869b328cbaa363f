"""Process commands: ``dialer worker``, ``dialer beat``, ``dialer listener``, ``dialer api``
and ``dialer up``.

``worker`` and ``beat`` replace themselves with Celery (``exec``), so no wrapper process is left
between the signals and Celery. ``up`` runs everything one machine needs as child processes
(the listener, the API, a thread-pool worker for pacing/originate/post-call, a prefork worker
for imports, beat) and stops them all when one of them dies, on Ctrl-C or SIGTERM; they get
SIGTERM from the kernel if ``up`` itself is killed (``kill -9`` included). With the embedded
Redis it starts the server first and keeps it for the children, which join it through its
socket, and stops it when it exits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Annotated, Any, NoReturn

import typer

from dialer.clock import SYSTEM_CLOCK
from workers.cli.common import console, user_errors
from workers.lifetime import child_of_this_process

CELERY_APP = "workers.celery_app:app"
DEFAULT_WORKER_QUEUES = "pacing,originate,post-call"
IMPORTS_QUEUES = "imports"
_LOGLEVEL_HELP = "Celery log level: debug, info, warning, error."


def worker_argv(queues: str, pool: str, concurrency: int, name: str, loglevel: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        CELERY_APP,
        "worker",
        "-Q",
        queues,
        "-P",
        pool,
        "-c",
        str(concurrency),
        "-n",
        f"{name}@%h",
        "-l",
        loglevel,
    ]


def beat_argv(schedule: str, loglevel: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        CELERY_APP,
        "beat",
        "-s",
        schedule,
        "-l",
        loglevel,
    ]


def listener_argv() -> list[str]:
    return [sys.executable, "-m", "workers.listener"]


def api_argv() -> list[str]:
    return [sys.executable, "-m", "workers.api"]


def up_commands(concurrency: int, loglevel: str, schedule: str) -> dict[str, list[str]]:
    """The child processes of ``dialer up``, by name."""
    return {
        "listener": listener_argv(),
        "api": api_argv(),
        "worker": worker_argv(DEFAULT_WORKER_QUEUES, "threads", concurrency, "pacing", loglevel),
        "imports": worker_argv(IMPORTS_QUEUES, "prefork", 2, "imports", loglevel),
        "beat": beat_argv(schedule, loglevel),
    }


def worker(
    queues: Annotated[str, typer.Option(help="Comma-separated queues.")] = DEFAULT_WORKER_QUEUES,
    pool: Annotated[str, typer.Option(help="threads (pacing), prefork (imports), gevent.")] = (
        "threads"
    ),
    concurrency: Annotated[int, typer.Option(help="Campaign slices at once (threads).")] = 32,
    name: Annotated[str, typer.Option(help="Worker node name (before @host).")] = "dialer",
    loglevel: Annotated[str, typer.Option(help=_LOGLEVEL_HELP)] = "info",
) -> None:
    """Run a Celery worker (pacing slices, the supervisor, other queues)."""
    _become(worker_argv(queues, pool, concurrency, name, loglevel))


def beat(
    schedule: Annotated[str, typer.Option(help="Beat's schedule state file.")] = (
        "dialer-beat-schedule"
    ),
    loglevel: Annotated[str, typer.Option(help=_LOGLEVEL_HELP)] = "info",
) -> None:
    """Run Celery beat (the pacing supervisor every 2 s; the sweep of due webhook retries
    every 15 s). Run one per deployment."""
    _become(beat_argv(schedule, loglevel))


def _become(argv: list[str]) -> NoReturn:
    """Replace this process with ``argv`` (same pid): signals, ``kill -9`` included, reach
    the program itself and no wrapper is left to outlive it or be outlived."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(argv[0], argv)


def listener() -> None:
    """Run the event listener: one Event Socket connection per FreeSWITCH node."""
    from workers.listener import main

    with user_errors():
        main()


def api() -> None:
    """Run the HTTP API on DIALER_API_HOST:PORT: the public API (/v1, keys from dialer keys;
    OpenAPI at /openapi.json, /docs) and the switch's CDR posts (/fsapi/cdr)."""
    from workers.api import main

    with user_errors():
        main()


def up(
    concurrency: Annotated[int, typer.Option(help="Pacing worker threads.")] = 32,
    schedule: Annotated[str, typer.Option(help="Beat's schedule state file.")] = (
        "dialer-beat-schedule"
    ),
    loglevel: Annotated[str, typer.Option(help=_LOGLEVEL_HELP)] = "info",
) -> None:
    """Run listener, API, workers and beat on this machine until Ctrl-C or one exits."""
    from workers.context import app_context

    with user_errors():
        # The database is migrated once, before the children start, and the embedded Redis
        # server (if any) runs as long as this process keeps its client.
        app_context().open()
    # Each child gets SIGTERM when this process dies, even by SIGKILL.
    children = {
        name: subprocess.Popen(argv, preexec_fn=child_of_this_process())
        for name, argv in up_commands(concurrency, loglevel, schedule).items()
    }
    console.print(f"started {', '.join(f'{n} (pid {p.pid})' for n, p in children.items())}")
    stopping = {"now": False}

    def stop(*_: Any) -> None:
        stopping["now"] = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    while not stopping["now"]:
        exited = [(n, p.returncode) for n, p in children.items() if p.poll() is not None]
        if exited:
            console.print(f"[red]{exited[0][0]} exited ({exited[0][1]}); stopping[/red]")
            code = 1
            break
        SYSTEM_CLOCK.sleep_s(0.5)
    _stop_children(list(children.values()))
    raise typer.Exit(code)


def _stop_children(processes: list[subprocess.Popen[bytes]], wait_s: float = 10.0) -> None:
    for proc in processes:
        if proc.poll() is None:
            proc.terminate()
    deadline = SYSTEM_CLOCK.monotonic_s() + wait_s
    for proc in processes:
        try:
            proc.wait(timeout=max(0.1, deadline - SYSTEM_CLOCK.monotonic_s()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def register_process_commands(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.command("beat")(beat)
    app.command("listener")(listener)
    app.command("api")(api)
    app.command("up")(up)
