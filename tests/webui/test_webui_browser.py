"""A real headless Chromium against the app served over HTTP: log in, search, open, download;
drop files on the upload page and watch their batch progress live (real Redis, real worker).

Also saves screenshots of the search, document and batch pages to /tmp/dossier-search.png,
/tmp/dossier-document.png and /tmp/dossier-jobs.png for a human look.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.webui._browser import CHROMEDRIVER, CHROMIUM, serve

SCREENSHOT = Path("/tmp/dossier-search.png")
DOC_SCREENSHOT = Path("/tmp/dossier-document.png")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs /usr/bin/chromium and /usr/bin/chromedriver (Debian chromium, chromium-driver)",
    ),
]


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    """``from tests.webui.test_webui_browser import browser`` still works: the fixture is in tests/webui/conftest.py."""
    if name == "browser":
        from tests.webui import conftest

        return conftest.browser
    raise AttributeError(name)


@pytest.fixture(scope="module")
def server(app):
    """The app on a free 127.0.0.1 port, served by werkzeug in a thread."""
    with serve(app) as url:
        yield url


def _wait_for_file(folder: Path, timeout: float = 20) -> Path:
    """The first finished download in ``folder`` (see :func:`_wait_for_suffix`)."""
    return _wait_for_suffix(folder, "", timeout)


def log_in(browser, server: str, password: str) -> None:
    """Log in through the login form, as a person would."""
    from selenium.webdriver.common.by import By

    browser.get(server + "/")
    assert "/auth/login" in browser.current_url
    browser.find_element(By.ID, "username").send_keys("admin")
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, ".login button[type=submit]").click()
    from selenium.webdriver.support.ui import WebDriverWait

    # The click returns before the browser has followed the redirect: wait for the navigation.
    WebDriverWait(browser, 15).until(lambda b: "/auth/login" not in b.current_url)
    assert browser.current_url.rstrip("/") == server, browser.page_source[:500]


def test_login_search_open_and_download(server, browser, corpus_home, admin_password):
    """GIVEN the admin logs in WHEN searching 合同 THEN hits show marked snippets; the first hit
    opens its document page, and its download button saves the exact original file."""
    from selenium.webdriver.common.by import By

    log_in(browser, server, admin_password)
    assert "admin" in browser.find_element(By.CSS_SELECTOR, ".user-nav").text

    box = browser.find_element(By.ID, "q")
    box.send_keys("合同")
    browser.find_element(By.CSS_SELECTOR, ".search-bar button[type=submit]").click()
    total = browser.find_element(By.CSS_SELECTOR, ".total").text
    assert total.startswith("共 ") and "条结果（耗时" in total
    hits = browser.find_elements(By.CSS_SELECTOR, "li.hit")
    assert len(hits) >= 3
    marks = browser.find_elements(By.CSS_SELECTOR, "li.hit .snippet mark")
    assert marks and marks[0].text == "合同"
    # CJK text really renders with a CJK font (a box-glyph fallback would be much narrower or zero)
    width = browser.execute_script("return document.querySelector('.brand').getBoundingClientRect().width")
    assert width > 100
    browser.save_screenshot(str(SCREENSHOT))

    # a facet checkbox re-runs the search by itself (static JS), keeping the query
    browser.find_element(By.CSS_SELECTOR, 'input[name="type"][value="contract"]').click()
    for _ in range(50):
        if "type=contract" in browser.current_url:
            break
        time.sleep(0.1)
    assert "type=contract" in browser.current_url and "q=%E5%90%88%E5%90%8C" in browser.current_url
    browser.back()

    first = browser.find_element(By.CSS_SELECTOR, "li.hit .hit-title a")
    first.click()
    assert "/documents/" in browser.current_url
    doc_id = int(browser.current_url.split("/documents/")[1].split("?")[0])
    assert browser.find_elements(By.CSS_SELECTOR, ".page-text mark"), "the search terms are highlighted"
    browser.save_screenshot(str(DOC_SCREENSHOT))
    filename = browser.find_element(By.CSS_SELECTOR, "td.filename").text
    original = next(p for p in corpus_home["paths"] if p.name == filename)
    assert corpus_home["id_of"](original.name) == doc_id

    browser.find_element(By.CSS_SELECTOR, "a.download").click()
    saved = _wait_for_file(browser.downloads)
    assert saved.read_bytes() == original.read_bytes()


def test_hostile_document_never_executes(server, browser, admin_password):
    """The XSS test files' payloads (script, onerror, javascript:) never run in the browser."""
    from selenium.webdriver.common.by import By

    log_in(browser, server, admin_password)
    for q in ("珊瑚计划", "蓝鲸计划"):
        browser.get(f"{server}/?q={q}")
        assert browser.find_elements(By.CSS_SELECTOR, "li.hit")
        browser.find_element(By.CSS_SELECTOR, "li.hit .hit-title a").click()
        assert "/documents/" in browser.current_url
        # an alert would make every further command fail with UnexpectedAlertPresentException
        assert browser.execute_script("return document.title").endswith("Dossier 客户档案检索")
        assert browser.execute_script("return document.querySelectorAll('img[src=x], iframe').length") == 0
    assert all("XSSCANARY" not in entry["message"] for entry in browser.get_log("browser"))


