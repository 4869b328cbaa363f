"""Seams of routing: the trunk state that the processes of a deployment share.

Capacity reservation (`CapacityReservations`): a reservation takes, together or not at all, a
concurrency slot on the trunk (a lease keyed by the call uuid that expires unless renewed, so
a crashed process's slots free themselves), a CPS token (at most ``max_cps`` grants in any
sliding second), one count of the callee on the trunk in the current cap window, and one count
of the caller ID today. Releasing frees the slot only; the counters are attempts and stay.

The lines in use survive a restart of the store: each trunk's slots are marked with the
instance of the store they were last rebuilt under (Redis's ``run_id``). A store that
restarted, with or without its data, or never held the trunk, refuses every reservation on
it (``Refusal.REBUILDING``: the trunk counts as full) until one process, holding the trunk's
rebuild fence (``begin_rebuild``), wrote the calls the switches have up on it (``restore``).

Trunk health (`TrunkHealthStore`): the listeners of every node fold each ended call into its
trunk's `TrunkHealth` (``record``), gateway status checks set ``gateway_up``
(``set_gateway``), and the pacers read the table's trunks once per tick (``snapshot``) for the
router's ``UsageSnapshot.health`` and claim the one trial call of a trunk whose suspension
ended (``claim_trial``) before they place it. Every update is the pure reducer of
`dialer.routing.health` applied atomically to the stored value, so many listener processes
never lose a failure or a success. A trunk whose health is back to the initial state (gateway
up, no failures, never suspended) is not stored and is absent from snapshots, which the router
reads as healthy.

Each `Protocol` has an in-memory fake in `dialer.routing.fakes` and a Redis adapter in
`dialer.routing.adapters`; the contract tests in ``tests/contracts/`` hold both to the same
assertions.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from dialer.routing.health import TrunkHealth
from dialer.routing.model import TrunkUsage


class Refusal(enum.StrEnum):
    CONCURRENCY = "concurrency"
    CPS = "cps"
    PER_NUMBER_CAP = "per_number_cap"
    CALLER_ID_CAP = "caller_id_cap"
    TRIAL_TAKEN = "trial_taken"  # the trunk's one trial call went to another call
    # the store restarted (or never held the trunk) and its lines in use are not yet rebuilt
    # from the switches: the trunk counts as full
    REBUILDING = "lines_not_rebuilt"


@dataclass(frozen=True, slots=True)
class ReservationRequest:
    """What one call needs on one trunk. A cap or limit of 0 means "no limit".

    ``number_window``/``caller_id_day`` name the calendar windows the counters belong to
    (see `dialer.routing.claim.calendar_window`); their keys live ``*_ttl_s`` seconds.
    """

    call_uuid: str
    trunk: str
    max_concurrency: int
    max_cps: int
    lease_s: float
    number: str = ""
    per_number_cap: int = 0
    number_window: str = ""
    number_ttl_s: int = 0
    caller_id: str = ""
    caller_id_cap: int = 0
    caller_id_day: str = ""
    caller_id_ttl_s: int = 0


@dataclass(frozen=True, slots=True)
class ReservationResult:
    """``granted`` or the first ``refusal``; ``server_time_us`` is when the decision was taken."""

    granted: bool
    refusal: Refusal | None
    server_time_us: int


class CapacityReservations(Protocol):
    def reserve(self, request: ReservationRequest) -> ReservationResult: ...

    def release(self, trunk: str, call_uuid: str) -> bool:
        """Free the call's slot; False when it held none (already released or expired)."""
        ...

    def renew(self, trunk: str, call_uuid: str, lease_s: float) -> bool:
        """Extend a live lease (long calls); False when the lease is gone."""
        ...

    def usage(self, trunks: Iterable[str]) -> dict[str, TrunkUsage]:
        """Live slots and grants in the last second per trunk, for the router's snapshot."""
        ...

    def pending_rebuild(self, trunks: Iterable[str]) -> list[str]:
        """Those of ``trunks`` whose lines in use were not rebuilt under the store's current
        instance (they refuse every reservation), in the order given."""
        ...

    def begin_rebuild(self, trunks: Iterable[str], holder: str, ttl_s: float) -> list[str]:
        """Take the rebuild fence of each pending trunk for ``holder`` for ``ttl_s`` seconds;
        the trunks ``holder`` now holds (a trunk fenced by another holder, or not pending,
        is left out). One holder per trunk at a time, however many processes ask."""
        ...

    def restore(self, trunk: str, call_uuids: Iterable[str], lease_s: float, holder: str) -> bool:
        """Replace the trunk's slots by ``call_uuids`` (leases of ``lease_s`` seconds), mark
        the trunk rebuilt under the current instance and drop the fence; all in one step and
        only while ``holder`` still holds the fence (False otherwise: nothing written)."""
        ...


class TrunkHealthStore(Protocol):
    def record(
        self, trunk: str, trunk_failure: bool | None, now_s: float, call_uuid: str = ""
    ) -> TrunkHealth:
        """Fold the result of call ``call_uuid`` in (``on_call_result``); ``now_s`` epoch
        seconds; ``trunk_failure`` None when the result says nothing about the trunk."""
        ...

    def claim_trial(self, trunk: str, call_uuid: str, now_s: float) -> bool:
        """Make ``call_uuid`` the trunk's trial call (``claim_trial``): True for exactly one
        caller per ended cooldown, however many pacers ask at once."""
        ...

    def set_gateway(self, trunk: str, up: bool) -> TrunkHealth:
        """Fold a gateway status in (``on_gateway_status``)."""
        ...

    def snapshot(self, trunks: Iterable[str]) -> dict[str, TrunkHealth]:
        """The stored health of those trunks; healthy trunks are absent."""
        ...
