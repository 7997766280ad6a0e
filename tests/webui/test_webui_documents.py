"""The document page and the download of the original file."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from urllib.parse import unquote

import pytest

import records
from dossier.app.services import Dossier
from foundation.config import load_settings
from foundation.messages import render_stored
from index import Principal
from webui import create_app


def _doc(corpus_home, name: str) -> int:
    return corpus_home["id_of"](name)


def test_document_page_shows_metadata_and_pages(admin, corpus_home):
    """The page shows the file name, type, customer, tags, status, each page's text and a download button."""
    doc_id = _doc(corpus_home, "产品购销合同_Pacific Rim_HT-2024-0315.pdf")
    shown = corpus_home["dossier"].show(doc_id, Principal.system())
    html = admin.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert "产品购销合同_Pacific Rim_HT-2024-0315.pdf" in html
    assert "Pacific Rim" in html and "重点" in html
    assert 'class="badge badge-indexed">已入库' in html
    assert f'href="/documents/{doc_id}/download"' in html and "下载原始文件" in html
    assert len(re.findall(r'<section class="page" id="page-\d+">', html)) == len(shown["pages"]) >= 2
    assert "第 1 页" in html and "第 2 页" in html
    assert shown["sha256"] in html
    assert "<mark>" not in html  # nothing to highlight without a query
    reason = render_stored(shown["doc_type_reason"], "zh")
    assert reason.startswith("标题含") and f"（{reason}）" in unescape(html)  # why it is a 合同
    english = unescape(admin.get(f"/documents/{doc_id}?lang=en").get_data(as_text=True))
    assert f"({render_stored(shown['doc_type_reason'], 'en')})" in english and "(title says" in english


def test_arriving_from_a_search_highlights_the_terms(admin, corpus_home):
    """With ?q= the page text has the query's terms in <mark>."""
    doc_id = _doc(corpus_home, "产品购销合同_Pacific Rim_HT-2024-0315.pdf")
    html = admin.get(f"/documents/{doc_id}", query_string={"q": "合同 甲方"}).get_data(as_text=True)
    assert "<mark>合同</mark>" in html
    assert "<mark>甲方</mark>" in html
    assert "已高亮：合同 甲方" in html
    # the back link returns to the same search
    assert 'href="/?q=%E5%90%88%E5%90%8C+%E7%94%B2%E6%96%B9"' in html


def test_unparsable_query_on_document_page_just_highlights_nothing(admin, corpus_home):
    """A q that is not valid syntax does not break the document page."""
    doc_id = _doc(corpus_home, "产品购销合同_Pacific Rim_HT-2024-0315.pdf")
    r = admin.get(f"/documents/{doc_id}", query_string={"q": '客户:""'})
    assert r.status_code == 200
    assert "<mark>" not in r.get_data(as_text=True)


def test_awaiting_ocr_is_shown_clearly(admin, corpus_home):
    """A scanned PDF whose pages wait for OCR says so at the top and on each such page."""
    doc_id = _doc(corpus_home, "SCAN_20240115_0002.pdf")
    html = admin.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert "等待 OCR" in html
    assert 'class="flash flash-warning awaiting-ocr"' in html
    assert html.count('class="page page-needs-ocr"') == 2
    assert 'badge badge-awaiting_ocr">等待 OCR' in html


def test_failed_document_shows_the_reason(admin, corpus_home):
    """A file that failed to parse shows 失败 and its one-line reason."""
    failure = corpus_home["dossier"].status()["recent_failures"][0]
    html = admin.get(f"/documents/{failure['id']}").get_data(as_text=True)
    assert "badge badge-failed" in html and "失败" in html
    assert render_stored(failure["error"], "zh") in html


def test_email_links_to_its_attachment_and_back(admin, corpus_home):
    """An e-mail lists its attachments; an attachment links back to its e-mail."""
    email_id = _doc(corpus_home, "合同草稿请审阅：HT-2024-0205.eml")
    child = corpus_home["dossier"].show(email_id, Principal.system())["children"][0]
    html = admin.get(f"/documents/{email_id}").get_data(as_text=True)
    assert f'href="/documents/{child["id"]}"' in html and child["filename"] in html
    html = admin.get(f"/documents/{child['id']}").get_data(as_text=True)
    # named by the e-mail's file name, not "#id"
    assert f'class="parent" href="/documents/{email_id}">合同草稿请审阅：HT-2024-0205.eml</a>' in html