@pytest.fixture()
def queue_app(tmp_path, redis_url):
    """A fresh data home on the test Redis, its app served over HTTP, and its settings."""
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from webui import create_app

    settings = load_settings(
        environ={
            "DOSSIER_HOME": str(tmp_path / "home"),
            "DOSSIER_WORKERS": "1",
            "DOSSIER_REDIS_URL": redis_url,
        },
        dotenv=Path("/nonexistent"),
    )
    Dossier.open(settings, require_init=False).init(admin_password=QUEUE_PASSWORD)
    app = create_app(settings, test_config={"TESTING": True})
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{srv.server_port}", "settings": settings}
    finally:
        srv.shutdown()
        thread.join(5)
        if app.extensions.get("dossier") is not None:
            app.extensions["dossier"].engine.dispose()


QUEUE_PASSWORD = "browser-queue-pw-1"
JOBS_SCREENSHOT = Path("/tmp/dossier-jobs.png")

#: Builds a DataTransfer holding two files and drops it on the upload page's drop zone.
DROP_FILES_JS = """
const dt = new DataTransfer();
dt.items.add(new File(["琉璃计划：拖放上传测试。联系人 张三"], "拖放_琉璃计划.txt", {type: "text/plain"}));
dt.items.add(new File(["%PDF-1.7\\n this is no pdf"], "损坏的<img src=x>扫描.pdf", {type: "application/pdf"}));
const zone = document.querySelector("[data-dropzone]");
for (const type of ["dragenter", "dragover", "drop"]) {
  zone.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true, cancelable: true}));
}
return document.getElementById("files").files.length;
"""


def _record_timeout(settings, document_id: int) -> None:
    """Record a file's failure as a parse timeout (what a worker writes when a file runs out of time)."""
    from sqlalchemy import update

    import records
    from dossier.app.services import Dossier
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
        d.close()


