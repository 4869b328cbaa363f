"""Simulated channels and the channel data FreeSWITCH adds to every channel event.

Header order follows ``switch_channel_event_set_basic_data`` /
``switch_caller_profile_event_set_data`` as seen in the transcripts: the Channel-* block,
Hangup-Cause once hung up, the codec block once media is up, the Caller-* profile (only the
fields that are set), the Other-Leg-* profile when the channel has an originator/originatee,
then ``variable_*`` for events that carry variables.
Times are microseconds since the epoch, as in ``Event-Date-Timestamp``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "Channel",
    "channel_data",
    "media_variables",
    "new_profile",
    "ordered_profile",
    "playback_headers",
    "profile_vars",
]

_STATE_NUMBERS = {
    "CS_NEW": 0,
    "CS_INIT": 1,
    "CS_ROUTING": 2,
    "CS_SOFT_EXECUTE": 3,
    "CS_EXECUTE": 4,
    "CS_EXCHANGE_MEDIA": 5,
    "CS_PARK": 6,
    "CS_CONSUME_MEDIA": 7,
    "CS_HIBERNATE": 8,
    "CS_RESET": 9,
    "CS_HANGUP": 10,
    "CS_REPORTING": 11,
    "CS_DESTROY": 12,
    "CS_NONE": 13,
}

_PROFILE_FIELDS = (
    "Direction",
    "Logical-Direction",
    "Dialplan",
    "Caller-ID-Name",
    "Caller-ID-Number",
    "Orig-Caller-ID-Name",
    "Orig-Caller-ID-Number",
    "Callee-ID-Name",
    "Callee-ID-Number",
    "Network-Addr",
    "ANI",
    "Destination-Number",
    "Unique-ID",
    "Source",
    "Transfer-Source",
    "Context",
    "RDNIS",
    "Channel-Name",
    "Profile-Index",
    "Profile-Created-Time",
    "Channel-Created-Time",
    "Channel-Answered-Time",
    "Channel-Progress-Time",
    "Channel-Progress-Media-Time",
    "Channel-Hangup-Time",
    "Channel-Transfer-Time",
    "Channel-Resurrect-Time",
    "Channel-Bridged-Time",
    "Channel-Last-Hold",
    "Channel-Hold-Accum",
    "Screen-Bit",
    "Privacy-Hide-Name",
    "Privacy-Hide-Number",
)
TIME_FIELDS = (  # a caller profile's times after its creation: "0" until they happen
    "Channel-Answered-Time",
    "Channel-Progress-Time",
    "Channel-Progress-Media-Time",
    "Channel-Hangup-Time",
    "Channel-Transfer-Time",
    "Channel-Resurrect-Time",
    "Channel-Bridged-Time",
    "Channel-Last-Hold",
    "Channel-Hold-Accum",
)


@dataclass
class Channel:
    """One leg. ``profile`` holds the caller-profile fields that are set (unencoded values)."""

    uuid: str
    name: str
    created_us: int
    state: str = "CS_NONE"
    callstate: str = "DOWN"
    answer_state: str = "ringing"
    hit_dialplan: bool = False
    hangup_cause: str | None = None
    media_up: bool = False
    profile: dict[str, str] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    other_uuid: str | None = None
    other_type: str | None = None
    bridged_to: str | None = None
    hangup_after_bridge: bool = False
    destroyed: bool = False
    application: str = ""
    application_data: str = ""
    gateway: str | None = None
    kind: str = "customer"
    talk_s: float = 0.0
    other_profile: dict[str, str] | None = None
    timers: list[object] = field(default_factory=list)

    @property
    def is_up(self) -> bool:
        """True until the channel has been hung up."""
        return self.hangup_cause is None

    @property
    def answered(self) -> bool:
        """True once CHANNEL_ANSWER was emitted (the answer time is set)."""
        return self.profile.get("Channel-Answered-Time", "0") != "0"

    @property
    def cid_name(self) -> str:
        """Caller-ID name as ``show channels`` prints it."""
        return self.profile.get("Caller-ID-Name", "")

    @property
    def cid_num(self) -> str:
        """Caller-ID number as ``show channels`` prints it."""
        return self.profile.get("Caller-ID-Number", "")

    @property
    def dest(self) -> str:
        """Destination number of the current caller profile."""
        return self.profile.get("Destination-Number", "")


def new_profile(
    uuid: str,
    channel_name: str,
    created_us: int,
    cid_name: str | None,
    cid_num: str,
    callee_name: str,
    dest: str,
) -> dict[str, str]:
    """The caller profile of a freshly originated outbound leg (index 1)."""
    profile: dict[str, str] = {"Direction": "outbound", "Logical-Direction": "outbound"}
    if cid_name is not None:
        profile["Caller-ID-Name"] = cid_name
    profile["Caller-ID-Number"] = cid_num
    if cid_name is not None:
        profile["Orig-Caller-ID-Name"] = cid_name
    profile["Orig-Caller-ID-Number"] = cid_num
    profile["Callee-ID-Name"] = callee_name
    profile["Callee-ID-Number"] = dest
    profile["ANI"] = cid_num
    profile["Destination-Number"] = dest
    profile["Unique-ID"] = uuid
    profile["Source"] = "src/switch_ivr_originate.c"
    profile["Context"] = "default"
    profile["Channel-Name"] = channel_name
    profile["Profile-Index"] = "1"
    profile["Profile-Created-Time"] = str(created_us)
    profile["Channel-Created-Time"] = str(created_us)
    for name in TIME_FIELDS:
        profile[name] = "0"
    profile["Screen-Bit"] = "true"
    profile["Privacy-Hide-Name"] = "false"
    profile["Privacy-Hide-Number"] = "false"
    return profile


def ordered_profile(profile: dict[str, str]) -> list[tuple[str, str]]:
    """Profile fields in FreeSWITCH's order, only those that are set."""
    return [(name, profile[name]) for name in _PROFILE_FIELDS if name in profile]


