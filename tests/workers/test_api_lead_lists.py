"""``/v1/campaigns/{name}/lead-lists`` through the real app on PostgreSQL and SQLite, the
import run by a real Celery worker on the ``imports`` queue over the test Redis broker: an
upload is imported by the code of ``dialer leads import`` (the same counts and rejected rows
as `import_file` run directly, as the CLI runs it), its progress and rejects are read back, a
file the import refuses or a bad form field is a 422 naming it with nothing written, a file
over the limit a 413, and lists are deleted or archived as ``dialer leads delete-list``."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from campaigns import service
from campaigns.importer.classify import RowOutcome
from campaigns.importer.http import LeadListDeps, lead_lists_router
from campaigns.importer.service import ImportOptions, import_file
from campaigns.importer.wiring import import_deps
from campaigns.models import Lead, LeadList
from dialer.apikeys.adapters import SqlKeyStore
from dialer.apikeys.http import KeyAuth
from dialer.apikeys.ports import Role
from dialer.clock import SYSTEM_CLOCK
from dialer.config import load_settings
from dialer.db.base import transaction
from dialer.listener.fakes import MemoryTrunks
from tests.support.api import bearer, issue_test_keys
from tests.support.waiting import wait_until
from workers.api import create_app
from workers.celery_app import IMPORTS_QUEUE
from workers.context import AppContext
from workers.worker import WorkerRoot, install_root

pytestmark = pytest.mark.integration

IMPORT_WAIT_S = 30.0
GOOD = "phone,name\n13800138000,Li\n13800138001,Wang\n13800138001,Wang again\n12345,Zhao\n"
# rows without a number, with a number cut short or letters, with extra cells, a GBK row,
# good rows around them
BROKEN = (
    b"phone,name\n13900000001,a\n,b\nnot a number,c\n13900000002,d,extra,cells\n1390,e\n"
    + "13900000003,张三\n".encode("gbk")
    + b"13900000001,again\n"
)


@pytest.fixture
def idle_api(
    sessions: sessionmaker[Session], tmp_path: Path, real_broker: Any
) -> Iterator[tuple[TestClient, Path]]:
    """The app over the test's database (campaigns ``spring`` and ``cli``, a manager key),
    the Celery app's tasks on the same context, no worker yet; the upload directory."""
    upload_dir = tmp_path / "uploads"
    settings = load_settings(upload_dir=str(upload_dir), upload_max_bytes=64 << 10)
    context = AppContext(settings, sessions=sessions)
    install_root(real_broker, WorkerRoot(context))
    with transaction(sessions) as session:
        service.create_campaign(session, service.parse_spec(name="spring", queue_name="q"))
        service.create_campaign(session, service.parse_spec(name="cli", queue_name="q"))
    app = create_app(context, notify=None, trunks=MemoryTrunks())
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            client.headers.update(bearer(issue_test_keys(sessions)[Role.MANAGER]))
            yield client, upload_dir
    finally:
        install_root(real_broker, None)


@contextmanager
def imports_worker(celery: Any) -> Iterator[None]:
    """A worker on the ``imports`` queue of the test broker, in this process."""
    from celery.contrib.testing.worker import start_worker

    with start_worker(
        celery, pool="threads", concurrency=1, perform_ping_check=False, queues=[IMPORTS_QUEUE]
    ):
        yield


@pytest.fixture
def api(idle_api: tuple[TestClient, Path], real_broker: Any) -> Iterator[tuple[TestClient, Path]]:
    """`idle_api` with an imports worker running."""
    with imports_worker(real_broker):
        yield idle_api


def _upload(client: TestClient, body: bytes, name: str = "leads.csv", **form: Any) -> Any:
    return client.post(
        "/v1/campaigns/spring/lead-lists", files={"file": (name, body, "text/csv")}, data=form
    )


def _finished(client: TestClient, list_id: int) -> dict[str, Any]:
    url = f"/v1/campaigns/spring/lead-lists/{list_id}"
    assert wait_until(
        lambda: client.get(url).json()["status"] != "importing", IMPORT_WAIT_S, poll_s=0.1
    ), client.get(url).text
    body: dict[str, Any] = client.get(url).json()
    return body


def _counts(body: dict[str, Any]) -> tuple[int, ...]:
    return tuple(body[k] for k in ("rows", "accepted", "duplicate", "dnc", "invalid"))


def _lead_count(sessions: sessionmaker[Session], campaign: str) -> int:
    with sessions() as s:
        campaign_id = service.get_campaign(s, campaign).id
        return s.scalar(select(func.count()).where(Lead.campaign_id == campaign_id)) or 0


