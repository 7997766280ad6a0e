"""The quality bar (issue 17, item 7): every page of the web UI, in Chinese and in English, in a real Chromium.

Each page gets :func:`tests.webui._browser.check_page`: axe-core's WCAG 2.0/2.1 A and AA rules (labels,
contrast, names, landmarks, ids …), no horizontal scroll at 1024 px and 1400 px, no console error (script
errors and CSP violations land there), and full-page screenshots at both widths saved as test artifacts
(``$DOSSIER_TEST_ARTIFACTS`` or ./test-artifacts/screenshots).

One small home (tests/_reminders.py: every role, three customers, a document per level, one in the trash)
plus an uploaded document in two versions, an activity, reminders, notifications, a retention rule, a
failed export and a failed mail, so that no page is checked empty only.  One Chromium for the module; the
pages are visited as admin, and a few as a sales rep and a viewer.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests._reminders import CUSTOMERS, PASSWORD, build, principal
from tests.conftest import DEV
from tests.webui import _browser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not _browser.HAVE_CHROMIUM, reason=_browser.SKIP_REASON),
]

V1 = "翡翠湖项目供货合同\n第一版条款：交货期三十天。\n付款方式：月结。联系人 李明 13812345678".encode()
V2 = "翡翠湖项目供货合同\n第二版条款：交货期四十五天。\n付款方式：月结。联系人 李明 13812345678".encode()


def _process(d: Any, doc_id: int) -> None:
    """What a worker does with a queued document, here in the test's process."""
    d.intake.make_intake(1).process_here([doc_id], None)
    d.backend.settle()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    """The home with something on every page, served over HTTP; ``{"url", "ids"...}``."""
    from dossier.app.export import request_to_json, rights_of
    from index import SearchRequest
    from records import ExportJob, MailDelivery
    from webui import create_app

    built = build(tmp_path_factory.mktemp("pages-browser"), {})
    d = built["dossier"]
    admin, manager = principal(built, "admin"), principal(built, "manager1")
    customer_a = built["customers"]["A"]
    doc = d.ingest_upload("翡翠湖供货合同_v1.txt", V1, principal=admin, customer=CUSTOMERS["A"][0])["id"]
    _process(d, doc)
    d.documents.update(doc, admin, confidentiality="internal", doc_type="contract")
    d.documents.add_version(doc, "翡翠湖供货合同_v2.txt", V2, manager)
    _process(d, doc)
    batch = d.batches(admin)[0]["id"]
    scanned = d.ingest_paths([DEV / "scans" / "拜访记录_博雅租赁_扫描.png"], ocr=False, uploaded_by="admin")
    scan = int(scanned["documents"][0]["id"])
    today = date.today()
    d.reminders.add(manager, "回访翡翠湖项目", (today - timedelta(days=2)).isoformat(), owner="sales1")
    d.reminders.add(admin, "续签提醒", today.isoformat(), customer=customer_a, document=doc)
    d.activities.add(
        manager, kind="call", customer=customer_a, subject="电话沟通交货期", body="客户希望四十五天交货。"
    )
    d.retention.add_rule(manager, name="合同保留十年", doc_type="contract", destroy_after="10y")
    with d.sessions() as session:
        export = ExportJob(
            username="admin",
            format="csv",
            request=request_to_json(SearchRequest("合同")),
            status="failed",
            error="磁盘已满",
            rights=rights_of(admin),
        )
        session.add(export)
        session.add(
            MailDelivery(
                key="pages-browser-1",
                recipient="sales1@example.com",
                subject="提醒：回访翡翠湖项目",
                body="回访",
                status="failed",
                attempts=3,
                last_error="SMTP 550 mailbox unavailable",
            )
        )
        session.commit()
        export_id = export.id
    d.notifications.run()
    app = create_app(built["settings"], test_config={"TESTING": True})
    with _browser.serve(app) as url:
        yield {
            "url": url,
            "doc": doc,
            "scan": scan,
            "batch": batch,
            "export": export_id,
            "customer": customer_a,
            **built,
        }
    d.close()


