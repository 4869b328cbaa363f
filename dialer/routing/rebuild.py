"""Lines in use, rebuilt from what the switches say: channels in -> call uuids per trunk.

After Redis lost its reservations (restarted empty, or restarted from a snapshot that misses
the last writes), the calls still up on the switches are the truth about the lines in use.
The service (`dialer.routing.lines`) lists every node's channels (``show channels as json``)
and dumps each one (``uuid_dump``); this module decides, without I/O, which of them are the
dialer's calls and on which trunk:

* a call of the dialer carries ``dialer_attempt_id`` (set in the originate,
  `dialer.esl.originate`; transcript t);
* its trunk is the gateway of the dial string ``sofia/gateway/NAME/...``, which FreeSWITCH
  records on the channel as ``sip_gateway_name`` (transcript t: ``carrier_a``);
* the agent leg of a bridged call carries the same ``dialer_*`` variables through
  ``cc_export_vars`` but also ``cc_member_session_uuid``/``cc_side=agent``: it is not a line
  of the trunk (the customer leg is) and is skipped.

The reservation of a call is keyed by the call's uuid (its ``origination_uuid``, the customer
leg's Unique-ID), so the listener still frees the rebuilt slot at hangup.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dialer.esl.events import Event

__all__ = ["DialerChannel", "dialer_channel", "lines_in_use"]


@dataclass(frozen=True, slots=True)
class DialerChannel:
    """A customer leg the dialer originated, still up on a switch."""

    call_uuid: str
    trunk: str
    attempt_id: str


def dialer_channel(dump: Event) -> DialerChannel | None:
    """The dialer's call in a channel's ``uuid_dump``; None for any other channel (inbound
    traffic, agent legs, calls that did not leave through a gateway)."""
    attempt_id = dump.var("dialer_attempt_id")
    trunk = dump.var("sip_gateway_name")
    call_uuid = dump.uuid
    if not (attempt_id and trunk and call_uuid):
        return None
    if dump.var("cc_member_session_uuid") or dump.var("cc_side") == "agent":
        return None
    return DialerChannel(call_uuid, trunk, attempt_id)


def lines_in_use(channels: Iterable[DialerChannel], trunks: Iterable[str]) -> dict[str, list[str]]:
    """Call uuids up per trunk, for each of ``trunks`` (an idle trunk maps to ``[]``), sorted
    and without duplicates (a node listed twice, a channel seen on two lists). Channels of
    other trunks are left out: only the listed trunks are being rebuilt."""
    wanted = {name: set[str]() for name in trunks}
    for channel in channels:
        calls = wanted.get(channel.trunk)
        if calls is not None:
            calls.add(channel.call_uuid)
    return {name: sorted(calls) for name, calls in wanted.items()}
