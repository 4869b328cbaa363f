"""``xml_locate`` of the simulated switch: its scenario's dialplan as FreeSWITCH prints it.

``xml_locate_function`` (mod_commands.c) splits its argument on spaces into at most 4 words:
one word is a section (``dialplan``: the whole ``<section>``), four are ``section tag
attribute value`` (``dialplan context name campaign``: that ``<context>`` only); any other
count replies ``-Error bad args``, and a section or tag that is not there ``can't find
anything``. The layout (indentation of the opening tags, blank lines after each element) is
transcript x's (``x_preflight_state_commands``). Only the ``dialplan`` section exists here.

Each scenario extension prints the applications `dialer.sim.dialplan.Dialplan` runs for it:
``answer``, ``set hangup_after_bridge=true``, ``callcenter <queue>``, the safe-harbor
``playback``, ``hangup NORMAL_CLEARING``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from dialer.sim.scenario import Extension

__all__ = ["xml_locate_reply"]

_BAD_ARGS = "-Error bad args\n"
_NOT_FOUND = "can't find anything\n"
_SECTION_OPEN = '<section name="dialplan" description="Regex/XML Dialplan">\n'


def _attr(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _actions(ext: Extension) -> list[tuple[str, str]]:
    steps: list[tuple[str, str]] = []
    if ext.answer:
        steps.append(("answer", ""))
    if ext.hangup_after_bridge:
        steps.append(("set", "hangup_after_bridge=true"))
    if ext.queue is not None:
        steps.append(("callcenter", ext.queue))
    if ext.after_queue_playback is not None:
        steps.append(("playback", ext.after_queue_playback))
    steps.append(("hangup", "NORMAL_CLEARING"))
    return steps


def _extension(ext: Extension, indent: int) -> str:
    pad = " " * indent
    expression = "^" + re.escape(ext.name) + "$"
    lines = [
        f'{pad}      <extension name="{_attr(ext.name)}">\n',
        f'{pad}          <condition field="destination_number" expression="{_attr(expression)}">\n',
    ]
    for app, data in _actions(ext):
        data_attr = f' data="{_attr(data)}"' if data else ""
        lines.append(f'{pad}              <action application="{app}"{data_attr}></action>\n\n')
    lines.append("      </condition>\n\n    </extension>\n\n")
    return "".join(lines)


def _context(name: str, extensions: Sequence[Extension], indent: int) -> str:
    opening = " " * (indent * 2) + f'<context name="{_attr(name)}">\n'
    body = "".join(_extension(e, indent) for e in extensions if e.context == name)
    return opening + body + "  </context>\n"


def _contexts(extensions: Sequence[Extension]) -> list[str]:
    return list(dict.fromkeys(e.context for e in extensions))


def xml_locate_reply(extensions: Sequence[Extension], args: str) -> str:
    """The reply to ``xml_locate <args>`` of a switch whose dialplan is ``extensions``."""
    words = args.split(" ", 3) if args else []
    if len(words) == 1:
        if words[0] != "dialplan":
            return _NOT_FOUND
        contexts = "\n\n\n".join(_context(c, extensions, 2) for c in _contexts(extensions))
        return _SECTION_OPEN + contexts + "\n  </section>\n"
    if len(words) != 4:
        return _BAD_ARGS
    section, tag, attribute, value = words
    if section != "dialplan" or tag != "context" or attribute != "name":
        return _NOT_FOUND
    if value not in _contexts(extensions):
        return _NOT_FOUND
    return _context(value, extensions, 0)
