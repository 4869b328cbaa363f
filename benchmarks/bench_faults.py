"""Recovery times of the fault suite: each process type killed with ``kill -9`` during a
running campaign (tests/faults), restarted after 2 s; the time from its restart to the first
call the dialer placed after it, in wall seconds.

Needs what the tests need (PostgreSQL on 127.0.0.1:5432, redis-server installed); each run is
the fault suite once (a few minutes). Prints one row per fault: the recovery time of each run
and whether every check held.

Run: .venv/bin/python benchmarks/bench_faults.py [--runs N] [-k EXPR]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_FIGURE = re.compile(r"^fault (\S+): recovery ([0-9.]+) s, (\d+) attempts, (\d+) switch calls")
_OUTCOME = re.compile(r"^(PASSED|FAILED|XFAIL|XPASS) \S+\[(\S+)\]")


def run_suite(select: str) -> tuple[dict[str, tuple[float, int, int]], dict[str, str]]:
    """One run of the fault suite: figures and verdict by fault."""
    argv = [sys.executable, "-m", "pytest", "tests/faults", "-s", "-rA", "-p", "no:randomly"]
    argv += ["-p", "no:cacheprovider", "-k", select] if select else ["-p", "no:cacheprovider"]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    figures: dict[str, tuple[float, int, int]] = {}
    verdicts: dict[str, str] = {}
    if done.returncode != 0:
        summary = done.stdout.split("short test summary info", 1)[-1]
        print(f"pytest exited {done.returncode}:{summary}", file=sys.stderr)
    for line in done.stdout.splitlines():
        if m := _FIGURE.match(line.strip()):
            figures[m[1]] = (float(m[2]), int(m[3]), int(m[4]))
        if m := _OUTCOME.match(line):
            verdicts[m[2]] = m[1]
    return figures, verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="times the suite is run")
    parser.add_argument("-k", default="", help="pytest -k expression (a subset of the faults)")
    args = parser.parse_args()
    times: dict[str, list[float]] = defaultdict(list)
    verdicts: dict[str, list[str]] = defaultdict(list)
    calls: dict[str, int] = {}
    for _ in range(args.runs):
        figures, verdict = run_suite(args.k)
        for fault, (recovery_s, _attempts, switch_calls) in figures.items():
            times[fault].append(recovery_s)
            calls[fault] = switch_calls
        for fault, v in verdict.items():
            verdicts[fault].append(v)
    print(f"{'fault':<12} {'recovery s (restart -> next call)':<36} {'switch calls':>12}  checks")
    for fault in sorted(set(times) | set(verdicts)):
        shown = ", ".join(f"{t:.1f}" for t in times[fault]) or "-"
        print(f"{fault:<12} {shown:<36} {calls.get(fault, 0):>12}  {'/'.join(verdicts[fault])}")


if __name__ == "__main__":
    main()
