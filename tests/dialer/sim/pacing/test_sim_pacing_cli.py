"""``dialer sim pacing SCENARIO --out DIR``: outputs exist and printed figures match the CSVs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dialer.sim.pacing.records import figures_from_csv
from dialer.sim.pacing.report import format_figures
from workers.cli import app

SCENARIO = """\
name: tiny
duration_s: 28800
seeds: [1, 2]
agents:
  - count: 6
answer: {probability: 0.4}
talk_s: {mean: 120, sd: 60}
wrap_s: {mean: 10}
"""


def test_sim_pacing_writes_table_charts_and_logs_that_agree(tmp_path: Path) -> None:
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    out = tmp_path / "out"
    args = ["sim", "pacing", str(scenario), "--out", str(out), "--seed", "2", "--hours", "0.5"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (out / "tiny_seed2.png").read_bytes()[:4] == b"\x89PNG"
    printed = json.loads((out / "figures.json").read_text(encoding="utf-8"))
    assert {row["pacer"] for row in printed} == {
        "predictive",
        "progressive",
        "fixed_best",
        "vicidial",
    }
    table_rows = [line.split() for line in (out / "table.txt").read_text("utf-8").splitlines()]
    for row in printed:
        row_pacer = row["pacer"]
        recomputed = figures_from_csv(out / f"tiny_seed2_{row_pacer}.csv")
        for name, value in row.items():
            if hasattr(recomputed, name):
                assert getattr(recomputed, name) == pytest.approx(value, rel=1e-9, abs=1e-9)
        cells = format_figures(recomputed)
        assert any(row[-len(cells) :] == cells and row[2] == row_pacer for row in table_rows)


def test_sim_pacing_rejects_a_bad_scenario(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("name: bad\nduration_s: -1\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["sim", "pacing", str(scenario), "--out", str(tmp_path)])
    assert result.exit_code == 1
