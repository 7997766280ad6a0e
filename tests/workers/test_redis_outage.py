"""Real `dossier worker` and `dossier serve` processes riding out a real redis-server killed with SIGKILL.

The Redis of these tests keeps nothing on disk, like the default one: a restart loses every job,
registry, liveness key and lock.  What waits in the records must still end indexed, once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from records import Document, IngestJob
from tests._redis import RedisServer, free_port
from tests.conftest import ADMIN_PASSWORD
from tests.workers.test_queue import wait_until
from tests.workers.test_serve import _alive, _children

OUTAGE_LINE = "Redis unavailable"
BACK_LINE = "Redis is back"


def _dossier(tmp_path: Path, redis_url: str) -> Any:
    from dossier.app.services import Dossier
    from foundation.config import load_settings

    settings = load_settings(
        environ={
            "DOSSIER_HOME": str(tmp_path / "home"),
            "DOSSIER_WORKERS": "1",
            "DOSSIER_REDIS_URL": redis_url,
            "DOSSIER_REDIS_RETRY_MAX": "1",  # short backoff: the tests wait less for Redis to be seen again
        },
        dotenv=tmp_path / "no.env",
    )
    d = Dossier.open(settings, require_init=False)
    d.init(admin_password=ADMIN_PASSWORD)
    return d


def _files(folder: Path, prefix: str, n: int) -> list[Path]:
    """``n`` small distinct text files (a duplicate would not become a document of its own)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"{prefix}-{i:02d}.txt"
        path.write_text(
            f"{prefix} 第 {i} 份拜访记录：客户联系人王经理，电话 021-6{i:03d}88{i:02d}。\n", encoding="utf-8"
        )
        paths.append(path)
    return paths


def _reopened(d: Any) -> Any:
    """The same data home opened again (a Dossier that saw Redis down waits 10 s before it tries again)."""
    from dossier.app.services import Dossier

    return Dossier.open(d.settings)


def _upload(d: Any, admin: Any, paths: list[Path]) -> None:
    """Store files the way the web upload does: queued in the records, and on Redis when it answers."""
    for path in paths:
        assert d.ingest_upload(path.name, path.read_bytes(), principal=admin)["status"] == "queued"


def _statuses(d: Any) -> dict[str, int]:
    with d.sessions() as session:
        return dict(session.execute(select(Document.status, func.count()).group_by(Document.status)).all())


def _all_indexed(d: Any, total: int) -> bool:
    return _statuses(d) == {"indexed": total}


def _assert_each_file_is_one_indexed_document(d: Any, files: list[Path]) -> None:
    with d.sessions() as session:
        names = sorted(session.scalars(select(Document.title)))
        assert session.scalar(select(func.count()).select_from(Document)) == len(files)
        assert session.scalar(select(func.count()).select_from(IngestJob)) == len(files)
        assert (
            session.scalar(select(func.count()).select_from(IngestJob).where(IngestJob.status != "done")) == 0
        )
    assert len(names) == len(files)
    assert _statuses(d) == {"indexed": len(files)}
    assert d.backend.count() == len(files)


def _worker(d: Any, log: Path) -> subprocess.Popen:
    env = {**os.environ, **d.settings.environ()}
    return subprocess.Popen(
        [sys.executable, "-m", "dossier", "worker", "--quiet"],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )


def _stop(proc: subprocess.Popen) -> int | None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode


def _live_workers(d: Any) -> int:
    """Workers that say they are alive, asked on a fresh connection (-1 without Redis)."""
    from pipeline.queue import JobQueue, QueueUnavailable

    try:
        queue = JobQueue.from_settings(d.settings)
    except QueueUnavailable:
        return -1
    try:
        return queue.live_workers()
    finally:
        queue.redis.close()