@pytest.fixture(scope="module")
def browser(chromium, tmp_path_factory: pytest.TempPathFactory):
    """The session's Chromium, reset once for this module (what earlier modules left, the log included);
    the tests of the module then share its logins (``_browser.as_user``)."""
    _browser.reset(chromium, tmp_path_factory.mktemp("pages-downloads"))
    return chromium


#: (name, path) of every page an admin sees; ``{doc}`` etc. are filled from the site.
ADMIN_PAGES = (
    ("start", "/"),
    ("search", "/?q=合同"),
    ("search-nothing", "/?q=没有这样的词语"),
    ("document", "/documents/{doc}?q=交货期"),
    ("scan", "/documents/{scan}"),
    ("version", "/documents/{doc}/versions/1"),
    ("diff", "/documents/{doc}/diff?old=1&new=2"),
    ("customers", "/customers"),
    ("customer", "/customers/{customer}"),
    ("customer-edit", "/customers/{customer}/edit"),
    ("timeline", "/customers/{customer}/timeline"),
    ("reminders", "/reminders"),
    ("notifications", "/notifications"),
    ("upload", "/upload"),
    ("jobs", "/jobs"),
    ("job", "/jobs/{batch}"),
    ("exports", "/export/jobs"),
    ("export", "/export/jobs/{export}"),
    ("document-edit", "/documents/{doc}/edit"),
    ("delete-confirm", "/documents/{doc}/delete"),
    ("trash", "/trash"),
    ("retention", "/retention"),
    ("audit", "/admin/audit"),
    ("mail", "/admin/mail"),
    ("views", "/views"),
    ("bulk", "/bulk?scope=all&q=合同"),
)
#: Pages a sales rep and a viewer see differently (less navigation, fewer facets and buttons).
ROLE_PAGES = (
    ("sales1", "start", "/"),
    ("sales1", "search", "/?q=合同"),
    ("sales1", "document", "/documents/{doc}"),
    ("sales1", "customer", "/customers/{customer}"),
    ("viewer1", "start", "/"),
    ("viewer1", "reminders", "/reminders"),
)
LANGS = ("zh", "en")
#: Page name -> axe rules not checked there (none: every page passes every rule).
KNOWN_GAPS: dict[str, tuple[str, ...]] = {}


def _url(site: dict, path: str, lang: str) -> str:
    path = path.format(**site)
    return f"{site['url']}{path}{'&' if '?' in path else '?'}lang={lang}"


def _visit(browser: Any, site: dict, path: str, lang: str) -> None:
    """Open the page with every <details> open (what is folded must fit as well)."""
    browser.get(_url(site, path, lang))
    browser.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert browser.execute_script("return document.documentElement.lang").startswith(lang), (
        browser.current_url
    )


@pytest.mark.parametrize("lang", LANGS)
def test_login_page(site, browser, lang):
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    browser.dossier_user = None
    _visit(browser, site, "/auth/login", lang)
    _browser.check_page(browser, f"login-{lang}")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("name", "path"), ADMIN_PAGES, ids=[n for n, _ in ADMIN_PAGES])
def test_admin_page(site, browser, name, path, lang):
    _browser.as_user(browser, site["url"], "admin", PASSWORD)
    _visit(browser, site, path, lang)
    _browser.check_page(browser, f"admin-{name}-{lang}", skip_rules=KNOWN_GAPS.get(name, ()))


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("user", "name", "path"), ROLE_PAGES, ids=[f"{u}-{n}" for u, n, _ in ROLE_PAGES])
def test_role_page(site, browser, user, name, path, lang):
    _browser.as_user(browser, site["url"], user, PASSWORD)
    _visit(browser, site, path, lang)
    _browser.check_page(browser, f"{user}-{name}-{lang}", skip_rules=KNOWN_GAPS.get(name, ()))


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", ["/documents/999999", "/no-such-page"], ids=["document", "path"])
def test_error_page(site, browser, path, lang):
    """The friendly 404 page (the browser logs the 404 of the page itself: that line is expected)."""
    _browser.as_user(browser, site["url"], "admin", PASSWORD)
    _visit(browser, site, path, lang)
    assert "404" in browser.page_source
    _browser.check_page(
        browser, f"error-404-{path.strip('/').replace('/', '-')}-{lang}", ignore_console=[r" 404 "]
    )
