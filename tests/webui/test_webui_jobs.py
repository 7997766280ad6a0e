"""The jobs pages and API: batch progress, failures with reasons, retry; uploads that only enqueue.

Two kinds of data home: the shared corpus home (batches made by ``Dossier.ingest_paths``, the CLI
path), and a fresh home per test whose uploads go through a real Redis and a real worker.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

import records
from dossier.app.services import Dossier
from foundation.config import load_settings
from webui import create_app

BAD = Path("/work/shared/corpus/dev/bad")
#: Fails in the worker (after its original is stored), so it has a document page and can be retried.
LOCKED_PDF = BAD / "加密合同_需密码.pdf"
LOCKED_REASON = "PDF 需要密码"
GOOD = Path("/work/shared/corpus/dev/contracts/等保整改服务协议_金桥电气_FW-2024-192.txt")
PASSWORD = "jobs-admin-pw-1"

pytestmark = pytest.mark.skipif(not (LOCKED_PDF.exists() and GOOD.exists()), reason="dev corpus missing")


# -- helpers -------------------------------------------------------------------------------------


def _token(client, path: str = "/jobs") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def _batch_with(client, filename_part: str) -> dict:
    """The first batch (as /api/batches/<id> answers it) with a file whose name contains ``filename_part``."""
    for b in client.get("/api/batches").get_json()["batches"]:
        status = client.get(f"/api/batches/{b['id']}").get_json()
        if any(filename_part in str(it["file"]) for it in status["items"]):
            return status
    raise AssertionError(f"no batch holds {filename_part}")


def _drain(settings) -> None:
    """Run a real worker over the queue until it is empty."""
    from workers.runner import run_worker

    run_worker(settings, burst=True)


def _upload(client, files: list[tuple[bytes, str]], **fields: str):
    return client.post(
        "/upload",
        data={
            "csrf_token": _token(client, "/upload"),
            **fields,
            "files": [(io.BytesIO(data), name) for data, name in files],
        },
        content_type="multipart/form-data",
    )


def _batch_id(response) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    match = re.search(r"/jobs/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


# -- the shared corpus home (CLI batches, no queue) ----------------------------------------------


def test_jobs_list_shows_every_batch_with_progress(admin):
    """GIVEN the corpus was ingested in three CLI batches WHEN the admin opens /jobs THEN each is a row
    with its state, a files progress bar at its end, the failure count, and a link to its page."""
    # The corpus's own batches: tests that upload into the shared home (web, API) leave batches of theirs queued.
    batches = [b for b in admin.get("/api/batches").get_json()["batches"] if b["source"] == "cli"]
    assert len(batches) >= 3
    html = admin.get("/jobs").get_data(as_text=True)
    assert "<h1>导入任务</h1>" in html
    assert 'class="nav-jobs" href="/jobs">任务</a>' in html
    for b in batches:
        assert f'href="/jobs/{b["id"]}"' in html
        assert b["state"] == "done"
        settled = b["files"]["done"] + b["files"]["duplicate"] + b["files"]["failed"]
        assert settled == b["files"]["total"]
        assert f'max="{b["files"]["total"]}" value="{settled}"' in html
    assert "命令行" in html and "已完成" in html
    assert 'class="failed-count has-failures"' in html


def test_batch_page_explains_failures_and_escapes_names(admin, corpus_home):
    """The batch holding garbage.pdf lists it with its reason and a link to its document; the file
    named like an <img onerror> payload and the long Chinese name show as text."""
    status = _batch_with(admin, "garbage.pdf")
    html = admin.get(f"/jobs/{status['id']}").get_data(as_text=True)
    assert f"导入任务 #{status['id']}" in html
    failure = next(f for f in status["failures"] if f["file"].endswith("garbage.pdf"))
    assert "PDF 文件已损坏或不完整" in failure["error"] and failure["error"] in html
    # the page names the file, not the command-line path: the folder is a muted hint and the tooltip
    assert failure["name"] == "garbage.pdf" and failure["folder"].endswith("corpus/dev/bad")
    if failure["document_id"] is not None:
        link = f'href="/documents/{failure["document_id"]}" title="{failure["file"]}">garbage.pdf</a>'
        assert link in html
    assert f">{failure['file']}<" not in html
    # hostile and long Chinese file names are escaped text, never markup
    assert "&lt;img src=x onerror=alert(&#39;XSSCANARY&#39;)&gt;珊瑚.txt" in html
    assert "<img src=x onerror" not in html
    assert "回款情况说明）_最终版_v3_请勿外传_.txt" in html
    # the retry forms carry the CSRF token; the live script is a static file
    assert html.count('name="csrf_token"') >= 2 and 'action="/jobs/{}/retry"'.format(status["id"]) in html
    assert '<script src="/static/jobs.js" defer></script>' in html and "<script>" not in html
    assert f'data-status-url="/api/batches/{status["id"]}"' in html


def test_batch_json_shapes(admin):
    """/api/batches and /api/batches/<id> answer the batch dicts; an unknown id is a JSON 404."""
    data = admin.get("/api/batches?limit=2").get_json()
    assert len(data["batches"]) == 2
    b = data["batches"][0]
    assert set(b) >= {
        "id",
        "source",
        "created_by",
        "created_at",
        "finished_at",
        "state",
        "files",
        "pages",
        "pages_per_s",
        "eta_s",
        "elapsed_s",
    }
    assert set(b["files"]) >= {"total", "queued", "processing", "done", "duplicate", "failed"}
    assert set(b["pages"]) >= {"total", "done", "failed", "pending"}
    one = admin.get(f"/api/batches/{b['id']}").get_json()
    assert one["id"] == b["id"] and {"items", "failures"} <= set(one)
    assert all(set(it) >= {"file", "document_id", "status", "error"} for it in one["items"])
    r = admin.get("/api/batches/987654")
    assert r.status_code == 404 and set(r.get_json()) == {"error"}
    assert admin.get("/jobs/987654").status_code == 404


def test_jobs_pages_in_english(admin):
    """?lang=en renders the jobs pages in English."""
    html = admin.get("/jobs?lang=en").get_data(as_text=True)
    assert "Intake jobs" in html and ">Jobs</a>" in html and "Command line" in html
    admin.get("/jobs?lang=zh")


def test_anonymous_visitors_are_sent_to_login(client):
    """The pages redirect to the login form; the API answers 401."""
    r = client.get("/jobs")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]
    assert client.get("/api/batches").status_code == 401


# -- a fresh home with a real Redis queue and a real worker --------------------------------------


@pytest.fixture()
def queued(tmp_path, redis_url, login):
    """A fresh data home on the test Redis, users sally/sam (sales) and vera (viewer), and an
    ``as_user(name)`` that returns a logged-in client of the app over it."""
    settings = load_settings(
        environ={
            "DOSSIER_HOME": str(tmp_path / "home"),
            "DOSSIER_WORKERS": "1",
            "DOSSIER_REDIS_URL": redis_url,
        },
        dotenv=Path("/nonexistent"),
    )
    Dossier.open(settings, require_init=False).init(admin_password=PASSWORD)
    d = Dossier.open(settings)
    with d.sessions() as session:
        for name, role in (("sally", "sales"), ("sam", "sales"), ("vera", "viewer")):
            session.add(records.User(username=name, password_hash=records.hash_password(PASSWORD), role=role))
        session.commit()
    app = create_app(settings, test_config={"TESTING": True})

    def as_user(name: str = "admin"):
        client = app.test_client()
        assert login(client, username=name, password=PASSWORD).status_code == 302
        return client

    yield {"settings": settings, "dossier": d, "as_user": as_user}
    d.engine.dispose()


def _upload_two(client) -> int:
    """Upload a good Chinese-named contract and a password-protected PDF; return the batch id."""
    r = _upload(
        client,
        [(GOOD.read_bytes(), GOOD.name), (LOCKED_PDF.read_bytes(), LOCKED_PDF.name)],
        customer="金桥电气",
    )
    return _batch_id(r)


def test_upload_enqueues_and_returns_at_once(queued):
    """GIVEN two files WHEN uploaded THEN the answer redirects to the batch page while both still wait
    in the queue; a real worker then indexes one and explains why the other failed."""
    client = queued["as_user"]("sally")
    r = _upload(
        client,
        [(GOOD.read_bytes(), GOOD.name), (LOCKED_PDF.read_bytes(), LOCKED_PDF.name)],
        customer="金桥电气",
    )
    batch_id = _batch_id(r)
    before = client.get(f"/api/batches/{batch_id}").get_json()
    assert before["source"] == "upload" and before["created_by"] == "sally"
    assert before["files"]["total"] == 2 and before["files"]["queued"] == 2
    assert before["state"] == "queued" and before["finished_at"] is None
    page = client.get(f"/jobs/{batch_id}").get_data(as_text=True)
    assert "已接收 2 个文件：2 个排队处理" in page  # the flash of the upload
    assert "排队中" in page and GOOD.name in page and LOCKED_PDF.name in page
    assert "data-live-note" in page  # the page says it refreshes itself
    assert client.get("/api/search?q=等保整改").get_json()["total"] == 0  # nothing parsed yet

    _drain(queued["settings"])

    after = client.get(f"/api/batches/{batch_id}").get_json()
    assert after["state"] == "done" and after["finished_at"]
    assert after["files"]["done"] == 1 and after["files"]["failed"] == 1
    [failure] = after["failures"]
    assert failure["file"] == LOCKED_PDF.name and LOCKED_REASON in failure["error"]
    assert failure["document_id"] is not None
    html = client.get(f"/jobs/{batch_id}").get_data(as_text=True)
    assert LOCKED_REASON in html and "已完成" in html and "data-live-note" not in html
    assert f'href="/documents/{failure["document_id"]}">{LOCKED_PDF.name}</a>' in html
    # an encrypted PDF fails the same way every time: no retry button, a word on what to do instead
    assert failure["retryable"] is False
    assert f'name="document_id" value="{failure["document_id"]}"' not in html
    assert "重试无济于事：请修好文件后重新上传" in html
    # A contract is confidential by its type, and 金桥电气 is not sally's customer: only people who
    # read confidential documents find it (README: Document permissions).
    assert client.get("/api/search?q=等保整改").get_json()["total"] == 0
    assert queued["as_user"]("admin").get("/api/search?q=等保整改").get_json()["total"] == 1
    # the failed file's document page tells the same reason
    assert LOCKED_REASON in client.get(f"/documents/{failure['document_id']}").get_data(as_text=True)


def test_upload_limits_and_duplicates(queued):
    """No file: the form again with a message; a repeat upload is reported as a duplicate at once."""
    client = queued["as_user"]()
    r = client.post(
        "/upload", data={"csrf_token": _token(client, "/upload")}, content_type="multipart/form-data"
    )
    assert r.status_code == 400 and "请选择至少一个文件" in r.get_data(as_text=True)
    first = _batch_id(_upload(client, [(GOOD.read_bytes(), GOOD.name)]))
    second = _batch_id(_upload(client, [(GOOD.read_bytes(), "副本.txt")]))
    assert second != first
    status = client.get(f"/api/batches/{second}").get_json()
    assert status["files"]["duplicate"] == 1
    assert "1 个重复" in client.get(f"/jobs/{second}").get_data(as_text=True)


def _record_timeout(settings, document_id: int) -> None:
    """Record the file's failure as a parse timeout (what the worker writes when a file runs out of time)."""
    from sqlalchemy import update

    from foundation.messages import msg

    reason = msg("pipeline.parse.timeout", seconds="120").dumps()
    d = Dossier.open(settings)
    try:
        with d.sessions() as session:
            session.execute(
                update(records.IngestJob)
                .where(records.IngestJob.document_id == document_id)
                .values(error=reason)
            )
            session.execute(
                update(records.Document).where(records.Document.id == document_id).values(error=reason)
            )
            session.commit()
    finally:
        d.engine.dispose()


