"""The reader's language (``?lang=``) decides what errors and stored reasons say: one language, never both."""

from __future__ import annotations

import re
from html import unescape

from foundation.messages import msg
from records import Document

#: Chinese characters and full-width punctuation: none of them in an English message.
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")


def _error_message(html: str) -> str:
    found = re.search(r'<p class="error-message">(.*?)</p>', html, re.S)
    assert found, html[:500]
    return unescape(found.group(1)).strip()


def test_an_error_page_speaks_the_readers_language(admin):
    """GIVEN a document that does not exist WHEN its page is asked in English THEN 404 says so in English only,
    and in Chinese only with ?lang=zh."""
    english = admin.get("/documents/999999?lang=en")
    assert english.status_code == 404
    text = _error_message(english.get_data(as_text=True))
    assert text == "document 999999 not found" and not CJK.search(text)
    chinese = admin.get("/documents/999999?lang=zh")
    assert (
        chinese.status_code == 404 and _error_message(chinese.get_data(as_text=True)) == "文档 999999 不存在"
    )


def test_a_json_error_speaks_the_readers_language(admin):
    """GIVEN an unknown export format or document WHEN the API is asked in English THEN the JSON error is English
    only; in Chinese it is Chinese only."""
    bad = admin.get("/api/export/plan?format=bogus&lang=en")
    assert bad.status_code == 400
    error = bad.get_json()["error"]
    assert error == "unknown export format 'bogus'; use csv, xlsx, jsonl or zip" and not CJK.search(error)
    missing = admin.get("/api/documents/999999")  # the session keeps the language the reader chose
    assert missing.status_code == 404 and missing.get_json()["error"] == "document 999999 not found"
    bad = admin.get("/api/export/plan?format=bogus&lang=zh")
    assert bad.status_code == 400
    assert bad.get_json()["error"] == "未知的导出格式 'bogus'，可用：csv、xlsx、jsonl、zip"


def test_a_failed_documents_reason_speaks_the_readers_language(admin, corpus_home):
    """GIVEN a failed document whose reason is kept as a message WHEN its page is read in English THEN the reason
    is English only; in Chinese it is the Chinese text."""
    d = corpus_home["dossier"]
    failure = d.status()["recent_failures"][0]
    reason = msg("app.document.render_failed", page=1, reason="xref table broken")
    with d.sessions() as session:
        doc = session.get(Document, failure["id"])
        kept, doc.error = doc.error, reason.dumps()
        session.commit()
    try:
        english = admin.get(f"/documents/{failure['id']}?lang=en").get_data(as_text=True)
        shown = re.search(r'<p class="flash flash-error failure" role="alert">(.*?)</p>', english, re.S)
        assert shown, english[:500]
        text = unescape(re.sub(r"<[^>]+>", "", shown.group(1)))
        assert text == "Failed: cannot show page 1: xref table broken" and not CJK.search(text)
        assert '<td class="error-text">cannot show page 1: xref table broken</td>' in english
        chinese = admin.get(f"/documents/{failure['id']}?lang=zh").get_data(as_text=True)
        assert '<td class="error-text">无法显示第 1 页：xref table broken</td>' in chinese
        assert "cannot show page" not in chinese and '{"msg"' not in chinese
        batch = admin.get("/api/documents/{}?lang=en".format(failure["id"])).get_json()
        assert batch["error"] == "cannot show page 1: xref table broken"
    finally:
        with d.sessions() as session:
            session.get(Document, failure["id"]).error = kept
            session.commit()