def test_an_upload_is_imported_by_a_worker_and_read_back_again_and_forced_and_deleted(
    api: tuple[TestClient, Path], sessions: sessionmaker[Session]
) -> None:
    client, upload_dir = api
    sent = _upload(client, GOOD.encode())
    assert sent.status_code == 202, sent.text
    assert sent.json()["already_imported"] is False and sent.json()["task_id"]
    list_id = sent.json()["lead_list"]["id"]
    done = _finished(client, list_id)
    assert (done["status"], done["file_name"], done["failure"]) == ("complete", "leads.csv", None)
    assert _counts(done) == (4, 2, 1, 0, 1)
    assert _lead_count(sessions, "spring") == 2
    rejects = client.get(f"/v1/campaigns/spring/lead-lists/{list_id}/rejects")
    assert rejects.status_code == 200 and rejects.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(rejects.text.lstrip("\ufeff"))))  # a BOM, for Excel
    assert rows[0] == ["row", "value", "outcome", "reason"]
    assert sorted(r[2] for r in rows[1:]) == ["duplicate", "invalid"]
    assert [lst["id"] for lst in client.get("/v1/campaigns/spring/lead-lists").json()] == [list_id]

    again = _upload(client, GOOD.encode(), name="renamed.csv")
    assert again.status_code == 200 and again.json()["already_imported"] is True
    assert again.json()["lead_list"]["id"] == list_id and again.json()["task_id"] is None
    forced = _upload(client, GOOD.encode(), force="true")
    assert forced.status_code == 202, forced.text
    forced_id = forced.json()["lead_list"]["id"]
    assert forced_id != list_id
    assert _counts(_finished(client, forced_id)) == (4, 0, 3, 0, 1)

    archived = client.delete(f"/v1/campaigns/spring/lead-lists/{forced_id}",
                             params={"archive": "true"})  # fmt: skip
    assert archived.status_code == 200 and archived.json()["archived"] is True
    assert client.get(f"/v1/campaigns/spring/lead-lists/{forced_id}").json()["status"] == (
        "archived"
    )
    deleted = client.delete(f"/v1/campaigns/spring/lead-lists/{list_id}")
    assert deleted.status_code == 200 and deleted.json()["leads_deleted"] == 2
    assert _lead_count(sessions, "spring") == 0
    assert not (upload_dir / f"lead-list-{list_id}.upload").exists()
    gone = client.get(f"/v1/campaigns/spring/lead-lists/{list_id}")
    assert gone.status_code == 404


