"""Exports from the web UI and the API: the export bar, streamed downloads, background jobs, permissions."""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import zipfile
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from index import Principal, SearchRequest

ALL_LEVELS = ("public", "internal", "confidential", "finance")


def _csv_ids(data: bytes) -> list[int]:
    assert data.startswith(codecs.BOM_UTF8)
    return [int(r[0]) for r in list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))[1:]]


def _export_form(html: str) -> list[tuple[str, str]]:
    """The hidden fields of the page's export form (CSRF token included)."""
    form = re.search(r'<form id="export-form"[^>]*>(.*?)</form>', html, re.S)
    assert form, "no export form on the page"
    return [
        (unescape(n), unescape(v)) for n, v in re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(1))
    ]


def _api_ids(client, query: str) -> list[int]:
    return [h["id"] for h in client.get(f"/api/search?{query}&limit=100").get_json()["hits"]]


def test_search_page_offers_every_format_and_states_the_limits(admin):
    """A result page has the export bar: the hit count, one button per format (Chinese labels), the
    mode and the limits — before anything starts; the form carries the query and a CSRF token."""
    html = admin.get("/?q=合同&type=contract&sort=date_desc").get_data(as_text=True)
    bar = re.search(r'<section class="export-bar".*?</section>', html, re.S).group(0)
    total = int(re.search(r"共 (\d+) 条结果", html).group(1))
    assert f"导出当前检索的全部 {total} 条结果" in bar
    for code, label in (
        ("csv", "CSV 表格"),
        ("xlsx", "Excel 表格"),
        ("jsonl", "JSON Lines"),
        ("zip", "原件 ZIP"),
    ):
        assert re.search(rf'form="export-form" name="format" value="{code}"[^>]*>{label}</button>', bar), code
    assert (
        "文件会立即开始下载" in bar
        and "每次最多导出 1000000 条结果" in bar
        and "原件 ZIP 最多 10000 个文件、10240 MB" in bar
    )
    fields = dict(_export_form(html))
    assert fields["q"] == "合同" and fields["type"] == "contract" and fields["sort"] == "date_desc"
    assert fields["csrf_token"]
    english = admin.get("/?q=合同&lang=en").get_data(as_text=True)
    assert (
        "Export all" in english
        and ">Excel (XLSX)</button>" in english
        and "At most 1000000 results" in english
    )


def test_no_results_no_export_bar(admin):
    """A search without hits offers nothing to export."""
    html = admin.get("/?q=不存在的词语组合xyz").get_data(as_text=True)
    assert "export-bar" not in html and 'id="export-form"' not in html


def test_browse_all_then_export_every_document_as_csv(admin, corpus_home, csrf_from):
    """The start page links to every document; exporting that page's result gives one row per
    readable document, in the page's order."""
    start = admin.get("/").get_data(as_text=True)
    assert 'href="/?all=1"' in start and "浏览全部文件" in start
    html = admin.get("/?all=1").get_data(as_text=True)
    everything = corpus_home["dossier"].search(SearchRequest("", limit=1000), Principal.system())
    assert f"共 {everything['total']} 条结果" in html
    response = admin.post("/export", data=MultiDict([*_export_form(html), ("format", "csv")]))
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="dossier-export-')
    assert response.mimetype == "text/csv"
    assert _csv_ids(response.get_data()) == [h["id"] for h in everything["hits"]]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl", "zip"])
def test_post_export_streams_each_format_matching_the_search(admin, fmt):
    """Each button's download opens with its reader and holds the search's hits in order."""
    from openpyxl import load_workbook

    html = admin.get("/?q=合同").get_data(as_text=True)
    wanted = _api_ids(admin, "q=合同")
    response = admin.post("/export", data=MultiDict([*_export_form(html), ("format", fmt)]))
    assert response.status_code == 200 and f".{fmt}" in response.headers["Content-Disposition"]
    data = response.get_data()
    if fmt == "csv":
        ids = _csv_ids(data)
    elif fmt == "xlsx":
        ids = [
            row[0] for row in load_workbook(io.BytesIO(data)).active.iter_rows(min_row=2, values_only=True)
        ]
    elif fmt == "jsonl":
        ids = [json.loads(line)["id"] for line in data.decode("utf-8").splitlines()]
    else:
        archive = zipfile.ZipFile(io.BytesIO(data))
        assert archive.testzip() is None
        ids = [e["id"] for e in json.loads(archive.read("manifest.json"))["files"]]
    assert ids == wanted


