"""Reasons kept in the records by real intake (a damaged PDF, pages left for OCR) are message ids, shown in the
reader's language on the document page, the batch page and the JSON API."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import select

from foundation.messages import load_stored
from records import Document, IngestJob, Page

#: Chinese characters and full-width punctuation: none of them in an English message.
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")

DAMAGED_ZH, DAMAGED_EN = "PDF 文件已损坏或不完整", "damaged or truncated PDF"
DEFERRED_ZH, DEFERRED_EN = "导入时未做 OCR，请运行 dossier ocr", "OCR was skipped at intake: run dossier ocr"


def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


def _damaged(d) -> tuple[int, int]:
    """(document id, batch id) of garbage.pdf, which failed in the parser at intake."""
    with d.sessions() as session:
        job = session.scalars(
            select(IngestJob).where(IngestJob.filename.like("%garbage.pdf"), IngestJob.status == "failed")
        ).first()
        assert job is not None and job.document_id is not None
        return job.document_id, job.batch_id


def test_a_failed_documents_reason_is_stored_as_a_message(corpus_home):
    """GIVEN garbage.pdf taken by the real intake WHEN its records are read THEN the document's and the intake
    job's reasons are the message ``ingest.pdf.damaged`` (not a bilingual text)."""
    d = corpus_home["dossier"]
    doc_id, _ = _damaged(d)
    with d.sessions() as session:
        doc = session.get(Document, doc_id)
        job = session.scalars(select(IngestJob).where(IngestJob.document_id == doc_id)).first()
        assert doc is not None and job is not None
        assert load_stored(doc.error) is not None and load_stored(doc.error).id == "ingest.pdf.damaged"
        assert load_stored(job.error) == load_stored(doc.error)


def test_a_failed_documents_reason_on_its_page_and_in_the_api(admin, corpus_home):
    """GIVEN the damaged PDF's document WHEN its page and its JSON are read in English THEN the reason is English
    only; in Chinese it is Chinese only, never the stored JSON."""
    doc_id, _ = _damaged(corpus_home["dossier"])
    english = admin.get(f"/documents/{doc_id}?lang=en").get_data(as_text=True)
    shown = re.search(r'<p class="flash flash-error failure" role="alert">(.*?)</p>', english, re.S)
    assert shown, english[:500]
    assert _text(shown.group(1)) == f"Failed: {DAMAGED_EN}"
    assert f'<td class="error-text">{DAMAGED_EN}</td>' in english and DAMAGED_ZH not in english
    chinese = admin.get(f"/documents/{doc_id}?lang=zh").get_data(as_text=True)
    assert f'<td class="error-text">{DAMAGED_ZH}</td>' in chinese
    assert DAMAGED_EN not in chinese and '{"msg"' not in chinese and "&#34;msg&#34;" not in chinese
    api = admin.get(f"/api/documents/{doc_id}?lang=en").get_json()
    assert api["error"] == DAMAGED_EN and not CJK.search(api["error"])
    assert admin.get(f"/api/documents/{doc_id}?lang=zh").get_json()["error"] == DAMAGED_ZH


def test_a_failed_documents_reason_on_the_batch_page(admin, corpus_home):
    """GIVEN the batch that took the damaged PDF WHEN its page and JSON are read in English THEN the file's
    reason is English only; in Chinese, Chinese only."""
    _, batch_id = _damaged(corpus_home["dossier"])
    english = admin.get(f"/jobs/{batch_id}?lang=en").get_data(as_text=True)
    reasons = [_text(r).strip() for r in re.findall(r'class="reason">(.*?)</', english, re.S)]
    assert DAMAGED_EN in reasons and not any(CJK.search(r) for r in reasons), reasons
    assert '{"msg"' not in english and "&#34;msg&#34;" not in english
    chinese = admin.get(f"/jobs/{batch_id}?lang=zh").get_data(as_text=True)
    assert DAMAGED_ZH in chinese and DAMAGED_EN not in chinese
    batch = admin.get(f"/api/batches/{batch_id}?lang=en").get_json()
    failure = next(f for f in batch["failures"] if f["file"].endswith("garbage.pdf"))
    assert failure["error"] == DAMAGED_EN
    item = next(i for i in batch["items"] if i["file"].endswith("garbage.pdf"))
    assert item["error"] == DAMAGED_EN
    batch = admin.get(f"/api/batches/{batch_id}?lang=zh").get_json()
    assert next(f for f in batch["failures"] if f["file"].endswith("garbage.pdf"))["error"] == DAMAGED_ZH


def test_a_page_left_for_ocr_says_so_in_the_readers_language(admin, corpus_home):
    """GIVEN the scan taken with OCR left for later WHEN its batch is read THEN each page's note is the message
    ``pipeline.ocr_deferred``, English only with ?lang=en and Chinese only with ?lang=zh."""
    d = corpus_home["dossier"]
    with d.sessions() as session:
        row = session.execute(
            select(Page.document_id, Page.ocr_error).where(
                Page.needs_ocr.is_(True), Page.ocr_error.is_not(None)
            )
        ).first()
        assert row is not None
        doc_id, note = row
        job = session.scalars(select(IngestJob).where(IngestJob.document_id == doc_id)).first()
        assert job is not None
    assert load_stored(note) is not None and load_stored(note).id == "pipeline.ocr_deferred"
    english = admin.get(f"/api/batches/{job.batch_id}?lang=en").get_json()
    notes = [f["error"] for f in english["failures"] if f["document_id"] == doc_id and f["page"] is not None]
    assert notes and set(notes) == {DEFERRED_EN}
    page = admin.get(f"/jobs/{job.batch_id}?lang=en").get_data(as_text=True)
    assert DEFERRED_EN in unescape(page) and DEFERRED_ZH not in unescape(page)
    chinese = admin.get(f"/api/batches/{job.batch_id}?lang=zh").get_json()
    notes = [f["error"] for f in chinese["failures"] if f["document_id"] == doc_id and f["page"] is not None]
    assert notes and set(notes) == {DEFERRED_ZH}
    doc_page = unescape(admin.get(f"/documents/{doc_id}?lang=en").get_data(as_text=True))
    warnings = re.search(r'<ul class="warnings"[^>]*>(.*?)</ul>', doc_page, re.S)
    assert warnings is None or not CJK.search(_text(warnings.group(1))), warnings and warnings.group(1)
