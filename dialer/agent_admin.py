"""Agents and tiers in mod_callcenter, managed over the Event Socket (``callcenter_config``).

Nothing about agents lives in callcenter.conf.xml: ``queue load|reload`` would reset XML agents
(transcript m). A team is set up with:

* ``add``: ``agent add <name> callback``, ``agent set contact <name> <contact>``, optionally
  ``tier add <queue> <name> <level> <position>``; the agent starts ``Logged Out``;
* ``login``: status ``On Break`` (logged in, not offered calls), ``logout``: ``Logged Out``,
  ``break``: ``On Break``, ``ready``: ``Available``, and state ``Waiting`` when it was
  ``Idle`` (mod_callcenter offers calls to Available agents in state Waiting; the state of an
  agent in a call is never touched).

An agent on a call mod_callcenter did not place (an API call's agent leg, which rings first)
is held from queue calls with state ``Idle`` (`hold_command`), its status left alone:
mod_callcenter offers a member only to agents whose state is ``Waiting`` (the agents
``SELECT`` of ``members_callback`` / ``agents_callback`` in mod_callcenter.c). After the
call `resume` makes it ``Waiting`` again if it is still ``Idle`` and ``Available``; an agent
that went on a break or logged out meanwhile keeps that status (``ready`` then sets
``Waiting``, as above).

Replies are mod_callcenter's (transcript m): ``+OK``, ``-ERR Agent not found!``, ...; bare
values for ``agent get``. Statuses holding a blank are single-quoted, as FreeSWITCH's argument
splitter expects (transcript i). Names and contacts are checked against strict patterns so that
a value can never add an argument or a second command. The builders are pure; `apply` runs them
on an `EslConnection`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from dialer.agent_state import AgentState
from dialer.agents.ports import Tier
from dialer.esl.events import parse_result
from dialer.esl.ports import EslConnection
from dialer.listener.switch_state import parse_agent_list

STATUS_LOGGED_OUT = "Logged Out"
STATUS_AVAILABLE = "Available"
STATUS_ON_BREAK = "On Break"
STATE_WAITING = "Waiting"
STATE_IDLE = "Idle"
_AGENT_TYPE = "callback"

_NAME_RE = re.compile(r"[A-Za-z0-9_.+-]{1,64}(@[A-Za-z0-9_.-]{1,64})?")
# dial string of the agent's phone: [leg vars]endpoint/target, e.g.
# [leg_timeout=15]sofia/external/agent1@127.0.0.1:5094 or user/1001@default
_CONTACT_RE = re.compile(
    r"(\[[A-Za-z0-9_.:@/+=-]+(,[A-Za-z0-9_.:@/+=-]+)*\])?[a-z_]+/[A-Za-z0-9_.:@/+-]+"
)
_QUEUE_RE = re.compile(r"[A-Za-z0-9_.@-]{1,100}")
_API = "callcenter_config"


class AgentError(ValueError):
    """A name, contact or queue that is refused, or a reply of the switch that is an error."""


class AgentNotFound(AgentError):
    """An agent that is not there: not in the database, or unknown to a switch
    (``-ERR Agent not found!``, transcript m)."""


_NOT_FOUND_REPLY = "Agent not found!"


def _check(pattern: re.Pattern[str], value: str, what: str) -> str:
    if len(value) > 255 or not pattern.fullmatch(value):
        raise AgentError(f"{what} {value!r} is not allowed")
    return value


def check_name(name: str) -> str:
    return _check(_NAME_RE, name, "agent name")


def check_contact(contact: str) -> str:
    return _check(_CONTACT_RE, contact, "contact")


def _quoted(status: str) -> str:
    return f"'{status}'" if " " in status else status


def add_commands(name: str, contact: str, tier: Tier | None = None) -> list[str]:
    """``agent add``, ``agent set contact`` and the optional ``tier add``."""
    cmds = [f"{_API} agent add {check_name(name)} {_AGENT_TYPE}", contact_command(name, contact)]
    if tier is not None:
        cmds.append(tier_add_command(name, tier))
    return cmds


def tier_add_command(name: str, tier: Tier) -> str:
    queue = check_tier(tier).queue
    return f"{_API} tier add {queue} {check_name(name)} {int(tier.level)} {int(tier.position)}"


_MAX_TIER_NUMBER = 2**31 - 1  # mod_callcenter's (and the agent_tiers columns') int


def check_tier(tier: Tier) -> Tier:
    if not (0 <= tier.level <= _MAX_TIER_NUMBER and 0 <= tier.position <= _MAX_TIER_NUMBER):
        raise AgentError(f"tier level and position are >= 0 and <= {_MAX_TIER_NUMBER}")
    _check(_QUEUE_RE, tier.queue, "queue")
    return tier


def tier_del_command(name: str, queue: str) -> str:
    return f"{_API} tier del {_check(_QUEUE_RE, queue, 'queue')} {check_name(name)}"


def tier_set_command(name: str, tier: Tier, key: str) -> str:
    """``tier set level|position``."""
    check_tier(tier)
    value = {"level": tier.level, "position": tier.position}[key]
    return f"{_API} tier set {key} {tier.queue} {check_name(name)} {int(value)}"


def contact_command(name: str, contact: str) -> str:
    return f"{_API} agent set contact {check_name(name)} {check_contact(contact)}"


def agent_del_command(name: str) -> str:
    """``agent del`` (mod_callcenter deletes the agent's tiers with it)."""
    return f"{_API} agent del {check_name(name)}"


def _set_status_command(name: str, status: str) -> str:
    if status not in (STATUS_LOGGED_OUT, STATUS_AVAILABLE, STATUS_ON_BREAK):
        raise AgentError(f"status {status!r} is not one the dialer sets")
    return f"{_API} agent set status {check_name(name)} {_quoted(status)}"


def _set_state_command(name: str, state: str) -> str:
    return f"{_API} agent set state {check_name(name)} {state}"


def _get_state_command(name: str) -> str:
    return f"{_API} agent get state {check_name(name)}"


def _get_status_command(name: str) -> str:
    return f"{_API} agent get status {check_name(name)}"


def hold_command(name: str) -> str:
    """``agent set state <name> Idle``: no queue call is offered to the agent until its state
    is ``Waiting`` again (`resume`, or ``ready``); its status is untouched."""
    return _set_state_command(name, STATE_IDLE)


AGENT_LIST_COMMAND = f"{_API} agent list"
TIER_LIST_COMMAND = f"{_API} tier list"
QUEUE_LIST_COMMAND = f"{_API} queue list"

# CLI verb -> status
VERB_STATUS = {
    "login": STATUS_ON_BREAK,
    "logout": STATUS_LOGGED_OUT,
    "break": STATUS_ON_BREAK,
    "ready": STATUS_AVAILABLE,
}


def _api(conn: EslConnection, command: str, timeout_s: float) -> str:
    reply = conn.api(command, timeout_s)
    result = parse_result(reply)
    if not result.ok:
        error = AgentNotFound if result.detail == _NOT_FOUND_REPLY else AgentError
        raise error(f"{conn.node}: {command}: {result.text}")
    return reply


def apply(conn: EslConnection, commands: Sequence[str], timeout_s: float = 5.0) -> list[str]:
    """Run ``commands`` in order; stops with `AgentError` at the first error reply."""
    return [_api(conn, cmd, timeout_s) for cmd in commands]


def add(
    conn: EslConnection, name: str, contact: str, tier: Tier | None = None, timeout_s: float = 5.0
) -> None:
    apply(conn, add_commands(name, contact, tier), timeout_s)


def set_status(
    conn: EslConnection, name: str, verb: str, timeout_s: float = 5.0, held: bool = False
) -> None:
    """``login`` / ``logout`` / ``break`` / ``ready`` (see the module docstring); ``held``: the
    agent is on a call mod_callcenter did not place, so ``ready`` leaves it ``Idle`` (`resume`
    makes it ``Waiting`` after that call)."""
    status = VERB_STATUS.get(verb)
    if status is None:
        raise AgentError(f"unknown agent action {verb!r}")
    apply(conn, [_set_status_command(name, status)], timeout_s)
    if status == STATUS_AVAILABLE and not held:
        state = _api(conn, _get_state_command(name), timeout_s).strip()
        if state == STATE_IDLE:
            apply(conn, [_set_state_command(name, STATE_WAITING)], timeout_s)


def resume(conn: EslConnection, name: str, timeout_s: float = 5.0) -> bool:
    """The agent held by `hold_command` is ``Waiting`` again when it is still ``Idle`` and
    ``Available``; True when it was set so. A state mod_callcenter (or ``ready``) moved on,
    or a status changed to On Break or Logged Out meanwhile, is left as it is."""
    if _api(conn, _get_state_command(name), timeout_s).strip() != STATE_IDLE:
        return False
    if _api(conn, _get_status_command(name), timeout_s).strip() != STATUS_AVAILABLE:
        return False
    apply(conn, [_set_state_command(name, STATE_WAITING)], timeout_s)
    return True


def list_agents(conn: EslConnection, timeout_s: float = 5.0) -> list[AgentState]:
    return parse_agent_list(_api(conn, AGENT_LIST_COMMAND, timeout_s))
