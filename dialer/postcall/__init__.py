"""Post-call work: webhooks of ended attempts, dispositions set after the call.

Inner shape, as in every context: `ports` (seams and the data crossing them), `adapters`
(SQL, httpx), `fakes` (in-memory twins), `service` (one delivery try, one disposition);
`webhooks` and `dispositions` are the pure rules the service applies.
"""

__all__ = ["adapters", "dispositions", "fakes", "ports", "service", "webhooks"]
