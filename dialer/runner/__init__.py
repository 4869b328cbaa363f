"""The pacer's runner: one campaign's tick (`tick`, `snapshot`; pure), its seams (`ports`,
fakes in `memory`, SQL and ESL in `adapters`), the lease (`lease`) and the slices a worker
runs (`service`, `ticker`).
"""

__all__: list[str] = []
