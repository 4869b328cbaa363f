"""The campaigns' dialplan: where an answered originate goes.

Every campaign's calls are originated to ``<extension> XML campaign`` (`dialplan_entry`), an
extension of context ``campaign`` that runs, in order (transcripts j/k, lab ``cc_sales2s``):

0. ``execute_extension dialer_dnc`` (and ``dialer_dnc_prefix`` when there are DNC
   prefixes): a dialled number on the do-not-call list is hung up ``CALL_REJECTED`` before
   it is queued, even on a call originated by hand (`fs_conf.dnc`);
1. ``answer`` (a no-op on the answered outbound leg) and ``set hangup_after_bridge=true``;
2. optionally ``amd`` (mod_amd, sets ``amd_result``), then ``execute_extension dialer_amd``,
   which hangs up a ``MACHINE`` and only logs otherwise;
3. ``callcenter <queue>``: the queue's ``max-wait-time`` (2 s) lets the member go with
   ``cc_cancel_reason=TIMEOUT`` (``NO_AGENT_TIMEOUT`` when the queue has no agent);
4. ``execute_extension dialer_after_queue``: for TIMEOUT / NO_AGENT_TIMEOUT, the safe-harbor
   message then ``hangup NORMAL_CLEARING`` (an abandoned call); otherwise (anti-action)
   ``hangup``. A bridged call never gets here: ``hangup_after_bridge`` ends it.

XML dialplan conditions are evaluated when the extension is hunted, before any of its actions
ran; ``execute_extension`` hunts its target when it runs, so the conditions on
``${cc_cancel_reason}`` and ``${amd_result}`` see the values the applications set.

Extension names: ``cc_<campaign name>`` (as ``dialer.runner.adapters.plan_of`` originates;
campaign ``sales`` with queue ``sales@default`` is the lab's ``cc_sales``). Pure.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass

from fs_conf.dnc import DNC_EXTENSION, DNC_HANGUP_CAUSE, DNC_LIST
from fs_conf.render import render_template

CAMPAIGN_CONTEXT = "campaign"
EXTENSION_PREFIX = "cc_"
AFTER_QUEUE_EXTENSION = "dialer_after_queue"
AMD_EXTENSION = "dialer_amd"
DNC_PREFIX_EXTENSION = "dialer_dnc_prefix"
ABANDON_REASONS = ("TIMEOUT", "NO_AGENT_TIMEOUT")
DEFAULT_SAFE_HARBOR = "$${sounds_dir}/dialer/safe_harbor.wav"
# campaigns.service's name and queue patterns; the extension must also fit the originate
# builder's 100 characters
_QUEUE_RE = re.compile(r"[A-Za-z0-9_.@-]{1,100}")
_CAMPAIGN_RE = re.compile(r"[A-Za-z0-9_.-]{1,97}")


class DialplanError(ValueError):
    """A campaign or queue name that cannot go into the dialplan."""


@dataclass(frozen=True, slots=True)
class DialplanEntry:
    """Where a campaign's answered calls go: ``originate ... <extension> XML <context>``,
    which enters ``queue``."""

    campaign: str
    extension: str
    context: str
    queue: str


@dataclass(frozen=True, slots=True)
class DialplanOptions:
    """``safe_harbor``: what ``playback`` plays to an abandoned caller (file or stream);
    ``dnc_prefix_regex``: the DNC prefixes over the dialled number (`fs_conf.dnc`), empty
    for none."""

    safe_harbor: str = DEFAULT_SAFE_HARBOR
    amd: bool = False
    dnc_prefix_regex: str = ""


def check_queue_name(queue: str) -> str:
    if not _QUEUE_RE.fullmatch(queue):
        raise DialplanError(f"queue name {queue!r} is not allowed (letters, digits, _.@-)")
    return queue


def dialplan_entry(campaign: str, queue: str) -> DialplanEntry:
    """The extension/context the originates of ``campaign`` name, entering ``queue``."""
    if not _CAMPAIGN_RE.fullmatch(campaign):
        raise DialplanError(
            f"campaign name {campaign!r} cannot be an extension (letters, digits, _.-; <= 97)"
        )
    return DialplanEntry(
        campaign, EXTENSION_PREFIX + campaign, CAMPAIGN_CONTEXT, check_queue_name(queue)
    )


def dialplan_entries(campaigns: Iterable[tuple[str, str]]) -> list[DialplanEntry]:
    """One entry per ``(campaign name, queue)``, sorted by extension."""
    entries = {name: dialplan_entry(name, queue) for name, queue in campaigns}
    return sorted(entries.values(), key=lambda e: e.extension)


def dialplan_xml(
    campaigns: Iterable[tuple[str, str]], options: DialplanOptions = DialplanOptions()
) -> str:
    """``dialplan/campaign.xml``: context ``campaign``, one extension per ``(name, queue)``."""
    return render_template(
        "campaign_dialplan.xml.j2",
        context=CAMPAIGN_CONTEXT,
        entries=dialplan_entries(campaigns),
        amd=options.amd,
        amd_extension=AMD_EXTENSION,
        after_queue_extension=AFTER_QUEUE_EXTENSION,
        abandon_reasons=ABANDON_REASONS,
        safe_harbor=options.safe_harbor,
        dnc_extension=DNC_EXTENSION,
        dnc_prefix_extension=DNC_PREFIX_EXTENSION,
        dnc_list=DNC_LIST,
        dnc_cause=DNC_HANGUP_CAUSE,
        dnc_prefix_regex=options.dnc_prefix_regex,
    )


def destination_of(extension: ET.Element) -> str | None:
    """The destination number an extension's ``^literal$`` destination condition matches."""
    for cond in extension.findall("condition"):
        if cond.get("field") == "destination_number":
            expression = cond.get("expression", "")
            literal = re.sub(r"\\(.)", r"\1", expression.removeprefix("^").removesuffix("$"))
            return literal if re.fullmatch(expression, literal) else None
    return None
