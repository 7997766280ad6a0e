"""In real Chromium: a sales rep ticks two hits, changes their type through the confirmation, and saves the search
as a view that the 视图 menu then opens (keyboard)."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from records import Document
from tests._bulk_home import PASSWORD, build, find
from tests.webui.test_webui_browser import CHROMEDRIVER, CHROMIUM, browser  # noqa: F401 - the fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs /usr/bin/chromium and /usr/bin/chromedriver (Debian chromium, chromium-driver)",
    ),
]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    built = build(tmp_path_factory.mktemp("views-browser"), {})
    yield built
    built["dossier"].close()


@pytest.fixture(scope="module")
def server(home):
    from webui import create_app

    app = create_app(home["settings"])
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        thread.join(5)


def test_select_two_hits_change_their_type_with_the_confirmation_then_save_and_open_a_view(
    home,
    server,
    browser,  # noqa: F811
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait

    browser.get(server + "/")
    browser.find_element(By.ID, "username").send_keys("sales1")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, ".login button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda b: "/auth/login" not in b.current_url)

    browser.get(server + "/?q=季度报告")
    chosen = [find(home, "public", "A"), find(home, "internal", "A")]
    for doc_id in chosen:
        browser.find_element(By.CSS_SELECTOR, f'input.bulk-pick[value="{doc_id}"]').click()
    browser.find_element(By.CSS_SELECTOR, "button.bulk-selected").click()
    WebDriverWait(browser, 15).until(lambda b: "/bulk" in b.current_url)
    assert "已选择 2 篇文档" in browser.page_source
    Select(browser.find_element(By.ID, "bulk-doc-type")).select_by_value("quote")
    browser.find_element(By.CSS_SELECTOR, "button.bulk-preview").click()
    WebDriverWait(browser, 15).until(lambda b: "/bulk/preview" in b.current_url)
    assert "将修改 2 篇文档（共选择 2 篇）" in browser.find_element(By.CSS_SELECTOR, ".bulk-will-change").text
    with home["dossier"].sessions() as session:
        assert {session.get(Document, i).doc_type for i in chosen} == {"other"}
    browser.find_element(By.CSS_SELECTOR, "button.bulk-confirm").click()
    WebDriverWait(browser, 15).until(lambda b: "/bulk/apply" in b.current_url)
    assert "已修改 2 篇文档" in browser.find_element(By.CSS_SELECTOR, ".bulk-changed").text
    with home["dossier"].sessions() as session:
        assert {session.get(Document, i).doc_type for i in chosen} == {"quote"}
        untouched = find(home, "confidential", "A")
        assert session.get(Document, untouched).doc_type == "other"

    # Save this search as a view, then open it from the navigation's 视图 menu with the keyboard.
    browser.get(server + "/?q=季度报告&type=quote")
    browser.find_element(By.CSS_SELECTOR, ".save-view > summary").click()
    browser.find_element(By.ID, "view-name").send_keys("我的报价")
    browser.find_element(By.CSS_SELECTOR, ".save-view button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda b: "已保存视图" in b.page_source)
    summary = browser.find_element(By.CSS_SELECTOR, ".nav-views > summary")
    summary.send_keys(Keys.ENTER)
    link = browser.find_element(By.LINK_TEXT, "我的报价")
    WebDriverWait(browser, 5).until(lambda b: link.is_displayed())
    link.send_keys(Keys.ENTER)
    WebDriverWait(browser, 15).until(lambda b: "type=quote" in b.current_url)
    hits = browser.find_elements(By.CSS_SELECTOR, "li.hit")
    assert len(hits) == 2
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
