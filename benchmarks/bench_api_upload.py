"""A lead file uploaded through the API vs imported by the CLI: time to the last lead stored
and peak memory.

    .venv/bin/python benchmarks/bench_api_upload.py [--rows 1000000] [--db postgresql|sqlite]
        [--pg postgresql://postgres@127.0.0.1:5432/test] [--redis redis://127.0.0.1:6379/19]
        [--pool prefork|solo] [--repeat N] [--skip-cli]

Generates a CSV (`campaigns.samples.write_sample_leads`: 5% invalid, 5% duplicates), then on
two fresh databases of the kind chosen:

- CLI: ``dialer leads import FILE --campaign bench`` in a child process, timed from its start
  to its exit (the last batch is committed before it exits); its peak RSS is the kernel's
  (``wait4``), the peak of its process tree's summed RSS is sampled every 50 ms.
- API: ``dialer api`` (uvicorn on loopback) and ``dialer worker --queues imports`` as child
  processes; the file is sent as ``multipart/form-data`` to ``POST
  /v1/campaigns/bench/lead-lists`` (streamed by httpx from disk), and the list is polled
  until it is ``complete``: the time is from the first byte sent to that answer. The API
  process's RSS is read before the upload and its peak (``VmHWM``) after; the worker's tree
  is sampled as above.

Prints a table, then whether the API is within 10% of the CLI's time and the API's memory
stayed flat (its peak within 50 MB of its RSS before the upload).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

from campaigns.samples import write_sample_leads

TARGET_TIME_RATIO = 1.10
FLAT_MB = 50.0
POLL_S = 0.2
START_WAIT_S = 60.0
DIALER = str(Path(sys.executable).with_name("dialer"))


@dataclass(frozen=True, slots=True)
class Run:
    path: str
    seconds: float
    peak_rss_mb: float  # the process the file went through (CLI: the import; API: the server)
    tree_peak_mb: float  # CLI: with its classifying processes; API: the imports worker's tree
    baseline_mb: float | None  # API only: its RSS just before the upload
    counts: dict[str, int]


class TreeSampler(threading.Thread):
    """The peak of the summed RSS of a process and its descendants, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(0.05):
            self.peak_kb = max(self.peak_kb, sum(_rss_kb(p) for p in _tree(self.pid)))

    def stop(self) -> float:
        self._stop_event.set()
        self.join()
        return self.peak_kb / 1024


def _tree(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            children = [int(c) for c in task.read_text().split()]
        except OSError:
            continue
        for child in children:
            found += _tree(child)
    return found


def _status_kb(pid: int, field: str) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    return int(found.group(1)) if found else 0


def _rss_kb(pid: int) -> int:
    return _status_kb(pid, "VmRSS")


@contextmanager
def databases(kind: str, pg_admin: str, workdir: Path) -> Iterator[tuple[str, str]]:
    """Two fresh, empty databases (CLI's, API's); dropped afterwards."""
    workdir.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'cli.db'}", f"sqlite:///{workdir / 'api.db'}"
        return
    admin = psycopg.connect(pg_admin, autocommit=True)
    names = [f"bench_upload_{tag}_{uuid.uuid4().hex[:6]}" for tag in ("cli", "api")]
    for name in names:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = pg_admin.rsplit("/", 1)[0].split("://", 1)[1]
    try:
        yield f"postgresql+psycopg://{base}/{names[0]}", f"postgresql+psycopg://{base}/{names[1]}"
    finally:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _env(db_url: str, workdir: Path, **extra: str) -> dict[str, str]:
    return os.environ | {
        "DIALER_DATABASE_URL": db_url,
        "DIALER_HEALTH_DIR": str(workdir / "health"),
        **extra,
    }


