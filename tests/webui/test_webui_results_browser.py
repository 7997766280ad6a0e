"""The results page in a real headless Chromium, in Chinese and English, at 1024 px, 1400 px and a phone's width:
thumbnails load (lazily), no page scrolls sideways and a long file name wraps normally, facets work by click and
by keyboard, the export bar opens from its one button, and on a phone the filters fold under 筛选.

Screenshots: /tmp/dossier-results-<lang>-<width>.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.webui.conftest import LONG_NAME
from tests.webui.test_webui_browser import (  # noqa: F401 - the fixtures
    CHROMEDRIVER,
    CHROMIUM,
    browser,
    log_in,
    server,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs /usr/bin/chromium and /usr/bin/chromedriver (Debian chromium, chromium-driver)",
    ),
]

WIDTHS = (1024, 1400, 390)
NO_SIDEWAYS = "return document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def _thumbnails_loaded(b) -> bool:  # type: ignore[no-untyped-def]
    """Every thumbnail in view has arrived (a lazy one far below may still wait: that is the point)."""
    return bool(
        b.execute_script(
            "var imgs = Array.from(document.querySelectorAll('.hit-thumb img'));"
            "var seen = imgs.filter(function (i) { var r = i.getBoundingClientRect();"
            "  return r.width > 0 && r.top < window.innerHeight; });"
            "return seen.length > 0 && seen.every(function (i) { return i.complete && i.naturalWidth === 144; });"
        )
    )


def test_results_at_every_width_in_both_languages(server, browser, admin_password):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    log_in(browser, server, admin_password)
    for lang in ("zh", "en"):
        for width in WIDTHS:
            browser.set_window_size(width, 900)
            browser.get(f"{server}/?all=1&lang={lang}")
            # the first hit may be below the fold on a phone (the bars above it): bring it into view
            browser.execute_script("document.querySelector('.hit-thumb img').scrollIntoView();")
            WebDriverWait(browser, 30).until(_thumbnails_loaded)
            images = browser.find_elements(By.CSS_SELECTOR, ".hit-thumb img")
            assert images and all(i.get_attribute("loading") == "lazy" for i in images)
            assert all(i.get_attribute("alt") == "" for i in images)
            assert browser.execute_script(NO_SIDEWAYS), (lang, width)
            # the long file name wraps as words, not one character per line
            name = next(
                e
                for e in browser.find_elements(By.CSS_SELECTOR, ".hit-meta .filename")
                if e.text == LONG_NAME
            )
            assert name.size["width"] > min(200, width / 3), (lang, width, name.size)
            panel = browser.find_element(By.CSS_SELECTOR, "details.filters-panel")
            toggle = browser.find_element(By.CSS_SELECTOR, ".filters-toggle")
            if width <= 600:  # the filters fold under one button; the hits take the full width
                assert panel.get_attribute("open") is None and toggle.is_displayed()
                hit = browser.find_element(By.CSS_SELECTOR, "li.hit")
                assert hit.size["width"] >= width - 60
                toggle.click()
                assert browser.find_element(By.CSS_SELECTOR, "fieldset.facet-doc_type").is_displayed()
                assert browser.execute_script(NO_SIDEWAYS), (lang, width, "filters open")
            else:
                assert panel.get_attribute("open") is not None and not toggle.is_displayed()
            title = "文档类型" if lang == "zh" else "Document type"
            assert browser.find_element(By.CSS_SELECTOR, "fieldset.facet-doc_type legend").text == title
            browser.save_screenshot(str(Path(f"/tmp/dossier-results-{lang}-{width}.png")))
    severe = [
        e for e in browser.get_log("browser") if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]
    ]
    assert not severe, severe


def test_facets_by_click_and_by_keyboard_and_the_export_button(server, browser, admin_password):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    log_in(browser, server, admin_password)
    browser.set_window_size(1400, 900)
    browser.get(f"{server}/?q=合同")
    # a click on a facet's name ticks its box and re-runs the search
    label = browser.find_element(By.XPATH, '//input[@name="type"][@value="contract"]/parent::label')
    assert label.get_attribute("title") == label.find_element(By.CSS_SELECTOR, ".facet-value").text
    label.click()
    WebDriverWait(browser, 15).until(lambda b: "type=contract" in b.current_url)
    assert browser.find_element(By.CSS_SELECTOR, 'input[name="type"][value="contract"]').is_selected()
    # by keyboard: Tab reaches the box, Space unticks it and the search runs again
    box = browser.find_element(By.CSS_SELECTOR, 'input[name="type"][value="contract"]')
    browser.execute_script("arguments[0].previousElementSibling ? 0 : 0; arguments[0].focus();", box)
    assert browser.switch_to.active_element == box
    box.send_keys(Keys.SPACE)
    WebDriverWait(browser, 15).until(lambda b: "type=contract" not in b.current_url)
    assert "q=%E5%90%88%E5%90%8C" in browser.current_url

    # the export bar is one button; Enter opens it and shows every format
    summary = browser.find_element(By.CSS_SELECTOR, ".export-bar summary")
    csv = browser.find_element(By.CSS_SELECTOR, ".export-bar button.export-csv")
    assert summary.text == "导出…" and not csv.is_displayed()
    browser.execute_script("arguments[0].focus();", summary)
    summary.send_keys(Keys.ENTER)
    WebDriverWait(browser, 5).until(lambda b: csv.is_displayed())
    assert browser.find_element(By.CSS_SELECTOR, ".export-bar button.export-xlsx").is_displayed()
    assert browser.execute_script(NO_SIDEWAYS)
