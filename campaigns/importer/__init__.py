"""Lead-list imports: a file's rows into a campaign's leads, resumably.

Inner shape, as in every context: `ports` (the `LeadStore` seam and the data crossing it),
`adapters` (`SqlLeadStore`), `fakes` (`MemoryLeadStore`), `service` (`import_file`, one
file into one campaign), `wiring` (an import's dependencies on the database). The other
modules serve the service without a seam of their own: ``classify`` (pure: the phone column,
rows into candidates or rejects), ``pipeline`` (classifies batches in worker processes),
``sources`` (the file readers) and ``rejects`` (the rejects file). Those two read and write
the files an import is given, beside it, in step with the store's checkpoint; a file on the
local disk is the one thing they do, and the tests give them real files in a temporary
folder, so an in-memory twin would prove nothing more.
"""

__all__ = [
    "adapters",
    "classify",
    "fakes",
    "pipeline",
    "ports",
    "rejects",
    "service",
    "sources",
    "wiring",
]