def test_a_broken_csv_keeps_its_good_rows_and_reports_the_others_as_the_cli_import_does(
    api: tuple[TestClient, Path], sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    client, _ = api
    sent = _upload(client, BROKEN, name="broken.csv")
    assert sent.status_code == 202, sent.text
    done = _finished(client, sent.json()["lead_list"]["id"])
    rejects = client.get(f"/v1/campaigns/spring/lead-lists/{done['id']}/rejects").content

    local = tmp_path / "broken.csv"
    local.write_bytes(BROKEN)
    options = ImportOptions(campaign="cli", rejects_path=tmp_path / "cli-rejects.csv")
    by_cli = import_file(import_deps(sessions, SYSTEM_CLOCK), local, options)
    assert done["status"] == "complete"
    assert _counts(done) == (by_cli.rows, *(by_cli.counts[o] for o in RowOutcome))
    assert _counts(done) == (7, 3, 1, 0, 3)
    assert rejects == (tmp_path / "cli-rejects.csv").read_bytes()
    assert _lead_count(sessions, "spring") == _lead_count(sessions, "cli") == 3


def test_bad_uploads_are_refused_naming_the_field_with_nothing_written(
    api: tuple[TestClient, Path], sessions: sessionmaker[Session]
) -> None:
    client, upload_dir = api
    cases = {
        "body.colour": _upload(client, GOOD.encode(), colour="red"),
        "body.force": _upload(client, GOOD.encode(), force="maybe"),
        "body.region": _upload(client, GOOD.encode(), region="XX"),
        "body.file": client.post("/v1/campaigns/spring/lead-lists", data={"force": "true"}),
        "body.sheet": _upload(client, GOOD.encode(), sheet="2"),
        "body.phone_column": _upload(client, GOOD.encode(), phone_column="mobile"),
    }
    for field, refused in cases.items():
        assert refused.status_code == 422, (field, refused.text)
        assert field in [e["field"] for e in refused.json()["errors"]], (field, refused.text)
    unclosed = _upload(client, b'phone,name\n13800138000,"Li\n13800138001,Wang\n', name="q.csv")
    assert unclosed.status_code == 422
    assert (
        "q.csv: row 2 (line 2): a quote opened there is never closed" in (unclosed.json()["detail"])
    )
    assert _upload(client, b"phone\n", name="empty.csv").status_code == 422
    unknown = client.post("/v1/campaigns/autumn/lead-lists",
                          files={"file": ("a.csv", GOOD.encode())})  # fmt: skip
    assert unknown.status_code == 404
    # over the 64 KiB limit: by its Content-Length; by what came (within the multipart
    # framing's allowance); sent without a length (chunked)
    for big in (b"phone\n" + b"13800138000\n" * 20_000, b"phone\n" + b"13800138000\n" * 7000):
        too_large = _upload(client, big)
        assert too_large.status_code == 413, too_large.text
        assert "over the limit of 65,536 bytes" in too_large.json()["detail"]
    chunked = client.post(
        "/v1/campaigns/spring/lead-lists",
        content=(b"x" * 4096 for _ in range(64)),
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert chunked.status_code == 413, chunked.text
    assert "over the limit of 65,536 bytes" in chunked.json()["detail"]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(LeadList)) == 0
    assert [p.name for p in upload_dir.rglob("*") if p.is_file()] == []


def test_an_xlsx_sheet_is_uploaded_by_name(
    api: tuple[TestClient, Path], sessions: sessionmaker[Session]
) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.title = "notes"
    sheet = workbook.create_sheet("leads")
    for row in (("name", "mobile"), ("Li", "13800138000"), ("Wang", "13800138002")):
        sheet.append(row)
    data = io.BytesIO()
    workbook.save(data)
    sent = _upload(client := api[0], data.getvalue(), name="leads.xlsx", sheet="leads",
                   phone_column="mobile")  # fmt: skip
    assert sent.status_code == 202, sent.text
    assert _counts(_finished(client, sent.json()["lead_list"]["id"])) == (2, 2, 0, 0, 0)
    missing = _upload(client, data.getvalue(), name="leads.xlsx", sheet="calls")
    assert missing.status_code == 422 and "no such sheet" in missing.json()["detail"]


def test_an_import_that_failed_says_why_and_the_same_upload_queues_it_again(
    idle_api: tuple[TestClient, Path], real_broker: Any, sessions: sessionmaker[Session]
) -> None:
    client, upload_dir = idle_api
    sent = _upload(client, GOOD.encode())
    assert sent.status_code == 202, sent.text
    list_id = sent.json()["lead_list"]["id"]
    waiting = client.get(f"/v1/campaigns/spring/lead-lists/{list_id}").json()
    assert (waiting["status"], waiting["rows"]) == ("importing", 0)
    twice = _upload(client, GOOD.encode(), name="again.csv")
    assert twice.status_code == 409 and "is being imported" in twice.json()["detail"]

    stored = upload_dir / f"lead-list-{list_id}.upload"
    stored.unlink()  # the worker finds no file: the import fails
    with imports_worker(real_broker):
        failed = _finished(client, list_id)
        assert failed["status"] == "failed" and "No such file" in failed["failure"], failed
        retried = _upload(client, GOOD.encode())
        assert retried.status_code == 202, retried.text
        assert retried.json()["lead_list"]["id"] == list_id
        done = _finished(client, list_id)
    assert (done["status"], done["failure"]) == ("complete", None)
    assert _counts(done) == (4, 2, 1, 0, 1) and _lead_count(sessions, "spring") == 2


def test_an_upload_whose_import_cannot_be_queued_is_a_503_and_the_same_upload_queues_it(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """The broker refusing the message (its transport's error stands in for a broker down)."""
    sent: list[str] = []

    def enqueue(path: Path, options: ImportOptions, task_id: str) -> str:
        if not sent:
            sent.append("refused")
            raise ConnectionRefusedError(111, "Connection refused")
        sent.append(task_id)
        return task_id

    deps = LeadListDeps(
        sessions, import_deps(sessions, SYSTEM_CLOCK).store, tmp_path, 1 << 20, enqueue,
        lambda _task_id: None,
    )  # fmt: skip
    router = lead_lists_router(deps, KeyAuth(SqlKeyStore(sessions)))
    app = create_app(AppContext(load_settings(), sessions=sessions), notify=None,
                     trunks=MemoryTrunks(), v1_routers=[router])  # fmt: skip
    with transaction(sessions) as session:
        service.create_campaign(session, service.parse_spec(name="spring", queue_name="q"))
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers.update(bearer(issue_test_keys(sessions)[Role.MANAGER]))
        down = _upload(client, GOOD.encode())
        assert down.status_code == 503 and "upload the file again" in down.json()["detail"]
        again = _upload(client, GOOD.encode())
        assert again.status_code == 202, again.text
    assert sent == ["refused", again.json()["task_id"]]
    assert [p.name for p in tmp_path.glob("*.upload")] == [
        f"lead-list-{again.json()['lead_list']['id']}.upload"
    ]
