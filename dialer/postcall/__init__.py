"""Post-call work: webhooks of ended attempts, dispositions set after the call, the record of
the calls made.

Inner shape, as in every context: `ports` (seams and the data crossing them), `adapters`
(SQL, httpx), `fakes` (in-memory twins), `service` (one delivery try, one disposition, call
look-ups); `webhooks`, `dispositions` and `call_log` are the pure rules and data the service
uses.
"""

__all__ = ["adapters", "call_log", "dispositions", "fakes", "ports", "service", "webhooks"]
