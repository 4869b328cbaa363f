"""The agent's events as the desk shows them, read from mod_callcenter's events. Pure.

mod_callcenter fires ``callcenter::info`` events with the agent leg's channel data: on
``bridge-agent-start`` that leg carries the variables the dialer exported to it
(``cc_export_vars``: ``dialer_campaign_id``, ``dialer_lead_id``, ``dialer_attempt_id``;
transcript t), and ``CC-Member-Session-UUID`` is the customer's leg, whose uuid is the
dialer's call uuid.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dialer.calls.machine import CC_SUBCLASS, CallState
from dialer.desk.ports import DeskEvent, DeskEventKind, LeadCard
from dialer.esl.events import Event

__all__ = ["card_json", "current_call", "desk_event"]

_KINDS = {
    "bridge-agent-start": DeskEventKind.CALL,
    "bridge-agent-end": DeskEventKind.CALL_END,
    "agent-status-change": DeskEventKind.STATUS,
    "agent-state-change": DeskEventKind.STATE,
}


def _id(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def desk_event(event: Event) -> DeskEvent | None:
    """The desk event of a switch event, None when it is none of an agent's."""
    if event.name != "CUSTOM" or event.subclass != CC_SUBCLASS:
        return None
    kind = _KINDS.get(event.get("CC-Action"))
    agent = event.get("CC-Agent")
    if kind is None or not agent:
        return None
    if kind is DeskEventKind.STATUS:
        return DeskEvent(agent, kind, value=event.get("CC-Agent-Status"), at_us=event.timestamp_us)
    if kind is DeskEventKind.STATE:
        return DeskEvent(agent, kind, value=event.get("CC-Agent-State"), at_us=event.timestamp_us)
    return DeskEvent(
        agent, kind, call_uuid=event.get("CC-Member-Session-UUID"),
        attempt_id=_id(event.var("dialer_attempt_id")), lead_id=_id(event.var("dialer_lead_id")),
        campaign_id=_id(event.var("dialer_campaign_id")), at_us=event.timestamp_us,
    )  # fmt: skip


def card_json(card: LeadCard) -> dict[str, Any]:
    """The card as the WebSocket and ``GET /v1/agents/{name}/call`` send it."""
    return {
        "call_uuid": card.call_uuid, "attempt_id": card.attempt_id, "lead_id": card.lead_id,
        "campaign": card.campaign, "number": card.number, "name": card.name,
        "custom_fields": card.custom_fields, "attempts": card.attempts,
        "disposition": card.disposition,
        "earlier": [
            {"attempt_no": e.attempt_no, "originated_at": e.originated_at.isoformat(),
             "outcome": e.outcome, "disposition": e.disposition}
            for e in card.earlier
        ],
    }  # fmt: skip


def current_call(calls: Iterable[CallState], agent: str) -> DeskEvent | None:
    """The call the agent is on now, as the listener's live state holds it (a desk opened
    during a call shows it): the latest bridged to it, as a ``call`` event; None if none."""
    mine = [c for c in calls if c.agent == agent and c.connected_at_us]
    if not mine:
        return None
    call = max(mine, key=lambda c: c.connected_at_us)
    return DeskEvent(
        agent, DeskEventKind.CALL, call_uuid=call.call_uuid, attempt_id=call.attempt_id,
        lead_id=call.lead_id, campaign_id=call.campaign_id, at_us=call.connected_at_us,
    )  # fmt: skip
