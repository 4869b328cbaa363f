"""The CDR variables FreeSWITCH sets when a channel reaches CS_REPORTING.

Names and order are those of the HANGUP_COMPLETE events in the transcripts (b, a):
``hangup_cause``, ``hangup_cause_q850``, ``digits_dialed``, the ``*_stamp`` of every moment that
happened, ``*_epoch`` / ``*_uepoch`` of every moment (0 when it never came), ``caller_id``, and
the durations in seconds, milliseconds and microseconds (``duration``, ``billsec``,
``progresssec``, ``answersec``, ``waitsec``, ``progress_mediasec``, ``flow_billsec`` ...).
Stamps are printed in UTC like the core's Event-Date-Local. Pure functions.
"""

from __future__ import annotations

import time

__all__ = ["cdr_variables"]

_STAMPED = (
    ("start", "Channel-Created-Time"),
    ("profile_start", "Profile-Created-Time"),
    ("answer", "Channel-Answered-Time"),
    ("bridge", "Channel-Bridged-Time"),
    ("progress", "Channel-Progress-Time"),
    ("progress_media", "Channel-Progress-Media-Time"),
)
_EPOCHS = (
    ("start", "Channel-Created-Time"),
    ("profile_start", "Profile-Created-Time"),
    ("answer", "Channel-Answered-Time"),
    ("bridge", "Channel-Bridged-Time"),
    ("last_hold", "Channel-Last-Hold"),
)


def _stamp(us: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(us // 1_000_000))


def _since(us: int, start_us: int) -> int:
    return us - start_us if us else 0


def cdr_variables(
    profile: dict[str, str], cause: str, q850: int, end_us: int
) -> list[tuple[str, str]]:
    """CDR variables for a leg whose caller profile is ``profile`` (times in microseconds)."""
    t = {name: int(profile.get(field, "0") or 0) for name, field in _STAMPED}
    start = t["start"]
    out: list[tuple[str, str]] = [
        ("hangup_cause", cause),
        ("hangup_cause_q850", str(q850)),
        ("digits_dialed", "none"),
    ]
    out += [(f"{name}_stamp", _stamp(t[name])) for name, _ in _STAMPED if t[name]]
    out.append(("end_stamp", _stamp(end_us)))
    for name, field in _EPOCHS:
        us = int(profile.get(field, "0") or 0)
        out += [(f"{name}_epoch", str(us // 1_000_000)), (f"{name}_uepoch", str(us))]
    out += [
        ("hold_accum_seconds", "0"),
        ("hold_accum_usec", "0"),
        ("hold_accum_ms", "0"),
        ("resurrect_epoch", "0"),
        ("resurrect_uepoch", "0"),
    ]
    for name in ("progress", "progress_media"):
        out += [(f"{name}_epoch", str(t[name] // 1_000_000)), (f"{name}_uepoch", str(t[name]))]
    out += [("end_epoch", str(end_us // 1_000_000)), ("end_uepoch", str(end_us))]
    cid_name = profile.get("Caller-ID-Name")
    cid_num = profile.get("Caller-ID-Number", "")
    out.append(("caller_id", f'"{cid_name}" <{cid_num}>' if cid_name else cid_num))
    spans = {
        "duration": end_us - start,
        "bill": end_us - t["answer"] if t["answer"] else 0,
        "progress": _since(t["progress"], start),
        "answer": _since(t["answer"], start),
        "wait": _since(t["bridge"], start),
        "progress_media": _since(t["progress_media"], start),
        "flow_bill": end_us - start if t["answer"] else 0,
    }
    names = {"duration": ("duration", "mduration", "uduration")}
    for key in spans:
        if key != "duration":
            names[key] = (f"{key}sec", f"{key}msec", f"{key}usec")
    for unit, divisor in ((0, 1_000_000), (1, 1000), (2, 1)):
        out += [(names[key][unit], str(max(0, spans[key]) // divisor)) for key in spans]
    return out