def _dialer(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([DIALER, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"dialer {' '.join(args)}: {done.stdout}{done.stderr}")
    return done.stdout


def run_cli(csv_path: Path, db_url: str, workdir: Path) -> Run:
    env = _env(db_url, workdir, COLUMNS="200")
    _dialer(env, "campaigns", "create", "bench", "--queue", "q")
    started = time.perf_counter()
    child = subprocess.Popen(
        [DIALER, "leads", "import", str(csv_path), "--campaign", "bench",
         "--rejects", str(workdir / "cli-rejects.csv")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    sampler = TreeSampler(child.pid)
    sampler.start()
    out = child.stdout.read().decode() if child.stdout else ""
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    tree_mb = sampler.stop()
    if child.returncode != 0:
        raise RuntimeError(f"the CLI import failed:\n{out}")
    counts = {
        m.group(1): int(m.group(2).replace(",", ""))
        for m in re.finditer(r"│ (accepted|duplicate|dnc|invalid)\s+│ ([\d,]+)\s+│", out)
    }
    return Run("CLI import", seconds, usage.ru_maxrss / 1024, tree_mb, None, counts)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_for(what: str, check: object, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_WAIT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited:\n{log.read_text()[-3000:]}")
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start:\n{log.read_text()[-3000:]}")


def run_api(csv_path: Path, db_url: str, workdir: Path, redis_url: str, pool: str) -> Run:
    port = _free_port()
    env = _env(
        db_url, workdir, DIALER_REDIS_URL=redis_url, DIALER_API_PORT=str(port),
        DIALER_UPLOAD_DIR=str(workdir / "uploads"),
    )  # fmt: skip
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    token = _dialer(env, "keys", "create", "--role", "manager").strip().splitlines()[-1]
    api_log, worker_log = workdir / "api.log", workdir / "worker.log"
    with api_log.open("wb") as api_out, worker_log.open("wb") as worker_out:
        api = subprocess.Popen([DIALER, "api"], env=env, stdout=api_out, stderr=api_out)
        worker = subprocess.Popen(
            [DIALER, "worker", "--queues", "imports", "--pool", pool, "--concurrency", "1",
             "--name", "bench-imports"],
            env=env, stdout=worker_out, stderr=worker_out,
        )  # fmt: skip
        try:
            return _upload_through(api, worker, csv_path, port, token, api_log, worker_log)
        finally:
            for proc in (api, worker):
                proc.terminate()
            for proc in (api, worker):
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()


def _upload_through(
    api: subprocess.Popen[bytes],
    worker: subprocess.Popen[bytes],
    csv_path: Path,
    port: int,
    token: str,
    api_log: Path,
    worker_log: Path,
) -> Run:
    base = f"http://127.0.0.1:{port}/v1"
    client = httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=600)

    def api_up() -> bool:
        try:
            return client.get(f"{base}/me").status_code == 200
        except httpx.TransportError:
            return False

    _wait_for("dialer api", api_up, api, api_log)
    _wait_for("the imports worker", lambda: b" ready." in worker_log.read_bytes(), worker,
              worker_log)  # fmt: skip
    made = client.post(f"{base}/campaigns", json={"name": "bench", "queue_name": "q"})
    made.raise_for_status()
    baseline_mb = _rss_kb(api.pid) / 1024
    worker_sampler = TreeSampler(worker.pid)
    worker_sampler.start()
    started = time.perf_counter()
    with csv_path.open("rb") as f:
        sent = client.post(f"{base}/campaigns/bench/lead-lists",
                           files={"file": (csv_path.name, f, "text/csv")})  # fmt: skip
    if sent.status_code != 202:
        raise RuntimeError(f"upload refused: {sent.status_code} {sent.text}")
    upload_s = time.perf_counter() - started
    url = f"{base}/campaigns/bench/lead-lists/{sent.json()['lead_list']['id']}"
    while (state := client.get(url).json())["status"] == "importing":
        time.sleep(POLL_S)
    seconds = time.perf_counter() - started
    worker_mb = worker_sampler.stop()
    if state["status"] != "complete":
        raise RuntimeError(f"the import ended {state}:\n{worker_log.read_text()[-3000:]}")
    print(f"  (API: upload answered after {upload_s:.1f} s)")
    peak_mb = _status_kb(api.pid, "VmHWM") / 1024
    counts = {k: state[k] for k in ("accepted", "duplicate", "dnc", "invalid")}
    return Run("API upload", seconds, peak_mb, worker_mb, baseline_mb, counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/19")
    parser.add_argument("--pool", choices=("prefork", "solo", "threads"), default="prefork",
                        help="the imports worker's pool (dialer up runs prefork)")  # fmt: skip
    parser.add_argument("--skip-cli", action="store_true")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of each path, alternating the first; medians shown")  # fmt: skip
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        workdir = Path(tmp)
        csv_path = workdir / "leads.csv"
        write_sample_leads(csv_path, args.rows)
        size_mb = csv_path.stat().st_size / 1e6
        print(f"{args.rows:,} rows, {size_mb:.1f} MB, {args.db}, imports pool {args.pool}")
        runs: list[Run] = []
        for i in range(args.repeat):
            with databases(args.db, args.pg, workdir / str(i)) as (cli_db, api_db):
                order = ["cli", "api"] if i % 2 == 0 else ["api", "cli"]
                for path in order:
                    if path == "cli" and not args.skip_cli:
                        runs.append(run_cli(csv_path, cli_db, workdir / str(i)))
                    elif path == "api":
                        runs.append(
                            run_api(csv_path, api_db, workdir / str(i), args.redis, args.pool)
                        )
                    print(f"  {runs[-1]}")
        _print_table(_medians(runs), args.rows)


def _medians(runs: list[Run]) -> list[Run]:
    """One run per path: the median of its times and memory figures (the counts of its
    first run; every run of a path must have the same)."""
    merged = []
    for path in ("CLI import", "API upload"):
        mine = [r for r in runs if r.path == path]
        if not mine:
            continue
        assert all(r.counts == mine[0].counts for r in mine), [r.counts for r in mine]
        baselines = [r.baseline_mb for r in mine if r.baseline_mb is not None]
        merged.append(Run(
            path, statistics.median(r.seconds for r in mine),
            statistics.median(r.peak_rss_mb for r in mine),
            statistics.median(r.tree_peak_mb for r in mine),
            statistics.median(baselines) if baselines else None, mine[0].counts,
        ))  # fmt: skip
    return merged


def _print_table(runs: list[Run], rows: int) -> None:
    print(f"{'path':<11} {'last lead s':>11} {'rows/s':>9} {'peak RSS MB':>11} "
          f"{'RSS before MB':>13} {'import tree peak MB':>19}  counts")  # fmt: skip
    for r in runs:
        before = f"{r.baseline_mb:.0f}" if r.baseline_mb is not None else "-"
        print(f"{r.path:<11} {r.seconds:>11.1f} {rows / r.seconds:>9,.0f} "
              f"{r.peak_rss_mb:>11.0f} {before:>13} {r.tree_peak_mb:>19.0f}  "
              f"{json.dumps(r.counts)}")  # fmt: skip
    print("peak RSS: the CLI's import process / the API server; import tree: the CLI with its "
          "classifying processes / the imports worker with its pool")  # fmt: skip
    if len(runs) == 2:
        cli, api = runs
        ratio = api.seconds / cli.seconds
        flat = api.baseline_mb is not None and api.peak_rss_mb - api.baseline_mb <= FLAT_MB
        print(f"API / CLI time: {ratio:.2f} (target <= {TARGET_TIME_RATIO:.2f}: "
              f"{'met' if ratio <= TARGET_TIME_RATIO else 'NOT met'}); API memory "
              f"{'flat' if flat else 'NOT flat'} (peak - before <= {FLAT_MB:.0f} MB); "
              f"same counts: {cli.counts == api.counts}")  # fmt: skip


if __name__ == "__main__":
    main()
