"""Import a lead file into a campaign: stream, normalize, dedupe, filter DNC, insert, checkpoint;
the leads, the list's checkpoint and the DNC entries through the `LeadStore` port.

Invariants: every data row ends in exactly one outcome (accepted, duplicate, dnc, invalid) and
the counts add up to the rows read; importing the same file again (under any name) adds
nothing unless ``force`` makes it a new list; an import killed at any point and run again ends
in the state of one clean run.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from campaigns.importer.classify import (
    DncPrefixes,
    Layout,
    LayoutError,
    LeadCandidate,
    Reject,
    RowOutcome,
    find_layout,
    split_batch,
)
from campaigns.importer.pipeline import classified, default_workers
from campaigns.importer.ports import ImportTarget, LeadBatch, LeadListProgress, LeadStore
from campaigns.importer.rejects import RejectsFile
from campaigns.importer.sources import BadRow, SourceError, TableRow, open_table, workbook_sheets
from dialer.clock import Clock
from dialer.metrics import IMPORT_ROWS

BATCH_ROWS = 5000
_PARALLEL_MIN_BYTES = 4 << 20


class ImportError_(Exception):
    """The import cannot start; nothing was written.  The message names the problem."""


@dataclass(frozen=True, slots=True)
class ImportDeps:
    """What an import works with: the lead store, and the clock that dates DNC look-ups and
    the list's end (`campaigns.importer.wiring.import_deps` builds them)."""

    store: LeadStore
    clock: Clock


@dataclass(frozen=True, slots=True)
class ImportOptions:
    campaign: str
    region: str | None = None
    phone_column: str | None = None
    rejects_path: Path | None = None
    dedupe_across_campaigns: bool = False
    force: bool = False  # import a file imported before again, as a new lead list
    sheet: str | None = None  # XLSX/XLS: the sheet's name or 1-based index; None: the first
    batch_rows: int = BATCH_ROWS
    workers: int | None = None  # classifying processes; None: by file size and CPU count


@dataclass(slots=True)
class ImportSummary:
    """What an import did; with ``already_imported`` nothing was: ``lead_list_id``,
    ``list_name`` and the counts are the earlier import's, and no rejects file was written.
    ``phone_column`` and ``region``: where the numbers were read and the region they were read
    in (empty when nothing was read)."""

    lead_list_id: int
    rows: int = 0
    counts: Counter[RowOutcome] = field(default_factory=Counter)
    rejects_path: Path | None = None
    already_imported: bool = False
    resumed_from_row: int = 0
    list_name: str = ""
    phone_column: str = ""
    region: str = ""

    @property
    def none_accepted(self) -> bool:
        """Rows were read and every one was invalid: most likely the wrong phone column or
        region, not a list of bad numbers."""
        return self.rows > 0 and self.counts[RowOutcome.INVALID] == self.rows

    @classmethod
    def of(
        cls, progress: LeadListProgress, rejects_path: Path | None, **kw: object
    ) -> ImportSummary:
        counts: Counter[RowOutcome] = +Counter(progress.counts)
        return cls(
            progress.lead_list_id, sum(counts.values()), counts, rejects_path,
            list_name=progress.file_name, **kw,  # type: ignore[arg-type]
        )  # fmt: skip


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(slots=True)
class CheckedFile:
    """A file that can be imported into ``target``: its numbers read in ``region``, its
    columns as ``layout`` says, its data rows from the first (``rows``, open until read to
    the end or closed)."""

    target: ImportTarget
    region: str
    layout: Layout
    rows: Iterator[TableRow | BadRow]

    def close(self) -> None:
        close = getattr(self.rows, "close", None)
        if close is not None:
            close()


def check_file(store: LeadStore, path: Path, options: ImportOptions) -> CheckedFile:
    """What an import checks before it writes anything: the file reads as a table (a CSV's
    quotes close, a workbook's sheet is there), the campaign exists, a phone column is found,
    a data row follows the header. Raises `ImportError_` naming the problem."""
    try:
        first, rows = open_table(path, sheet=options.sheet)
    except SourceError as exc:
        raise ImportError_(str(exc)) from None
    target = store.find_campaign(options.campaign)
    if target is None:
        raise ImportError_(f"no campaign named {options.campaign!r}")
    region = (options.region or target.default_region).upper()
    try:
        layout = find_layout(first, options.phone_column, region)
    except LayoutError as exc:
        raise ImportError_(f"{path}: {exc}{_other_sheets(path, options.sheet)}") from None
    data: Iterator[TableRow | BadRow] = (
        rows if layout.has_header else itertools.chain([TableRow(1, first)], rows)
    )
    peeked = next(data, None)
    if peeked is None:
        raise ImportError_(f"{path}: the file has a header row but no data rows")
    return CheckedFile(target, region, layout, _closing_chain(peeked, data, rows))