def test_unknown_document_is_a_friendly_404(admin):
    """An unknown id gives the Chinese 404 page (the same answer as a document one may not read)."""
    r = admin.get("/documents/999999")
    assert r.status_code == 404
    assert "不存在" in r.get_data(as_text=True)
    assert admin.get("/documents/999999/download").status_code == 404


def test_download_returns_the_exact_original(admin, corpus_home):
    """The download is byte-for-byte the ingested file, as an attachment with a UTF-8 file name."""
    path = next(p for p in corpus_home["paths"] if p.name == "产品购销合同_Pacific Rim_HT-2024-0315.pdf")
    doc_id = _doc(corpus_home, path.name)
    r = admin.get(f"/documents/{doc_id}/download")
    assert r.status_code == 200
    assert r.data == path.read_bytes()
    assert r.mimetype == "application/pdf"
    cd = r.headers["Content-Disposition"]
    assert cd.startswith('attachment; filename="Pacific_Rim_HT-2024-0315.pdf"; ')
    assert unquote(cd.split("filename*=UTF-8''", 1)[1]) == path.name
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_download_of_html_is_never_rendered(admin, corpus_home):
    """An HTML original with scripts is served as opaque bytes, sandboxed, as an attachment."""
    path = next(p for p in corpus_home["paths"] if p.name == "产品介绍_蓝鲸.html")
    r = admin.get(f"/documents/{_doc(corpus_home, path.name)}/download")
    assert r.data == path.read_bytes()
    assert r.mimetype == "application/octet-stream"
    assert r.headers["Content-Disposition"].startswith('attachment; filename="document-')
    assert "sandbox" in r.headers["Content-Security-Policy"]


def test_download_names_are_safe(admin, corpus_home):
    """Hostile and very long names give a header with no quotes, angle brackets or line breaks."""
    for path in corpus_home["paths"]:
        if not path.name.startswith("<img") and not path.name.startswith("2024年度"):
            continue
        r = admin.get(f"/documents/{_doc(corpus_home, path.name)}/download")
        assert r.data == path.read_bytes()
        cd = r.headers["Content-Disposition"]
        fallback = re.match(r'attachment; filename="([^"]*)"; filename\*=UTF-8\'\'(\S+)$', cd)
        assert fallback, cd
        assert re.fullmatch(r"[A-Za-z0-9._()+-]+", fallback.group(1))
        assert unquote(fallback.group(2)) == path.name


def test_hostile_document_is_escaped_on_its_page(admin, corpus_home):
    """File name and text with <script>/<img onerror> are shown as text on the document page."""
    doc_id = _doc(corpus_home, corpus_home["xss_file"].name)
    html = admin.get(f"/documents/{doc_id}", query_string={"q": "珊瑚"}).get_data(as_text=True)
    assert "<script>alert" not in html
    assert not re.search(r"<[a-z]+[^>]*\son[a-z]+=", html)
    assert "&lt;script&gt;alert(&#39;XSSCANARY&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(&#39;XSSCANARY&#39;)&gt;" in html
    assert "<mark>珊瑚</mark>" in html
    html = admin.get(f"/documents/{_doc(corpus_home, '产品介绍_蓝鲸.html')}").get_data(as_text=True)
    assert "蓝鲸计划产品介绍" in html
    assert "XSSCANARY" not in html or "&lt;" in html
    assert not re.search(r"<[a-z]+[^>]*\son[a-z]+=", html)


def test_document_page_in_english(admin, corpus_home):
    """The document page translates labels with ?lang=en."""
    doc_id = _doc(corpus_home, "SCAN_20240115_0002.pdf")
    html = admin.get(f"/documents/{doc_id}?lang=en").get_data(as_text=True)
    assert "Download original" in html and "Awaiting OCR" in html and "Page 1" in html