def _rq_workers(d: Any) -> int:
    """Workers RQ itself knows for this queue (`rq info`): Redis lost their registration with its data."""
    from rq import Worker

    from pipeline.queue import JobQueue

    queue = JobQueue.from_settings(d.settings)
    try:
        return sum(1 for w in Worker.all(queue=queue.queue) if w.birth_date is not None)
    finally:
        queue.redis.close()


def _health(client: Any) -> dict[str, Any]:
    response = client.get("/healthz?lang=en")  # reasons in one language; English here
    assert response.status_code == 200, response.get_data(as_text=True)
    return dict(response.get_json())


def test_a_worker_rides_out_redis_killed_mid_job_and_finishes_everything_once(tmp_path, admin):
    """GIVEN a batch on a real Redis and one `dossier worker` WHEN Redis is SIGKILLed in the middle of a job
    (its bookkeeping fails), more files are uploaded while it is down and Redis restarts empty on the same
    port THEN the same worker process goes on, says so once, and every file ends as one indexed document;
    /healthz is degraded while queued work has no worker or no Redis, and ok at the end."""
    from webui import create_app

    server = RedisServer(tmp_path / "redis")
    d = _dossier(tmp_path, server.url)
    client = create_app(d.settings, {"TESTING": True}).test_client()
    before, after, during = (_files(tmp_path / "in", name, 4) for name in ("before", "after", "during"))
    worker = None
    try:
        d.ingest_paths([str(p) for p in before], wait=False)
        queue = d.queue()
        queue.queue.enqueue(  # a job that SIGKILLs Redis while it runs, between two batches
            "tests.workers._outage_jobs.kill_redis_mid_job",
            args=(server.process.pid, server.port),
            job_id="killer",
        )
        d.ingest_paths([str(p) for p in after], wait=False)
        body = _health(client)
        assert body["status"] == "degraded" and body["queue"]["error"] == "NoWorker"  # queued work, no worker
        assert any("no worker" in reason for reason in body["reasons"])

        log = tmp_path / "worker.log"
        worker = _worker(d, log)
        wait_until(
            lambda: OUTAGE_LINE in log.read_text(errors="replace") or worker.poll() is not None,
            "the worker to see Redis gone",
            120,
        )
        assert worker.poll() is None, log.read_text(errors="replace")[-3000:]
        server.process.wait()
        _upload(d, admin, during)  # stored while Redis is down: queued in the records only
        assert _health(client)["status"] == "degraded"  # no Redis
        time.sleep(3)  # an outage of several tries (the backoff tops out at 1 s here): still one line
        assert log.read_text(errors="replace").count(OUTAGE_LINE) == 1 and worker.poll() is None

        server = RedisServer(tmp_path / "redis2", port=server.port)  # back, empty, on the same port
        every = before + after + during
        wait_until(lambda: _all_indexed(d, len(every)), "every file to be indexed after the restart", 180)
        assert worker.poll() is None, "the worker must survive the outage"
        wait_until(lambda: _live_workers(d) == 1, "the worker to say it is alive again", 30)
        wait_until(lambda: _rq_workers(d) == 1, "the worker to register with RQ again", 30)
        _assert_each_file_is_one_indexed_document(d, every)
        wait_until(lambda: _health(client)["status"] == "ok", "/healthz to be ok again", 30)
    finally:
        status = _stop(worker) if worker is not None else None
        server.stop()
    text = log.read_text(errors="replace")
    assert status == 0, text[-3000:]
    assert text.count(OUTAGE_LINE) == 1 and text.count(BACK_LINE) == 1, text[
        -3000:
    ]  # one line each, no flood
    assert "killer" in text and "bookkeeping was lost" in text
    assert "unhandled exception" not in text and "Traceback" not in text, text[-3000:]