def _csv_links(data: bytes) -> list[str]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    column = rows[0].index(next(h for h in rows[0] if "链接" in h))
    return [r[column] for r in rows[1:]]


@pytest.mark.parametrize("headers", [{}, {"X-Forwarded-Host": "evil.example"}])
def test_export_links_never_come_from_an_unchecked_host(app, login, admin_password, headers):
    """GIVEN neither DOSSIER_PUBLIC_URL nor DOSSIER_ALLOWED_HOSTS WHEN someone reaches the app as evil.example (Host,
    or X-Forwarded-Host without a trusted proxy) and exports THEN every link — API CSV, the page's JSON Lines —
    points at the address Dossier listens on, never at evil.example."""
    client = app.test_client()
    evil = {"base_url": "http://evil.example", "headers": headers}
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/auth/login", **evil).get_data(as_text=True)
    )
    assert (
        client.post(
            "/auth/login",
            data={"username": "admin", "password": admin_password, "csrf_token": token.group(1)},
            **evil,
        ).status_code
        == 302
    )
    links = _csv_links(client.get("/api/export?q=合同&format=csv", **evil).get_data())
    assert links and all(link.startswith("http://127.0.0.1:8000/documents/") for link in links)
    html = client.get("/?q=合同", **evil).get_data(as_text=True)
    data = client.post(
        "/export", data=MultiDict([*_export_form(html), ("format", "jsonl")]), **evil
    ).get_data()
    assert all(
        json.loads(line)["url"].startswith("http://127.0.0.1:8000/documents/") for line in data.splitlines()
    )
    assert b"evil.example" not in data


@pytest.mark.parametrize(
    ("env", "host", "expected"),
    [
        ({"DOSSIER_PUBLIC_URL": "https://dossier.example.cn/"}, "evil.example", "https://dossier.example.cn"),
        ({"DOSSIER_ALLOWED_HOSTS": "dossier.corp,.example.cn"}, "dossier.corp", "http://dossier.corp"),
        (
            {"DOSSIER_ALLOWED_HOSTS": "dossier.corp,.example.cn"},
            "files.example.cn",
            "http://files.example.cn",
        ),
        ({"DOSSIER_HOST": "10.0.0.5", "DOSSIER_PORT": "8080"}, "evil.example", "http://10.0.0.5:8080"),
    ],
)
def test_export_links_follow_the_configured_address(
    corpus_home, tmp_path, login, admin_password, env, host, expected
):
    """DOSSIER_PUBLIC_URL wins over any Host; with DOSSIER_ALLOWED_HOSTS the (checked) host the request came to is
    used; with neither, the address Dossier listens on."""
    from foundation.config import load_settings
    from webui import create_app

    settings = load_settings(environ={**corpus_home["settings"].values, **env}, dotenv=Path("/nonexistent"))
    client = create_app(settings, test_config={"TESTING": True}).test_client()
    page = client.get("/auth/login", base_url=f"http://{host}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post(
        "/auth/login",
        base_url=f"http://{host}",
        data={"username": "admin", "password": admin_password, "csrf_token": token},
    )
    links = _csv_links(client.get("/api/export?q=合同&format=csv", base_url=f"http://{host}").get_data())
    assert links and all(link.startswith(f"{expected}/documents/") for link in links), links[:1]


def test_a_background_export_never_stores_an_unchecked_host(queue_app, login, admin_password):
    """A background export started through evil.example stores the address Dossier listens on as its links' base."""
    from pipeline.queue import JobQueue
    from records import ExportJob

    app, settings = queue_app["app"], queue_app["settings"]
    client = app.test_client()
    evil = {"base_url": "http://evil.example"}
    page = client.get("/auth/login", **evil).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post(
        "/auth/login", data={"username": "admin", "password": admin_password, "csrf_token": token}, **evil
    )
    JobQueue.from_settings(settings).mark_alive("web-test-worker")
    started = client.post(
        "/api/exports?all=1&format=csv", headers={"X-CSRF-Token": _token(client, **evil)}, **evil
    )
    assert started.status_code == 202, started.get_data(as_text=True)
    d = app.extensions["dossier"]
    with d.sessions() as session:
        assert session.get(ExportJob, started.get_json()["id"]).base_url == "http://127.0.0.1:8000"


