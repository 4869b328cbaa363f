"""The event listener: one Event Socket connection per node -> call outcomes, agent state.

Inner shape, as in every context: `ports` (seams and the data crossing them), `adapters`
(Redis live state, SQL attempt records), `fakes` (in-memory twins), `service` (the node
listener); `switch_state` is the pure agent and channel bookkeeping it uses.
"""

__all__ = ["adapters", "fakes", "ports", "service", "switch_state"]