def test_drop_upload_then_watch_the_batch_live(queue_app, browser):
    """GIVEN a Redis-backed app WHEN two files are dropped on the upload zone and sent THEN the batch
    page shows them queued, and — without reloading — turns done once a real worker has run, listing
    the broken PDF with its reason and a link to its document, and no retry button (a damaged file fails
    again); recorded as a timeout instead, its retry button re-queues it."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.expected_conditions import staleness_of
    from selenium.webdriver.support.ui import WebDriverWait

    from workers.runner import run_worker

    server = queue_app["url"]
    log_in(browser, server, QUEUE_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, ".user-nav .nav-jobs")  # the header links to the jobs page
    browser.get(server + "/upload")
    assert browser.find_element(By.CSS_SELECTOR, "[data-drop-hint]").is_displayed()  # JS enhanced the zone
    assert browser.execute_script(DROP_FILES_JS) == 2
    chosen = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "[data-chosen] li")]
    assert (
        len(chosen) == 2
        and chosen[0].startswith("拖放_琉璃计划.txt")
        and "损坏的<img src=x>扫描.pdf" in chosen[1]
    )
    assert browser.find_element(By.CSS_SELECTOR, "[data-chosen-summary]").text.startswith("已选择 2 个文件")
    browser.find_element(By.CSS_SELECTOR, ".upload-form button[type=submit]").click()

    WebDriverWait(browser, 15).until(lambda b: "/jobs/" in b.current_url)
    assert "已接收 2 个文件：2 个排队处理" in browser.find_element(By.CSS_SELECTOR, ".flash-info").text
    assert browser.find_element(By.CSS_SELECTOR, "h1 [data-field=state]").text == "排队中"
    browser.execute_script("window.__sameDocument = true;")

    run_worker(queue_app["settings"], burst=True)

    WebDriverWait(browser, 20).until(
        lambda b: b.find_element(By.CSS_SELECTOR, "h1 [data-field=state]").text == "已完成"
    )
    assert browser.execute_script("return window.__sameDocument === true"), (
        "the page reloaded instead of polling"
    )
    assert browser.find_element(By.CSS_SELECTOR, "[data-field=files_text]").text == "文件 2 / 2"
    assert browser.find_element(By.CSS_SELECTOR, "[data-field='files.failed']").text == "1"
    assert not browser.find_element(By.CSS_SELECTOR, "[data-live-note]").is_displayed()
    failure = browser.find_element(By.CSS_SELECTOR, ".failure-list .failure")
    link = failure.find_element(By.CSS_SELECTOR, "a.file")
    assert link.text == "损坏的<img src=x>扫描.pdf" and "/documents/" in link.get_attribute("href")
    assert "PDF 文件已损坏或不完整" in failure.find_element(By.CSS_SELECTOR, ".reason").text
    # a damaged PDF fails the same way every time: the live list offers no retry, it says what to do instead
    assert not failure.find_elements(By.CSS_SELECTOR, ".retry-one button")
    assert (
        failure.find_element(By.CSS_SELECTOR, ".not-retryable").text == "重试无济于事：请修好文件后重新上传"
    )
    assert not browser.find_element(By.CSS_SELECTOR, "[data-retry-all]").is_displayed()
    browser.save_screenshot(str(JOBS_SCREENSHOT))

    # had it failed on a timeout instead, a retry could fix it: the button is there
    _record_timeout(queue_app["settings"], int(link.get_attribute("href").rsplit("/", 1)[1]))
    browser.refresh()
    failure = browser.find_element(By.CSS_SELECTOR, ".failure-list .failure")
    assert browser.find_element(By.CSS_SELECTOR, "[data-retry-all]").is_displayed()
    before = browser.find_element(By.TAG_NAME, "html")
    failure.find_element(By.CSS_SELECTOR, ".retry-one button").click()
    # The page before the click has a flash too (the upload's): wait for the new page, then for its flash.
    WebDriverWait(browser, 15).until(staleness_of(before))
    WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda b: (
            "已重新排队 1 项" in " ".join(e.text for e in b.find_elements(By.CSS_SELECTOR, ".flash-info"))
        )
    )
    assert browser.find_element(By.CSS_SELECTOR, "h1 [data-field=state]").text in ("排队中", "处理中")
    assert not browser.find_elements(By.CSS_SELECTOR, ".failure-list .failure")
    batch_page = browser.current_url

    # the jobs list follows the re-queued batch live as well
    browser.find_element(By.CSS_SELECTOR, ".user-nav .nav-jobs").click()
    WebDriverWait(browser, 15).until(lambda b: b.current_url.endswith("/jobs"))
    row = browser.find_element(By.CSS_SELECTOR, "tr[data-batch]")
    assert row.find_element(By.CSS_SELECTOR, "[data-field=state]").text in ("排队中", "处理中")
    browser.execute_script("window.__sameDocument = true;")
    run_worker(queue_app["settings"], burst=True)
    WebDriverWait(browser, 20).until(
        lambda b: b.find_element(By.CSS_SELECTOR, "tr[data-batch] [data-field=state]").text == "已完成"
    )
    assert browser.execute_script("return window.__sameDocument === true")
    assert browser.find_element(By.CSS_SELECTOR, "tr[data-batch] [data-field='files.failed']").text == "1"

    browser.get(batch_page)
    assert "PDF 文件已损坏或不完整" in browser.find_element(By.CSS_SELECTOR, ".failure-list .reason").text

    browser.get(server + "/?q=琉璃计划")
    assert browser.find_elements(By.CSS_SELECTOR, "li.hit")
    # no script error and no blocked resource on any page (the missing favicon aside)
    severe = [
        e for e in browser.get_log("browser") if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]
    ]
    assert not severe, severe


CUSTOMER_SCREENSHOT = Path("/tmp/dossier-customer.png")


@pytest.fixture(scope="module")
def folder_server(folder_app):
    """The folder data home's app on a free 127.0.0.1 port."""
    srv = make_server("127.0.0.1", 0, folder_app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        thread.join(5)


def test_customer_folder_filter_open_and_scoped_search(folder_server, browser, folder_home):
    """GIVEN the registry WHEN the admin opens 客户, picks the region 浙江省 (the list re-filters by itself),
    opens 明远 and switches to the by-year view THEN the tabs swap views; the folder's search box searches
    only 明远's documents; an entity link on a document marks that entity on its page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from tests.webui.conftest import FOLDER_PASSWORD

    server = folder_server
    log_in(browser, server, FOLDER_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, ".user-nav .nav-customers").click()
    WebDriverWait(browser, 15).until(lambda b: b.current_url.endswith("/customers"))
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr.customer")) == 4

    Select(browser.find_element(By.ID, "filter-region")).select_by_visible_text("浙江省")
    WebDriverWait(browser, 15).until(lambda b: "region=" in b.current_url)
    rows = browser.find_elements(By.CSS_SELECTOR, "tr.customer")
    assert [r.find_element(By.CSS_SELECTOR, ".customer-name").text for r in rows] == ["杭州明远科技有限公司"]
    rows[0].find_element(By.CSS_SELECTOR, ".customer-name").click()
    cid = folder_home["customers"]["mingyuan"]
    WebDriverWait(browser, 15).until(lambda b: b.current_url.endswith(f"/customers/{cid}"))
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("杭州明远科技有限公司")

    by_type, by_year = browser.find_element(By.ID, "by-type"), browser.find_element(By.ID, "by-year")
    assert by_type.is_displayed() and not by_year.is_displayed()
    browser.find_element(By.ID, "tab-by-year").click()
    assert by_year.is_displayed() and not by_type.is_displayed()
    assert browser.current_url.endswith("#by-year")
    years = [h.text.split()[0] for h in by_year.find_elements(By.CSS_SELECTOR, ".year-group h4")]
    assert years == ["2024", "2023", "日期不详"]
    browser.save_screenshot(str(CUSTOMER_SCREENSHOT))

    box = browser.find_element(By.ID, "folder-q")
    box.send_keys("服务器")
    browser.find_element(By.CSS_SELECTOR, ".scoped-search button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda b: f"customer_id={cid}" in b.current_url)
    hits = browser.find_elements(By.CSS_SELECTOR, "li.hit .hit-title a")
    wanted = {folder_home["docs"][k] for k in ("d1", "d2", "d3", "d4", "d5")}
    assert {int(a.get_attribute("href").split("/documents/")[1].split("?")[0]) for a in hits} == wanted
    assert browser.find_element(By.CSS_SELECTOR, ".chip-customer").text == "客户: 杭州明远科技有限公司 ×"

    browser.get(f"{server}/documents/{folder_home['docs']['d1']}")
    phone = next(
        a
        for a in browser.find_elements(By.CSS_SELECTOR, ".entities a.entity-value")
        if a.text == "13812345678"
    )
    phone.click()
    WebDriverWait(browser, 15).until(lambda b: "mark=" in b.current_url)
    mark = browser.find_element(By.ID, "entity-mark")
    assert mark.text == "138-1234-5678" and mark.is_displayed()
    severe = [
        e for e in browser.get_log("browser") if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]
    ]
    assert not severe, severe


def _wait_for_suffix(folder: Path, suffix: str, timeout: float = 30) -> Path:
    """The first finished download in ``folder`` whose name ends with ``suffix``.

    Chromium reserves the final name with an empty file while the bytes still go to a
    ``.crdownload`` beside it: a download is finished when no such part file is left and the
    file is not empty.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        names = list(folder.iterdir())
        done = [p for p in names if p.name.endswith(suffix) and p.stat().st_size > 0]
        if done and not any(p.name.endswith((".crdownload", ".tmp")) for p in names):
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no {suffix} download arrived in {folder}: {list(folder.iterdir())}")


def test_export_every_document_from_the_search_page(server, browser, corpus_home, admin_password):
    """GIVEN a new user on the start page WHEN they click 浏览全部文件 and then each export button THEN
    the browser saves a CSV the csv module reads (BOM, one row per document), an XLSX openpyxl opens
    with the same rows, and a ZIP whose originals match the manifest's sha256 — every readable document."""
    import codecs
    import csv
    import hashlib
    import io
    import json
    import zipfile

    from openpyxl import load_workbook
    from selenium.webdriver.common.by import By

    from dossier.app.export import neutralise
    from index import Principal, SearchRequest

    log_in(browser, server, admin_password)
    browser.find_element(By.CSS_SELECTOR, ".browse-all a").click()
    total_text = browser.find_element(By.CSS_SELECTOR, ".total").text
    everything = corpus_home["dossier"].search(SearchRequest("", limit=1000), Principal.system())
    wanted = [h["id"] for h in everything["hits"]]
    assert total_text.startswith(f"共 {len(wanted)} 条结果")
    browser.find_element(By.CSS_SELECTOR, ".export-bar summary").click()  # folded into 导出… until opened
    bar = browser.find_element(By.CSS_SELECTOR, ".export-bar")
    assert f"导出当前检索的全部 {len(wanted)} 条结果" in bar.text and "每次最多导出" in bar.text
    browser.save_screenshot(str(EXPORT_SCREENSHOT))

    bar.find_element(By.CSS_SELECTOR, "button.export-csv").click()
    data = _wait_for_suffix(browser.downloads, ".csv").read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0][0] == "编号 id" and [int(r[0]) for r in rows[1:]] == wanted
    titles = {int(r[0]): r[1] for r in rows[1:]}
    assert all(titles.values())

    browser.find_element(By.CSS_SELECTOR, ".export-bar button.export-xlsx").click()
    book = load_workbook(io.BytesIO(_wait_for_suffix(browser.downloads, ".xlsx").read_bytes()))
    sheet_rows = list(book.active.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in sheet_rows] == wanted
    assert all(
        neutralise(r[1]) == titles[r[0]] for r in sheet_rows
    )  # CSV quotes formulas, XLSX types them as text

    browser.find_element(By.CSS_SELECTOR, ".export-bar button.export-zip").click()
    archive = zipfile.ZipFile(io.BytesIO(_wait_for_suffix(browser.downloads, ".zip").read_bytes()))
    assert archive.testzip() is None
    files = json.loads(archive.read("manifest.json"))["files"]
    assert [e["id"] for e in files] == wanted
    for entry in files:
        assert entry["status"] == "ok", entry
        assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
    originals = {p.name: p.read_bytes() for p in corpus_home["paths"]}
    packed = {e["filename"]: archive.read(e["path"]) for e in files}
    assert all(packed[name] == originals[name] for name in packed if name in originals)
    severe = [
        e for e in browser.get_log("browser") if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]
    ]
    assert not severe, severe


