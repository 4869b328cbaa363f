"""What the simulated far ends answer: the SIP failure responses of the callee outcomes and
how long an outbound leg may ring (values of the transcripts b, c, d, s)."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["SIP_FAILURES", "SIP_TERM_CAUSE", "ring_limit"]

SIP_FAILURES: dict[str, tuple[str, int, str]] = {
    "busy": ("USER_BUSY", 486, "Busy Here"),
    "invalid": ("UNALLOCATED_NUMBER", 404, "Not Found"),
    "unavailable": ("NO_USER_RESPONSE", 480, "Temporarily Unavailable"),
    "rejected": ("CALL_REJECTED", 603, "Decline"),
    "failure": ("NORMAL_TEMPORARY_FAILURE", 503, "Service Unavailable"),
    "cancelled": ("ORIGINATOR_CANCEL", 487, "Request Terminated"),
}
"""Callee outcome -> (hangup cause, SIP status, reason phrase)."""

SIP_TERM_CAUSE = {486: "17", 404: "1", 480: "18", 603: "21", 503: "41", 487: "487"}
"""SIP status -> ``sip_term_cause`` (the Q.850 cause sofia maps it to)."""


def ring_limit(variables: Mapping[str, str], timeout_arg: int | None) -> tuple[float, str]:
    """How long a leg may ring and the cause when it does not answer: ``leg_timeout=N``
    ends it with ALLOTTED_TIMEOUT after N+0.9 s (originate compares whole seconds with ``>``,
    transcript s), else ``originate_timeout`` (default 60 s) with NO_ANSWER."""
    leg_timeout = variables.get("leg_timeout", "")
    if leg_timeout.isdigit():
        return int(leg_timeout) + 0.9, "ALLOTTED_TIMEOUT"
    timeout = variables.get("originate_timeout", "")
    return float(timeout) if timeout.isdigit() else float(timeout_arg or 60), "NO_ANSWER"
