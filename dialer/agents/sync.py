"""What a node's mod_callcenter holds -> the ``callcenter_config`` commands that make it match
the database (pure).

A sync is a diff over the agents the database holds, and nothing else: an agent the switch
does not know is added (``agent add`` leaves it ``Logged Out``), its contact set, its tiers
added; an agent it knows gets its contact set only when it differs, its tiers added, deleted
or re-levelled/re-positioned where they differ. Its status and state are never touched, so a
sync never logs an agent out or in. Agents the database does not hold (those of
callcenter.conf.xml, say) are left as they are. Replies parsed here are mod_callcenter's
(transcript m): ``agent list`` and ``tier list`` are ``|`` tables ended by ``+OK`` (only
``+OK`` when empty).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dialer import agent_admin
from dialer.agents.ports import AgentRecord, Tier
from dialer.listener.switch_state import parse_table


@dataclass(frozen=True, slots=True)
class SwitchAgents:
    """The agents one node lists: name -> contact, and name -> its tiers by queue."""

    contacts: dict[str, str] = field(default_factory=dict)
    tiers: dict[str, dict[str, Tier]] = field(default_factory=dict)


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return -1  # not a level we would set: a sync re-sets it


def parse_switch_agents(agent_list: str, tier_list: str) -> SwitchAgents:
    """``callcenter_config agent list`` and ``tier list`` of one node."""
    contacts = {
        row["name"]: row["contact"]
        for row in parse_table(agent_list, ("name", "contact"), "an agent list")
    }
    tiers: dict[str, dict[str, Tier]] = {}
    for row in parse_table(tier_list, ("queue", "agent", "level", "position"), "a tier list"):
        tier = Tier(row["queue"], _int(row["level"]), _int(row["position"]))
        tiers.setdefault(row["agent"], {})[tier.queue] = tier
    return SwitchAgents(contacts, tiers)


def parse_queue_names(queue_list: str) -> set[str]:
    """The queues of ``callcenter_config queue list``."""
    return {row["name"] for row in parse_table(queue_list, ("name", "strategy"), "a queue list")}


def _tier_commands(name: str, want: Sequence[Tier], have: dict[str, Tier]) -> list[str]:
    cmds = [
        agent_admin.tier_del_command(name, q) for q in sorted(set(have) - {t.queue for t in want})
    ]
    for tier in want:
        seen = have.get(tier.queue)
        if seen is None:
            cmds.append(agent_admin.tier_add_command(name, tier))
            continue
        for key in ("level", "position"):
            if getattr(seen, key) != getattr(tier, key):
                cmds.append(agent_admin.tier_set_command(name, tier, key))
    return cmds


def sync_commands(desired: Sequence[AgentRecord], seen: SwitchAgents) -> list[str]:
    """The commands, in the order to run them, that make ``seen`` hold ``desired``."""
    cmds: list[str] = []
    for record in desired:
        contact = seen.contacts.get(record.name)
        if contact is None:
            cmds += agent_admin.add_commands(record.name, record.contact)
        elif contact != record.contact:
            cmds.append(agent_admin.contact_command(record.name, record.contact))
        cmds += _tier_commands(record.name, record.tiers, seen.tiers.get(record.name, {}))
    return cmds
