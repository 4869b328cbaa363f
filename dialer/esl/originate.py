"""The ``originate`` command for one attempt: lead + route + campaign -> one safe string.

FreeSWITCH reads ``originate {vars}dialstring EXTENSION XML CONTEXT`` in three passes
(transcript g, `dialer.sim.originate_parse`): the argument line is split on blanks, the
``{...}`` group on ``,``, each item once on ``=``. Each pass removes one level of ``\\``
escapes (``\\'``, ``\\"``, ``\\\\``, ``\\<delimiter>``, ``\\n``, ``\\r``, ``\\t``, ``\\s``
for a blank) and drops unescaped ``'`` as quotes and leading/trailing blanks. A value from
data is therefore escaped three times, innermost pass first (`escape_value`), so that
every character arrives as itself: it can never end the group, start a variable, a leg or
an application. What escaping cannot carry is rejected with `UnsafeValue`:

* ``${`` (FreeSWITCH refuses the variable: "contains a variable");
* ``{``/``}`` that do not pair up (the group's end is found by counting braces, escapes
  ignored);
* control characters other than newline, carriage return and tab.

Identifiers that must keep a fixed shape (dial string, caller ID, extension, context,
variable names, recording directory) are checked against patterns instead and rejected
when they do not match. Pure; never raises anything but `UnsafeValue`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

MIN_RING_TIMEOUT_S = 15
VAR_CAMPAIGN = "dialer_campaign_id"
VAR_LEAD = "dialer_lead_id"
VAR_ATTEMPT = "dialer_attempt_id"
VAR_NODE_PREFIX = "dialer_"

GATEWAY_NAME_RE = re.compile(r"[A-Za-z0-9_.-]+")
"""A gateway's name as the dial string may carry it (`dialer.routing.model.Trunk` checks its
name against it when the trunk is created)."""
DIALED_NUMBER_RE = re.compile(r"\+?[0-9*#]{1,40}")
"""What may follow the gateway in the dial string: a callee prefix and the number."""
CALLER_ID_RE = re.compile(r"\+?[0-9]{1,32}")
"""A caller ID the originate may send (``origination_caller_id_number``)."""
_DIAL_STRING_RE = re.compile(f"sofia/gateway/{GATEWAY_NAME_RE.pattern}/{DIALED_NUMBER_RE.pattern}")
_DIALPLAN_NAME_RE = re.compile(r"[A-Za-z0-9_.+@-]{1,100}")
_VAR_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_PATH_RE = re.compile(r"/[A-Za-z0-9_./-]{0,200}")
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
"""A uuid as FreeSWITCH writes it (lower-case 8-4-4-4-12 hex)."""
_CONTROL_OK = frozenset("\n\r\t")
_ESCAPES = {"\\": "\\\\", "'": "\\'", '"': '\\"', " ": "\\s", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


class UnsafeValue(ValueError):
    """A value that cannot be carried exactly in an originate string."""


UPLOAD_URL_RE = re.compile(r"https?://[A-Za-z0-9._~%:@/+-]{1,400}")
"""Where the switch uploads a recording (``/fsapi/upload_audio``, credentials as
``user:pass@``): nothing in it is special to the shell ``system`` runs the hook in."""


@dataclass(frozen=True, slots=True)
class Recording:
    """Record the answered call to ``<directory>/<YYYY-MM-DD>/<call uuid>.<fmt>`` (seed 001:
    ``media_bug_answer_req``, ``record_sample_rate``, ``RECORD_STEREO``, ``record_session``
    on answer) and, when ``upload_url`` is set, upload the file there after hangup as seed
    001's ``api_hangup_hook`` does (``curl -XPOST -F "files=@<file>" <url>?uuid=<uuid>``)."""

    directory: str
    sample_rate_hz: int = 8000
    stereo: bool = True
    file_format: str = "mp3"
    upload_url: str = ""


@dataclass(frozen=True, slots=True)
class OriginateSpec:
    """Everything one originate needs; every str may come from data.

    ``dial_string`` is the router's ``sofia/gateway/NAME/PREFIX+NUMBER``; ``extension`` and
    ``context`` the campaign's dialplan entry (``cc_sales XML campaign``); ``screen_pop``
    extra variables exported with the ids to the agent leg.
    """

    call_uuid: str
    dial_string: str
    caller_id: str | None
    extension: str
    context: str
    campaign_id: int
    lead_id: int
    attempt_id: int
    ring_timeout_s: int = 30
    screen_pop: Mapping[str, str] = field(default_factory=dict)
    recording: Recording | None = None


def _escape_once(value: str, delim: str) -> str:
    out = []
    for ch in value:
        if ch == delim:
            out.append("\\" + ch)
        else:
            out.append(_ESCAPES.get(ch, ch))
    return "".join(out)


