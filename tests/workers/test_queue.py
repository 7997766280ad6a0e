"""The job queue against a real Redis and real worker processes: enqueue, process, retry, recover."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from foundation.messages import load_stored
from index import SearchRequest
from records import Document, IngestJob, Page
from tests.conftest import ADMIN_PASSWORD, DEV

CONTRACT = DEV / "contracts" / "产品购销合同_宸宇集团_HT-2024-0503_v2.pdf"
BROKEN = DEV / "bad" / "truncated.pdf"
SCANS = [
    DEV / "scans" / "发票_宏图集团_扫描.png",
    DEV / "scans" / "报价单_博雅租赁_扫描.png",
    DEV / "scans" / "拜访记录_光华物流_扫描.png",
    DEV / "scans" / "IMG_20230718_152640.jpg",
]
TWO_PAGE_SCAN = DEV / "scans" / "技术服务合同_恒达贸易_盖章扫描件.tif"


@pytest.fixture
def queued_dossier(tmp_path, redis_url):
    """An initialised Dossier whose queue is the test Redis."""
    from dossier.app.services import Dossier
    from foundation.config import load_settings

    settings = load_settings(
        environ={
            "DOSSIER_HOME": str(tmp_path / "home"),
            "DOSSIER_WORKERS": "1",
            "DOSSIER_REDIS_URL": redis_url,
        },
        dotenv=tmp_path / "no.env",
    )
    d = Dossier.open(settings, require_init=False)
    d.init(admin_password=ADMIN_PASSWORD)
    assert d.queue() is not None
    yield d
    d.engine.dispose()


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 600) -> None:
    """Poll until ``condition`` holds; fail (not hang) after a generous deadline."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def start_worker(d) -> subprocess.Popen:
    """A real `dossier worker` process in its own process group."""
    env = {**os.environ, **d.settings.environ()}
    return subprocess.Popen(
        [sys.executable, "-m", "dossier", "worker", "--quiet"],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def stop_worker(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_ingest_through_the_queue_parses_ocrs_and_indexes_with_real_workers(queued_dossier, admin):
    """GIVEN Redis and no running worker WHEN ingest waits THEN temporary workers parse, OCR and index everything."""
    d = queued_dossier
    summary = d.ingest_paths([CONTRACT, SCANS[0], BROKEN], workers=1)
    assert summary["mode"] == "queue"
    assert summary["ingested"] == 2 and [f["file"] for f in summary["failed"]] == [str(BROKEN)]
    by_file = {Path(doc["file"]).name: doc for doc in summary["documents"]}
    assert by_file[CONTRACT.name]["status"] == "indexed" and by_file[SCANS[0].name]["status"] == "indexed"
    scan = d.show(by_file[SCANS[0].name]["id"], admin)
    assert all(p["ocr"] and p["confidence"] > 0.5 and p["text"] for p in scan["pages"])
    assert "宏图" in scan["text"]
    hits = d.search(SearchRequest(query="宏图"), admin)["hits"]
    assert scan["id"] in [h["id"] for h in hits]
    report = d.batch_status(summary["batch"])
    assert report["state"] == "done" and report["files"]["failed"] == 1 and report["pages"]["pending"] == 0
    assert report["failures"][0]["file"] == str(BROKEN) and report["failures"][0]["error"]
    assert d.queue().live_workers() == 0  # the temporary workers are gone


def test_an_upload_returns_queued_and_a_worker_started_later_picks_it_up(queued_dossier, admin):
    """An upload is stored and queued at once; a worker that starts afterwards processes it."""
    d = queued_dossier
    outcome = d.ingest_upload(CONTRACT.name, CONTRACT.read_bytes(), principal=admin)
    assert outcome["status"] == "queued" and outcome["duplicate"] is False
    assert d.show(outcome["id"], admin)["status"] == "queued"
    proc = start_worker(d)
    try:
        wait_until(lambda: d.show(outcome["id"], admin)["status"] == "indexed", "the upload to be indexed")
    finally:
        stop_worker(proc)
    assert d.batch_status(outcome["batch"])["state"] == "done"


def test_work_stored_while_redis_was_down_is_queued_when_a_worker_starts(tmp_path, queued_dossier, admin):
    """Uploads accepted without Redis wait in the records; the next worker reconciles and processes them."""
    from dossier.app.services import Dossier

    offline = Dossier.open(queued_dossier.settings.with_overrides(DOSSIER_REDIS_URL="redis://127.0.0.1:1/0"))
    assert offline.queue() is None
    outcome = offline.ingest_upload(CONTRACT.name, CONTRACT.read_bytes(), principal=admin)
    assert outcome["status"] == "queued"
    from workers import run_worker

    run_worker(queued_dossier.settings, burst=True)
    assert queued_dossier.show(outcome["id"], admin)["status"] == "indexed"


def test_a_transient_error_is_retried_and_the_document_ends_indexed_once(queued_dossier, admin, monkeypatch):
    """A database hiccup during storing raises; RQ retries the job; the document is indexed exactly once."""
    from sqlalchemy.exc import OperationalError

    from pipeline.intake import Intake
    from workers import run_worker

    monkeypatch.setattr("pipeline.queue.RETRY_INTERVALS_S", (0, 0, 0))
    real = Intake.store_parsed
    calls = {"n": 0}

    def flaky(self, doc_id, outcome):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("UPDATE documents", {}, Exception("database is locked"))
        return real(self, doc_id, outcome)

    monkeypatch.setattr(Intake, "store_parsed", flaky)
    summary = queued_dossier.ingest_paths([CONTRACT], wait=False)
    run_worker(queued_dossier.settings, burst=True)
    doc_id = summary["documents"][0]["id"]
    assert calls["n"] == 2
    assert queued_dossier.show(doc_id, admin)["status"] == "indexed"
    hits = queued_dossier.search(SearchRequest(query="宸宇"), admin)
    assert hits["total"] == 1 and hits["hits"][0]["id"] == doc_id


def test_a_transient_error_that_persists_fails_the_document_with_its_reason(
    queued_dossier, admin, monkeypatch
):
    """After the last retry the document fails visibly (original kept) instead of staying queued forever."""
    from sqlalchemy.exc import OperationalError

    from pipeline.intake import Intake
    from workers import run_worker

    monkeypatch.setattr("pipeline.queue.RETRY_INTERVALS_S", (0, 0))

    def always(self, doc_id, outcome):
        raise OperationalError("UPDATE documents", {}, Exception("disk I/O error"))

    monkeypatch.setattr(Intake, "store_parsed", always)
    summary = queued_dossier.ingest_paths([CONTRACT], wait=False)
    run_worker(queued_dossier.settings, burst=True)
    shown = queued_dossier.show(summary["documents"][0]["id"], admin)
    reason = str(load_stored(shown["error"]) or shown["error"])
    assert shown["status"] == "failed" and "retries" in reason and "disk I/O error" in reason
    assert queued_dossier.open_original(shown["id"], admin)[2] == CONTRACT.read_bytes()


def test_a_broken_file_is_not_retried(queued_dossier, admin):
    """A file that cannot be parsed fails once: its job finishes, nothing is scheduled again."""
    from rq.job import Job

    from workers import run_worker

    summary = queued_dossier.ingest_paths([BROKEN], wait=False)
    run_worker(queued_dossier.settings, burst=True)
    doc_id = summary["documents"][0]["id"]
    assert queued_dossier.show(doc_id, admin)["status"] == "failed"
    queue = queued_dossier.queue()
    job = Job.fetch(f"ingest-{doc_id}", connection=queue.redis)
    assert job.get_status() == "finished" and job.return_value() == "failed"
    assert queue.queue.count == 0


def test_sigkill_of_a_worker_mid_batch_loses_nothing_and_duplicates_nothing(queued_dossier, admin):
    """GIVEN a scan batch being processed WHEN its worker is SIGKILLed THEN a new worker finishes it:
    every file one document, every page read once, the index holding each document once."""
    d = queued_dossier
    files = [*SCANS, TWO_PAGE_SCAN, CONTRACT]
    summary = d.ingest_paths(files, wait=False)
    batch = summary["batch"]
    victim = start_worker(d)

    def busy() -> bool:
        with d.sessions() as session:
            started = session.scalar(select(func.count()).select_from(Page).where(Page.ocr.is_(True)))
            processing = session.scalar(
                select(func.count()).select_from(Document).where(Document.status == "processing")
            )
        return bool(processing) or bool(started)

    wait_until(busy, "the first worker to be in the middle of the batch")
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    assert d.batch_report(batch)["state"] != "done"

    survivor = start_worker(d)
    try:
        wait_until(lambda: d.batch_report(batch)["state"] == "done", "the batch to finish after the kill")
    finally:
        stop_worker(survivor)

    report = d.batch_status(batch)
    assert report["files"] == {
        "total": len(files),
        "queued": 0,
        "processing": 0,
        "done": len(files),
        "duplicate": 0,
        "failed": 0,
    }
    assert report["pages"]["pending"] == 0 and report["pages"]["failed"] == 0
    with d.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == len(files)
        assert session.scalar(select(func.count()).select_from(IngestJob)) == len(files)
        assert session.scalar(select(func.count()).select_from(Page).where(Page.needs_ocr.is_(True))) == 0
        statuses = set(session.scalars(select(Document.status)))
    assert statuses == {"indexed"}
    assert d.backend.count() == len(files)
    everything = d.search(SearchRequest(query="公司", limit=100), admin)
    ids = [h["id"] for h in everything["hits"]]
    assert len(ids) == len(set(ids))


def test_status_batch_json_reports_progress_and_failures(queued_dossier, tmp_path):
    """`dossier status BATCH --json` gives the batch's state, counts, pages/s and failures."""
    summary = queued_dossier.ingest_paths([CONTRACT, BROKEN], workers=1)
    env = {**os.environ, **queued_dossier.settings.environ()}
    out = subprocess.run(
        [sys.executable, "-m", "dossier", "status", str(summary["batch"]), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(out.stdout)
    assert report["id"] == summary["batch"] and report["state"] == "done"
    assert report["files"]["done"] == 1 and report["files"]["failed"] == 1
    assert report["failures"][0]["file"] == str(BROKEN) and "\n" not in report["failures"][0]["error"]
    assert {"pages_per_s", "eta_s", "elapsed_s", "items"} <= set(report)


def test_retry_requeues_a_failed_file_of_a_batch(queued_dossier, admin, monkeypatch):
    """A file that failed for a reason since fixed succeeds when its batch is retried."""
    from pipeline.intake import Intake
    from workers import run_worker

    real = Intake.store_parsed

    def refuse(self, doc_id, outcome):
        return real(self, doc_id, type(outcome)(outcome.task, error="模拟失败 / simulated failure"))

    monkeypatch.setattr(Intake, "store_parsed", refuse)
    summary = queued_dossier.ingest_paths([CONTRACT], wait=False)
    run_worker(queued_dossier.settings, burst=True)
    doc_id = summary["documents"][0]["id"]
    assert queued_dossier.show(doc_id, admin)["status"] == "failed"
    monkeypatch.setattr(Intake, "store_parsed", real)
    assert queued_dossier.retry(summary["batch"], admin) == 1
    assert queued_dossier.batch_status(summary["batch"])["state"] != "done"
    run_worker(queued_dossier.settings, burst=True)
    assert queued_dossier.show(doc_id, admin)["status"] == "indexed"
    assert queued_dossier.batch_status(summary["batch"])["state"] == "done"


def test_redis_going_away_never_costs_an_upload_or_an_ingest(tmp_path, admin):
    """GIVEN a connected Dossier WHEN Redis stops THEN an upload is still stored (queued) and an ingest
    finishes in-process; a worker on the restarted Redis picks up what waits."""
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from tests._redis import RedisServer
    from workers import run_worker

    server = RedisServer(tmp_path / "redis")
    settings = load_settings(
        environ={
            "DOSSIER_HOME": str(tmp_path / "home"),
            "DOSSIER_WORKERS": "1",
            "DOSSIER_REDIS_URL": server.url,
        },
        dotenv=tmp_path / "no.env",
    )
    d = Dossier.open(settings, require_init=False)
    d.init(admin_password=ADMIN_PASSWORD)
    assert d.queue() is not None
    server.stop()

    upload = d.ingest_upload(BROKEN.name, BROKEN.read_bytes(), principal=admin)
    assert upload["status"] == "queued" and d.show(upload["id"], admin)["status"] == "queued"
    summary = d.ingest_paths([CONTRACT])
    assert summary["mode"] == "inline" and summary["ingested"] == 1
    assert d.show(summary["documents"][0]["id"], admin)["status"] == "indexed"
    assert d.status()["queue"]["reachable"] is False

    restarted = RedisServer(tmp_path / "redis2")
    try:
        run_worker(settings.with_overrides(DOSSIER_REDIS_URL=restarted.url), burst=True)
    finally:
        restarted.stop()
    assert (
        d.show(upload["id"], admin)["status"] == "failed"
    )  # processed: a truncated PDF fails with its reason


def test_a_reindex_job_rebuilds_the_index_from_the_records(queued_dossier, admin):
    """The reindex job (ids or everything) restores a lost index entry from the records."""
    from workers import run_worker

    summary = queued_dossier.ingest_paths([CONTRACT], workers=1)
    doc_id = summary["documents"][0]["id"]
    with queued_dossier.engine.begin() as conn:
        queued_dossier.backend.delete([doc_id], connection=conn)
    assert queued_dossier.search(SearchRequest(query="宸宇"), admin)["total"] == 0
    queued_dossier.queue().enqueue_reindex([doc_id])
    run_worker(queued_dossier.settings, burst=True)
    assert [h["id"] for h in queued_dossier.search(SearchRequest(query="宸宇"), admin)["hits"]] == [doc_id]


def test_ocr_jobs_of_a_long_scan_are_queued_in_reading_order_ahead_of_new_files(queued_dossier):
    queue = queued_dossier.queue()
    queue.enqueue_ingest(99, 60)
    ids = queue.enqueue_ocr(7, [5, 1, 2, 3, 4], 10)
    assert ids == ["ocr-7-1-2", "ocr-7-3-4", "ocr-7-5-5"]
    assert queue.queue.get_job_ids() == [*ids, "ingest-99"]