def _other_sheets(path: Path, sheet: str | None) -> str:
    """When no ``--sheet`` was given and the workbook has others than the first one read, a
    hint naming them: its columns may well be on another sheet."""
    names = workbook_sheets(path) if sheet is None else []
    if len(names) < 2:
        return ""
    return f"; sheet {names[0]!r} was read, of {names}: pick the sheet with --sheet"


def _closing_chain(
    first: TableRow | BadRow, rest: Iterator[TableRow | BadRow], source: Iterator[object]
) -> Iterator[TableRow | BadRow]:
    """``first`` then ``rest``; closing it closes ``source`` (the file under the rows)."""
    try:
        yield first
        yield from rest
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()


def import_file(
    deps: ImportDeps,
    path: Path,
    options: ImportOptions,
    on_rows: Callable[[int], None] = lambda _n: None,
) -> ImportSummary:
    """Import ``path``; ``on_rows(n)`` is told after each committed batch of ``n`` rows."""
    store = deps.store
    checked = check_file(store, path, options)
    campaign_id, region, layout, data = (
        checked.target.campaign_id, checked.region, checked.layout, checked.rows,
    )  # fmt: skip
    progress = store.open_list(campaign_id, path.name, file_sha256(path), again=options.force)
    lead_list_id, rows_done = progress.lead_list_id, progress.rows_done
    if progress.complete:
        checked.close()
        return ImportSummary.of(progress, None, already_imported=True)
    rejects_path = options.rejects_path or default_rejects_path(path, lead_list_id, options.force)
    prefixes = DncPrefixes.of(store.dnc_prefixes(campaign_id, deps.clock.now()))

    batches = _batches((r for r in data if r.row_no > rows_done), options.batch_rows)
    with RejectsFile(rejects_path, resume_after_row=rows_done) as rejects_file:
        ctx = _BatchContext(
            campaign_id, lead_list_id, region, layout, prefixes, options.dedupe_across_campaigns
        )
        workers = options.workers if options.workers is not None else _auto_workers(path)
        for batch, candidates, rejects in classified(batches, layout, region, workers):
            with store.batch() as writer:
                batch_rejects = _import_batch(writer, candidates, rejects, ctx, deps.clock)
                rejects_file.write(batch_rejects)
                rejects_file.sync()
                counts = Counter(r.outcome for r in batch_rejects)
                counts[RowOutcome.ACCEPTED] = len(batch) - len(batch_rejects)
                writer.checkpoint(lead_list_id, batch[-1].row_no, counts)
            for outcome, n in counts.items():
                IMPORT_ROWS.labels(str(campaign_id), str(outcome)).inc(n)
            on_rows(len(batch))
    final = store.finish(lead_list_id, deps.clock.now())
    column = layout.columns[layout.phone_index]
    return ImportSummary.of(
        final, rejects_path, resumed_from_row=rows_done, phone_column=column, region=region
    )


@dataclass(frozen=True, slots=True)
class _BatchContext:
    campaign_id: int
    lead_list_id: int
    region: str
    layout: Layout
    prefixes: DncPrefixes
    dedupe_across_campaigns: bool


def _batches(rows: Iterator[TableRow | BadRow], size: int) -> Iterator[list[TableRow | BadRow]]:
    while batch := list(itertools.islice(rows, size)):
        yield batch


def _auto_workers(path: Path) -> int:
    """Worker processes pay off only when a file is large enough to amortize their start."""
    return default_workers() if path.stat().st_size > _PARALLEL_MIN_BYTES else 0


def default_rejects_path(path: Path, lead_list_id: int, force: bool) -> Path:
    """``FILE.rejects.csv``; for a file imported again with ``force``,
    ``FILE.list<ID>.rejects.csv``, so that the earlier list's rejects are kept."""
    if force:
        return path.with_name(f"{path.name}.list{lead_list_id}.rejects.csv")
    return path.with_name(path.name + ".rejects.csv")


def _import_batch(
    writer: LeadBatch,
    candidates: list[LeadCandidate],
    rejects: list[Reject],
    ctx: _BatchContext,
    clock: Clock,
) -> list[Reject]:
    """The rejects of one batch; every row of the batch not among them was inserted."""
    numbers = [c.number.e164 for c in candidates]
    exact = writer.dnc_exact(ctx.campaign_id, numbers, clock.now())
    kept, dropped = split_batch(candidates, exact, ctx.prefixes)
    rejects = rejects + dropped
    if ctx.dedupe_across_campaigns:
        elsewhere = writer.in_other_campaigns(ctx.campaign_id, [c.number.e164 for c in kept])
        rejects += [
            Reject(c.row_no, c.raw, RowOutcome.DUPLICATE,
                   f"{c.number.e164} is a lead of campaign #{elsewhere[c.number.e164]}")
            for c in kept if c.number.e164 in elsewhere
        ]  # fmt: skip
        kept = [c for c in kept if c.number.e164 not in elsewhere]
    rejects += writer.insert_new(ctx.campaign_id, ctx.lead_list_id, kept)
    return rejects
