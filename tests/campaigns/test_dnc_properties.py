"""Property: whatever the order of imports, DNC additions and claims, no claimed lead is on an
active DNC entry, no lead turns ``dnc`` without an entry covering it, and every other due lead
is still claimed. On SQLite and PostgreSQL."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from campaigns import service
from campaigns.dnc import DncError, add_entry
from campaigns.domain import DncRule, LeadStatus
from campaigns.importer.service import ImportOptions, import_file
from campaigns.importer.wiring import import_deps
from campaigns.models import CallAttempt, Campaign, DncEntry, Lead, LeadList
from campaigns.rules import CallingWindow
from dialer.clock import SYSTEM_CLOCK
from dialer.runner.adapters import SqlCampaignStore

NUMBERS = ["13800138000", "13800138001", "13800138010", "13900000000", "13900000001", "13712345678"]
PREFIXES = ["+86138", "+861380013800", "+8613800138000", "+86139", "+8613", "+8613712"]
CLAIMER = "prop#1"


@dataclass(frozen=True)
class Import:
    campaign: int
    numbers: tuple[str, ...]


@dataclass(frozen=True)
class AddDnc:
    value: str
    is_prefix: bool
    campaign: int | None
    expires_in_min: int | None  # None: never; 0 or less: lapsed already (refused)


@dataclass(frozen=True)
class Claim:
    """The leads of the campaign claimed before go back to ``pending`` (their calls ended
    and are retried), then up to ``limit`` due leads are claimed."""

    campaign: int
    limit: int


@dataclass(frozen=True)
class Advance:
    minutes: int


Op = Import | AddDnc | Claim | Advance
campaigns = st.integers(0, 1)
ops = st.one_of(
    st.builds(Import, campaigns, st.lists(st.sampled_from(NUMBERS), min_size=1).map(tuple)),
    st.builds(
        AddDnc, st.sampled_from(NUMBERS), st.just(False), st.none() | campaigns,
        st.none() | st.integers(-5, 90),
    ),
    st.builds(
        AddDnc, st.sampled_from(PREFIXES), st.just(True), st.none() | campaigns,
        st.none() | st.integers(-5, 90),
    ),
    st.builds(Claim, campaigns, st.integers(1, 5)),
    st.builds(Claim, campaigns, st.integers(1, 5)),  # twice as likely: claims find the holes
    st.builds(Advance, st.integers(1, 60)),
)  # fmt: skip


class World:
    """Two campaigns on a database emptied first, a clock the test moves, the real store."""

    def __init__(self, sessions: sessionmaker[Session], folder: Path) -> None:
        self.sessions = sessions
        self.folder = folder
        with sessions.begin() as session:
            for table in (CallAttempt, DncEntry, Lead, LeadList, Campaign):
                session.execute(delete(table))
            self.ids = [
                service.create_campaign(
                    session,
                    service.parse_spec(
                        name=f"p{i}", queue_name="q", calling_window=CallingWindow.always_open()
                    ),
                ).id
                for i in range(2)
            ]
        self.store = SqlCampaignStore(sessions)
        self.now = datetime.now(UTC) + timedelta(minutes=1)
        self.imports = 0
        self.claimed: dict[int, list[int]] = {}

    def rules(self) -> list[DncRule]:
        with self.sessions() as session:
            return [
                DncRule(e.number, e.is_prefix, e.campaign_id, e.expires_at)
                for e in session.scalars(select(DncEntry))
            ]

    def leads(self) -> list[tuple[int, str, LeadStatus]]:
        with self.sessions() as session:
            return [tuple(r) for r in session.execute(  # type: ignore[misc]
                select(Lead.campaign_id, Lead.phone_e164, Lead.status)
            )]  # fmt: skip

    def forbidden(self, phone: str, campaign_id: int) -> bool:
        return any(rule.forbids(phone, campaign_id, self.now) for rule in self.rules())

    def apply(self, op: Op) -> None:
        if isinstance(op, Import):
            self.imports += 1
            path = self.folder / f"leads{self.imports}.csv"
            path.write_text("phone\n" + "".join(f"{n}\n" for n in op.numbers), encoding="utf-8")
            import_file(
                import_deps(self.sessions, SYSTEM_CLOCK),
                path,
                ImportOptions(campaign=f"p{op.campaign}"),
            )
        elif isinstance(op, AddDnc):
            self.add_dnc(op)
        elif isinstance(op, Claim):
            campaign_id = self.ids[op.campaign]
            self.store.unclaim(self.claimed.pop(campaign_id, []), CLAIMER)
            claimed = self.store.claim(campaign_id, op.limit, self.now, CLAIMER)
            assert len(claimed) <= op.limit
            for lead in claimed:
                assert not self.forbidden(lead.phone_e164, campaign_id), lead
            self.claimed[campaign_id] = [lead.id for lead in claimed]
        else:
            self.now += timedelta(minutes=op.minutes)

    def add_dnc(self, op: AddDnc) -> None:
        expires_at = (
            None if op.expires_in_min is None else self.now + timedelta(minutes=op.expires_in_min)
        )
        campaign_id = None if op.campaign is None else self.ids[op.campaign]
        rule = DncRule(op.value, op.is_prefix, campaign_id, expires_at)
        try:
            with self.sessions.begin() as session:
                add_entry(
                    session, op.value, region="CN", now=self.now, is_prefix=op.is_prefix,
                    campaign_id=campaign_id, expires_at=expires_at,
                )  # fmt: skip
        except DncError:
            assert expires_at is not None and expires_at <= self.now
            return
        number = rule.number if op.is_prefix else "+86" + rule.number
        rule = DncRule(number, op.is_prefix, campaign_id, expires_at)
        for cid, phone, status in self.leads():
            if status is LeadStatus.PENDING:
                assert not rule.forbids(phone, cid, self.now), (phone, rule)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(ops, min_size=4, max_size=16))
@example(  # a number listed while its lead was being dialled, then retried
    [Import(0, ("13800138000",)), Claim(0, 1), AddDnc("+86138", True, 0, None), Claim(0, 1)]
)
def test_no_claimed_lead_is_on_an_active_dnc_entry(
    sessions: sessionmaker[Session], history: list[Op]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        world = World(sessions, Path(folder))
        for op in history:
            world.apply(op)
        # Every lead turned dnc has an entry covering it (lapsed since, perhaps) ...
        ever = [DncRule(r.number, r.is_prefix, r.campaign_id) for r in world.rules()]
        for cid, phone, status in world.leads():
            if status is LeadStatus.DNC:
                assert any(rule.forbids(phone, cid, world.now) for rule in ever), phone
        # ... and every due lead not listed is still dialled: nothing is left pending.
        world.now += timedelta(minutes=1)
        for campaign_id in world.ids:
            while world.store.claim(campaign_id, 5, world.now, CLAIMER):
                pass
        assert LeadStatus.PENDING not in {status for _, _, status in world.leads()}
