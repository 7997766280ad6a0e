"""The results page of issue 17: first-page thumbnails (cached, permission-checked, revalidated by ETag), display
titles, the file-format and scans-only filters, every facet one checkbox control, the folded export bar."""

from __future__ import annotations

import io
import re
from html import unescape

from PIL import Image

from dossier.app.thumbnails import THUMB_HEIGHT, THUMB_WIDTH
from index import file_format

THUMB = re.compile(
    r'<img src="/documents/(\d+)/thumbnail.png" loading="lazy" decoding="async" width="72" height="96" alt="">'
)


def _picture(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_every_document_hit_has_a_lazy_thumbnail(admin):
    """Each document hit shows its first page: an <img loading=lazy> with a size and an empty alt."""
    html = admin.get("/?all=1&limit=100").get_data(as_text=True)
    hits = [int(i) for i in re.findall(r'<h2 class="hit-title"><a href="/documents/(\d+)', html)]
    thumbs = [int(i) for i in THUMB.findall(html)]
    assert hits and thumbs == hits


def test_thumbnails_of_every_kind_of_document(admin, corpus_home):
    """A PDF shows its page, a Word file, e-mail or text file its first lines, an HTML page its text: each a
    small PNG of the thumbnail's size, private, with an ETag."""
    for name in (
        "产品购销合同_Pacific Rim_HT-2024-0315.pdf",
        "技术服务合同_恒达贸易_FW-2024-013_终稿.docx",
        "合同草稿请审阅：HT-2024-0205.eml",
        "等保整改服务协议_金桥电气_FW-2024-192.txt",
        "产品介绍_蓝鲸.html",
        "SCAN_20240115_0002.pdf",
    ):
        response = admin.get(f"/documents/{corpus_home['id_of'](name)}/thumbnail.png")
        assert response.status_code == 200, name
        assert response.mimetype == "image/png"
        assert response.headers["Cache-Control"] == "private, no-cache"
        assert response.headers["ETag"]
        assert _picture(response.data).size == (THUMB_WIDTH, THUMB_HEIGHT), name
        assert len(response.data) < 40_000, (name, len(response.data))


def test_a_repeat_view_is_a_304_without_a_body(admin, corpus_home):
    doc_id = corpus_home["id_of"]("产品购销合同_Pacific Rim_HT-2024-0315.pdf")
    first = admin.get(f"/documents/{doc_id}/thumbnail.png")
    etag = first.headers["ETag"]
    again = admin.get(f"/documents/{doc_id}/thumbnail.png", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    other = admin.get(f"/documents/{doc_id}/thumbnail.png", headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200 and other.data == first.data


def test_a_text_thumbnail_draws_the_text(admin, corpus_home):
    """The text card is not blank: it has dark pixels (the lines) on white."""
    doc_id = corpus_home["id_of"]("等保整改服务协议_金桥电气_FW-2024-192.txt")
    image = _picture(admin.get(f"/documents/{doc_id}/thumbnail.png").data).convert("L")
    top = image.crop((0, 0, THUMB_WIDTH, THUMB_HEIGHT // 2))
    darkest, lightest = top.getextrema()
    assert darkest < 120 and lightest > 240


def test_thumbnails_are_not_audited_as_views(admin, corpus_home):
    from sqlalchemy import func, select

    from records import AuditEvent

    d = corpus_home["dossier"]
    doc_id = corpus_home["id_of"]("销售合同_泰和设计_HT-2023-1129.pdf")

    def views() -> int:
        with d.sessions() as session:
            return session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "view", AuditEvent.target_id == doc_id)
            )

    before = views()
    assert admin.get(f"/documents/{doc_id}/thumbnail.png").status_code == 200
    assert views() == before


def test_unknown_document_and_anonymous_get_no_thumbnail(app, admin):
    assert admin.get("/documents/999999/thumbnail.png").status_code == 404
    anonymous = app.test_client().get("/documents/1/thumbnail.png")
    assert anonymous.status_code in (302, 401) and not anonymous.data.startswith(b"\x89PNG")


def test_file_format_names():
    assert file_format("application/pdf", "a.pdf") == "pdf"
    assert file_format("application/octet-stream", "报价.DOCX") == "word"
    assert file_format("", "表.xlsx") == "excel"
    assert file_format("", "介绍.pptx") == "powerpoint"
    assert file_format("image/jpeg", "x") == "image"
    assert file_format("message/rfc822", "m.eml") == "email"
    assert file_format("", "包.zip") == "archive"
    assert file_format("", "noext") == "other"


# -- facets, titles, filters ----------------------------------------------------------------------------


def _facet(html: str, name: str) -> list[tuple[str, str, int, bool, str]]:
    """(param, value, count, checked, hover title) of each checkbox of one facet."""
    m = re.search(rf'<fieldset class="facet facet-{name}">.*?</fieldset>', html, re.S)
    if m is None:
        return []
    found = re.findall(
        r'<label title="([^"]*)"><input type="checkbox" name="([^"]+)" value="([^"]*)"( checked)?>\s*'
        r'<span class="facet-value">[^<]*</span>\s*<span class="count">(\d+)</span>',
        m.group(0),
    )
    return [(p, unescape(v), int(n), bool(c), unescape(t)) for t, p, v, c, n in found]


def test_every_facet_is_checkboxes_with_counts(folder_login):
    """Document type, customer and the customer facets are all checkbox lists with counts and full names on hover."""
    html = folder_login("admin").get("/?q=服务器").get_data(as_text=True)
    assert 'class="facet-link' not in html and '<nav class="facet' not in html
    for name in ("doc_type", "customer_type", "industry", "region", "year"):
        values = _facet(html, name)
        assert values, name
        assert all(n > 0 and not checked and title for _p, _v, n, checked, title in values), name
    assert [(v, n) for _p, v, n, _c, _t in _facet(html, "customer_type")] == [
        ("现有客户", 5),
        ("流失客户", 2),
        ("潜在客户", 2),
    ]


def test_a_ticked_facet_filters_and_stays_ticked(folder_login, folder_home):
    client = folder_login("admin")
    html = client.get("/?q=服务器&customer_type=潜在客户").get_data(as_text=True)
    found = {int(i) for i in re.findall(r'<h2 class="hit-title"><a href="/documents/(\d+)', html)}
    assert found == {folder_home["docs"]["d6"], folder_home["docs"]["d7"]}
    ((param, _value, count, checked, _t),) = [f for f in _facet(html, "customer_type") if f[1] == "潜在客户"]
    assert (param, count, checked) == ("customer_type", 2, True)
    # a value chosen without hits still shows, ticked with 0, so that it can be unticked
    none = client.get("/?q=服务器&region=火星").get_data(as_text=True)
    assert ("region", "火星", 0, True, "火星") in _facet(none, "region")


def test_customer_types_read_in_the_pages_language(folder_login):
    """The customer-type facet and its chip name the stored types (潜在客户 …) in English on the English page."""
    client = folder_login("admin")
    every = client.get("/?q=服务器&lang=en").get_data(as_text=True)
    shown = {unescape(t) for t in re.findall(r'<span class="facet-value">([^<]*)</span>', every)}
    assert {"Prospect", "Current customer", "Lost customer"} <= shown
    en = client.get("/?q=服务器&customer_type=潜在客户&lang=en").get_data(as_text=True)
    assert "Customer type: Prospect ×" in unescape(en)
    assert "潜在客户" not in re.sub(r'(value|href|title)="[^"]*"', "", en.split('class="hits"')[0])
    zh = client.get("/?q=服务器&customer_type=潜在客户&lang=zh").get_data(as_text=True)
    assert "Prospect" not in zh and "潜在客户" in zh


def test_document_type_and_file_format_are_labelled_apart(admin):
    zh = admin.get("/?q=合同").get_data(as_text=True)
    assert "<legend>文档类型</legend>" in zh and "文件类型" not in zh
    en = admin.get("/?q=合同&lang=en").get_data(as_text=True)
    assert "<legend>Document type</legend>" in en


def test_format_and_scan_facets_render_when_offered(app):
    """The format and scans-only facets (supplied by the search layer) render as checkboxes, labelled per
    language; the page works as well without them."""
    from flask import render_template

    from index import SearchRequest
    from webui.search import facet_groups

    facets = {
        "format": [{"value": "pdf", "count": 3}, {"value": "word", "count": 2}],
        "scan": [{"value": "scan", "count": 1}],
    }
    req = SearchRequest(query="合同")
    groups = facet_groups(req, facets)
    assert [g["name"] for g in groups] == ["format"]
    assert groups[0]["values"] == [("pdf", 3, False), ("word", 2, False)]
    for lang, words in (
        ("zh", ("文件格式", "Word 文档", "仅扫描件")),
        ("en", ("File format", "Word", "Scans only")),
    ):
        with app.test_request_context(f"/?q=合同&lang={lang}"):
            from flask import g

            from index import Principal

            g.principal = Principal.system()
            html = render_template(
                "search/index.html",
                req=req,
                q="合同",
                page=1,
                filtered=False,
                result={"total": 0, "hits": [], "facets": facets, "took_ms": 1.0},
                error=None,
                pages=[],
                page_count=1,
                customer_names={},
                facet_groups=groups,
                scans_only=False,
                thumb_size=(72, 96),
                browse_all=False,
            )
        for word in words:
            assert word in html, (lang, word)
        assert 'name="file_format" value="pdf"' in html and 'name="scan" value="1"' in html


def test_a_generic_title_shows_the_display_title_with_the_original_on_hover(app):
    from flask import g, render_template

    from index import Principal, SearchRequest

    hit = {
        "id": 1,
        "title": "采购合同",
        "display_title": "合同 · 明远科技 · HT-2024-0315 · 2024-03-15",
        "doc_type": "contract",
        "filename": "采购合同.pdf",
        "snippet": "",
        "customer": "",
        "date": "",
    }
    with app.test_request_context("/?q=合同"):
        g.principal = Principal.system()
        html = render_template(
            "search/index.html",
            req=SearchRequest(query="合同"),
            q="合同",
            page=1,
            filtered=False,
            result={"total": 1, "hits": [hit], "facets": {}, "took_ms": 1.0},
            error=None,
            pages=[],
            page_count=1,
            customer_names={},
            facet_groups=[],
            scans_only=False,
            thumb_size=(72, 96),
            browse_all=False,
        )
    assert (
        '<span class="display-title" title="原标题：采购合同">合同 · 明远科技 · HT-2024-0315 · 2024-03-15</span>'
        in html
    )


def test_the_export_bar_is_one_button_until_opened(admin):
    html = admin.get("/?q=合同").get_data(as_text=True)
    bar = re.search(r'<section class="export-bar".*?</section>', html, re.S).group(0)
    assert '<details class="export-fold">' in bar and '<details class="export-fold" open' not in bar
    assert '<summary class="button export-open">导出…</summary>' in bar
    assert 'form="export-form" name="format" value="csv"' in bar
    en = admin.get("/?q=合同&lang=en").get_data(as_text=True)
    assert ">Export…</summary>" in en


def test_the_page_loads_its_stylesheet_and_script_and_folds_the_filters(admin):
    html = admin.get("/?q=合同").get_data(as_text=True)
    assert "/static/search.css" in html and "/static/search.js" in html
    assert '<details class="filters-panel" open>' in html and 'class="filters-toggle"' in html
    assert admin.get("/static/search.js").status_code == 200


def test_a_page_is_fitted_to_the_thumbnail_box():
    """A tall page keeps its top; a wide one (a landscape photo or sheet) sits on white; both come out 144×192."""
    from dossier.app.thumbnails import _fit_page

    def png(size: tuple[int, int], colour: str) -> bytes:
        out = io.BytesIO()
        Image.new("RGB", size, colour).save(out, "PNG")
        return out.getvalue()

    tall = _picture(_fit_page(png((300, 1000), "black"))).convert("RGB")
    assert tall.size == (THUMB_WIDTH, THUMB_HEIGHT) and tall.getpixel((70, THUMB_HEIGHT - 1)) == (0, 0, 0)
    wide = _picture(_fit_page(png((1000, 300), "black"))).convert("RGB")
    assert wide.size == (THUMB_WIDTH, THUMB_HEIGHT)
    assert wide.getpixel((70, 5)) == (0, 0, 0) and wide.getpixel((70, THUMB_HEIGHT - 1)) == (255, 255, 255)
