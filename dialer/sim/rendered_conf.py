"""Scenario entries of the simulator read from the configuration `fs_conf` renders, so that
the simulated switch runs the queues and the campaign dialplan a real switch would load.

`scenario_queues` maps ``callcenter.conf.xml`` to the scenario's ``callcenter: queues:``
(`dialer.sim.callcenter.config.QueueConfig` fields, docs/callcenter-sim.md);
`scenario_extensions` maps ``dialplan/campaign.xml`` to the scenario's ``dialplan:`` entries
(`dialer.sim.scenario.Extension` fields, docs/simulator.md). Pure.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from fs_conf.dialplan import (
    AFTER_QUEUE_EXTENSION,
    DNC_PREFIX_EXTENSION,
    DialplanError,
    destination_of,
)
from fs_conf.dnc import DNC_EXTENSION

__all__ = ["scenario_blacklist", "scenario_extensions", "scenario_queues"]
_BLACKLIST_CHECK = re.compile(r"\$\{blacklist\(check (\S+) \$\{callee_id_number\}\)\}")

# callcenter.conf.xml param -> the simulator's QueueConfig field and its type
_QUEUE_FIELDS: dict[str, tuple[str, type]] = {
    "strategy": ("strategy", str),
    "moh-sound": ("moh_sound", str),
    "time-base-score": ("time_base_score", str),
    "max-wait-time": ("max_wait_time_s", int),
    "max-wait-time-with-no-agent": ("max_wait_time_with_no_agent_s", int),
    "max-wait-time-with-no-agent-time-reached": ("max_wait_time_with_no_agent_time_reached_s", int),
    "tier-rules-apply": ("tier_rules_apply", bool),
    "tier-rule-wait-second": ("tier_rule_wait_second", int),
    "tier-rule-wait-multiply-level": ("tier_rule_wait_multiply_level", bool),
    "tier-rule-no-agent-no-wait": ("tier_rule_no_agent_no_wait", bool),
    "discard-abandoned-after": ("discard_abandoned_after_s", int),
    "abandoned-resume-allowed": ("abandoned_resume_allowed", bool),
}


def scenario_queues(callcenter_xml: str) -> list[dict[str, object]]:
    """The scenario's ``callcenter: queues:`` for a rendered ``callcenter.conf.xml``."""
    queues: list[dict[str, object]] = []
    for queue in ET.fromstring(callcenter_xml).iter("queue"):
        entry: dict[str, object] = {"name": queue.get("name", "")}
        for param in queue.iter("param"):
            key, kind = _QUEUE_FIELDS[param.get("name", "")]
            value = param.get("value", "")
            entry[key] = value == "true" if kind is bool else kind(value)
        queues.append(entry)
    return queues


def _actions(extension: ET.Element) -> list[tuple[str, str]]:
    return [
        (a.get("application", ""), a.get("data", ""))
        for cond in extension.iter("condition")
        for a in cond.findall("action")
    ]


def scenario_extensions(dialplan_xml: str, safe_harbor_s: float = 2.0) -> list[dict[str, Any]]:
    """The scenario's ``dialplan:`` entries for a rendered ``dialplan/campaign.xml``; the
    safe-harbor message lasts ``safe_harbor_s`` seconds.

    The simulator runs answer / ``hangup_after_bridge`` / ``callcenter`` / safe harbor /
    hangup itself; this reads them from the XML, so it runs what the switch would. AMD is
    not simulated (the simulator's callees decide machine answers).
    """
    context = ET.fromstring(dialplan_xml).find("context")
    if context is None:
        raise DialplanError("no <context> in the dialplan")
    extensions = {e.get("name", ""): e for e in context.findall("extension")}
    after = extensions.get(AFTER_QUEUE_EXTENSION)
    playback = [d for a, d in _actions(after) if a == "playback"] if after is not None else []
    dnc_list = _second_field(extensions.get(DNC_EXTENSION))
    listed = _BLACKLIST_CHECK.fullmatch(dnc_list[0]) if dnc_list else None
    prefixes = _second_field(extensions.get(DNC_PREFIX_EXTENSION))
    entries = []
    for ext in extensions.values():
        actions = _actions(ext)
        queues = [d for a, d in actions if a == "callcenter"]
        destination = destination_of(ext)
        if not queues or destination is None:
            continue
        entries.append(
            {
                "name": destination,
                "context": context.get("name", ""),
                "queue": queues[0],
                "answer": ("answer", "") in actions,
                "hangup_after_bridge": ("set", "hangup_after_bridge=true") in actions,
                "after_queue_playback": playback[0] if playback else None,
                "after_queue_playback_s": safe_harbor_s,
                **_guard(actions, context.get("name", ""), listed, prefixes),
            }
        )
    return entries


def _second_field(extension: ET.Element | None) -> tuple[str, str] | None:
    """(field, expression) of an extension's second condition (its test)."""
    if extension is None:
        return None
    conditions = extension.findall("condition")
    if len(conditions) < 2:
        return None
    return conditions[1].get("field", ""), conditions[1].get("expression", "")


def _guard(
    actions: list[tuple[str, str]],
    context: str,
    listed: re.Match[str] | None,
    prefixes: tuple[str, str] | None,
) -> dict[str, str]:
    """The DNC guard an extension runs (``execute_extension dialer_dnc[_prefix]``)."""
    guard: dict[str, str] = {}
    if listed and ("execute_extension", f"{DNC_EXTENSION} XML {context}") in actions:
        guard["dnc_list"] = listed.group(1)
    if prefixes and ("execute_extension", f"{DNC_PREFIX_EXTENSION} XML {context}") in actions:
        guard["dnc_prefix_regex"] = prefixes[1]
    return guard


def scenario_blacklist(list_text: str) -> list[str]:
    """The entries of a mod_blacklist list file (one a line, as its load_list reads it)."""
    return [line.rstrip("\r") for line in list_text.split("\n") if line.rstrip("\r")]
