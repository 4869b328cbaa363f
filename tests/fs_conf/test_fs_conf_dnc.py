"""The switch-side DNC guard: every dialled form of a DNC number is listed for mod_blacklist,
prefixes become the dialplan's regular expression, and the campaign extension runs the guard
before it answers and queues."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from dialer.routing.model import NumberFormat, Trunk
from fs_conf.dialplan import DNC_PREFIX_EXTENSION, DialplanOptions, dialplan_xml
from fs_conf.dnc import DNC_EXTENSION, DNC_HANGUP_CAUSE, DNC_LIST, switch_dnc

NATIONAL = Trunk(name="cn", proxy_host="192.0.2.1", callee_prefix="17909")
E164 = Trunk(name="intl", proxy_host="192.0.2.2", number_format=NumberFormat.E164)
PLAIN = Trunk(name="plain", proxy_host="192.0.2.3")


def test_each_number_is_listed_as_every_trunk_dials_it() -> None:
    dnc = switch_dnc(["+8613800138000", "+861088886666"], [], [NATIONAL, E164, PLAIN])
    assert set(dnc.numbers) == {
        "8613800138000",  # E.164 digits (E.164 trunk, and a hand originate)
        "1790913800138000",  # national mobile behind the callee prefix
        "13800138000",
        "861088886666",
        "1790901088886666",  # national fixed line keeps its trunk prefix 0
        "01088886666",
    }
    assert dnc.list_text().endswith("\n") and dnc.prefix_regex == ""


def test_prefixes_match_the_dialled_forms_with_or_without_the_trunk_prefix() -> None:
    dnc = switch_dnc([], ["+86138", "+8610"], [NATIONAL, E164, PLAIN])
    regex = re.compile(dnc.prefix_regex)
    for dialled in ["8613800138000", "1790913800138000", "13800138000", "01088886666"]:
        assert regex.match(dialled), dialled
    for dialled in ["8613900000000", "13900000000", "02088886666", "17909139"]:
        assert not regex.match(dialled), dialled


@pytest.mark.parametrize("bad", ["8613800138000", "+86 138", "+86138\n", "${x}", "+1a"])
def test_values_that_are_not_numbers_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        switch_dnc([bad], [], [PLAIN])
    with pytest.raises(ValueError):
        switch_dnc([], [bad], [PLAIN])


def test_the_campaign_extension_runs_the_guard_before_it_queues() -> None:
    regex = switch_dnc([], ["+86138"], [PLAIN]).prefix_regex
    text = dialplan_xml([("sales", "sales@default")], DialplanOptions(dnc_prefix_regex=regex))
    context = ET.fromstring(text).find("context")
    assert context is not None
    extensions = {e.get("name"): e for e in context.findall("extension")}
    actions = [(a.get("application"), a.get("data")) for a in extensions["cc_sales"].iter("action")]
    assert actions[:3] == [
        ("execute_extension", f"{DNC_EXTENSION} XML campaign"),
        ("execute_extension", f"{DNC_PREFIX_EXTENSION} XML campaign"),
        ("answer", None),
    ]
    listed = extensions[DNC_EXTENSION].findall("condition")[1]
    # the form transcript x checked with eval: ${blacklist(check <list> <number>)} -> true
    assert listed.get("field") == f"${{blacklist(check {DNC_LIST} ${{callee_id_number}})}}"
    assert listed.get("expression") == "^true$"
    assert [(a.tag, a.get("data")) for a in listed] == [
        ("action", DNC_HANGUP_CAUSE),
        ("anti-action", f"DEBUG {DNC_LIST}: ${{callee_id_number}} not listed"),
    ]
    prefix = extensions[DNC_PREFIX_EXTENSION].findall("condition")[1]
    assert prefix.get("field") == "${callee_id_number}" and prefix.get("expression") == regex
    without = dialplan_xml([("sales", "sales@default")])
    assert DNC_PREFIX_EXTENSION not in without
