"""Pure pacing core: snapshot in, decision out, outcomes fed back (see docs/pacing.md)."""

from dialer.pacing.budget import BudgetPolicy, aggressiveness, remaining_abandons
from dialer.pacing.capacity import free_capacity, progressive_launches
from dialer.pacing.model import (
    AbandonBudget,
    AgentPhase,
    AgentView,
    Assignment,
    CallStage,
    CallView,
    Decision,
    Limits,
    Mode,
    Outcome,
    OutcomeKind,
    Snapshot,
    phase_from_callcenter,
)
from dialer.pacing.modes import Pacer, PreviewPacer, ProgressivePacer
from dialer.pacing.predictive import PredictiveConfig, PredictivePacer
from dialer.pacing.state import (
    PACER_STATE_VERSION,
    PacerStateError,
    pacer_state,
    restore_pacer,
)


def make_pacer(mode: Mode, ratio: float = 1.0) -> Pacer:
    """The pacer for a campaign mode; ``ratio`` only matters for progressive."""
    if mode is Mode.PREVIEW:
        return PreviewPacer()
    if mode is Mode.PROGRESSIVE:
        return ProgressivePacer(ratio)
    return PredictivePacer()


__all__ = [
    "PACER_STATE_VERSION",
    "AbandonBudget",
    "AgentPhase",
    "AgentView",
    "Assignment",
    "BudgetPolicy",
    "CallStage",
    "CallView",
    "Decision",
    "Limits",
    "Mode",
    "Outcome",
    "OutcomeKind",
    "Pacer",
    "PacerStateError",
    "PredictiveConfig",
    "PredictivePacer",
    "PreviewPacer",
    "ProgressivePacer",
    "Snapshot",
    "aggressiveness",
    "free_capacity",
    "make_pacer",
    "pacer_state",
    "phase_from_callcenter",
    "progressive_launches",
    "remaining_abandons",
    "restore_pacer",
]
