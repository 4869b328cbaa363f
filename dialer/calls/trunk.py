"""What an ended attempt says about its trunk (health) and whether the carrier, not the
callee, is to blame (retry).

Pure. Two views of the same rule of `dialer.routing.health.is_trunk_failure`:

* `trunk_verdict(end)` for trunk health, from the whole `CallEnd` (SIP code included);
* `carrier_failed(outcome, hangup_cause)` for the lead's retry, from what a CallAttempt row
  keeps, so that the current attempt and the lead's earlier rows are judged alike.
"""

from __future__ import annotations

from campaigns.domain import AttemptOutcome
from dialer.calls.machine import CallEnd
from dialer.routing.health import is_trunk_failure

# A FAILED outcome with NO_ANSWER is a trunk that never answered the INVITE (transcript d3):
# `unanswered_outcome` gives FAILED to NO_ANSWER only without progress and SIP status.
_SILENT_TRUNK_CAUSE = "NO_ANSWER"


def trunk_verdict(end: CallEnd) -> bool | None:
    """True: a trunk failure; False: the trunk carried the call (answered, rang, or a callee
    outcome such as busy or no answer); None: it says nothing about the trunk (the node
    refused to dial, or a failure of unknown cause such as ``LOST``)."""
    if end.outcome is None:
        return None
    sip = int(end.sip_status) if end.sip_status.isdigit() else None
    cause = end.hangup_cause
    if end.answered_at is None and (
        is_trunk_failure(cause, sip) or carrier_failed(end.outcome, cause)
    ):
        return True
    if end.outcome is AttemptOutcome.FAILED:
        return None
    return False


def carrier_failed(outcome: str | None, hangup_cause: str | None) -> bool:
    """An attempt that failed for its trunk: FAILED with a trunk-failure cause.

    ``outcome`` as an `AttemptOutcome` or a CallAttempt row's text (``not_dialled`` included)."""
    if outcome != AttemptOutcome.FAILED or not hangup_cause:
        return False
    return is_trunk_failure(hangup_cause) or hangup_cause == _SILENT_TRUNK_CAUSE