EXPORT_SCREENSHOT = Path("/tmp/dossier-export.png")
EXPORT_JOB_SCREENSHOT = Path("/tmp/dossier-export-job.png")


@pytest.fixture()
def export_queue_app(tmp_path, redis_url):
    """A data home on the test Redis whose exports of more than one hit run in the background."""
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from webui import create_app
    from workers.runner import run_worker

    settings = load_settings(
        environ={
            "DOSSIER_HOME": str(tmp_path / "home"),
            "DOSSIER_WORKERS": "1",
            "DOSSIER_REDIS_URL": redis_url,
            "DOSSIER_EXPORT_STREAM_MAX": "1",
        },
        dotenv=Path("/nonexistent"),
    )
    Dossier.open(settings, require_init=False).init(admin_password=QUEUE_PASSWORD)
    d = Dossier.open(settings)
    quotes = sorted((Path("/work/shared/corpus/dev") / "quotes").glob("*.docx"))[:3]
    d.ingest_paths([str(p) for p in quotes], ocr=False, wait=False)
    run_worker(settings, burst=True)
    d.close()
    app = create_app(settings, test_config={"TESTING": True})
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{srv.server_port}", "settings": settings, "count": len(quotes)}
    finally:
        srv.shutdown()
        thread.join(5)
        if app.extensions.get("dossier") is not None:
            app.extensions["dossier"].close()


