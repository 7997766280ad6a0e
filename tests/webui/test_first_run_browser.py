"""Issue 19's "done when", in a real headless Chromium: a newcomer follows the README's first run on a fresh
home — `dossier init` prints the admin password once, the empty start page says how to begin, `dossier demo`
loads the sample data (registry first, then the files; here three contracts to keep the test fast), and a
customer's short name typed in the search box finds the contract, with the customer facet to narrow by."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from dossier.cli import cli
from foundation.config import load_settings
from tests.conftest import DEV
from tests.webui import _browser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not _browser.HAVE_CHROMIUM, reason=_browser.SKIP_REASON),
]

NO_REDIS = {"DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0"}
CONTRACT = "contracts/销售合同_泰和设计_HT-2023-1129.pdf"
OTHERS = (
    "contracts/技术服务合同_恒达贸易_FW-2024-013_终稿.docx",
    "contracts/等保整改服务协议_金桥电气_FW-2024-192.txt",
)
SHORT_NAME, FULL_NAME = "泰和设计", "上海泰和建筑设计有限公司"


def _dossier(home: Path, *args: str) -> str:
    """Run the `dossier` command as the README says (in-process, the same entry point); its output."""
    result = CliRunner(env=NO_REDIS).invoke(cli, ["--home", str(home), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def newcomer(tmp_path_factory):
    """A fresh home made by `dossier init` (its printed password), served over HTTP, and a small sample folder."""
    from webui import create_app

    root = tmp_path_factory.mktemp("first-run")
    home, sample = root / "home", root / "corpus" / "dev"
    for name in ("customers.json", CONTRACT, *OTHERS):
        (sample / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DEV / name, sample / name)
    output = _dossier(home, "init")
    password = output.split("password:")[1].split()[0]
    settings = load_settings(environ={"DOSSIER_HOME": str(home), **NO_REDIS}, dotenv=Path("/nonexistent"))
    with _browser.serve(create_app(settings)) as url:
        yield {"home": home, "sample": sample.parent, "password": password, "url": url}


def test_from_a_fresh_home_to_a_contract_by_short_name(newcomer, browser):
    from selenium.webdriver.common.by import By

    url = newcomer["url"]
    _browser.log_in(browser, url, "admin", newcomer["password"])
    # The empty start page says how to begin: the registry import, the three ways in, the sample data.
    welcome = browser.find_element(By.ID, "welcome").text
    assert "客户登记册" in welcome and "make demo" in welcome and "dossier ingest" in welcome
    assert browser.find_element(By.CSS_SELECTOR, "#welcome a[href='/upload']").is_displayed()
    _browser.check_page(browser, "first-run-welcome-zh")

    _dossier(newcomer["home"], "demo", "--data", str(newcomer["sample"]), "--workers", "1")

    browser.get(url + "/")
    assert not browser.find_elements(By.ID, "welcome")
    box = browser.find_element(By.ID, "q")
    box.send_keys(SHORT_NAME)
    browser.find_element(By.CSS_SELECTOR, ".search-bar button[type=submit]").click()
    hit = next(
        h for h in browser.find_elements(By.CSS_SELECTOR, "li.hit") if "泰和" in h.text and "合同" in h.text
    )
    assert hit.is_displayed()
    facet = browser.find_element(By.CSS_SELECTOR, f'fieldset.facet-customer input[value="{FULL_NAME}"]')
    facet.click()  # narrows by the customer: the search runs again by itself
    for _ in range(100):
        if "customer=" in browser.current_url:
            break
        time.sleep(0.1)
    assert "customer=" in browser.current_url
    titles = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "li.hit")]
    assert titles and all("恒达" not in t and "金桥" not in t for t in titles)
    assert any("泰和" in t for t in titles)
