"""What the DNC check costs a claim: "next 100 due leads" with and without it, on PostgreSQL.

    .venv/bin/python benchmarks/bench_claim_dnc.py [--leads 1000000] [--dnc 100000] [--runs 100]

A fresh database (removed afterwards) gets one campaign of ``--leads`` pending CN mobile leads
(10% of them due retries, due times spread over a day) and ``--dnc`` entries written straight
into the table as a bulk-loaded list would be (so the leads they cover are still pending):
exact numbers, a tenth prefixes, half global, a tenth lapsed, about 3% of the leads covered.
Then, for each retry order, ``--runs`` claims of 100 with the check and as many without it
(the same statement with the DNC column a constant false), alternating, each in its own
committed transaction, as the pacer runs them; median and p95 in ms, and the plan of the claim
(EXPLAIN ANALYZE of the statement the claim sent, rolled back).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import psycopg
from sqlalchemy import Connection, Engine, event, false, text
from sqlalchemy.orm import Session, sessionmaker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from campaigns import selection, service  # noqa: E402
from campaigns.domain import RetryOrder  # noqa: E402
from campaigns.rules import CallingWindow  # noqa: E402
from dialer.db.base import make_engine, make_session_factory  # noqa: E402
from dialer.db.migrate import upgrade  # noqa: E402

CLAIM = 100

LEADS_SQL = """
INSERT INTO leads (campaign_id, phone_e164, phone_raw, country, region, time_zones, number_type,
                   custom_fields, status, attempts, next_attempt_at, priority, created_at)
SELECT :campaign_id, '+86138' || lpad(i::text, 8, '0'), lpad(i::text, 8, '0'), 'CN', '',
       'Asia/Shanghai', 'mobile', '{}'::jsonb, 'pending',
       CASE WHEN i % 10 = 3 THEN 1 ELSE 0 END,
       now() - make_interval(secs => ((i::bigint * 7919) % 86400)), 0, now()
FROM generate_series(0, :leads - 1) AS i
"""
# Entry k: a tenth are prefixes ('+86137...' cover no lead; one in ten thousand is '+86138'
# and 6 digits, covering 100 leads); of the exact numbers one in three is a lead's; half are
# global, a tenth lapsed an hour ago.
DNC_SQL = """
INSERT INTO dnc_entries (number, is_prefix, campaign_id, source, reason, created_at, expires_at)
SELECT CASE
         WHEN k % 10000 = 0 THEN '+86138' || lpad(((k / 10000) * 1000 % 1000000)::text, 6, '0')
         WHEN k % 10 = 0 THEN '+86137' || lpad(k::text, 6, '0')
         WHEN k % 3 = 0 THEN '+86138' || lpad(((k::bigint * 33) % :leads)::text, 8, '0')
         ELSE '+86139' || lpad(k::text, 8, '0')
       END,
       k % 10 = 0,
       CASE WHEN k % 2 = 0 THEN NULL ELSE :campaign_id END,
       'bench', '', now(),
       CASE WHEN k % 10 = 7 THEN now() - interval '1 hour' END
FROM generate_series(1, :entries) AS k
"""


def load(sessions: sessionmaker[Session], engine: Engine, leads: int, entries: int) -> int:
    spec = service.parse_spec(
        name="bench", queue_name="q", calling_window=CallingWindow.always_open()
    )
    with sessions.begin() as session:
        campaign_id = service.create_campaign(session, spec).id
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text(LEADS_SQL), {"campaign_id": campaign_id, "leads": leads})
        conn.execute(
            text(DNC_SQL), {"campaign_id": campaign_id, "leads": leads, "entries": entries}
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE leads"))
        conn.execute(text("VACUUM ANALYZE dnc_entries"))
    elapsed_s = time.perf_counter() - started
    print(f"loaded {leads:,} leads and {entries:,} DNC entries in {elapsed_s:.0f} s")
    return campaign_id


@contextmanager
def without_dnc_check() -> Iterator[None]:
    """The claim's statement with its DNC column a constant false."""
    with mock.patch.object(selection, "dnc_listed", lambda *_: false()):
        yield


def claim_ms(
    sessions: sessionmaker[Session], campaign_id: int, order: RetryOrder
) -> tuple[float, int]:
    now = datetime.now(UTC) + timedelta(minutes=1)
    with sessions.begin() as session:
        started = time.perf_counter()
        leads = selection.claim_due_leads(
            session, campaign_id, CLAIM, now, ["Asia/Shanghai"], "bench", order
        )
        elapsed_ms = (time.perf_counter() - started) * 1000
    return elapsed_ms, len(leads)


def figures(timings_ms: list[float]) -> str:
    ordered = sorted(timings_ms)
    p95 = ordered[max(0, round(len(ordered) * 0.95) - 1)]
    return f"median {statistics.median(ordered):7.2f} ms   p95 {p95:7.2f} ms"


def explain(
    engine: Engine, sessions: sessionmaker[Session], campaign_id: int, order: RetryOrder
) -> str:
    """EXPLAIN ANALYZE of the statement one claim sends, in a transaction rolled back."""
    sent: list[tuple[str, Any]] = []

    def grab(_conn: Connection, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("WITH"):
            sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        with sessions() as session, session.begin():
            now = datetime.now(UTC) + timedelta(minutes=1)
            selection.claim_due_leads(
                session, campaign_id, CLAIM, now, ["Asia/Shanghai"], "x", order
            )
            session.rollback()
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    statement, parameters = sent[0]
    with engine.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, COSTS OFF) " + statement, parameters)
        lines = [row[0] for row in plan]
        conn.rollback()
    # The plan's nodes; their long conditions (the DNC look-up's 15 leading parts) cut short.
    nodes = [line for line in lines if "->" in line or not line.startswith(" ")]
    return "\n".join(line if len(line) <= 110 else line[:107] + "..." for line in nodes)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--dnc", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    name = f"dialer_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(args.pg, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    db_url = f"{args.pg.rsplit('/', 1)[0]}/{name}"
    try:
        upgrade(db_url)
        engine = make_engine(db_url)
        sessions = make_session_factory(engine)
        campaign_id = load(sessions, engine, args.leads, args.dnc)
        print(f"claim of the next {CLAIM} due leads, {args.runs} runs each, PostgreSQL:")
        for order in RetryOrder:
            checked: list[float] = []
            unchecked: list[float] = []
            returned = 0
            for _ in range(args.runs):
                elapsed_ms, got = claim_ms(sessions, campaign_id, order)
                checked.append(elapsed_ms)
                returned += got
                with without_dnc_check():
                    unchecked.append(claim_ms(sessions, campaign_id, order)[0])
            print(f"  {order.value:13s} with DNC check     {figures(checked)}   "
                  f"({returned / args.runs:.1f} of {CLAIM} not listed)")  # fmt: skip
            print(f"  {order.value:13s} without the check  {figures(unchecked)}")
        for order in RetryOrder:
            print(
                f"plan ({order.value}):\n  "
                + explain(engine, sessions, campaign_id, order).replace("\n", "\n  ")
            )
        engine.dispose()
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
