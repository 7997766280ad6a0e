"""A real headless Chromium against the app served over HTTP: log in, search, open, download.

Also saves screenshots of the search and document pages to /tmp/dossier-search.png and
/tmp/dossier-document.png for a human look.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOT = Path("/tmp/dossier-search.png")
DOC_SCREENSHOT = Path("/tmp/dossier-document.png")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs /usr/bin/chromium and /usr/bin/chromedriver (Debian chromium, chromium-driver)",
    ),
]


@pytest.fixture(scope="module")
def server(app):
    """The app on a free 127.0.0.1 port, served by werkzeug in a thread."""
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        thread.join(5)


@pytest.fixture()
def browser(tmp_path, monkeypatch):
    """Headless Chromium with a fresh profile, no network beyond localhost, downloads into tmp_path."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("SE_AVOID_STATS", "true")  # selenium-manager is never needed: paths are given
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--lang=zh-CN",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "safebrowsing.enabled": False,
        },
    )
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    driver.downloads = downloads  # type: ignore[attr-defined]
    # A click that submits a form returns before the next page is there: let look-ups retry.
    driver.implicitly_wait(10)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "profile", ignore_errors=True)


def _wait_for_file(folder: Path, timeout: float = 20) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.iterdir() if not p.name.endswith((".crdownload", ".tmp"))]
        if done:
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no download arrived in {folder}: {list(folder.iterdir())}")


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