@pytest.mark.slow
def test_pages_awaiting_ocr_get_their_jobs_back_after_redis_restarts_empty(tmp_path):
    """GIVEN a four-page scan whose pages wait for two OCR jobs WHEN Redis is SIGKILLed while the first runs
    and restarts empty THEN the lost job's pages are queued again (once the workers have had time to say
    what they run) and every page is read once: one indexed document, no page left waiting or failed, the
    worker the same process."""
    from PIL import Image

    from records import Page
    from tests.workers.test_queue import SCANS

    server = RedisServer(tmp_path / "redis")
    d = _dossier(tmp_path, server.url)
    pages = [Image.open(path).convert("RGB") for path in SCANS]
    stack = tmp_path / "四页扫描件.tif"
    pages[0].save(stack, save_all=True, append_images=pages[1:], compression="tiff_deflate")
    scans = [stack]
    log = tmp_path / "worker.log"
    worker = None
    try:
        assert d.ingest_paths([str(p) for p in scans], wait=False)["mode"] == "queue"
        worker = _worker(d, log)
        wait_until(lambda: _statuses(d).get("awaiting_ocr", 0) == 1, "the scan to wait for its OCR jobs", 180)
        server.process.kill()
        server.process.wait()
        wait_until(
            lambda: OUTAGE_LINE in log.read_text(errors="replace") or worker.poll() is not None,
            "the worker to see Redis gone",
            120,
        )
        server = RedisServer(tmp_path / "redis2", port=server.port)
        wait_until(lambda: _all_indexed(d, len(scans)), "every scan to be read and indexed", 300)
        assert worker.poll() is None
        _assert_each_file_is_one_indexed_document(d, scans)
        with d.sessions() as session:
            pages = session.execute(select(Page.needs_ocr, Page.ocr, Page.ocr_error)).all()
        assert len(pages) == 4 and all(not waits and read and error is None for waits, read, error in pages)
    finally:
        status = _stop(worker) if worker is not None else None
        server.stop()
    assert status == 0, log.read_text(errors="replace")[-3000:]


def test_a_worker_started_while_redis_is_down_waits_for_it(tmp_path, admin):
    """GIVEN no Redis WHEN `dossier worker` starts THEN it waits (it does not exit) and processes what waits
    in the records once Redis starts."""
    port = free_port()
    d = _dossier(tmp_path, f"redis://127.0.0.1:{port}/0")
    files = _files(tmp_path / "in", "offline", 3)
    _upload(d, admin, files)
    log = tmp_path / "worker.log"
    worker = _worker(d, log)
    server = None
    try:
        wait_until(
            lambda: OUTAGE_LINE in log.read_text(errors="replace") or worker.poll() is not None,
            "the worker to notice there is no Redis",
            120,
        )
        assert worker.poll() is None, log.read_text(errors="replace")[-3000:]
        server = RedisServer(tmp_path / "redis", port=port)
        wait_until(lambda: _all_indexed(d, len(files)), "the waiting files to be indexed", 180)
        assert worker.poll() is None
        _assert_each_file_is_one_indexed_document(d, files)
    finally:
        status = _stop(worker)
        if server is not None:
            server.stop()
    assert status == 0, log.read_text(errors="replace")[-3000:]


def test_a_worker_waiting_for_redis_stops_on_sigterm(tmp_path):
    """GIVEN an idle worker whose Redis was SIGKILLed WHEN it gets SIGTERM THEN it exits cleanly, without
    waiting for Redis to come back."""
    server = RedisServer(tmp_path / "redis")
    d = _dossier(tmp_path, server.url)
    log = tmp_path / "worker.log"
    worker = _worker(d, log)
    try:
        wait_until(lambda: _live_workers(d) == 1, "the worker to start", 120)
        server.process.kill()
        server.process.wait()
        wait_until(
            lambda: OUTAGE_LINE in log.read_text(errors="replace") or worker.poll() is not None,
            "the worker to see Redis gone",
            120,
        )
        assert worker.poll() is None, log.read_text(errors="replace")[-3000:]
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0, log.read_text(errors="replace")[-3000:]
    finally:
        _stop(worker)
        server.stop()