def test_background_export_page_turns_into_a_download_without_reloading(export_queue_app, browser):
    """GIVEN more hits than DOSSIER_EXPORT_STREAM_MAX and a worker WHEN the user clicks CSV THEN the
    export's page shows it queued, then — polling, without a reload — done with a download link that
    saves the CSV of every hit."""
    import codecs
    import csv
    import io

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from pipeline.queue import JobQueue
    from workers.runner import run_worker

    server, settings = export_queue_app["url"], export_queue_app["settings"]
    JobQueue.from_settings(settings).mark_alive("browser-export-worker")  # run_worker below is that worker
    log_in(browser, server, QUEUE_PASSWORD)
    browser.get(server + "/?all=1")
    browser.find_element(By.CSS_SELECTOR, ".export-bar summary").click()  # folded into 导出… until opened
    assert "在后台生成" in browser.find_element(By.CSS_SELECTOR, ".export-bar").text
    browser.find_element(By.CSS_SELECTOR, ".export-bar button.export-csv").click()
    WebDriverWait(browser, 15).until(lambda b: "/export/jobs/" in b.current_url)
    assert browser.find_element(By.CSS_SELECTOR, "[data-field=status]").text == "排队中"
    assert not browser.find_element(By.CSS_SELECTOR, "[data-download]").is_displayed()
    browser.execute_script("window.__sameDocument = true;")
    run_worker(settings, burst=True)
    WebDriverWait(browser, 20).until(
        lambda b: b.find_element(By.CSS_SELECTOR, "[data-field=status]").text == "已完成"
    )
    assert browser.execute_script("return window.__sameDocument === true"), (
        "the page reloaded instead of polling"
    )
    link = browser.find_element(By.CSS_SELECTOR, "[data-download] a.download")
    assert (
        link.is_displayed()
        and "链接有效至" in browser.find_element(By.CSS_SELECTOR, "[data-field=expires]").text
    )
    browser.save_screenshot(str(EXPORT_JOB_SCREENSHOT))
    link.click()
    data = _wait_for_suffix(browser.downloads, ".csv").read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert len(rows) == export_queue_app["count"] + 1
    severe = [
        e for e in browser.get_log("browser") if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]
    ]
    assert not severe, severe
