"""Lead import and lead claim figures on PostgreSQL.

    .venv/bin/python benchmarks/bench_import.py [--rows 1000000] [--pg postgresql://...]

Generates a CSV (CN mobile, CN fixed-line and US numbers; 5% invalid, 5% duplicates), imports
it into a fresh PostgreSQL database in a child process (memory: the peak of the summed PSS of
that process and its classifying workers), then times claiming the next 100 due leads of the
resulting campaign.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from campaigns.samples import write_sample_leads

TARGET_IMPORT_S = 60.0
TARGET_PEAK_MB = 400.0
TARGET_CLAIM_MS = 5.0


def import_child(db_url: str, csv_path: str, workers: str) -> None:
    """Runs in a child process: migrate, create the campaign, import; prints JSON figures."""
    from campaigns import service
    from campaigns.importer.service import ImportOptions, import_file
    from campaigns.importer.wiring import import_deps
    from dialer.clock import SYSTEM_CLOCK
    from dialer.db.base import make_engine, make_session_factory
    from dialer.db.migrate import upgrade

    sampler = MemorySampler()
    sampler.start()
    upgrade(db_url)
    sessions = make_session_factory(make_engine(db_url))
    with sessions.begin() as session:
        service.create_campaign(session, service.parse_spec(name="bench", queue_name="q"))
    started = time.perf_counter()
    summary = import_file(
        import_deps(sessions, SYSTEM_CLOCK),
        Path(csv_path),
        ImportOptions(campaign="bench", workers=int(workers) if workers else None),
    )
    elapsed_s = time.perf_counter() - started
    sampler.stop()
    peak_mb = sampler.peak_pss_kb / 1024
    counts = {k.value: v for k, v in summary.counts.items()}
    figures = {
        "elapsed_s": elapsed_s,
        "peak_mb": peak_mb,
        "peak_rss_sum_mb": sampler.peak_rss_kb / 1024,
        "counts": counts,
    }
    print(json.dumps(figures))


class MemorySampler(threading.Thread):
    """Samples this process and its children every 100 ms: the peak of their summed PSS
    (shared pages split between the processes sharing them) and of their summed RSS."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_pss_kb = 0
        self.peak_rss_kb = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(0.1):
            self._sample()

    def stop(self) -> None:
        self._sample()
        self._stop_event.set()
        self.join()

    def _sample(self) -> None:
        pss = rss = 0
        for pid in [os.getpid(), *_children(os.getpid())]:
            try:
                text = Path(f"/proc/{pid}/smaps_rollup").read_text()
            except OSError:
                continue
            for line in text.splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss += int(line.split()[1])
        self.peak_pss_kb = max(self.peak_pss_kb, pss)
        self.peak_rss_kb = max(self.peak_rss_kb, rss)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(c) for c in task.read_text().split()]
    return found


def bench_claims(db_url: str, runs: int = 200) -> tuple[float, float, str]:
    from sqlalchemy import text

    from campaigns.selection import claim_due_leads
    from dialer.db.base import make_engine, make_session_factory

    engine = make_engine(db_url)
    sessions = make_session_factory(engine)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE leads"))
    timings_ms = []
    now = datetime.now(UTC)
    for _ in range(runs):
        with sessions.begin() as session:
            started = time.perf_counter()
            leads = claim_due_leads(session, 1, 100, now)
            timings_ms.append((time.perf_counter() - started) * 1000)
            assert len(leads) == 100
    with engine.connect() as conn:
        plan = conn.execute(
            text(
                "EXPLAIN SELECT id FROM leads WHERE campaign_id = 1 AND status = 'pending' "
                "AND next_attempt_at <= now() ORDER BY priority DESC, next_attempt_at, id "
                "LIMIT 100 FOR UPDATE SKIP LOCKED"
            )
        ).scalars()
        plan_text = "\n".join(plan)
    engine.dispose()
    timings_ms.sort()
    return statistics.median(timings_ms), timings_ms[int(len(timings_ms) * 0.99) - 1], plan_text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--workers", default="", help="classifying processes (default: auto)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import_child(*args.child)
        return
    name = f"dialer_bench_{uuid.uuid4().hex[:8]}"
    base = args.pg.rsplit("/", 1)[0]
    admin = psycopg.connect(args.pg, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    db_url = f"{base}/{name}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            csv_path = Path(tmp) / "leads.csv"
            t0 = time.perf_counter()
            write_sample_leads(csv_path, args.rows)
            size_mb = csv_path.stat().st_size / 1e6
            gen_s = time.perf_counter() - t0
            print(f"generated {args.rows:,} rows ({size_mb:.0f} MB) in {gen_s:.1f} s")
            out = subprocess.run(
                [sys.executable, __file__, "--child", db_url, str(csv_path), args.workers],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            figures = json.loads(out.stdout.strip().splitlines()[-1])
        median_ms, p99_ms, plan = bench_claims(db_url)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    rate = args.rows / figures["elapsed_s"]
    print(f"outcomes: {figures['counts']}")
    _figure("import time", figures["elapsed_s"], "s", TARGET_IMPORT_S, f"{rate:,.0f} rows/s")
    rss_note = f"PSS of importer + workers; summed RSS {figures['peak_rss_sum_mb']:.0f} MB"
    _figure("import peak memory", figures["peak_mb"], "MB", TARGET_PEAK_MB, rss_note)
    _figure("claim 100 due leads, median", median_ms, "ms", TARGET_CLAIM_MS, f"p99 {p99_ms:.2f} ms")
    print("claim plan:\n  " + plan.replace("\n", "\n  "))


def _figure(name: str, value: float, unit: str, target: float, note: str) -> None:
    verdict = "PASS" if value <= target else "FAIL"
    print(f"{name:32s} {value:10.2f} {unit:3s} (target <= {target:g} {unit}) {verdict}  {note}")


if __name__ == "__main__":
    main()
