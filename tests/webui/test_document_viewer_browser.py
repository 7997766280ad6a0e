"""The document page's inline viewer in a real headless Chromium: a scanned PDF and a two-page PDF.

At 1024 px and 1400 px the page picture fits the viewer's width and the page never scrolls sideways;
← / → turn pages, zoom changes the picture's size (inside its frame, not the page), the text beside
the picture has the search terms marked, an entity link opens its page, and at phone width (390 px)
the metadata stacks above the viewer.  Screenshots go to the folder the test prints
(``DOSSIER_SCREENSHOTS``, default /tmp/dossier-screenshots/viewer).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from index import Principal
from tests.webui.conftest import LONG_NAME
from tests.webui.test_webui_browser import CHROMEDRIVER, CHROMIUM, browser, log_in, server  # noqa: F401 - fixtures

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs /usr/bin/chromium and /usr/bin/chromedriver (Debian chromium, chromium-driver)",
    ),
]

SCAN = "SCAN_20240115_0002.pdf"
PDF = "产品购销合同_Pacific Rim_HT-2024-0315.pdf"


@pytest.fixture(scope="module")
def shots() -> Path:
    """The folder the screenshots are saved to (printed, so a person can find them)."""
    folder = Path(os.environ.get("DOSSIER_SCREENSHOTS", "/tmp/dossier-screenshots")) / "viewer"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _viewport(browser, width: int, height: int = 900) -> None:  # noqa: F811
    """Make the page's viewport exactly ``width`` CSS pixels wide."""
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


def _js(browser, script: str):  # noqa: F811
    return browser.execute_script(script)


def _no_sideways_scroll(browser) -> None:  # noqa: F811
    sizes = _js(browser, "const e = document.documentElement; return [e.scrollWidth, e.clientWidth];")
    assert sizes[0] <= sizes[1], f"the page scrolls sideways: scrollWidth {sizes[0]} > clientWidth {sizes[1]}"


def _current(browser) -> dict:  # noqa: F811
    """The shown page: its id, the box's value, the position text, and its picture's geometry once loaded."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 20).until(
        lambda b: b.execute_script(
            "const i = document.querySelector('.page-current .page-image-frame img');"
            " return i && i.complete && i.naturalWidth > 0;"
        )
    )
    return _js(
        browser,
        """
        const page = document.querySelector('.viewer-pages > .page-current');
        const img = page.querySelector('.page-image-frame img'), frame = img.parentElement;
        const text = page.querySelector('.page-text-part');
        const shown = document.querySelectorAll('.viewer-pages > .page').length;
        const visible = [...document.querySelectorAll('.viewer-pages > .page')].filter(p => p.offsetParent).length;
        const r = img.getBoundingClientRect(), t = text.getBoundingClientRect();
        return {id: page.id, input: document.getElementById('viewer-page').value,
                position: document.querySelector('.viewer-position').textContent,
                natural: img.naturalWidth, width: r.width, left: r.left, right: r.right, top: r.top,
                frame: frame.clientWidth, textLeft: t.left, textRight: t.right, textTop: t.top,
                pages: shown, visible: visible};
        """,
    )


def _check_width(browser, width: int, shots: Path, name: str) -> dict:  # noqa: F811
    _viewport(browser, width)
    browser.refresh()
    now = _current(browser)
    assert now["natural"] > 1000  # pages are drawn about 1,200 px wide
    assert 150 < now["width"] <= now["frame"] + 0.5, f"the picture fits its frame at {width}px: {now}"
    _no_sideways_scroll(browser)
    meta = _js(browser, "return document.querySelector('.doc-meta').getBoundingClientRect().width;")
    assert meta >= 250, f"the metadata column keeps a sensible width at {width}px: {meta}"
    name_cell = _js(browser, "return document.querySelector('td.filename').getBoundingClientRect().width;")
    assert name_cell > 120, "the file name is not squeezed to one character per line"
    browser.save_screenshot(str(shots / f"{name}-{width}.png"))
    return now


def _press(browser, key: str) -> None:  # noqa: F811
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).send_keys(key).perform()


def test_a_scan_opens_as_its_page_picture_with_keys_zoom_and_phone_layout(
    server,  # noqa: F811
    browser,  # noqa: F811
    corpus_home,
    admin_password,
    shots,
    capsys,
):
    """GIVEN a scanned two-page PDF WHEN its page is opened THEN the viewer shows page 1's picture first
    (the text beside it), fitted to the width at 1024 and 1400 px with no sideways scroll; → and ← turn
    the page (not while typing in the page box); + and − change the picture's size inside its frame;
    100% is the picture's own width; at 390 px the metadata is above the viewer."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    with capsys.disabled():
        print(f"\ndocument viewer screenshots: {shots}")
    log_in(browser, server, admin_password)
    doc_id = corpus_home["id_of"](SCAN)
    browser.get(f"{server}/documents/{doc_id}")
    assert browser.find_element(By.CSS_SELECTOR, ".viewer-bar").is_displayed()
    assert browser.find_element(By.CSS_SELECTOR, ".badge-scan").text == "扫描件"

    for width in (1024, 1400):
        now = _check_width(browser, width, shots, "scan")
        assert now["id"] == "page-1" and now["visible"] == 1 and now["pages"] == 2
        assert now["position"] == "第 1 / 2 页"
        if width == 1400:  # wide: the recognised text beside the picture, the picture first
            assert now["textLeft"] >= now["right"] and abs(now["textTop"] - now["top"]) < 60, now
        else:  # the narrower viewer stacks them, picture on top
            assert now["textTop"] > now["top"], now

    browser.find_element(By.TAG_NAME, "h1").click()  # focus on the page, not a text field
    _press(browser, Keys.ARROW_RIGHT)
    now = _current(browser)
    assert (now["id"], now["input"], now["position"]) == ("page-2", "2", "第 2 / 2 页")
    assert browser.current_url.endswith("#page-2")
    assert browser.find_element(By.CSS_SELECTOR, ".viewer-next").get_attribute("disabled")
    _press(browser, Keys.ARROW_LEFT)
    assert _current(browser)["id"] == "page-1"

    box = browser.find_element(By.ID, "viewer-page")  # keys typed into the page box do not turn pages
    box.click()
    _press(browser, Keys.ARROW_RIGHT)
    assert _current(browser)["id"] == "page-1"
    box.clear()
    box.send_keys("2", Keys.ENTER)
    assert _current(browser)["id"] == "page-2"

    fitted = _current(browser)["width"]
    browser.find_element(By.CSS_SELECTOR, ".viewer-zoom-in").click()
    bigger = _current(browser)
    assert bigger["width"] > fitted * 1.2, (fitted, bigger)
    _no_sideways_scroll(browser)  # the frame scrolls, not the page
    browser.save_screenshot(str(shots / "scan-zoomed-1400.png"))
    browser.find_element(By.CSS_SELECTOR, ".viewer-zoom-out").click()
    browser.find_element(By.CSS_SELECTOR, ".viewer-zoom-out").click()
    assert _current(browser)["width"] < fitted
    browser.find_element(By.CSS_SELECTOR, ".viewer-actual").click()
    actual = _current(browser)
    assert abs(actual["width"] - actual["natural"]) < 2
    assert browser.find_element(By.CSS_SELECTOR, ".viewer-zoom-level").text == "100%"
    _no_sideways_scroll(browser)
    browser.find_element(By.CSS_SELECTOR, ".viewer-fit").click()
    assert abs(_current(browser)["width"] - fitted) < 2

    show_all = browser.find_element(By.CSS_SELECTOR, ".viewer-all")  # every page listed again, and back
    show_all.click()
    assert _current(browser)["visible"] == 2 and show_all.get_attribute("aria-pressed") == "true"
    show_all.click()
    assert _current(browser)["visible"] == 1

    _viewport(browser, 390, 844)
    browser.refresh()
    now = _current(browser)
    assert now["width"] <= now["frame"] + 0.5
    meta, viewer = _js(
        browser,
        "return [document.querySelector('.doc-meta').getBoundingClientRect().bottom,"
        " document.querySelector('#viewer').getBoundingClientRect().top];",
    )
    assert meta <= viewer, "at phone width the metadata stacks above the viewer"
    assert browser.find_element(By.CSS_SELECTOR, ".jump-to-pages a").text == "跳到正文 ↓"
    _no_sideways_scroll(browser)
    browser.save_screenshot(str(shots / "scan-390.png"))
    _js(browser, "document.getElementById('viewer').scrollIntoView();")
    browser.save_screenshot(str(shots / "scan-390-viewer.png"))
    severe = [
        e for e in browser.get_log("browser") if e["level"] == "SEVERE" and "favicon" not in e["message"]
    ]
    assert not severe, severe


