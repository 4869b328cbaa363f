"""`LineRebuilder`: the lines in use of trunks whose reservations were lost, rebuilt from every
switch before any new reservation is granted on them.

Run by each pacing process before it routes (`dialer.runner.tick`): the pacer is the one that
grants, so it never grants on a trunk whose lines are unknown, and it holds a connection to
every node. Steps, for the trunks of the routing table:

1. ``pending_rebuild``: the trunks not rebuilt under the store's current instance (a Redis
   restarted with or without its data has a new ``run_id``); none -> done, one cheap round
   trip per tick.
2. ``begin_rebuild``: take each pending trunk's fence. Another pacer holding it is rebuilding
   it now; this one leaves it pending (it stays full) and looks again next tick. A holder
   that dies loses its fence after ``fence_ttl_s``.
3. Every node: ``show channels as json``, then ``uuid_dump`` of each channel; the dialer's
   calls per trunk (`dialer.routing.rebuild`). A node that does not answer aborts the
   rebuild: its calls would be missing, so the trunks stay full until every node answers.
4. ``restore`` per fenced trunk: its slots become exactly the calls up, in one step, and only
   if the fence is still this holder's (one that took longer than ``fence_ttl_s`` writes
   nothing, so two rebuilds never interleave).

What it cannot see: a call reserved before the restart whose originate had not yet created
its channel when the node was listed (a few per pacer at most, for the originate's
round trip). A call that ends between the listing and ``restore`` is freed by a second
listing right after ``restore``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from dialer.esl.events import EventParseError, parse_event_plain
from dialer.esl.originate import UUID_RE
from dialer.esl.ports import EslConnection, EslError
from dialer.listener.switch_state import live_channel_uuids
from dialer.routing.ports import CapacityReservations
from dialer.routing.rebuild import DialerChannel, dialer_channel, lines_in_use

__all__ = ["LineRebuilder", "declare_idle", "switch_channels"]

log = logging.getLogger(__name__)


def declare_idle(reservations: CapacityReservations, trunks: Sequence[str], holder: str) -> None:
    """Mark ``trunks`` rebuilt with no line in use, for a store that no switch feeds (load
    tests, benchmarks): a deployment rebuilds from its switches instead."""
    for trunk in reservations.begin_rebuild(trunks, holder, 60.0):
        reservations.restore(trunk, [], 0.0, holder)


def switch_channels(conn: EslConnection, api_timeout_s: float) -> list[DialerChannel]:
    """The dialer's calls up on one node. Raises `EslError` (node unreachable) or
    `ValueError` (a reply that is not what the switch prints)."""
    listed = live_channel_uuids(conn.api("show channels as json", api_timeout_s))
    calls = []
    for uuid in sorted(listed):
        if not UUID_RE.fullmatch(uuid):
            continue  # not a channel the dialer named: never put it in a command
        dump = conn.api(f"uuid_dump {uuid}", api_timeout_s)
        if dump.startswith("-ERR"):
            continue  # ended since the listing
        try:
            channel = dialer_channel(parse_event_plain(dump.encode()))
        except EventParseError as exc:
            raise ValueError(f"not a uuid_dump reply for {uuid}: {exc}") from None
        if channel is not None:
            calls.append(channel)
    return calls


class LineRebuilder:
    """Rebuilds the lines of pending trunks from ``connections`` (every node of the
    deployment, by name). ``holder`` names this process in the fences (unique per process);
    rebuilt slots get leases of ``lease_s`` seconds like granted ones."""

    def __init__(
        self,
        reservations: CapacityReservations,
        connections: Mapping[str, EslConnection],
        holder: str,
        lease_s: float,
        *,
        fence_ttl_s: float = 60.0,
        api_timeout_s: float = 5.0,
    ) -> None:
        self._reservations = reservations
        self._connections = connections
        self._holder = holder
        self._lease_s = lease_s
        self._fence_ttl_s = fence_ttl_s
        self._api_timeout_s = api_timeout_s
        self.rebuilds = 0

    def ensure(self, trunks: Sequence[str]) -> list[str]:
        """Rebuild what is pending of ``trunks`` if this process can; the trunks still
        pending afterwards (they refuse every reservation: count them as full)."""
        reservations = self._reservations
        pending = reservations.pending_rebuild(trunks)
        if not pending:
            return []
        held = reservations.begin_rebuild(pending, self._holder, self._fence_ttl_s)
        if held:
            self._rebuild(held)
        return reservations.pending_rebuild(pending)

    def _rebuild(self, trunks: list[str]) -> None:
        channels: list[DialerChannel] = []
        for node, conn in sorted(self._connections.items()):
            try:
                channels += switch_channels(conn, self._api_timeout_s)
            except (EslError, ValueError) as exc:
                log.warning("lines of %s not rebuilt: node %s: %s", ", ".join(trunks), node, exc)
                return
        restored: dict[str, list[str]] = {}
        for trunk, calls in lines_in_use(channels, trunks).items():
            if self._reservations.restore(trunk, calls, self._lease_s, self._holder):
                restored[trunk] = calls
        self.rebuilds += 1
        counts = {trunk: len(calls) for trunk, calls in restored.items()}
        log.warning("lines in use rebuilt from %d node(s): %s", len(self._connections), counts)
        self._release_ended(restored)

    def _release_ended(self, restored: dict[str, list[str]]) -> None:
        # A call that ended between the listing and `restore` had its hangup's release
        # before its slot existed: list the nodes once more and free what is gone, so the
        # slot does not wait out its lease. A call uuid never comes back once ended.
        if not any(restored.values()):
            return
        up: set[str] = set()
        try:
            for conn in self._connections.values():
                up |= live_channel_uuids(conn.api("show channels as json", self._api_timeout_s))
        except (EslError, ValueError):
            return  # the leases end them
        for trunk, calls in restored.items():
            for call_uuid in calls:
                if call_uuid not in up:
                    self._reservations.release(trunk, call_uuid)