def test_retry_requeues_a_failed_file(queued):
    """GIVEN a batch whose PDF failed on a timeout WHEN its retry button is posted THEN the file is queued
    again; when the worker retries it, it fails for good (encrypted), which a retry cannot fix: no button,
    the whole-batch retry re-queues nothing and naming it is refused with a clear 400.
    Without the CSRF token nothing happens."""
    client = queued["as_user"]("sally")
    batch_id = _upload_two(client)
    _drain(queued["settings"])
    failure = client.get(f"/api/batches/{batch_id}").get_json()["failures"][0]
    _record_timeout(queued["settings"], failure["document_id"])
    failure = client.get(f"/api/batches/{batch_id}").get_json()["failures"][0]
    assert failure["retryable"] is True
    html = client.get(f"/jobs/{batch_id}").get_data(as_text=True)
    assert f'name="document_id" value="{failure["document_id"]}"' in html  # its own retry button
    assert "data-retry-all>" in html  # the retry-all box shows

    r = client.post(f"/jobs/{batch_id}/retry", data={"document_id": str(failure["document_id"])})
    assert r.status_code == 400
    assert client.get(f"/api/batches/{batch_id}").get_json()["files"]["failed"] == 1

    token = _token(client, f"/jobs/{batch_id}")
    r = client.post(
        f"/jobs/{batch_id}/retry", data={"csrf_token": token, "document_id": str(failure["document_id"])}
    )
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/jobs/{batch_id}")
    assert "已重新排队 1 项" in client.get(r.headers["Location"]).get_data(as_text=True)
    again = client.get(f"/api/batches/{batch_id}").get_json()
    assert again["state"] != "done" and again["files"]["failed"] == 0 and not again["failures"]
    item = next(it for it in again["items"] if it["file"] == LOCKED_PDF.name)
    assert item["status"] in ("queued", "processing")

    _drain(queued["settings"])
    final = client.get(f"/api/batches/{batch_id}").get_json()
    assert final["state"] == "done" and final["files"]["failed"] == 1 and final["files"]["done"] == 1
    assert LOCKED_REASON in final["failures"][0]["error"] and final["failures"][0]["retryable"] is False
    html = client.get(f"/jobs/{batch_id}").get_data(as_text=True)
    assert "data-retry-all hidden>" in html and "重试无济于事" in html

    # the whole batch: nothing a retry can fix, so nothing is re-queued, and the page says so
    r = client.post(f"/api/batches/{batch_id}/retry", json={}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and r.get_json()["requeued"] == 0
    r = client.post(f"/jobs/{batch_id}/retry", data={"csrf_token": token}, follow_redirects=True)
    assert "没有需要重试的失败项" in r.get_data(as_text=True)
    # naming the encrypted file: a 400 that says why (API, in the asked language) and a message on the page
    r = client.post(
        f"/api/batches/{batch_id}/retry?lang=en",
        json={"document_ids": [failure["document_id"]]},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 400 and "cannot be retried" in r.get_json()["error"]
    assert "password" in r.get_json()["error"].lower()
    r = client.post(
        f"/jobs/{batch_id}/retry?lang=zh",
        data={"csrf_token": token, "document_id": str(failure["document_id"])},
        follow_redirects=True,
    )
    assert "不能重试" in r.get_data(as_text=True)
    assert client.get(f"/api/batches/{batch_id}").get_json()["files"]["failed"] == 1


def test_viewer_may_look_but_not_retry(queued):
    """A viewer sees the jobs page (without retry buttons) but a retry answers 403, page and API alike."""
    batch_id = _upload_two(queued["as_user"]())
    _drain(queued["settings"])
    viewer = queued["as_user"]("vera")
    r = viewer.get("/jobs")
    assert r.status_code == 200 and "导入任务" in r.get_data(as_text=True)
    token = _token(viewer)
    r = viewer.post(f"/jobs/{batch_id}/retry", data={"csrf_token": token})
    assert r.status_code == 403 and "只读用户不能重试任务" in r.get_data(as_text=True)
    r = viewer.post(f"/api/batches/{batch_id}/retry", json={}, headers={"X-CSRF-Token": token})
    assert r.status_code == 403 and "error" in r.get_json()
    admin = queued["as_user"]()
    assert admin.get(f"/api/batches/{batch_id}").get_json()["files"]["failed"] == 1  # untouched


def test_someone_elses_batch_is_not_found(queued):
    """A sales user's batch is invisible to another sales user (404 page, API and retry) but not to admin."""
    batch_id = _upload_two(queued["as_user"]("sally"))
    sam = queued["as_user"]("sam")
    assert sam.get(f"/jobs/{batch_id}").status_code == 404
    assert sam.get(f"/api/batches/{batch_id}").status_code == 404
    assert f'href="/jobs/{batch_id}"' not in sam.get("/jobs").get_data(as_text=True)
    assert all(b["id"] != batch_id for b in sam.get("/api/batches").get_json()["batches"])
    r = sam.post(f"/jobs/{batch_id}/retry", data={"csrf_token": _token(sam)})
    assert r.status_code == 404
    admin = queued["as_user"]()
    assert admin.get(f"/jobs/{batch_id}").status_code == 200
    assert "sally" in admin.get("/jobs").get_data(as_text=True)
    _drain(queued["settings"])


def test_retry_rejects_bad_document_ids(queued):
    """A document_id that is not a number is a 400 with a message, not a crash."""
    client = queued["as_user"]()
    batch_id = _upload_two(client)
    token = _token(client)
    r = client.post(f"/jobs/{batch_id}/retry", data={"csrf_token": token, "document_id": "abc"})
    assert r.status_code == 400 and "文档编号无效" in r.get_data(as_text=True)
    r = client.post(
        f"/api/batches/{batch_id}/retry", json={"document_ids": ["1; drop"]}, headers={"X-CSRF-Token": token}
    )
    assert r.status_code == 400 and "error" in r.get_json()
    _drain(queued["settings"])