def test_a_pdf_shows_the_text_beside_its_picture_with_the_terms_marked(
    server,  # noqa: F811
    browser,  # noqa: F811
    corpus_home,
    admin_password,
    shots,
):
    """GIVEN a two-page text PDF opened from a search (?q=) THEN the current page's text, beside its
    picture, has the terms marked; in English the position reads "Page 1 of 2"; an entity link
    (?mark=PAGE:…) opens the viewer on that page with the entity marked and visible."""
    from selenium.webdriver.common.by import By

    log_in(browser, server, admin_password)
    doc_id = corpus_home["id_of"](PDF)
    browser.get(f"{server}/documents/{doc_id}?q=合同")
    for width in (1024, 1400):
        now = _check_width(browser, width, shots, "pdf")
        marks = browser.find_elements(By.CSS_SELECTOR, ".page-current .page-text mark")
        assert marks and marks[0].is_displayed() and marks[0].text == "合同"
        if width == 1400:  # a text PDF: its text first, the picture beside it
            assert now["left"] >= now["textRight"] and abs(now["textTop"] - now["top"]) < 60, now

    browser.get(f"{server}/documents/{doc_id}?lang=en")
    assert browser.find_element(By.CSS_SELECTOR, ".viewer-position").text == "Page 1 of 2"
    assert browser.find_element(By.CSS_SELECTOR, ".viewer-fit").text == "Fit width"
    browser.save_screenshot(str(shots / "pdf-en-1400.png"))

    mentions = corpus_home["dossier"].show(doc_id, Principal.system())["entity_mentions"]
    last = max(m["page"] for m in mentions)
    m = next(m for m in mentions if m["page"] == last)
    browser.get(f"{server}/documents/{doc_id}?mark={m['page']}:{m['start']}:{m['end']}#entity-mark")
    assert _current(browser)["id"] == f"page-{last}"
    mark = browser.find_element(By.ID, "entity-mark")
    assert mark.is_displayed() and mark.text == m["text"]
    _no_sideways_scroll(browser)

    # a text file with a 60-character name: no viewer, its text as before, and still no sideways scroll
    _viewport(browser, 1024)
    browser.get(f"{server}/documents/{corpus_home['id_of'](LONG_NAME)}")
    assert not browser.find_elements(By.CSS_SELECTOR, ".viewer-bar")
    assert browser.find_element(By.CSS_SELECTOR, ".page-text").is_displayed()
    _no_sideways_scroll(browser)
    cell = _js(browser, "return document.querySelector('td.filename').getBoundingClientRect().width;")
    assert cell > 120, "the long file name wraps in a cell of sensible width"
    browser.save_screenshot(str(shots / "long-name-1024.png"))
