"""Lead files uploaded over the API, kept under the upload directory for the ``imports``
workers, which import them with the same code as ``dialer leads import`` (`import_file`).

An upload is streamed to a staging file in fixed-size chunks (never held whole in memory),
hashed as it is written and cut off past the size limit. Before anything is queued it passes
the import's own checks (`check_file`: the table reads, the campaign exists, a phone column,
a data row), so a file the import would refuse is refused at once with nothing written. Then
the lead list is opened as the import opens it (by content hash: a file imported before is
not imported again unless ``force``) and the file moves to ``lead-list-<id>.upload``; its
rejected rows go to ``lead-list-<id>.rejects.csv``. The worker's import opens the same list
(the newest of that content) and fills it; its progress is the list's checkpoint.

Layout of the upload directory: ``staging/`` (uploads being received), then one pair of files
per list. The directory must be the same path on the API host and the workers' hosts.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from campaigns.importer.ports import LeadListProgress, LeadStore
from campaigns.importer.service import ImportError_, ImportOptions, check_file

CHUNK_BYTES = 1 << 20
_STAGING = "staging"


class UploadTooLarge(Exception):
    """The upload passed the size limit; nothing of it is kept."""


class UploadInFlight(Exception):
    """The list of this file is still being imported from an earlier upload."""


@dataclass(frozen=True, slots=True)
class StagedFile:
    """An upload received whole: where it is, its SHA-256 (hex) and size in bytes."""

    path: Path
    sha256: str
    size_bytes: int


@dataclass(frozen=True, slots=True)
class AcceptedUpload:
    """The list an upload goes into. ``queued``: its file is stored at ``path`` and must be
    imported (``rejects_path`` gets its rejected rows); otherwise the same content was
    imported into the campaign before (``progress`` is that list's) and nothing was kept."""

    progress: LeadListProgress
    queued: bool
    path: Path
    rejects_path: Path


def too_large_detail(max_bytes: int) -> str:
    return f"the upload is over the limit of {max_bytes:,} bytes (DIALER_UPLOAD_MAX_BYTES)"


def stored_path(upload_dir: Path, lead_list_id: int) -> Path:
    return upload_dir / f"lead-list-{lead_list_id}.upload"


def rejects_path(upload_dir: Path, lead_list_id: int) -> Path:
    return upload_dir / f"lead-list-{lead_list_id}.rejects.csv"


def stage_upload(source: BinaryIO, upload_dir: Path, max_bytes: int) -> StagedFile:
    """Copy ``source`` into a new staging file, ``CHUNK_BYTES`` at a time, hashing it;
    raises `UploadTooLarge` (the staging file removed) once more than ``max_bytes`` came."""
    staging = upload_dir / _STAGING
    staging.mkdir(parents=True, exist_ok=True)
    path = staging / uuid.uuid4().hex
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("wb") as out:
            while chunk := source.read(CHUNK_BYTES):
                size += len(chunk)
                if size > max_bytes:
                    raise UploadTooLarge(too_large_detail(max_bytes))
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return StagedFile(path, digest.hexdigest(), size)


def accept_upload(
    store: LeadStore,
    staged: StagedFile,
    file_name: str,
    options: ImportOptions,
    upload_dir: Path,
    in_flight: Callable[[int], bool],
) -> AcceptedUpload:
    """Check ``staged`` as the import will and open its list; raises `ImportError_` (the
    message naming ``file_name``, not the staging path) or `UploadInFlight` when the list's
    file is stored already and ``in_flight(lead_list_id)`` says its import may still run.
    The staging file is gone afterwards, moved or removed."""
    try:
        checked = check_file(store, staged.path, options)
        checked.close()
        target = checked.target
        progress = store.open_list(
            target.campaign_id, file_name, staged.sha256, again=options.force
        )
        stored = stored_path(upload_dir, progress.lead_list_id)
        rejects = rejects_path(upload_dir, progress.lead_list_id)
        if progress.complete:
            return AcceptedUpload(progress, False, stored, rejects)
        if stored.exists() and in_flight(progress.lead_list_id):
            raise UploadInFlight(
                f"lead list #{progress.lead_list_id} of this file is being imported "
                f"({progress.rows_done:,} rows done); follow it, or wait for it to end"
            )
        os.replace(staged.path, stored)
        return AcceptedUpload(progress, True, stored, rejects)
    except ImportError_ as exc:
        raise ImportError_(str(exc).replace(str(staged.path), file_name)) from None
    finally:
        staged.path.unlink(missing_ok=True)


def remove_upload(upload_dir: Path, lead_list_id: int) -> None:
    """Remove the stored file and rejects of a list (none there: nothing to do)."""
    stored_path(upload_dir, lead_list_id).unlink(missing_ok=True)
    rejects_path(upload_dir, lead_list_id).unlink(missing_ok=True)
