"""Pacing one campaign for one bounded slice under its lease, finding lapsed campaigns, and
the preflight of a campaign (what must hold on every switch node and in the database before
it starts).

A slice either starts a new lease (``token`` None: the supervisor's hand) or continues the one
handed on by the previous slice (same token, renewed). It ends with the lease still held and
renewed (hand it on) or released/lost (stop). The lease's TTL covers the gap between two
slices; a slice that waited longer than that in a queue finds its lease gone and does nothing.

A slice hands its pacer's state to the next (`hand_on`, saved fenced by the lease before
the lease is handed on or released) and the next slice, or the worker that takes the campaign
over, restores it (`open_ticker`); without a usable state the pacer relearns from the newest
outcomes.

A backend outage within a slice (Redis, the database, a switch: ``transient`` errors) does not
end it: its ticks fail, are logged and retried with backoff (`dialer.runner.survive`), and it
paces again as soon as the backend is back and its lease still holds. A lease lost meanwhile
(Redis restarted empty, or the outage outlived the TTL) ends the slice at its next tick; the
supervisor then starts a fresh one. A renewal that fails at the end of a slice ends it too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from dialer.pacing import Mode
from dialer.retry import Backoff
from dialer.runner.carry import resume
from dialer.runner.ports import Lease, LeaseStore, SwitchProbe
from dialer.runner.preflight import CampaignFacts, Preflight, evaluate
from dialer.runner.survive import SurvivingTick
from dialer.runner.tick import CampaignTicker, TickDeps, TickStats
from dialer.runner.ticker import SliceReport, run_slice

log = logging.getLogger(__name__)

# Pauses after failed ticks stay well inside the lease TTL (5 s): a slice whose backend came
# back soon enough still holds its lease when it next ticks.
TICK_BACKOFF = Backoff(initial_s=0.2, max_s=1.0)


@dataclass(frozen=True, slots=True)
class SliceResult:
    """``lease`` is the lease to hand on (None: stop); ``reason`` says why a slice stopped."""

    lease: Lease | None
    reason: str
    report: SliceReport | None = None
    stats: TickStats | None = None


def take_lease(
    leases: LeaseStore, campaign_id: int, owner: str, token: int | None, ttl_ms: int
) -> Lease | None:
    """A fresh lease (``token`` None), or the handed-on one if it is still current."""
    if token is None:
        return leases.acquire(campaign_id, owner, ttl_ms)
    lease = Lease(campaign_id, owner, token)
    return lease if leases.renew(lease, ttl_ms) else None


def pace_slice(
    campaign_id: int,
    owner: str,
    token: int | None,
    deps: TickDeps,
    *,
    period_s: float = 1.0,
    slice_s: float = 30.0,
    transient: Callable[[BaseException], bool] = lambda _exc: False,
    beat: Callable[[str], None] = lambda _status: None,
) -> SliceResult:
    """Pace for one slice of ``slice_s`` seconds of ``deps.clock``, a tick every ``period_s``;
    ticks failing on a ``transient`` error are retried (module docstring); ``beat(status)``
    hears every tick."""
    ttl_ms = deps.config.lease_ttl_ms
    lease = take_lease(deps.leases, campaign_id, owner, token, ttl_ms)
    if lease is None:
        return SliceResult(None, "lease held elsewhere or lapsed")
    plan = deps.store.plan(campaign_id)
    if plan is None or not plan.running:
        deps.leases.release(lease)
        return SliceResult(None, "campaign not running")
    # Leads another claimer holds without an attempt are orphans: a holder that died between
    # claiming and dialling (a slice redelivered to this worker keeps its token, so a fresh
    # lease is not the only way in). Only the lease's holder claims, and a claim given back
    # is fenced (no attempt can be written for it after), so none is kept however recent.
    deps.store.release_orphans(campaign_id, deps.clock.now(), f"{owner}#{lease.token}")
    ticker = open_ticker(lease, plan.mode, deps, transient)

    def give_back_claims() -> None:
        # A failed tick may have left leads claimed and not dialled. Only the lease's holder
        # claims for the campaign, and a claim given back is fenced (no attempt can be
        # written for it), so every claim older than now may go (keep: nobody).
        if deps.leases.renew(lease, ttl_ms):
            deps.store.release_orphans(campaign_id, deps.clock.now(), keep="")

    tick = SurvivingTick(
        ticker.tick, give_back_claims,
        what=f"pacing campaign {campaign_id}", transient=transient, clock=deps.clock, beat=beat,
        backoff=TICK_BACKOFF,
    )  # fmt: skip
    report = run_slice(tick, deps.clock, period_s, slice_s)
    try:
        # before the lease is given up or handed on: the save is fenced by it
        hand_on(ticker, deps)
        if report.stopped_early:
            deps.leases.release(lease)
            return SliceResult(None, "stopped", report, ticker.stats)
        if not deps.leases.renew(lease, ttl_ms):
            return SliceResult(None, "lease lost", report, ticker.stats)
    except Exception as exc:
        if not transient(exc):
            raise
        return SliceResult(None, f"backend down: {type(exc).__name__}: {exc}", report, ticker.stats)
    return SliceResult(lease, "slice done", report, ticker.stats)


def open_ticker(
    lease: Lease,
    mode: Mode,
    deps: TickDeps,
    transient: Callable[[BaseException], bool] = lambda _exc: False,
) -> CampaignTicker:
    """The ticker of a slice under ``lease``, its pacer restored from what the previous slice
    handed on (`hand_on`); a pacer that relearns from the newest outcomes when nothing usable
    was saved or the state store is down (``transient``)."""
    saved = None
    if deps.pacer_states is not None:
        try:
            saved = deps.pacer_states.load(lease.campaign_id)
        except Exception as exc:
            if not transient(exc):
                raise
            log.warning("pacer state of campaign %s not read: %s", lease.campaign_id, exc)
    pacer, carried = resume(mode, saved)
    if saved is not None and carried is None:
        log.warning("pacer state of campaign %s not usable: relearning", lease.campaign_id)
    return CampaignTicker(lease, pacer, deps, carried)


def hand_on(ticker: CampaignTicker, deps: TickDeps) -> bool:
    """Save the ticker's state for the next slice; False when the lease fenced it off."""
    if deps.pacer_states is None:
        return False
    state = ticker.carried().to_dict()
    return deps.pacer_states.save(ticker.lease, state, deps.config.pacer_state_ttl_s)


def lapsed_campaigns(leases: LeaseStore, running: Iterable[int]) -> list[int]:
    """Running campaigns that nobody paces (their lease lapsed or never existed)."""
    return [cid for cid in running if leases.holder(cid) is None]


def preflight(facts: CampaignFacts, probe: SwitchProbe, zone: str) -> Preflight:
    """Ask every node what it has loaded for the campaign of ``facts`` (read from the database
    by `dialer.runner.adapters.campaign_facts`) and judge it; times printed in ``zone``."""
    return evaluate(facts, probe.observe(facts.probe_request()), zone)
