"""The manual at /docs and the API page at /api/docs in a real Chromium, under the app's CSP.

Material for MkDocs' pages must run (their inline scripts allowed by hash, nothing blocked: no console
error), and its search must find pages in the browser, offline.  /api/docs goes through the shared
quality checks (axe, keyboard focus, no horizontal scroll, no console error) in both languages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.docs._manual import build_site
from tests.webui import _browser
from webui import create_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(corpus_home: dict, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("docs-browser")
    built = build_site(root / "site", root / "shots")
    assert built.returncode == 0, built.stderr
    app = create_app(corpus_home["settings"], test_config={"TESTING": True, "DOCS_SITE": str(root / "site")})
    with _browser.serve(app) as url:
        yield url


def _search(browser: Any, words: str) -> int:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    box = browser.find_element(By.CSS_SELECTOR, "input.md-search__input")
    box.click()
    box.clear()
    box.send_keys(words)
    WebDriverWait(browser, 15).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".md-search-result__item"))
    return len(browser.find_elements(By.CSS_SELECTOR, ".md-search-result__item"))


def test_the_manual_runs_under_the_csp_and_its_search_works_offline(site, browser):
    for path in ("/docs/", "/docs/guide/search.html", "/docs/reference/api.html"):
        browser.get(site + path)
        assert browser.execute_script("return typeof document$ === 'object'"), (
            f"Material's script ran on {path}"
        )
        assert _browser.severe_console(browser) == [], path
    browser.get(site + "/docs/index.html")
    assert _search(browser, "OpenSearch") > 0
    assert _search(browser, "分隔页") > 0
    assert _browser.severe_console(browser) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_api_page_passes_the_quality_checks(site, browser, lang):
    browser.get(f"{site}/api/docs?lang={lang}")
    assert browser.execute_script("return document.documentElement.lang").startswith(lang)
    _browser.check_page(browser, f"api-docs-{lang}")


def test_the_start_page_links_to_the_manual(site, browser):
    from selenium.webdriver.common.by import By

    _browser.log_in(browser, site, "admin", "webui-test-Passw0rd")
    browser.get(site + "/")
    browser.find_element(By.CSS_SELECTOR, "a.nav-help").click()
    assert Path(browser.current_url).name in ("", "docs", "index.html") or browser.current_url.endswith(
        "/docs/"
    )
    assert "Dossier" in browser.title
