"""Writes a comparison's outputs: per-call CSV logs, charts, and the figures table."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

from dialer.sim.pacing.charts import write_chart
from dialer.sim.pacing.records import Figures, RunLog, write_csv

__all__ = ["format_figures", "table_rows", "write_outputs"]

_COLUMNS = (
    ("talk_min_per_agent_hour", "talk min/agent-h", "{:.2f}"),
    ("occupancy", "occupancy", "{:.3f}"),
    ("abandon_rate", "abandon %/window", "{:.2%}"),
    ("calls_per_hour", "calls/h", "{:.0f}"),
    ("idle_wait_s", "idle wait s", "{:.1f}"),
    ("answered", "answered", "{:d}"),
    ("abandoned", "abandoned", "{:d}"),
)


def _log_name(log: RunLog) -> str:
    return f"{log.scenario}_seed{log.seed}_{log.pacer}"


def table_rows(runs: Sequence[Mapping[str, RunLog]]) -> list[list[str]]:
    """One row per run: scenario, seed, pacer, then the figures formatted as printed."""
    rows: list[list[str]] = []
    for logs in runs:
        for log in logs.values():
            figures = asdict(log.figures)
            cells = [fmt.format(figures[key]) for key, _, fmt in _COLUMNS]
            rows.append([log.scenario, str(log.seed), _label(log), *cells])
    return rows


def _label(log: RunLog) -> str:
    ratio = log.extra.get("ratio")
    return f"{log.pacer} {ratio:.2f}" if ratio is not None else log.pacer


def format_figures(figures: Figures) -> list[str]:
    values = asdict(figures)
    return [fmt.format(values[key]) for key, _, fmt in _COLUMNS]


def write_outputs(runs: Sequence[Mapping[str, RunLog]], out: Path) -> list[list[str]]:
    """Write ``<scenario>_seed<n>_<pacer>.csv``, ``<scenario>_seed<n>.png``, ``table.txt`` and
    ``figures.json`` under ``out``; return the table rows."""
    out.mkdir(parents=True, exist_ok=True)
    dump: list[dict[str, object]] = []
    for logs in runs:
        first = next(iter(logs.values()))
        for log in logs.values():
            write_csv(log, out / f"{_log_name(log)}.csv")
            dump.append(
                {
                    "scenario": log.scenario,
                    "seed": log.seed,
                    "pacer": log.pacer,
                    **asdict(log.figures),
                    **log.extra,
                }
            )
        title = f"{first.scenario}, seed {first.seed}"
        write_chart(logs, out / f"{first.scenario}_seed{first.seed}.png", title)
    rows = table_rows(runs)
    header = ["scenario", "seed", "pacer", *(title for _, title, _ in _COLUMNS)]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True))
        for row in [header, *rows]
    ]
    (out / "table.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "figures.json").write_text(json.dumps(dump, indent=2) + "\n", encoding="utf-8")
    return [header, *rows]
