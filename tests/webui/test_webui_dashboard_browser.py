"""The start page (工作台) in a real headless Chromium, in Chinese and in English.

The charts draw (real SVG boxes), nothing breaks the strict CSP (no console errors), the page does
not scroll sideways at 1024 px, a table view opens, and a click on a bar opens the search that finds
what the bar counts.  Screenshots: /tmp/dossier-dashboard-zh.png, /tmp/dossier-dashboard-en.png.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from dossier.app.services import Dossier
from foundation.config import load_settings
from tests import _dashboard
from tests.webui import _browser
from webui import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
#: axe-core, vendored for the browser tests (when present: the quality harness brings it)
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs /usr/bin/chromium and /usr/bin/chromedriver (Debian chromium, chromium-driver)",
    ),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The dashboard data home's app on a free 127.0.0.1 port."""
    root = tmp_path_factory.mktemp("dash-browser")
    settings = load_settings(
        environ={"DOSSIER_HOME": str(root), "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0"},
        dotenv=Path("/nonexistent"),
    )
    Dossier.open(settings, require_init=False).init(admin_password=_dashboard.PASSWORD)
    dossier = Dossier.open(settings)
    _dashboard.fill(dossier)
    app = create_app(settings, test_config={"TESTING": True})
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        thread.join(5)
        dossier.close()


@pytest.fixture()
def browser(browser):
    """The session's Chromium (tests/webui/conftest.py), reset, 1024 px wide."""
    _browser.set_width(browser, 1024, 900)
    return browser


def _log_in(browser, server: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server + "/?lang=zh")
    browser.find_element(By.ID, "username").send_keys("admin")
    browser.find_element(By.ID, "password").send_keys(_dashboard.PASSWORD)
    browser.find_element(By.CSS_SELECTOR, ".login button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda b: "/auth/login" not in b.current_url)


def _errors(browser) -> list[str]:
    """Severe console messages (CSP violations among them), less the browser's own favicon request."""
    return [
        e["message"]
        for e in browser.get_log("browser")
        if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]
    ]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_start_page_draws_its_charts_and_links_them(server, browser, lang):
    from selenium.webdriver.common.by import By

    browser.get(f"{server}/?lang={lang}")
    if "/auth/login" in browser.current_url:
        _log_in(browser, server)
        browser.get(f"{server}/?lang={lang}")
    heading = browser.find_element(By.ID, "dash-heading").text
    assert heading == {"zh": "工作台", "en": "Start page"}[lang]
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert len(charts) == 6  # the month chart is empty: the data is of 2024
    for chart in charts:
        box = chart.rect
        assert box["width"] > 200 and box["height"] > 20, box
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    assert _errors(browser) == []  # the strict CSP let everything through: no violations
    if AXE.exists():  # links inside the charts stay reachable (no nested-interactive), labels, contrast …
        browser.execute_script(AXE.read_text(encoding="utf-8"))
        violations = browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map(v => v.id)));"
        )
        assert violations == []

    # a table view opens
    table_view = browser.find_element(By.CSS_SELECTOR, ".chart-amounts-customer_type details.chart-table")
    table_view.find_element(By.TAG_NAME, "summary").click()
    assert table_view.find_element(By.TAG_NAME, "table").is_displayed()
    browser.save_screenshot(f"/tmp/dossier-dashboard-{lang}.png")

    # a bar opens the search of what it counts
    def counted(link) -> int:
        return int(re.search(r"[（(](\d+)", link.get_attribute("aria-label")).group(1))

    bar = max(browser.find_elements(By.CSS_SELECTOR, ".chart-amounts-customer_type svg a"), key=counted)
    label, n = bar.get_attribute("aria-label"), counted(bar)
    assert n > 0
    bar.find_element(By.TAG_NAME, "rect").click()
    total = browser.find_element(By.CSS_SELECTOR, ".total").text
    assert "customer_type=" in browser.current_url and "type=" in browser.current_url
    assert re.search(r"\d+", total).group(0) == str(n), (label, total)
    assert _errors(browser) == []