def test_export_post_needs_the_csrf_token_and_a_known_format(admin):
    """No token: 400 (another site cannot make a user export); an unknown format: 400 with the formats."""
    assert admin.post("/export", data={"q": "合同", "format": "csv"}).status_code == 400
    html = admin.get("/?q=合同").get_data(as_text=True)
    bad = admin.post("/export", data=MultiDict([*_export_form(html), ("format", "pdf")]))
    assert bad.status_code == 400 and "csv、xlsx、jsonl、zip" in bad.get_data(as_text=True)


def test_api_export_takes_the_filters_of_api_search(admin):
    """GET /api/export streams the file of exactly what /api/search finds with the same parameters."""
    query = "q=合同&type=contract&sort=date_desc"
    response = admin.get(f"/api/export?{query}&format=jsonl")
    assert response.status_code == 200 and response.mimetype == "application/x-ndjson"
    ids = [json.loads(line)["id"] for line in response.get_data(as_text=True).splitlines()]
    assert ids == _api_ids(admin, query) and response.headers["X-Dossier-Hits"] == str(len(ids))
    plan = admin.get(f"/api/export/plan?{query}&format=zip").get_json()
    assert (
        plan["count"] == len(ids)
        and plan["allowed"]
        and plan["zip_bytes"] > 0
        and plan["max_hits"] == 1000000
    )
    first_two = admin.get(f"/api/export?{query}&format=csv&limit=2").get_data()
    assert _csv_ids(first_two) == ids[:2]
    bad = admin.get("/api/export?q=合同&format=pdf&lang=en")
    assert bad.status_code == 400 and "unknown export format" in bad.get_json()["error"]
    assert "未知的导出格式" in admin.get("/api/export?q=合同&format=pdf&lang=zh").get_json()["error"]
    assert admin.get("/api/export?q=合同&limit=-1").status_code == 400


def test_api_export_needs_a_login(client):
    """Anonymous callers get 401 JSON, no file."""
    response = client.get("/api/export?q=合同&format=csv")
    assert response.status_code == 401 and "error" in response.get_json()


def test_a_limit_is_shown_first_and_enforced(corpus_home, login, admin_password):
    """With DOSSIER_EXPORT_MAX_HITS below the hit count the bar says so instead of offering buttons,
    a posted export goes back to the search with the reason, and the API answers 422."""
    from webui import create_app

    settings = corpus_home["settings"].with_overrides(
        DOSSIER_EXPORT_MAX_HITS="2", DOSSIER_EXPORT_ZIP_MAX_FILES="1"
    )
    app = create_app(settings, test_config={"TESTING": True})
    client = app.test_client()
    login(client, "admin", admin_password)
    html = client.get("/?q=合同").get_data(as_text=True)
    total = int(re.search(r"共 (\d+) 条结果", html).group(1))
    assert total > 2
    assert f"检索结果有 {total} 条，超过导出上限 2 条" in html and 'name="format" value="csv"' not in html
    response = client.post("/export", data=MultiDict([*_export_form(html), ("format", "csv")]))
    assert response.status_code == 303 and "q=%E5%90%88%E5%90%8C" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "无法导出" in page and "DOSSIER_EXPORT_MAX_HITS" in page
    api = client.get("/api/export?q=合同&format=csv")
    assert api.status_code == 422 and "超过导出上限 2 条" in api.get_json()["error"]
    assert client.get("/api/export?q=合同&format=csv&limit=2").status_code == 200
    zip_refused = client.get("/api/export?q=合同&format=zip&limit=2")
    assert (
        zip_refused.status_code == 422 and "DOSSIER_EXPORT_ZIP_MAX_FILES" in zip_refused.get_json()["error"]
    )
    app.extensions["dossier"].close()


