"""One file is one document, however many clients offer it at once — through every entry point.

Web uploads (Flask test clients in threads), :meth:`Dossier.ingest_upload`, the inbox watcher and
``dossier ingest`` in parallel processes each race the same new bytes, once with SQLite records and
once with PostgreSQL records (and the OpenSearch node beside them).  Exactly one document is made;
every other intake reports a duplicate of it.  The records' content claims decide (pipeline.intake).
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from dossier.app.services import Dossier
from foundation.config import load_settings
from index import Principal
from records import ContentClaim, Document
from tests import _opensearch
from tests.conftest import all_at_once
from tests.webui.conftest import _login

PASSWORD = "race-test-Passw0rd"
CLIENTS = 3


@pytest.fixture(params=["sqlite", "postgresql"])
def race_env(request: pytest.FixtureRequest, tmp_path: Path, redis_url: str) -> Iterator[dict[str, str]]:
    """The settings (as environment) of a fresh data home: SQLite records, or PostgreSQL records + OpenSearch.

    Files are queued on the test Redis (nothing processes them: taking is what races).
    """
    env = {"DOSSIER_HOME": str(tmp_path / "home"), "DOSSIER_WORKERS": "1", "DOSSIER_REDIS_URL": redis_url}
    alias = url = None
    if request.param == "postgresql":
        postgres_url = request.getfixturevalue("postgres_url")
        url, alias = _opensearch.cluster_url(), f"dossier-race-{uuid.uuid4().hex[:8]}"
        env.update(
            DOSSIER_DATABASE_URL=postgres_url, DOSSIER_OPENSEARCH_URL=url, DOSSIER_OPENSEARCH_INDEX=alias
        )
    settings = load_settings(environ=env, dotenv=tmp_path / "no.env")
    d = Dossier.open(settings, require_init=False)
    d.init(admin_password=PASSWORD)
    d.close()
    yield env
    if url and alias:
        _opensearch.drop(url, alias)


def _dossier(env: dict[str, str], tmp_path: Path) -> Dossier:
    return Dossier.open(load_settings(environ=env, dotenv=tmp_path / "no.env"))


def _one_document_per_file(d: Dossier, files: int) -> set[int]:
    """The ids of the documents: exactly ``files`` of them, each holding the claim of its bytes."""
    with d.sessions() as session:
        ids = set(session.scalars(select(Document.id)))
        claims = session.scalar(select(func.count()).select_from(ContentClaim))
    assert len(ids) == files and claims == files
    return ids


def test_simultaneous_web_uploads_of_one_new_file_make_one_document(race_env, tmp_path):
    """Three browsers upload the same new file at the same moment: one document, two duplicates, and every
    batch's banner, list and JSON agree on it."""
    from webui import create_app

    d = _dossier(race_env, tmp_path)
    app = create_app(d.settings, test_config={"TESTING": True})
    clients = [app.test_client() for _ in range(CLIENTS)]
    for client in clients:
        assert _login(client, password=PASSWORD).status_code == 302
    data = f"同时上传的新报价单 {uuid.uuid4().hex}：服务器 10 台，单价 ¥8,800.00。".encode()

    def upload(i: int) -> int:
        token = re.search(
            r'name="csrf_token" value="([^"]+)"', clients[i].get("/upload").get_data(as_text=True)
        )
        assert token is not None
        r = clients[i].post(
            "/upload",
            data={"csrf_token": token.group(1), "files": [(io.BytesIO(data), f"报价单_{i}.txt")]},
            content_type="multipart/form-data",
        )
        assert r.status_code == 303, r.get_data(as_text=True)[:300]
        return int(r.headers["Location"].rsplit("/", 1)[1])

    batches = all_at_once(CLIENTS, upload)
    (doc_id,) = _one_document_per_file(d, 1)
    reports = [clients[0].get(f"/api/batches/{b}").get_json() for b in batches]
    assert sorted(r["files"]["queued"] for r in reports) == [0, 0, 1]
    assert sorted(r["files"]["duplicate"] for r in reports) == [0, 1, 1]
    assert {item["document_id"] for r in reports for item in r["items"]} == {doc_id}  # admin: may see which
    d.close()
    if app.extensions.get("dossier") is not None:
        app.extensions["dossier"].close()


def test_simultaneous_ingest_uploads_make_one_document(race_env, tmp_path):
    """Dossier.ingest_upload (the web and API intake) from eight threads: one queued document, seven duplicates."""
    d = _dossier(race_env, tmp_path)
    data = "八个线程同时提交的同一份合同".encode()
    outcomes = all_at_once(
        8, lambda i: d.ingest_upload(f"{i}.txt", data, principal=Principal("admin", "admin"))
    )
    statuses = sorted(o["status"] for o in outcomes)  # type: ignore[index]
    assert statuses == ["duplicate"] * 7 + ["queued"]
    (doc_id,) = _one_document_per_file(d, 1)
    assert {o["id"] for o in outcomes} == {doc_id}  # type: ignore[index]
    d.close()


def test_two_inbox_watchers_taking_the_same_files_at_once_make_one_document_each(race_env, tmp_path):
    """Two inbox folders fed the same five files, swept at the same moment: five documents, five duplicates."""
    from workers.inbox import Inbox

    d = _dossier(race_env, tmp_path)
    names = [f"拜访记录_{n}.txt" for n in range(5)]
    boxes = []
    for k in range(2):
        root = tmp_path / f"inbox{k}"
        root.mkdir()
        for n, name in enumerate(names):
            (root / name).write_text(f"第 {n} 份拜访记录：客户关心交付周期。", encoding="utf-8")
        boxes.append(Inbox(d, root, settle_s=0))
    taken = all_at_once(2, lambda k: boxes[k].take(boxes[k].files()))
    assert taken == [5, 5]
    _one_document_per_file(d, 5)
    reports = [d.batch_status(b._batch) for b in boxes]  # type: ignore[arg-type]
    assert (
        sum(r["files"]["queued"] for r in reports) == 5 and sum(r["files"]["duplicate"] for r in reports) == 5
    )
    d.close()


def test_parallel_cli_ingests_of_the_same_folder_make_one_document_per_file(race_env, tmp_path):
    """Three `dossier ingest --json` processes on copies of one folder: one document per file, the rest duplicates."""
    folder = tmp_path / "files"
    folder.mkdir()
    for n in range(12):
        (folder / f"会议纪要_{n}.txt").write_text(f"第 {n} 次周会纪要：讨论报价与合同。", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOSSIER_", "INHERITED_DOSSIER_"))}
    env.update(race_env)
    if "DOSSIER_DATABASE_URL" in env:  # what an operator writes: plain postgresql://
        env["DOSSIER_DATABASE_URL"] = (
            make_url(env["DOSSIER_DATABASE_URL"])
            .set(drivername="postgresql")
            .render_as_string(hide_password=False)
        )
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "dossier.cli", "ingest", str(folder), "--json"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(CLIENTS)
    ]
    summaries = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        summaries.append(json.loads(out))
    assert sum(len(s["documents"]) for s in summaries) == 12
    assert sum(s["duplicates"] for s in summaries) == 24
    assert all(s["failed"] == [] for s in summaries)
    d = _dossier(race_env, tmp_path)
    _one_document_per_file(d, 12)
    d.close()