@pytest.fixture()
def finance_doc(tmp_path):
    """GIVEN a data home with a finance-only document, an admin and a sales user."""
    settings = load_settings(
        environ={"DOSSIER_HOME": str(tmp_path), "DOSSIER_WORKERS": "1"}, dotenv=Path("/nonexistent")
    )
    Dossier.open(settings, require_init=False).init(admin_password="admin-pw-123")
    d = Dossier.open(settings)
    invoice = tmp_path / "发票_回款.txt"
    invoice.write_text("翡翠发票：价税合计 ¥12,345.00，仅财务可见。", encoding="utf-8")
    doc_id = d.ingest_paths([str(invoice)])["documents"][0]["id"]
    with d.sessions() as session:
        session.get(records.Document, doc_id).confidentiality = "finance"
        session.add(
            records.User(username="sam", password_hash=records.hash_password("sales-pw-123"), role="sales")
        )
        session.commit()
    return create_app(settings, test_config={"TESTING": True}), doc_id


def test_unreadable_document_is_404_never_403(finance_doc, login):
    """A sales user gets the same 404 for a finance document as for a missing one; admin reads it."""
    app, doc_id = finance_doc
    sales = app.test_client()
    assert login(sales, username="sam", password="sales-pw-123").status_code == 302
    for path in (f"/documents/{doc_id}", f"/documents/{doc_id}/download", f"/api/documents/{doc_id}"):
        r = sales.get(path)
        assert r.status_code == 404, path
        assert "翡翠" not in r.get_data(as_text=True)
    admin = app.test_client()
    login(admin, password="admin-pw-123")
    assert "翡翠发票" in admin.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert admin.get(f"/documents/{doc_id}/download").status_code == 200


# -- linked customers and entities (the folder data home of conftest.py) ---------------------------


def _entity_section(html: str) -> str:
    start = html.index('<dl class="entities">')
    return html[start : html.index("</dl>", start)]


def test_document_page_links_its_customers_with_how_they_were_linked(folder_login, folder_home):
    """Each linked customer links to its folder and says how it was linked (method and evidence)."""
    ids = folder_home["customers"]
    html = folder_login("admin").get(f"/documents/{folder_home['docs']['d1']}").get_data(as_text=True)
    links = re.findall(
        r'<div class="customer-link">\s*<a href="/customers/(\d+)">([^<]+)</a>.*?'
        r'<span class="badge badge-method" title="关联方式">([^<]+)</span>\s*'
        r'<span class="muted evidence">([^<]+)</span>',
        html,
        re.S,
    )
    assert links == [
        (str(ids["mingyuan"]), "杭州明远科技有限公司", "信用代码一致", "统一社会信用代码 91330106MA2B3C4D5E"),
        (str(ids["hengda"]), "苏州恒达贸易有限公司", "全称一致", "正文提到 苏州恒达贸易有限公司"),
    ]
    # the type and why: of the stored bilingual reason, only the Chinese half on a Chinese page
    assert "（标题含“产品”）" in html and "the title says so" not in html


def test_document_page_groups_entities_by_kind(folder_login, folder_home):
    """Entities are grouped under Chinese labels in the kinds' order, each value once, amounts as ¥1,234.00,
    with the label that introduced it; a credit code with a wrong check character is flagged."""
    html = folder_login("admin").get(f"/documents/{folder_home['docs']['d1']}").get_data(as_text=True)
    section = _entity_section(html)
    labels = re.findall(r'<dt class="entity-kind entity-\w+">([^<]+)</dt>', section)
    assert labels == ["公司", "联系人", "电话", "邮箱", "统一社会信用代码", "金额", "日期", "合同编号"]
    values = [
        unescape(v)
        for v in re.findall(r'<a class="entity-value" href="[^"]+" title="[^"]*">([^<]+)</a>', section)
    ]
    assert values == [
        "杭州明远科技有限公司",
        "上海云启信息技术有限公司",
        "李明",
        "赵强",
        "13812345678",
        "liming@mingyuan.cn",
        "zhaoqiang@yunqi.com",
        "91330106MA2B3C4D5E",
        "91310000MA1FL1234X",
        "¥120,000.00",
        "¥5,000.00",
        "2024-03-15",
        "HT-2024-0315",
    ]
    invalid = re.findall(
        r'<li class="entity entity-invalid">.*?>([0-9A-Z]{18})</a>\s*<span class="badge badge-invalid">校验位错误',
        section,
        re.S,
    )
    assert invalid == ["91310000MA1FL1234X"]
    assert section.count("校验位错误") == 1
    assert '<span class="muted entity-role">合同总价</span>' in section