@pytest.mark.parametrize(
    ("user", "levels"),
    [
        ("sales1", {"public", "internal", "own-confidential"}),
        ("viewer1", {"public"}),
        ("admin", set(ALL_LEVELS)),
    ],
)
def test_an_export_holds_only_what_the_user_may_read(folder_login, folder_home, user, levels):
    """Through the web page and the API, a user's CSV and ZIP hold exactly the documents their search shows."""
    from tests.webui.conftest import FOLDER_DOCS

    client = folder_login(user)
    html = client.get("/?q=服务器").get_data(as_text=True)
    key_of = {v: k for k, v in folder_home["docs"].items()}
    ids = _csv_ids(
        client.post("/export", data=MultiDict([*_export_form(html), ("format", "csv")])).get_data()
    )
    assert ids == _api_ids(client, "q=服务器")
    archive = zipfile.ZipFile(io.BytesIO(client.get("/api/export?q=服务器&format=zip").get_data()))
    assert sorted(e["id"] for e in json.loads(archive.read("manifest.json"))["files"]) == sorted(ids)
    seen = set()
    for doc_id in ids:
        level = FOLDER_DOCS[key_of[doc_id]][3]
        owner_customer = FOLDER_DOCS[key_of[doc_id]][4][0][0]
        if level == "confidential" and user == "sales1":
            assert owner_customer == "mingyuan", key_of[doc_id]  # sales1 owns 明远
            level = "own-confidential"
        seen.add(level)
        assert level in levels, (user, key_of[doc_id], level)
    assert seen == levels


# -- background exports (Redis, a real worker) ---------------------------------------------------------


@pytest.fixture
def queue_app(corpus_home, tmp_path, redis_url, login, admin_password):
    """The corpus data home served with the test Redis and exports of more than one hit in the background."""
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from webui import create_app

    settings = load_settings(
        environ={
            "DOSSIER_HOME": str(tmp_path / "home"),
            "DOSSIER_WORKERS": "1",
            "DOSSIER_REDIS_URL": redis_url,
            "DOSSIER_EXPORT_STREAM_MAX": "1",
            "DOSSIER_LANGUAGE": "zh",
        },
        dotenv=Path("/nonexistent"),
    )
    Dossier.open(settings, require_init=False).init(admin_password=admin_password)
    d = Dossier.open(settings)
    d.ingest_paths([str(p) for p in corpus_home["paths"][:4]], ocr=False, wait=False)
    from workers.runner import run_worker

    run_worker(settings, burst=True)
    d.close()
    app = create_app(settings, test_config={"TESTING": True})
    client = app.test_client()
    login(client, "admin", admin_password)
    yield {"app": app, "client": client, "settings": settings}
    if app.extensions.get("dossier") is not None:
        app.extensions["dossier"].close()


def test_a_large_export_runs_in_the_background_with_progress_and_an_expiring_link(queue_app):
    """GIVEN more hits than DOSSIER_EXPORT_STREAM_MAX and a live worker WHEN CSV is clicked THEN the
    user lands on the export's page (queued), a real worker writes the file, the API reports it done
    with a download link, the file is the search's rows; once expired the download answers 410."""
    from records import ExportJob
    from workers.runner import run_worker

    client, settings = queue_app["client"], queue_app["settings"]
    html = client.get("/?all=1").get_data(as_text=True)
    assert "任务队列暂不可用" in html  # no worker yet: the bar says a large export would stream
    from pipeline.queue import JobQueue

    JobQueue.from_settings(settings).mark_alive("web-test-worker")  # run_worker below is that worker
    html = client.get("/?all=1").get_data(as_text=True)
    assert "在后台生成" in html and "24 小时后失效" in html
    response = client.post("/export", data=MultiDict([*_export_form(html), ("format", "csv")]))
    assert response.status_code == 303 and "/export/jobs/" in response.headers["Location"]
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/export/jobs/{job_id}").get_data(as_text=True)
    assert "排队中" in page and "data-export-job" in page and "export.js" in page
    assert "已开始在后台导出" in page
    run_worker(settings, burst=True)
    status = client.get(f"/api/exports/{job_id}").get_json()
    assert status["status"] == "done" and status["percent"] == 100 and status["download_url"]
    download = client.get(status["download_url"])
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment;")
    assert _csv_ids(download.get_data()) == _api_ids(client, "all=1")
    listing = client.get("/export/jobs").get_data(as_text=True)
    assert f'href="/export/jobs/{job_id}"' in listing and "已完成" in listing
    assert client.get("/api/exports").get_json()["exports"][0]["id"] == job_id
    d = queue_app["app"].extensions["dossier"]
    with d.sessions() as session:
        job = session.get(ExportJob, job_id)
        job.expires_at = job.finished_at - timedelta(seconds=1)
        session.commit()
    gone = client.get(status["download_url"])
    assert gone.status_code == 410 and "已过期" in gone.get_data(as_text=True)


