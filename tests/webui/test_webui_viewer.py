"""The document page's viewer markup (templates/documents/_viewer.html), as a browser without scripts gets it.

Every page is listed with its text and, where pages are pictures, a lazy-loaded picture and a link to
it; the viewer bar (for static/viewer.js) is there but hidden; a scan shows its picture before its
text, a text PDF its text first; documents without pictures keep their text as before; the strict CSP
holds (no inline style or script); both languages read whole.
"""

from __future__ import annotations

import re

import pytest

from index import Principal

SCAN = "SCAN_20240115_0002.pdf"
PDF = "产品购销合同_Pacific Rim_HT-2024-0315.pdf"
DOCX = "技术服务合同_恒达贸易_FW-2024-013_终稿.docx"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _page_sections(html: str) -> list[str]:
    """The HTML of each listed page."""
    body = html.split('<div class="viewer-pages">', 1)[1]
    return re.split(r'<section class="page[^"]*" id="page-\d+">', body)[1:]


def _no_inline_style_or_script(html: str) -> None:
    assert " style=" not in html
    assert not re.search(r"<script(?![^>]*\ssrc=)", html), "every script comes from a file"


def test_a_scan_lists_every_page_picture_first_with_a_hidden_viewer_bar(admin, corpus_home):
    """GIVEN a scanned PDF (its pages await OCR) THEN both pages are listed, each with its picture
    (lazy, with a link) before its text; the viewer bar is hidden until the script shows it."""
    doc_id = corpus_home["id_of"](SCAN)
    html = admin.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert 'class="doc-text viewer viewer-images viewer-scan"' in html
    assert '<span class="badge badge-scan">扫描件</span>' in html
    assert re.search(r'<div class="viewer-bar" role="group" aria-label="页面查看器" hidden>', html)
    assert 'src="/static/viewer.js"' in html and 'href="/static/viewer.css"' in html
    pages = _page_sections(html)
    assert len(pages) == 2
    for n, page in enumerate(pages, start=1):
        src = f"/documents/{doc_id}/pages/{n}.png"
        assert f'<img loading="lazy" decoding="async" src="{src}" alt="第 {n} 页的页面图像">' in page
        assert f'<a class="page-image-link" href="{src}"' in page and "在新窗口打开页面图像" in page
        assert page.index("page-image-frame") < page.index("page-text-part"), "a scan: picture first"
        assert "识别出的文字" in page and "（此页没有文字）" in page
    assert "第 1 / 2 页" in html and 'data-template="第 {n} / 2 页"' in html
    assert "适合宽度" in html and "按 ← / → 键翻页" in html
    assert "awaiting OCR" not in html  # the Chinese page has no English halves
    _no_inline_style_or_script(html)


def test_the_viewer_reads_whole_in_english(admin, corpus_home):
    """?lang=en: the bar, the captions and the picture texts are English, without Chinese."""
    doc_id = corpus_home["id_of"](SCAN)
    html = admin.get(f"/documents/{doc_id}?lang=en").get_data(as_text=True)
    viewer = html.split('id="viewer"', 1)[1].split('class="comments"', 1)[0]
    for text in (
        "Page viewer",
        "Page 1 of 2",
        "Previous",
        "Next",
        "Zoom in",
        "Fit width",
        "Actual size (100%)",
    ):
        assert text in viewer, text
    assert (
        "Press ← / → to turn pages" in viewer and "Recognised text" in viewer and "Image of page 1" in viewer
    )
    assert not CJK.findall(viewer), CJK.findall(viewer)


def test_a_text_pdf_shows_its_text_first_with_the_search_terms_marked(admin, corpus_home):
    """A text PDF (not a scan) lists its text before its picture, with ?q= terms in <mark>."""
    doc_id = corpus_home["id_of"](PDF)
    html = admin.get(f"/documents/{doc_id}", query_string={"q": "合同"}).get_data(as_text=True)
    assert 'class="doc-text viewer viewer-images"' in html and "badge-scan" not in html
    pages = _page_sections(html)
    assert len(pages) == 2
    assert pages[0].index("page-text-part") < pages[0].index("page-image-frame")
    assert "页面文字" in pages[0] and "<mark>合同</mark>" in pages[0]
    assert "data-start" not in html  # the script opens the first page with a term


def test_an_entity_link_opens_the_viewer_on_its_page(admin, corpus_home):
    """?mark=PAGE:START:END marks the entity on its page and tells the viewer to open that page."""
    doc_id = corpus_home["id_of"](PDF)
    mentions = corpus_home["dossier"].show(doc_id, Principal.system())["entity_mentions"]
    m = max(mentions, key=lambda m: m["page"])
    html = admin.get(f"/documents/{doc_id}?mark={m['page']}:{m['start']}:{m['end']}").get_data(as_text=True)
    assert f'data-start="{m["page"]}"' in html
    page = _page_sections(html)[m["page"] - 1]
    assert f'<mark class="entity-mark" id="entity-mark">{m["text"]}</mark>' in page


@pytest.mark.parametrize("name", [DOCX, "合同草稿请审阅：HT-2024-0205.eml"])
def test_documents_without_page_pictures_show_their_text_as_before(admin, corpus_home, name):
    """Word files and e-mails have no page pictures: their text is listed, with no viewer bar or picture."""
    doc_id = corpus_home["id_of"](name)
    html = admin.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert 'class="doc-text viewer"' in html
    assert "viewer-bar" not in html and "/pages/" not in html and "页面文字" not in html
    assert '<div class="page-text">' in html
    _no_inline_style_or_script(html)


def test_a_version_page_lists_its_text_in_the_same_layout(admin, corpus_home):
    """A version's page uses the document layout (viewer.css) and lists its text, without pictures."""
    doc_id = corpus_home["id_of"](PDF)
    response = admin.get(f"/documents/{doc_id}/versions/1", query_string={"q": "合同"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'class="document document-page document-version"' in html and 'href="/static/viewer.css"' in html
    assert len(_page_sections(html)) == 2 and "<mark>合同</mark>" in html
    assert "viewer-bar" not in html and "/pages/" not in html
    _no_inline_style_or_script(html)