def _serve(d: Any, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, **d.settings.environ()}
    return subprocess.Popen(
        [sys.executable, "-m", "dossier", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )


def _healthz(port: int) -> dict[str, Any] | None:
    import json

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as exc:
        return dict(json.loads(exc.read()))
    except OSError:
        return None


def _all_children(pid: int) -> list[int]:
    """Children of every thread of ``pid`` (serve restarts workers from its supervisor thread)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _workers_of(serve: subprocess.Popen) -> list[int]:
    return [pid for pid in _all_children(serve.pid) if _alive(pid)]


@pytest.mark.slow
def test_serve_started_without_redis_supervises_workers_through_outages(tmp_path, admin):
    """GIVEN Redis down WHEN `dossier serve` starts THEN it starts its workers, which wait; /healthz is
    degraded.  WHEN Redis starts THEN the waiting files are indexed.  WHEN a worker is SIGKILLed THEN serve
    restarts it and its parser child dies with it.  WHEN Redis is SIGKILLed mid-batch and restarted on the
    same port THEN every file still ends as one indexed document and /healthz is ok."""
    redis_port, web_port = free_port(), free_port()
    d = _dossier(tmp_path, f"redis://127.0.0.1:{redis_port}/0")
    first, second, third = (
        _files(tmp_path / "in", name, n) for name, n in (("first", 3), ("second", 6), ("third", 3))
    )
    _upload(d, admin, first)
    log = tmp_path / "serve.log"
    serve = _serve(d, web_port, log)
    server = None
    try:
        wait_until(lambda: _healthz(web_port) is not None, "the web server", 120)
        wait_until(lambda: len(_workers_of(serve)) == 2, "serve to start two workers without Redis", 60)
        wait_until(
            lambda: OUTAGE_LINE in log.read_text(errors="replace"), "the workers to wait for Redis", 120
        )
        body = _healthz(web_port)
        assert body is not None and body["status"] == "degraded" and body["queue"]["ok"] is False
        assert len(_workers_of(serve)) == 2

        server = RedisServer(tmp_path / "redis", port=redis_port)
        wait_until(lambda: _all_indexed(d, len(first)), "the files stored without Redis to be indexed", 180)
        wait_until(lambda: _live_workers(d) == 2, "two live workers", 60)

        # a worker killed outright: serve restarts it, and its parser child does not linger
        victim = _workers_of(serve)[0]
        wait_until(lambda: bool(_children(victim)), "the worker's parser child", 60)
        orphans = _children(victim)
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: not any(_alive(p) for p in orphans), "the killed worker's parser child to die", 30)
        wait_until(
            lambda: len(_workers_of(serve)) == 2 and victim not in _all_children(serve.pid),
            "serve to restart the killed worker",
            60,
        )

        # Redis killed in the middle of a batch, more files stored while it is down, Redis back empty
        queued = _reopened(d).ingest_paths([str(p) for p in second], wait=False)
        assert queued["mode"] == "queue"
        wait_until(
            lambda: _statuses(d).get("indexed", 0) > len(first), "the second batch to be under way", 120
        )
        server.process.kill()
        server.process.wait()
        _upload(d, admin, third)
        body = _healthz(web_port)
        assert body is not None and body["status"] == "degraded"
        server = RedisServer(tmp_path / "redis2", port=redis_port)
        every = first + second + third
        wait_until(lambda: _all_indexed(d, len(every)), "every file to be indexed after the restart", 240)
        _assert_each_file_is_one_indexed_document(d, every)
        assert len(_workers_of(serve)) == 2
        wait_until(lambda: _live_workers(d) == 2, "both workers alive on the new Redis", 60)
        wait_until(lambda: (_healthz(web_port) or {}).get("status") == "ok", "/healthz to be ok", 60)
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(90) == 0
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
        if server is not None:
            server.stop()
    text = log.read_text(errors="replace")
    assert "restarting in" in text and "unhandled exception" not in text, text[-4000:]
