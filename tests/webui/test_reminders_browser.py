"""A real headless Chromium: a rep's start page shows the overdue reminder in red, and its 完成 button
completes it (the form carries the CSRF token) and comes back to the start page."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from werkzeug.serving import make_server

from tests._reminders import CUSTOMERS, PASSWORD, build, principal
from tests.webui._browser import CHROMEDRIVER, CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs /usr/bin/chromium and /usr/bin/chromedriver (Debian chromium, chromium-driver)",
    ),
]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    built = build(tmp_path_factory.mktemp("reminders-browser"), {})
    d = built["dossier"]
    manager = principal(built, "manager1")
    late = (date.today() - timedelta(days=5)).isoformat()
    soon = (date.today() + timedelta(days=2)).isoformat()
    built["late"] = d.reminders.add(manager, "逾期的回访", late, owner="sales1", customer=CUSTOMERS["A"][0])
    built["soon"] = d.reminders.add(manager, "下周的报价", soon, owner="sales1")
    yield built
    d.close()


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


def test_the_overdue_reminder_is_red_and_done_completes_it(home, server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server + "/")
    browser.find_element(By.ID, "username").send_keys("sales1")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, ".login button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda b: "/auth/login" not in b.current_url)

    late = browser.find_element(
        By.CSS_SELECTOR, f'.reminders-mine li[data-reminder-id="{home["late"]["id"]}"]'
    )
    assert "逾期 5 天" in late.text and "逾期的回访" in late.text
    badge = late.find_element(By.CSS_SELECTOR, ".badge-overdue")
    assert badge.value_of_css_property("background-color") == "rgba(207, 34, 46, 1)"  # var(--err)
    soon = browser.find_element(
        By.CSS_SELECTOR, f'.reminders-mine li[data-reminder-id="{home["soon"]["id"]}"]'
    )
    assert "overdue" not in (soon.get_attribute("class") or "")
    assert late.value_of_css_property("border-left-color") != soon.value_of_css_property("border-left-color")

    late.find_element(By.CSS_SELECTOR, "form[action$='/done'] button").click()
    WebDriverWait(browser, 15).until(lambda b: "提醒已完成" in b.page_source)
    assert browser.current_url.rstrip("/") == server
    assert not browser.find_elements(By.CSS_SELECTOR, f'li[data-reminder-id="{home["late"]["id"]}"]')
    assert home["dossier"].reminders.get(home["late"]["id"], principal(home, "sales1"))["status"] == "done"