def test_someone_elses_export_is_not_found(queue_app, login, admin_password):
    """A background export is its owner's: another user gets 404 for its page, status and file."""
    from pipeline.queue import JobQueue
    from records import User, hash_password

    client, settings = queue_app["client"], queue_app["settings"]
    JobQueue.from_settings(settings).mark_alive("web-test-worker")
    started = client.post("/api/exports?q=&all=1&format=jsonl", headers={"X-CSRF-Token": _token(client)})
    assert started.status_code == 202, started.get_data(as_text=True)
    job_id = started.get_json()["id"]
    d = queue_app["app"].extensions["dossier"]
    with d.sessions() as session:
        session.add(User(username="other", role="admin", password_hash=hash_password("other-Passw0rd")))
        session.commit()
    other = queue_app["app"].test_client()
    login(other, "other", "other-Passw0rd")
    assert other.get(f"/export/jobs/{job_id}").status_code == 404
    assert other.get(f"/api/exports/{job_id}").status_code == 404
    assert other.get(f"/export/jobs/{job_id}/download").status_code == 404
    assert client.post("/api/exports?format=csv").status_code == 400  # no CSRF token


def test_without_a_worker_a_large_export_streams_at_once(queue_app):
    """No live worker (or no Redis): a click on an export above the stream limit downloads directly."""
    client = queue_app["client"]
    html = client.get("/?all=1").get_data(as_text=True)
    assert "任务队列暂不可用" in html
    response = client.post("/export", data=MultiDict([*_export_form(html), ("format", "jsonl")]))
    assert response.status_code == 200 and response.mimetype == "application/x-ndjson"
    assert len(response.get_data(as_text=True).splitlines()) == len(_api_ids(client, "all=1"))
    api = client.post("/api/exports?format=csv", headers={"X-CSRF-Token": _token(client)})
    assert api.status_code == 503 and "请直接下载" in api.get_json()["error"]


def _token(client, **kwargs) -> str:
    html = client.get("/", **kwargs).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


# -- rights are checked again when a background export is downloaded ----------------------------------

REP_PASSWORD = "Kupfer-Regen-Tisch-7"


def _add_rep(d) -> tuple[list[int], list[int]]:
    """Add lily (sales) and open two of the home's contracts to her: one public, one internal (the others stay
    confidential); returns what a sales rep may read, then what a viewer may."""
    from records import Document

    d.accounts.add_user("lily", "sales", REP_PASSWORD)
    with d.sessions() as session:
        first, second = sorted(session.scalars(select(Document.id)))[:2]
    d.documents.update(first, Principal.system(), confidentiality="public")
    d.documents.update(second, Principal.system(), confidentiality="internal")
    return [first, second], [first]


def _rep_export(queue_app, login) -> tuple[object, int, str]:
    """lily (sales) logs in and a real worker writes a background CSV of everything she may read:
    (her client, the job id, its download URL)."""
    from pipeline.queue import JobQueue
    from workers.runner import run_worker

    settings, app = queue_app["settings"], queue_app["app"]
    d = app.extensions["dossier"]
    sales_ids, _viewer_ids = _add_rep(d)
    rep = app.test_client()
    assert login(rep, "lily", REP_PASSWORD).status_code == 302
    JobQueue.from_settings(settings).mark_alive("web-test-worker")
    started = rep.post("/api/exports?all=1&format=csv", headers={"X-CSRF-Token": _token(rep)})
    assert started.status_code == 202, started.get_data(as_text=True)
    job_id = started.get_json()["id"]
    run_worker(settings, burst=True)
    status = rep.get(f"/api/exports/{job_id}").get_json()
    assert status["status"] == "done" and status["download_url"]
    download = rep.get(status["download_url"])  # hers, under the rights it was made with
    assert download.status_code == 200 and sorted(_csv_ids(download.get_data())) == sales_ids
    return rep, job_id, status["download_url"]


