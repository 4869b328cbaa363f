"""The cost report's sums per campaign, trunk and day (a day of the report's time zone)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from dialer.cdr.billing import CostLine
from dialer.cdr.report import cost_report, total

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _line(uuid: str, at: datetime, **kw: object) -> CostLine:
    fields: dict[str, object] = {
        "campaign_id": 1, "trunk": "a", "answered": True, "billsec": 20, "billed_s": 24,
        "cost": Decimal("0.024"), "agent": "", "queue_wait_s": None,
    }  # fmt: skip
    fields.update(kw)
    return CostLine(call_uuid=uuid, started_at=at, **fields)  # type: ignore[arg-type]


def test_days_are_the_zones_and_groups_are_campaign_trunk_day() -> None:
    late_utc = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)  # 01:00 on the 3rd in Shanghai
    lines = [
        _line("1", datetime(2026, 12, 3, 1, 0, tzinfo=UTC), queue_wait_s=2),
        _line("2", late_utc, queue_wait_s=1),
        _line("3", late_utc, trunk="b", cost=None, billed_s=20),
        _line("4", late_utc, campaign_id=2, answered=False, billsec=0, billed_s=0, cost=Decimal(0)),
        _line("5", late_utc, campaign_id=None),
        _line("6", late_utc, campaign_id=9),
    ]
    rows = cost_report(lines, SHANGHAI, {1: "spring", 2: "autumn"})
    keys = [(r.campaign, r.trunk, r.day.isoformat()) for r in rows]
    assert keys == [
        ("", "a", "2026-12-03"),
        ("#9", "a", "2026-12-03"),
        ("autumn", "a", "2026-12-03"),
        ("spring", "a", "2026-12-03"),
        ("spring", "b", "2026-12-03"),
    ]
    spring = rows[3]
    assert (spring.calls, spring.answered, spring.billsec) == (2, 2, 40)
    assert (spring.billed_min, spring.cost, spring.queue_wait_s) == (
        Decimal("0.80"), Decimal("0.048"), 1.5)  # fmt: skip
    assert (rows[4].unpriced, rows[4].cost) == (1, Decimal(0))
    assert (rows[2].answered, rows[2].queue_wait_s) == (0, None)
    in_utc = cost_report(lines, ZoneInfo("UTC"), {1: "spring"})
    assert {r.day.isoformat() for r in in_utc} == {"2026-12-02", "2026-12-03"}
    calls, answered, _billed, cost = total(rows)
    assert (calls, answered, cost) == (6, 5, Decimal("0.096"))
