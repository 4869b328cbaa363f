"""Use cases of the CDR context: take a CDR the switch posted (or left in its err-log-dir),
keep it, settle its attempt; release the leads held by unknown attempts.

Invariants: a CDR is stored before its attempt is settled, so a crash between the two is
repaired by the switch's retry or a re-import (the store keeps the first copy, settling is
idempotent); the attempt's outcome is written through the one `AttemptSink`, whose first
definitive end stands (events after a CDR, or a CDR after the events, change nothing); the
call's trunk line is released (idempotent); a CDR of a call that is not the dialer's (no
``dialer_*`` ids) is stored and settles nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dialer.cdr.parse import CdrError, CdrFacts, cdr_xml_of, err_log_xml, parse_cdr
from dialer.cdr.ports import CdrStore
from dialer.cdr.settle import end_from_cdr
from dialer.clock import Clock
from dialer.listener.ports import AttemptSink, TrunkRelease

__all__ = ["CdrDeps", "CdrImport", "CdrReceipt", "import_cdr_files", "receive_cdr"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CdrDeps:
    """What taking a CDR needs: the store, the attempt sink, the clock dating receipts and
    the trunk reservations (None: left to the listener) a settled call frees."""

    store: CdrStore
    attempts: AttemptSink
    clock: Clock
    trunks: TrunkRelease | None = None


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
    new = deps.store.add(facts, xml_text, deps.clock.now())
    if _is_dialer_call(facts):
        deps.attempts.record("", end_from_cdr(facts))
        _release_trunk(deps, facts)
    return CdrReceipt(facts.call_uuid, new, facts.attempt_id)


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
