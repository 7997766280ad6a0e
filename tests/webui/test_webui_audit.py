"""The audit page (/admin/audit), its CSV (/admin/audit.csv) and GET /api/audit — for admins.

A data home of its own (two text files taken by the real intake, users of other roles), the
real app with its login form; events are made through the pages themselves where the test is
about them, and written with ``Dossier.audit.record`` where only their number matters.
"""

from __future__ import annotations

import csv
import io
import re
from html import unescape
from pathlib import Path

import pytest

from dossier.app.services import Dossier
from foundation.config import load_settings
from index import Principal
from records import User, hash_password
from tests.webui.conftest import _csrf_from as _csrf
from tests.webui.conftest import _login as _form_login
from webui import create_app

PASSWORD = "Audit-web-Passw0rd"
XSS_QUERY = "<script>alert('XSSCANARY')</script>"
XSS_FILE = "<img src=x onerror=alert('XSSCANARY')>名单.txt"
FORMULA_USER = '=HYPERLINK("http://evil.example","x")'


def _login(client, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return _form_login(client, username, password)


@pytest.fixture(scope="module")
def audit_home(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A data home with a quote and a note ingested and a manager beside the admin."""
    root = tmp_path_factory.mktemp("audit-home")
    settings = load_settings(
        environ={
            "DOSSIER_HOME": str(root / "home"),
            "DOSSIER_WORKERS": "1",
            "DOSSIER_LANGUAGE": "zh",
            "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0",
        },
        dotenv=Path("/nonexistent"),
    )
    Dossier.open(settings, require_init=False).init(admin_password=PASSWORD)
    d = Dossier.open(settings)
    files = root / "files"
    files.mkdir()
    (files / "报价单_珊瑚科技.txt").write_text("报价单 珊瑚科技 路由器 ¥12,000.00", encoding="utf-8")
    (files / "纪要_珊瑚科技.txt").write_text("会议纪要 珊瑚科技 路由器选型", encoding="utf-8")
    summary = d.ingest_paths([files])
    assert summary["ingested"] == 2, summary
    with d.sessions() as session:
        session.add(User(username="manager1", role="manager", password_hash=hash_password(PASSWORD)))
        session.commit()
    ids = {Path(doc["file"]).name: doc["id"] for doc in summary["documents"]}
    return {"dossier": d, "settings": settings, "ids": ids}


@pytest.fixture(scope="module")
def audit_app(audit_home: dict):
    """The web app over that home."""
    return create_app(audit_home["settings"], test_config={"TESTING": True})


@pytest.fixture()
def admin_client(audit_app):
    """A client logged in as admin."""
    client = audit_app.test_client()
    assert _login(client, "admin").status_code == 302
    return client


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr class="audit-event".*?</tr>', html, re.S)


def test_the_page_lists_the_trail_newest_first_in_chinese(admin_client, audit_home):
    """GIVEN a search and a document view WHEN the admin opens 审计日志 THEN the newest events come
    first with time, user, the action's Chinese name, the target (linked) and a summary; the menu has it."""
    doc_id = audit_home["ids"]["报价单_珊瑚科技.txt"]
    admin_client.get("/", query_string={"q": "路由器"})
    admin_client.get(f"/documents/{doc_id}")
    page = admin_client.get("/admin/audit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<a class="nav-audit" href="/admin/audit">审计日志</a>' in html
    assert "<h1>审计日志</h1>" in html and "导出 CSV" in html
    rows = _rows(html)
    assert 'data-action="view"' in rows[0] and 'data-action="search"' in rows[1]
    title = audit_home["dossier"].show(doc_id, Principal.system())["title"]
    # the target by its title, linked (the id in the tooltip), not "文档 #id"
    link = f'<a href="/documents/{doc_id}" title="文档 #{doc_id}">{title}</a>'
    assert "查看文档" in rows[0] and link in unescape(rows[0])
    assert f'<span class="audit-summary-text">title={title}</span>' in unescape(rows[0])
    assert ">admin<" in rows[1] and "搜索" in rows[1] and "“路由器” → 2" in unescape(rows[1])
    # the time in DOSSIER_TIMEZONE (Asia/Shanghai), the UTC instant in datetime=, the full time on hover
    assert re.search(
        r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" title="[^"]+ \(UTC\+08:00\)">\d{4}-\d\d-\d\d \d\d:\d\d</time>',
        rows[0],
    )
    english = admin_client.get("/admin/audit", query_string={"lang": "en"}).get_data(as_text=True)
    assert "<h1>Audit trail</h1>" in english and "Export CSV" in english and ">View<" in english
    admin_client.get("/admin/audit", query_string={"lang": "zh"})


def test_the_menu_entry_is_for_admins_only(audit_app):
    """A manager's pages have no 审计日志 link, and the page itself is 404 for them."""
    client = audit_app.test_client()
    assert _login(client, "manager1").status_code == 302
    assert "nav-audit" not in client.get("/").get_data(as_text=True)
    assert client.get("/admin/audit").status_code == 404


def test_a_deleted_document_is_named_but_not_linked(admin_client, audit_home):
    """After a document is deleted its events stay; the target says 已删除 instead of linking to a 404."""
    d = audit_home["dossier"]
    doc_id = audit_home["ids"]["纪要_珊瑚科技.txt"]
    admin_client.get(f"/documents/{doc_id}")
    d.documents.delete(doc_id, Principal.system())
    html = admin_client.get(
        "/admin/audit", query_string={"target_type": "document", "target_id": doc_id}
    ).get_data(as_text=True)
    rows = _rows(html)
    assert [re.search(r'data-action="(\w+)"', r).group(1) for r in rows] == ["trash", "view"]  # type: ignore[union-attr]
    assert all(f'href="/documents/{doc_id}"' not in r and "（已删除）" in r for r in rows)
    assert '<option value="document" selected>文档</option>' in html


def test_filters_and_pages_keep_each_other(admin_client, audit_home):
    """GIVEN 60 events of one user WHEN the admin filters by that user THEN 50 show, the next page has
    the other 10, and every pager and CSV link carries the filters; other filters narrow further."""
    d = audit_home["dossier"]
    for n in range(60):
        d.audit.record(
            "pager",
            "search",
            target_type="search",
            detail={"query": f"分页测试 {n}", "total": n, "channel": "api"},
        )
    d.audit.record(
        "pager", "download", target_type="document", target_id=999, detail={"filename": "分页测试.pdf"}
    )
    first = admin_client.get("/admin/audit", query_string={"user": "pager", "action": "search"}).get_data(
        as_text=True
    )
    assert "共 60 条记录" in first and len(_rows(first)) == 50 and "第 1 / 2 页" in first
    next_href = unescape(re.search(r'<a rel="next" href="([^"]+)"', first).group(1))  # type: ignore[union-attr]
    assert "user=pager" in next_href and "action=search" in next_href and "page=2" in next_href
    second = admin_client.get(next_href).get_data(as_text=True)
    assert len(_rows(second)) == 10 and "分页测试 9" in second and "分页测试 10" not in second
    assert '<a rel="prev"' in second
    csv_href = unescape(re.search(r'<a class="audit-csv" href="([^"]+)"', first).group(1))  # type: ignore[union-attr]
    assert csv_href.startswith("/admin/audit.csv?") and "user=pager" in csv_href and "page=" not in csv_href

    texts = admin_client.get("/admin/audit", query_string={"user": "pager", "q": "分页测试 5"}).get_data(
        as_text=True
    )
    assert "共 11 条记录" in texts  # 5, 50-59
    downloads = admin_client.get(
        "/admin/audit", query_string={"user": "pager", "action": "download"}
    ).get_data(as_text=True)
    # a document gone from the records: the title its event recorded, marked deleted
    assert "共 1 条记录" in downloads and ">分页测试.pdf</span>" in downloads and "（已删除）" in downloads
    future = admin_client.get("/admin/audit", query_string={"user": "pager", "from": "2999-01-01"}).get_data(
        as_text=True
    )
    assert "没有符合条件的记录。" in future and "共 0 条记录" in future
    today = admin_client.get("/admin/audit", query_string={"user": "pager", "to": "2999-01-01"}).get_data(
        as_text=True
    )
    assert "共 61 条记录" in today
    bad = admin_client.get("/admin/audit", query_string={"from": "03/15/2024"})
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.get_data(as_text=True)


def _csv(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    body = response.data
    assert body.startswith(b"\xef\xbb\xbf")
    text = body[3:].decode("utf-8")
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text)))


def test_the_csv_is_an_attachment_with_the_filters_and_no_live_formulas(admin_client, audit_app, audit_home):
    """GIVEN a failed login whose user name is a spreadsheet formula WHEN the admin downloads the CSV
    of the login failures THEN it is a UTF-8 (BOM) attachment holding exactly those events, the formula
    cell starts with ' (text, never evaluated), and the export itself is audited."""
    anonymous = audit_app.test_client()
    assert _login(anonymous, FORMULA_USER, "not-the-password").status_code == 401
    response = admin_client.get("/admin/audit.csv", query_string={"action": "login_failed"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and response.headers["Cache-Control"] == "private, no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and re.search(
        r'filename="dossier-audit-\d{8}-\d{6}\.csv"', disposition
    )
    rows = _csv(response)
    assert rows[0][:4] == ["编号 id", "时间（UTC） time (UTC)", "用户 user", "操作 action"]
    body = rows[1:]
    assert body and {r[3] for r in body} == {"login_failed"} and {r[4] for r in body} == {"登录失败"}
    evil = [r for r in body if FORMULA_USER in r[2]]
    assert len(evil) == 1 and evil[0][2] == "'" + FORMULA_USER
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in body for cell in row)
    assert '"reason": "unknown_user"' in evil[0][8]

    d = audit_home["dossier"]
    exported = d.audit.events(Principal.system(), _filter(actions=("audit_export",)))["events"][0]
    assert exported["username"] == "admin" and exported["target_type"] == "audit"
    assert exported["detail"] == {
        "format": "csv",
        "filters": {"actions": ["login_failed"]},
        "rows": len(body),
        "complete": True,
    }


def _filter(**fields):  # type: ignore[no-untyped-def]
    from dossier.app.audit import AuditFilter

    return AuditFilter(**fields)


def test_a_script_in_a_query_or_a_file_name_shows_as_text(admin_client, audit_app):
    """A search for <script>… and an upload named <img onerror=…> are listed escaped, never as markup."""
    admin_client.get("/", query_string={"q": XSS_QUERY})
    token = _csrf(admin_client.get("/upload").get_data(as_text=True))
    posted = admin_client.post(
        "/upload",
        data={"csrf_token": token, "files": [(io.BytesIO("珊瑚 名单".encode()), XSS_FILE)]},
        content_type="multipart/form-data",
    )
    assert posted.status_code == 303
    html = admin_client.get("/admin/audit", query_string={"q": "XSSCANARY"}).get_data(as_text=True)
    assert len(_rows(html)) == 2
    assert "XSSCANARY" in html and "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#39;XSSCANARY&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(&#39;XSSCANARY&#39;)&gt;名单.txt" in html
    assert 'value="XSSCANARY"' in html  # the filter box keeps what was typed


def test_the_page_has_no_inline_script_or_style(admin_client):
    """Under a CSP of script-src 'self'; style-src 'self' the page works: no inline scripts, styles or style attributes."""
    html = admin_client.get("/admin/audit").get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "<style" not in html and not re.search(r"\sstyle=", html)
    assert '<link rel="stylesheet" href="/static/admin.css">' in html
    assert admin_client.get("/static/admin.css").status_code == 200


def test_the_api_answers_json_with_the_same_filters_and_a_cursor(admin_client, audit_home):
    """GET /api/audit filters like the page, pages by `before`, caps `limit`, and says what was wrong in JSON."""
    d = audit_home["dossier"]
    for n in range(7):
        d.audit.record(
            "api-reader", "view", target_type="document", target_id=4242, detail={"title": f"接口 {n}"}
        )
    first = admin_client.get("/api/audit", query_string={"user": "api-reader", "limit": 5}).get_json()
    assert first["total"] == 7 and first["limit"] == 5 and len(first["events"]) == 5
    assert [e["detail"]["title"] for e in first["events"]] == [f"接口 {n}" for n in (6, 5, 4, 3, 2)]
    event = first["events"][0]
    assert set(event) == {
        "id",
        "at",
        "username",
        "action",
        "target_type",
        "target_id",
        "detail",
        "summary",
        "target_name",
        "target_exists",
    }
    assert event["target_exists"] is False and event["at"].endswith("Z")
    assert event["target_name"] == "接口 6"  # a gone document: the title its newest event recorded
    rest = admin_client.get(
        "/api/audit", query_string={"user": "api-reader", "limit": 5, "before": first["next_before"]}
    ).get_json()
    assert [e["detail"]["title"] for e in rest["events"]] == ["接口 1", "接口 0"] and rest[
        "next_before"
    ] is None
    assert admin_client.get("/api/audit", query_string={"limit": 100000}).get_json()["limit"] == 500
    bad = admin_client.get("/api/audit", query_string={"to": "tomorrow"})
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.get_json()["error"]
    assert admin_client.get("/api/audit", query_string={"target_id": "x"}).status_code == 400


def test_too_many_filter_values_are_refused_with_a_reason(admin_client):
    """GIVEN 51 user names in one filter WHEN the page or the API is asked THEN 400 with the limit, not a
    query with 51 parameters; values are cut to 64 characters."""
    many = ",".join(f"u{i}" for i in range(51))
    page = admin_client.get(f"/admin/audit?user={many}")
    assert page.status_code == 400 and "最多 50 个值" in page.get_data(as_text=True)
    api = admin_client.get(f"/api/audit?action={many}&lang=en")  # in the reader's language
    assert api.status_code == 400 and api.get_json()["error"] == "at most 50 values for action"
    long_name = admin_client.get("/api/audit?user=" + "z" * 500)
    assert long_name.status_code == 200 and long_name.get_json()["total"] == 0