def test_entity_link_marks_the_entity_on_its_page(folder_login, folder_home):
    """Following an entity's link shows its page with exactly its text in the one entity <mark>."""
    client = folder_login("admin")
    doc_id = folder_home["docs"]["d1"]
    section = _entity_section(client.get(f"/documents/{doc_id}").get_data(as_text=True))
    for shown, surface, page in (
        ("13812345678", "138-1234-5678", 1),
        ("91310000MA1FL1234X", "91310000MA1FL1234X", 2),
    ):
        href = unescape(
            re.search(rf'<a class="entity-value" href="([^"]+)" title="[^"]*">{shown}</a>', section).group(1)
        )
        assert href.endswith("#entity-mark")
        html = client.get(href.split("#")[0]).get_data(as_text=True)
        marks = re.findall(r'<mark class="entity-mark" id="entity-mark">([^<]*)</mark>', html)
        assert marks == [surface]
        assert html.index('id="entity-mark"') > html.index(f'id="page-{page}"')
        assert "已在正文中标出所选信息" in html


@pytest.mark.parametrize("mark", ["1:5:2", "9:0:3", "1:0:99999", "x", "1:2", "-1:0:3"])
def test_a_bad_mark_marks_nothing(folder_login, folder_home, mark):
    """A mark that is malformed or outside the page is ignored: the page shows, unmarked."""
    r = folder_login("admin").get(f"/documents/{folder_home['docs']['d1']}", query_string={"mark": mark})
    assert r.status_code == 200
    assert 'id="entity-mark"' not in r.get_data(as_text=True)


def test_entities_in_english(folder_login, folder_home):
    """The kind labels and the invalid-code flag are translated with ?lang=en."""
    html = folder_login("admin").get(f"/documents/{folder_home['docs']['d1']}?lang=en").get_data(as_text=True)
    for text in (
        "Company",
        "Contact person",
        "Unified social credit code",
        "wrong check character",
        "same credit code",
    ):
        assert text in html, text


def test_entity_groups_and_amount_format():
    """Without mentions the plain values are listed (no places); amounts format as yuan."""
    from webui.documents import entity_groups, yuan

    groups = entity_groups(
        [], {"phone": ["13812345678"], "amount": ["10500.00"], "zz_other": ["x"], "email": []}
    )
    assert [g["kind"] for g in groups] == ["phone", "amount", "zz_other"]
    assert groups[0]["items"] == [
        {"value": "13812345678", "text": "13812345678", "valid": True, "roles": [], "places": []}
    ]
    mentions = [
        {
            "kind": "amount",
            "value": "10500.00",
            "text": "壹万零伍佰元",
            "page": 1,
            "start": 3,
            "end": 9,
            "role": "总价",
        },
        {
            "kind": "amount",
            "value": "10500.00",
            "text": "¥10,500",
            "page": 1,
            "start": 20,
            "end": 27,
            "role": "总价",
        },
        {
            "kind": "amount",
            "value": "10500.00",
            "text": "10500",
            "page": 3,
            "start": 0,
            "end": 5,
            "role": "合计",
        },
    ]
    (group,) = entity_groups(mentions, {"amount": ["10500.00"]})
    assert group["items"] == [
        {
            "value": "10500.00",
            "text": "壹万零伍佰元",
            "valid": True,
            "roles": ["总价", "合计"],
            "places": [{"page": 1, "mark": "1:3:9"}, {"page": 3, "mark": "3:0:5"}],
        }
    ]
    assert [yuan(v) for v in ("1234", "1234567.5", "-20.00", "0.00", "n/a")] == [
        "¥1,234.00",
        "¥1,234,567.50",
        "-¥20.00",
        "¥0.00",
        "n/a",
    ]
