"""Use cases of the CDR context: take a CDR the switch posted (or left in its err-log-dir),
keep it, settle its attempt; release the leads held by unknown attempts.

Each CDR is stored with its price (`dialer.cdr.billing`: billsec rounded up to the trunk's
billing increment at the number's rate). Invariants: a CDR is stored before its attempt is
settled, so a crash between the two is
repaired by the switch's retry or a re-import (the store keeps the first copy, settling is
idempotent); the attempt's outcome is written through the one `AttemptSink`, whose first
definitive end stands (events after a CDR, or a CDR after the events, change nothing); the
call's trunk line is released (idempotent); a CDR of a call that is not the dialer's (no
``dialer_*`` ids) is stored and settles nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dialer.cdr.billing import Charge, charge
from dialer.cdr.parse import CdrError, CdrFacts, cdr_xml_of, err_log_xml, parse_cdr
from dialer.cdr.ports import CdrStore, RateLookup
from dialer.cdr.report import CostRow, cost_report
from dialer.cdr.settle import end_from_cdr
from dialer.clock import Clock
from dialer.listener.ports import AttemptSink, TrunkRelease

__all__ = [
    "CdrDeps",
    "CdrImport",
    "CdrReceipt",
    "cost_between",
    "import_cdr_files",
    "receive_cdr",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CdrDeps:
    """What taking a CDR needs: the store, the attempt sink, the clock dating receipts,
    the trunk reservations (None: left to the listener) a settled call frees and the rate
    decks that price it (None: not priced)."""

    store: CdrStore
    attempts: AttemptSink
    clock: Clock
    trunks: TrunkRelease | None = None
    rates: RateLookup | None = None


@dataclass(frozen=True, slots=True)
class CdrReceipt:
    """``new``: stored now (False: a copy was stored before); ``attempt_id`` None: not a
    dialer call."""

    call_uuid: str
    new: bool
    attempt_id: int | None


def receive_cdr(deps: CdrDeps, content_type: str, body: bytes) -> CdrReceipt:
    """A body as mod_xml_cdr posts it (any ``encode``); `CdrError` when it is not a CDR."""
    return _take(deps, cdr_xml_of(content_type, body))


def _take(deps: CdrDeps, xml_text: str) -> CdrReceipt:
    facts = parse_cdr(xml_text)
    new = deps.store.add(facts, xml_text, deps.clock.now(), _priced(deps, facts))
    if _is_dialer_call(facts):
        deps.attempts.record("", end_from_cdr(facts))
        _release_trunk(deps, facts)
    return CdrReceipt(facts.call_uuid, new, facts.attempt_id)


def _priced(deps: CdrDeps, facts: CdrFacts) -> Charge | None:
    if deps.rates is None:
        return None
    try:
        entry = deps.rates.rate(facts)
    except Exception:
        # a CDR is never refused for its price: it is stored unpriced (cost unknown)
        log.exception("rate of %s on trunk %s not found", facts.call_uuid, facts.trunk)
        return None
    return charge(facts.billsec, facts.answered_us > 0, entry)


def _release_trunk(deps: CdrDeps, facts: CdrFacts) -> None:
    # A call the listener never saw (it was down) would hold its line until the lease
    # expired; a release is idempotent, so the listener's own release later is harmless.
    if deps.trunks is None or not facts.trunk:
        return
    try:
        deps.trunks.release(facts.trunk, facts.call_uuid)
    except Exception:
        log.exception("line of %s on trunk %s not released", facts.call_uuid, facts.trunk)


def _is_dialer_call(facts: CdrFacts) -> bool:
    return None not in (facts.attempt_id, facts.lead_id, facts.campaign_id)


@dataclass
class CdrImport:
    """What an import of err-log-dir files did: files taken (``new`` of them stored now)
    and, per refused file, one line saying why."""

    taken: int = 0
    new: int = 0
    refused: list[str] = field(default_factory=list)


def import_cdr_files(deps: CdrDeps, paths: Iterable[Path]) -> CdrImport:
    """Take the files mod_xml_cdr wrote into its err-log-dir (``a_<uuid>.cdr.xml``) when no
    post got through; importing a file twice stores and settles nothing more."""
    result = CdrImport()
    for path in sorted(paths):
        try:
            receipt = _take(deps, err_log_xml(path.read_text(encoding="utf-8")))
        except (CdrError, OSError, UnicodeDecodeError) as exc:
            result.refused.append(f"{path}: {exc}")
            continue
        result.taken += 1
        result.new += receipt.new
    return result


def cost_between(
    store: CdrStore,
    since: datetime,
    until: datetime,
    zone: ZoneInfo,
    campaigns: Mapping[int, str],
    campaign: str | None = None,
) -> list[CostRow]:
    """The cost report of calls started in ``[since, until)`` (`dialer.cdr.report`), of one
    campaign when ``campaign`` is given; the CLI's ``dialer report cost`` and the API's."""
    if since >= until:
        raise ValueError("the report's start must be before its end")
    rows = cost_report(store.cost_lines(since, until), zone, campaigns)
    return [r for r in rows if campaign is None or r.campaign == campaign]