def _job_file(queue_app, job_id: int) -> Path | None:
    from records import ExportJob

    d = queue_app["app"].extensions["dossier"]
    with d.sessions() as session:
        path = session.get(ExportJob, job_id).path
    return Path(queue_app["settings"].home) / path if path else None


@pytest.mark.parametrize("change", ["demoted", "disabled"])
def test_an_export_is_void_once_its_owner_is_demoted_or_disabled(queue_app, login, change):
    """GIVEN a sales rep's finished background export WHEN she is demoted to viewer, or disabled and enabled again
    THEN after logging in again her download answers 403 (作废, the file deleted), the job's page and the API say
    revoked with no download link."""
    rep, job_id, url = _rep_export(queue_app, login)
    d = queue_app["app"].extensions["dossier"]
    stored = _job_file(queue_app, job_id)
    assert stored is not None and stored.is_file()
    if change == "demoted":
        d.accounts.set_role("lily", "viewer")
    else:
        d.accounts.set_active("lily", False)
        d.accounts.set_active("lily", True)
    assert rep.get(url).status_code == 302  # her session ended with the change
    assert login(rep, "lily", REP_PASSWORD).status_code == 302
    refused = rep.get(url)
    assert refused.status_code == 403 and "已作废" in refused.get_data(as_text=True)
    assert not stored.exists() and _job_file(queue_app, job_id) is None
    status = rep.get(f"/api/exports/{job_id}").get_json()
    assert (
        status["status"] == "revoked"
        and status["download_url"] is None
        and status["error"].startswith("导出后你的角色或权限已变更")  # the reader's language
    )
    page = rep.get(f"/export/jobs/{job_id}").get_data(as_text=True)
    assert (
        "已作废" in page
        and f"/export/jobs/{job_id}/download" not in page.split("data-download")[1].split("hidden")[0]
    )


def test_an_export_is_refused_when_the_owners_customers_changed(queue_app, login):
    """GIVEN a sales rep's finished export WHEN a customer is given to her (her readable confidential documents
    change) without any role change THEN the file she made under the old rights is refused (403)."""
    from records import Customer

    rep, job_id, url = _rep_export(queue_app, login)
    d = queue_app["app"].extensions["dossier"]
    with d.sessions() as session:
        session.add(Customer(name="新分配客户有限公司", owner_id=d.accounts.principal_for("lily").user_id))
        session.commit()
    refused = rep.get(url)
    assert refused.status_code == 403 and "已作废" in refused.get_data(as_text=True)
    assert _job_file(queue_app, job_id) is None


def test_an_export_written_after_a_demotion_follows_the_new_rights(queue_app, login):
    """GIVEN a sales rep's export still queued WHEN she is demoted and the worker then writes it THEN its rows are
    what a viewer may read, and she can download it as the viewer she is now."""
    from pipeline.queue import JobQueue
    from workers.runner import run_worker

    settings, app = queue_app["settings"], queue_app["app"]
    d = app.extensions["dossier"]
    _sales_ids, viewer_ids = _add_rep(d)
    rep = app.test_client()
    assert login(rep, "lily", REP_PASSWORD).status_code == 302
    JobQueue.from_settings(settings).mark_alive("web-test-worker")
    started = rep.post("/api/exports?all=1&format=csv", headers={"X-CSRF-Token": _token(rep)})
    job_id = started.get_json()["id"]
    d.accounts.set_role("lily", "viewer")
    run_worker(settings, burst=True)
    assert login(rep, "lily", REP_PASSWORD).status_code == 302
    download = rep.get(f"/export/jobs/{job_id}/download")
    assert download.status_code == 200
    assert sorted(_csv_ids(download.get_data())) == viewer_ids  # the internal contract is not in it