def _check_value(value: str) -> None:
    if "${" in value:
        raise UnsafeValue(f"value {value!r} holds '${{', which FreeSWITCH refuses")
    depth = 0
    for ch in value:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                break
        elif (ord(ch) < 0x20 and ch not in _CONTROL_OK) or ord(ch) == 0x7F:
            raise UnsafeValue(f"value {value!r} holds control character {ch!r}")
    if depth != 0:
        raise UnsafeValue(f"value {value!r} holds braces that do not pair up")


def escape_value(value: str) -> str:
    """``value`` as it must be written inside ``{...}`` to arrive unchanged."""
    _check_value(value)
    return _escape_once(_escape_once(_escape_once(value, "="), ","), "")


def _match(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not pattern.fullmatch(value):
        raise UnsafeValue(f"{what} {value!r} is not allowed")
    return value


def intended_variables(spec: OriginateSpec, now: datetime) -> dict[str, str]:
    """The channel variables the call must start with, in the order they are written."""
    _match(UUID_RE, spec.call_uuid, "call uuid")
    ring_timeout_s = max(int(spec.ring_timeout_s), MIN_RING_TIMEOUT_S)
    ids = {
        VAR_CAMPAIGN: str(int(spec.campaign_id)),
        VAR_LEAD: str(int(spec.lead_id)),
        VAR_ATTEMPT: str(int(spec.attempt_id)),
    }
    variables: dict[str, str] = {
        "origination_uuid": spec.call_uuid,
        "originate_timeout": str(ring_timeout_s),
        "ignore_early_media": "true",
    }
    if spec.caller_id:
        _match(CALLER_ID_RE, spec.caller_id, "caller ID")
        variables["origination_caller_id_number"] = spec.caller_id
    variables.update(ids)
    exported = list(ids)
    for name, value in spec.screen_pop.items():
        _match(_VAR_NAME_RE, name, "variable name")
        if name in variables or not name.startswith(VAR_NODE_PREFIX):
            raise UnsafeValue(f"screen-pop variable {name!r} must be new and start with 'dialer_'")
        _check_value(value)
        if value:  # FreeSWITCH drops ``name=`` (an empty variable is an unset one)
            variables[name] = value
            exported.append(name)
    variables["cc_export_vars"] = ",".join(exported)
    if spec.recording is not None:
        variables.update(_recording_vars(spec.recording, spec.call_uuid, now))
    return variables


def _recording_vars(rec: Recording, call_uuid: str, now: datetime) -> dict[str, str]:
    directory = _match(_PATH_RE, rec.directory.rstrip("/") or "/", "recording directory")
    fmt = _match(re.compile(r"[a-z0-9]{1,8}"), rec.file_format, "recording format")
    path = f"{directory.rstrip('/')}/{now.date().isoformat()}/{call_uuid}.{fmt}"
    variables = {
        "media_bug_answer_req": "true",
        "record_sample_rate": str(int(rec.sample_rate_hz)),
        "RECORD_STEREO": "true" if rec.stereo else "false",
        "dialer_recording_path": path,
        "execute_on_answer": f"record_session {path}",
    }
    if rec.upload_url:
        variables.update(upload_hook_vars(rec.upload_url, path, call_uuid))
    return variables


def upload_hook_vars(upload_url: str, path: str, call_uuid: str) -> dict[str, str]:
    """Seed 001's upload after hangup, its ``${cc_record_filename}``, ``${curl_sendfile_url}``
    and ``${uuid}`` written out (a value from the dialer may not hold ``${``): the hook runs
    ``curl`` in the background once the channel hung up, when ``record_session`` has closed
    the file (capture y: RECORD_STOP precedes the upload)."""
    url = _match(UPLOAD_URL_RE, upload_url, "recording upload URL")
    _match(_PATH_RE, path, "recording path")
    _match(UUID_RE, call_uuid, "call uuid")
    return {
        "curl_sendfile_url": url,
        "api_hangup_hook": f'system curl -XPOST -F "files=@{path}" {url}?uuid={call_uuid} &',
        "session_in_hangup_hook": "true",
    }


def build_originate(spec: OriginateSpec, now: datetime) -> str:
    """The argument string of ``originate`` (send as ``bgapi originate <this>``).

    ``now`` (aware) dates the recording folder. Raises `UnsafeValue` for anything that cannot
    be carried exactly.
    """
    variables = intended_variables(spec, now)
    dial = _match(_DIAL_STRING_RE, spec.dial_string, "dial string")
    extension = _match(_DIALPLAN_NAME_RE, spec.extension, "extension")
    context = _match(_DIALPLAN_NAME_RE, spec.context, "context")
    group = ",".join(f"{name}={escape_value(value)}" for name, value in variables.items())
    return f"{{{group}}}{dial} {extension} XML {context}"


class LeadLike(Protocol):
    """What the builder reads of a lead (`campaigns.domain.ClaimedLead`)."""

    @property
    def id(self) -> int: ...

    @property
    def custom_fields(self) -> Mapping[str, object]: ...


class RouteLike(Protocol):
    """What the builder reads of a route (`dialer.routing.router.Candidate`)."""

    @property
    def dial_string(self) -> str: ...

    @property
    def caller_id(self) -> str | None: ...


def spec_for(
    lead: LeadLike,
    route: RouteLike,
    campaign_id: int,
    *,
    call_uuid: str,
    attempt_id: int,
    extension: str,
    context: str,
    ring_timeout_s: int = 30,
    screen_pop_fields: Sequence[str] = (),
    recording: Recording | None = None,
) -> OriginateSpec:
    """Lead + route + campaign -> `OriginateSpec`. ``screen_pop_fields`` name lead custom
    fields sent to the agent's screen pop as ``dialer_<field>`` (missing ones are skipped)."""
    pop = {
        f"{VAR_NODE_PREFIX}{name}": str(lead.custom_fields[name])
        for name in screen_pop_fields
        if lead.custom_fields.get(name) is not None
    }
    return OriginateSpec(
        call_uuid=call_uuid,
        dial_string=route.dial_string,
        caller_id=route.caller_id,
        extension=extension,
        context=context,
        campaign_id=campaign_id,
        lead_id=lead.id,
        attempt_id=attempt_id,
        ring_timeout_s=ring_timeout_s,
        screen_pop=pop,
        recording=recording,
    )


VAR_CALL = "dialer_call_id"
"""The API call id on the agent leg of an agent-first call (transcripts u1-u3)."""
AGENT_CONTACT_RE = re.compile(
    r"(\[[A-Za-z0-9_.:@/+=-]+(,[A-Za-z0-9_.:@/+=-]+)*\])?[a-z_]+/[A-Za-z0-9_.:@/+-]+"
)
"""An agent's phone as its contact is stored (`dialer.agent_admin`): ``[leg vars]`` and one
endpoint, e.g. ``[leg_timeout=15]sofia/external/agent1@127.0.0.1:5094`` or ``user/1001``.
Nothing in it can end the ``originate`` argument, start a second leg or an application."""
MIN_AGENT_RING_S = 10


@dataclass(frozen=True, slots=True)
class AgentFirstSpec:
    """An agent-first call: ring ``agent_contact`` (showing ``agent_caller_id``, the number
    about to be called), and once the agent answers bridge it to ``dial_string`` (the
    router's ``sofia/gateway/NAME/PREFIX+NUMBER``) presenting the trunk's ``caller_id``.
    ``call_id`` is the API call's id, on the agent leg as ``dialer_call_id``."""

    call_uuid: str
    agent_contact: str
    agent_caller_id: str | None
    dial_string: str
    caller_id: str | None
    call_id: int
    agent_ring_timeout_s: int = 20
    recording: Recording | None = None


def build_agent_first(spec: AgentFirstSpec, now: datetime | None = None) -> str:
    """The argument string of ``originate`` for ``spec`` (send as ``bgapi originate <this>``),
    in the form of transcript u1::

        {origination_uuid=U,origination_caller_id_number=C,originate_timeout=20,
        ignore_early_media=true,dialer_call_id=N}<contact> &bridge({origination_caller_id_number=
        T,ignore_early_media=true}sofia/gateway/GW/NUMBER)

    The ``{}`` variables of the originate stay on the agent leg (the bridge's leg does not
    inherit them), so the customer leg gets its own. Every value is checked against a fixed
    pattern; raises `UnsafeValue` otherwise. A ``recording`` (dated by ``now``, aware) records
    the agent leg from its answer and uploads the file under the call's uuid after hangup,
    as capture y's agent-first originate of the seed-001 template did.
    """
    _match(UUID_RE, spec.call_uuid, "call uuid")
    contact = _match(AGENT_CONTACT_RE, spec.agent_contact, "agent contact")
    dial = _match(_DIAL_STRING_RE, spec.dial_string, "dial string")
    agent_vars = [f"origination_uuid={spec.call_uuid}"]
    if spec.agent_caller_id:
        _match(CALLER_ID_RE, spec.agent_caller_id, "caller ID")
        agent_vars.append(f"origination_caller_id_number={spec.agent_caller_id}")
    ring_s = max(int(spec.agent_ring_timeout_s), MIN_AGENT_RING_S)
    agent_vars += [
        f"originate_timeout={ring_s}",
        "ignore_early_media=true",
        f"{VAR_CALL}={int(spec.call_id)}",
    ]
    if spec.recording is not None:
        if now is None:
            raise UnsafeValue("a recorded call needs the time that dates its folder")
        recorded = _recording_vars(spec.recording, spec.call_uuid, now)
        agent_vars += [f"{name}={escape_value(value)}" for name, value in recorded.items()]
    customer_vars = []
    if spec.caller_id:
        _match(CALLER_ID_RE, spec.caller_id, "caller ID")
        customer_vars.append(f"origination_caller_id_number={spec.caller_id}")
    customer_vars.append("ignore_early_media=true")
    return f"{{{','.join(agent_vars)}}}{contact} &bridge({{{','.join(customer_vars)}}}{dial})"
