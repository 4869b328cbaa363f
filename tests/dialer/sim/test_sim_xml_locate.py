"""``xml_locate`` of the simulator against transcript x (real FreeSWITCH 1.10.12) and the
replies of mod_commands.c's ``xml_locate_function`` for what is not there."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from dialer.sim.rawclient import RawClient
from dialer.sim.scenario import Extension
from dialer.sim.simulator import run_simulator
from dialer.sim.xml_locate import xml_locate_reply
from tests.support.transcripts import transcript_frames

LAB = Path(__file__).resolve().parents[3] / "scenarios" / "sim" / "lab.yaml"
# the lab's cc_sales as a scenario states it (no safe-harbor step of its own)
CC_SALES = Extension(name="cc_sales", context="campaign", queue="sales@default",
                     after_queue_playback=None)  # fmt: skip


def _replies() -> list[str]:
    frames = transcript_frames("x_preflight_state_commands")
    return [f.body.decode() for f in frames if f.content_type == "api/response"]


def _without_lab_extras(text: str) -> str:
    """The capture with what a scenario cannot state taken out: the ``execute_extension``
    step of cc_sales and the ``dialer_after_queue`` extension it calls."""
    text = re.sub(r' *<action application="execute_extension"[^\n]*\n\n', "", text)
    return re.sub(r' *<extension name="dialer_after_queue">.*?</extension>\n\n', "", text,
                  flags=re.S)  # fmt: skip


def test_a_context_is_printed_as_freeswitch_prints_it() -> None:
    context = next(r for r in _replies() if r.startswith('<context name="campaign">'))
    assert xml_locate_reply([CC_SALES], "dialplan context name campaign") == _without_lab_extras(
        context
    )


def test_the_dialplan_section_is_printed_as_freeswitch_prints_it() -> None:
    section = next(r for r in _replies() if r.startswith('<section name="dialplan"'))
    first_context = section[: section.index("  </context>\n") + len("  </context>\n")]
    other = Extension(name="cc_x", context="other", queue="x@default")
    reply = xml_locate_reply([CC_SALES, other], "dialplan")
    assert reply.startswith(_without_lab_extras(first_context) + "\n\n\n    <context name=")
    assert reply.endswith("  </context>\n\n  </section>\n") and section.endswith(
        "  </context>\n\n  </section>\n"
    )


def test_what_is_not_there_and_bad_arguments_get_mod_commands_replies() -> None:
    assert xml_locate_reply([CC_SALES], "dialplan context name nosuch") == "can't find anything\n"
    assert xml_locate_reply([CC_SALES], "directory") == "can't find anything\n"
    assert xml_locate_reply([CC_SALES], "dialplan context name") == "-Error bad args\n"
    assert xml_locate_reply([CC_SALES], "") == "-Error bad args\n"


@pytest.mark.integration
def test_the_simulator_answers_xml_locate_over_the_event_socket() -> None:
    async def go() -> tuple[str, str]:
        async with run_simulator(LAB) as sim:
            c = await RawClient.connect(sim.host, sim.port_number)
            found = await c.api("xml_locate dialplan context name campaign")
            missing = await c.api("xml_locate dialplan context name nosuch")
            return found, missing

    found, missing = asyncio.run(go())
    assert found.startswith('<context name="campaign">\n      <extension name="cc_sales">\n')
    assert '<action application="callcenter" data="sales2s@default"></action>' in found
    assert missing == "can't find anything\n"
