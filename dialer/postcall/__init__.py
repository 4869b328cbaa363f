"""Post-call work: webhooks of ended attempts, dispositions set after the call."""

__all__: list[str] = []
