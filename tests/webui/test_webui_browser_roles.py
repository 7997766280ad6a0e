"""Tried as a new user would (issue 7): a sales rep searching 发票 in a real headless Chromium.

Dev-corpus files go through the real intake, so their levels come from their types (invoices
are finance documents, contracts confidential).  The rep owns one customer.  What the rep may
read is worked out here from the issue's rules and the documents' levels as the admin sees
them; the page must list exactly those hits, its facet counts must add up to them, and every
hit must open.
"""

from __future__ import annotations

import re
import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import DEV
from tests.webui._browser import CHROMEDRIVER, CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()), reason="needs Debian chromium + chromium-driver"
    ),
]

PASSWORD = "roles-browser-Passw0rd"


@pytest.fixture(scope="module")
def roles_home(tmp_path_factory):
    """Invoices, contracts, quotes, e-mails and meeting notes ingested; ``sales1`` owns one customer of an invoice."""
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from index import Principal, SearchRequest
    from records import Customer, User, hash_password
    from webui import create_app

    home = tmp_path_factory.mktemp("roles-home")
    settings = load_settings(
        environ={
            "DOSSIER_HOME": str(home),
            "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0",
            "DOSSIER_WORKERS": "2",
        },
        dotenv=home / "none",
    )
    Dossier.open(settings, require_init=False).init(admin_password=PASSWORD)
    d = Dossier.open(settings)
    d.customers.import_registry(DEV / "customers.json")
    summary = d.ingest_paths([DEV / f for f in ("invoices", "contracts", "quotes", "emails", "meetings")])
    assert summary["ingested"] > 40
    with d.sessions() as session:
        rep = User(username="sales1", role="sales", password_hash=hash_password(PASSWORD))
        session.add(rep)
        session.flush()
        # The rep owns the customer of the first confidential contract that mentions 发票 and came as an e-mail's
        # attachment: she reads that contract and its e-mail, not the e-mails carrying others' contracts or invoices.
        admin_hits = d.search(SearchRequest("发票", limit=1000), Principal.system())["hits"]
        contract = next(
            h
            for h in admin_hits
            if h["doc_type"] == "contract"
            and h["customers"]
            and d.show(h["id"], Principal.system())["parent_id"]
        )
        owned = session.query(Customer).filter(Customer.name == contract["customers"][0]).one()
        owned.owner_id = rep.id
        session.commit()
        owned_name = owned.name
    every = d.search(SearchRequest("发票", limit=1000), Principal.system())["hits"]
    shown: dict[int, dict] = {}

    def show(doc_id: int) -> dict:
        if doc_id not in shown:
            shown[doc_id] = d.show(doc_id, Principal.system())
        return shown[doc_id]

    def own_readable(doc_id: int) -> bool:
        doc = show(doc_id)
        level = doc["confidentiality"]
        return level in ("public", "internal") or (level == "confidential" and owned_name in doc["customers"])

    def held(doc_id: int) -> set[int]:  # what its original holds: children and included parts, recursively
        out: set[int] = set()
        for part in [*show(doc_id)["children"], *show(doc_id)["included"]]:
            out |= {part["id"]} | held(part["id"])
        return out

    def came_from(doc_id: int) -> set[int]:
        parent = show(doc_id)["parent_id"]
        return set() if parent is None else {parent} | came_from(parent)

    # The container rule, as the issue states it: every piece of a document's original, and every container it
    # was taken out of, must be readable on its own.
    levels = {h["id"]: show(h["id"])["confidentiality"] for h in every}
    allowed = {
        h["id"] for h in every if all(own_readable(i) for i in {h["id"]} | held(h["id"]) | came_from(h["id"]))
    }
    app = create_app(settings, {"TESTING": True})
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield {
        "url": f"http://127.0.0.1:{srv.server_port}",
        "allowed": allowed,
        "every": every,
        "levels": levels,
        "owned": owned_name,
    }
    srv.shutdown()
    thread.join(5)
    d.close()


def test_a_sales_rep_searching_invoices_sees_only_what_the_rules_allow(roles_home, browser):
    """GIVEN sales1 logs in WHEN searching 发票 THEN the hits are exactly the readable documents (no invoices:
    finance only; confidential contracts only of the owned customer), the type facet counts add up to the
    hits, and every hit opens."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url, allowed = roles_home["url"], roles_home["allowed"]
    every, levels = roles_home["every"], roles_home["levels"]
    assert len(allowed) >= 2  # the owned customer's contract and the e-mail it came with
    assert any(levels[h["id"]] == "finance" for h in every)  # there are invoices to hide
    assert any(h["id"] not in allowed for h in every if levels[h["id"]] == "confidential")
    emails = {h["id"] for h in every if h["doc_type"] == "email"}
    assert emails & allowed  # the e-mail that carried her customer's contract
    assert (
        emails - allowed
    )  # internal e-mails carrying other customers' contracts or invoices: the container rule
    browser.get(url + "/")
    browser.find_element(By.ID, "username").send_keys("sales1")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, ".login button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda b: "/auth/login" not in b.current_url)
    browser.get(f"{url}/?q=发票")
    total_text = browser.find_element(By.CSS_SELECTOR, "p.total").text
    assert re.search(rf"(?<!\d){len(allowed)}(?!\d)", total_text), total_text
    seen: set[int] = set()
    while True:  # every page of results
        for a in browser.find_elements(By.CSS_SELECTOR, "li.hit .hit-title a"):
            seen.add(int(re.search(r"/documents/(\d+)", a.get_attribute("href")).group(1)))  # type: ignore[union-attr]
        nxt = browser.find_elements(By.CSS_SELECTOR, "a[rel=next]")
        if not nxt:
            break
        nxt[0].click()
    assert seen == allowed
    browser.get(f"{url}/?q=发票")
    type_counts = {
        li.find_element(By.CSS_SELECTOR, ".facet-value").text: int(
            li.find_element(By.CSS_SELECTOR, ".count").text
        )
        for li in browser.find_elements(By.CSS_SELECTOR, "fieldset.facet-doc_type li")
    }
    assert sum(type_counts.values()) == len(allowed), type_counts  # the counts are those of what opens
    assert "发票" not in type_counts  # invoices are finance documents: not even counted
    for doc_id in sorted(seen):
        browser.get(f"{url}/documents/{doc_id}")
        assert browser.find_elements(By.CSS_SELECTOR, "article.document"), doc_id  # opens, no error page
    hidden = next(h["id"] for h in roles_home["every"] if h["id"] not in allowed)
    browser.get(f"{url}/documents/{hidden}")
    assert not browser.find_elements(By.CSS_SELECTOR, "article.document") and "404" in browser.page_source