def channel_data(
    ch: Channel,
    other: Channel | None,
    *,
    with_variables: bool,
) -> list[tuple[str, str]]:
    """Headers ``switch_channel_event_set_data`` adds for ``ch`` (unencoded values)."""
    headers: list[tuple[str, str]] = [
        ("Channel-State", ch.state),
        ("Channel-Call-State", ch.callstate),
        ("Channel-State-Number", str(_STATE_NUMBERS.get(ch.state, 0))),
        ("Channel-Name", ch.name),
        ("Unique-ID", ch.uuid),
        ("Call-Direction", "outbound"),
        ("Presence-Call-Direction", "outbound"),
        ("Channel-HIT-Dialplan", "true" if ch.hit_dialplan else "false"),
        ("Channel-Call-UUID", ch.variables.get("call_uuid", ch.uuid)),
        ("Answer-State", ch.answer_state),
    ]
    if ch.hangup_cause is not None:
        headers.append(("Hangup-Cause", ch.hangup_cause))
    if ch.media_up:
        headers.extend(_codec_headers())
    headers.extend((f"Caller-{k}", v) for k, v in ordered_profile(ch.profile))
    if other is not None and ch.other_type is not None:
        headers.append(("Other-Type", ch.other_type))
        snapshot = ch.other_profile if ch.other_profile is not None else other.profile
        headers.extend(
            (f"Other-Leg-{k}", v)
            for k, v in ordered_profile(snapshot)
            if k not in ("Profile-Index", "Transfer-Source")
        )
    if with_variables:
        headers.extend((f"variable_{k}", v) for k, v in ch.variables.items())
    return headers


def _codec_headers() -> list[tuple[str, str]]:
    """The PCMU codec block of an answered (or early-media) leg."""
    return [
        ("Channel-Read-Codec-Name", "PCMU"),
        ("Channel-Read-Codec-Rate", "8000"),
        ("Channel-Read-Codec-Bit-Rate", "64000"),
        ("Channel-Write-Codec-Name", "PCMU"),
        ("Channel-Write-Codec-Rate", "8000"),
        ("Channel-Write-Codec-Bit-Rate", "64000"),
    ]


_PROFILE_VARS = {
    "caller_id_name": "Caller-ID-Name",
    "caller_id_number": "Caller-ID-Number",
    "callee_id_name": "Callee-ID-Name",
    "callee_id_number": "Callee-ID-Number",
    "destination_number": "Destination-Number",
    "ani": "ANI",
    "rdnis": "RDNIS",
    "context": "Context",
    "dialplan": "Dialplan",
    "network_addr": "Network-Addr",
    "chan_name": "Channel-Name",
}


def media_variables(ssrc: int) -> list[tuple[str, str]]:
    """Variables of a negotiated PCMU call leg (values as in the lab captures)."""
    return [
        ("ep_codec_string", "CORE_PCM_MODULE.PCMU@8000h@20i@64000b"),
        ("rtp_use_codec_string", "PCMU,PCMA"),
        ("remote_video_media_flow", "inactive"),
        ("remote_text_media_flow", "inactive"),
        ("remote_audio_media_flow", "sendrecv"),
        ("rtp_audio_recv_pt", "0"),
        ("rtp_use_codec_name", "PCMU"),
        ("rtp_use_codec_rate", "8000"),
        ("rtp_use_codec_ptime", "20"),
        ("rtp_use_codec_channels", "1"),
        ("rtp_last_audio_codec_string", "PCMU@8000h@20i@1c"),
        ("read_codec", "PCMU"),
        ("original_read_codec", "PCMU"),
        ("read_rate", "8000"),
        ("original_read_rate", "8000"),
        ("write_codec", "PCMU"),
        ("write_rate", "8000"),
        ("dtmf_type", "rfc2833"),
        ("rtp_use_timer_name", "soft"),
        ("rtp_use_pt", "0"),
        ("rtp_use_ssrc", str(ssrc)),
        ("rtp_2833_send_payload", "101"),
        ("rtp_2833_recv_payload", "101"),
        ("remote_media_ip", "127.0.0.1"),
        ("remote_media_port", "6000"),
    ]


def profile_vars(ch: Channel) -> dict[str, str]:
    """Variable names resolved from the caller profile."""
    return {var: ch.profile[key] for var, key in _PROFILE_VARS.items() if key in ch.profile}


def playback_headers(file: str) -> list[tuple[str, str]]:
    """Playback-File-Type (the URL scheme) and Playback-File-Path of PLAYBACK_* events."""
    scheme = file.split("://", 1)[0] if "://" in file else "file"
    return [("Playback-File-Type", scheme), ("Playback-File-Path", file)]
