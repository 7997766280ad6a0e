"""Autocomplete in a real headless Chromium: type a short name into the upload form's customer field,
choose the suggestion with the keyboard only, and get the full registered name; the same in English;
a tag field completes the last item of its list; no console errors (strict CSP, static script only).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.webui import _browser
from tests.webui.test_suggest import FULL, PASSWORD, _build

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs /usr/bin/chromium and /usr/bin/chromedriver (Debian chromium, chromium-driver)",
    ),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    from webui import create_app

    built = _build(tmp_path_factory.mktemp("suggest-browser"))
    srv = make_server("127.0.0.1", 0, create_app(built["settings"]), threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        thread.join(5)
        built["dossier"].close()


@pytest.fixture()
def browser(browser):
    """The session's Chromium (tests/webui/conftest.py), reset, 1024 px wide."""
    _browser.set_width(browser, 1024, 900)
    return browser


def _log_in(browser, server: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server + "/auth/login")
    browser.find_element(By.ID, "username").send_keys("admin")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, ".login button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda b: "/auth/login" not in b.current_url)


def _options(browser, box) -> list:  # type: ignore[no-untyped-def]
    """The visible options of ``box``'s listbox, once the list is open."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 10).until(lambda b: box.get_attribute("aria-expanded") == "true")
    listbox = browser.find_element(By.ID, box.get_attribute("aria-controls"))
    assert listbox.get_attribute("role") == "listbox" and listbox.is_displayed()
    return listbox.find_elements(By.CSS_SELECTOR, "[role=option]")


def _errors(browser) -> list[str]:
    """Console errors (the app serves no favicon; the browser's own request for one is not the page's)."""
    logs = browser.get_log("browser")
    return [e["message"] for e in logs if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]]


@pytest.mark.parametrize(("lang", "label"), [("zh", "简称"), ("en", "short name")])
def test_a_short_name_completes_to_the_full_name_by_keyboard(server, browser, lang, label):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _log_in(browser, server)
    browser.get(f"{server}/upload?lang={lang}")
    box = browser.find_element(By.ID, "customer")
    assert box.get_attribute("role") == "combobox" and box.get_attribute("aria-expanded") == "false"
    assert box.get_attribute("list") is None  # the datalist fallback gave way
    box.send_keys("光华")
    options = _options(browser, box)
    assert options[0].find_element(By.CSS_SELECTOR, ".suggest-value").text == FULL
    assert label in options[0].text
    box.send_keys(Keys.ARROW_DOWN)
    assert box.get_attribute("aria-activedescendant") == options[0].get_attribute("id")
    assert options[0].get_attribute("aria-selected") == "true"
    box.send_keys(Keys.ENTER)  # chooses; does not submit the form
    assert box.get_attribute("value") == FULL
    assert box.get_attribute("aria-expanded") == "false"
    assert "/upload" in browser.current_url
    # Escape closes an open list and keeps the text.
    box.send_keys(Keys.BACK_SPACE)
    _options(browser, box)
    box.send_keys(Keys.ESCAPE)
    assert box.get_attribute("aria-expanded") == "false"
    assert box.get_attribute("value") == FULL[:-1]

    tags = browser.find_element(By.ID, "tags")
    tags.send_keys("a_b，重点")
    options = _options(browser, tags)
    assert [o.find_element(By.CSS_SELECTOR, ".suggest-value").text for o in options] == [
        "重点",
        "重点客户",
        "非重点",
    ]
    tags.send_keys(Keys.ARROW_UP, Keys.ENTER)  # ↑ wraps to the last
    assert tags.get_attribute("value") == "a_b，非重点，"
    assert _errors(browser) == []


def test_the_search_box_turns_a_customer_into_a_filter(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _log_in(browser, server)
    browser.get(server + "/?lang=zh")
    box = browser.find_element(By.ID, "q")
    box.send_keys("合同 光华物")
    options = _options(browser, box)
    options[0].click()  # the mouse works too
    assert box.get_attribute("value") == f'合同 customer:"{FULL}" '
    box.send_keys(Keys.ENTER)  # the list is closed: Enter searches
    assert "customer" in browser.current_url
    assert _errors(browser) == []
