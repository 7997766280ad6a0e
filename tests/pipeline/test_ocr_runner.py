"""`dossier ocr`: pages awaiting OCR become text, the document becomes searchable; failures stay visible."""

from __future__ import annotations

import pytest

import ingest
from foundation.messages import load_stored
from index import SearchRequest
from tests.conftest import DEV

pytestmark = pytest.mark.ocr

INVOICE_SCAN = DEV / "scans" / "IMG_20230718_152640.jpg"  # 发票代码：033002372911


def test_a_scan_awaiting_ocr_becomes_searchable(dossier, admin):
    """GIVEN an ingested scan awaiting OCR WHEN OCR runs THEN its page holds text with engine and
    confidence, the document is indexed, and a number printed on the page finds it."""
    doc_id = dossier.ingest_paths([INVOICE_SCAN], ocr=False)["documents"][0]["id"]
    assert dossier.search(SearchRequest("033002372911"), admin)["total"] == 0
    summary = dossier.ocr(workers=1)
    assert summary["documents"] == 1 and summary["pages"] == 1 and summary["failed"] == []
    shown = dossier.show(doc_id, admin)
    page = shown["pages"][0]
    assert shown["status"] == "indexed" and page["ocr"] and not page["needs_ocr"]
    assert page["confidence"] is not None and 0 < page["confidence"] <= 1
    assert "发票" in page["text"] and not any("OCR" in _said(w) for w in shown["warnings"])
    hits = dossier.search(SearchRequest("033002372911"), admin)["hits"]
    assert [h["id"] for h in hits] == [doc_id] and "<mark>" in hits[0]["snippet"]
    assert dossier.ocr(workers=1)["documents"] == 0  # nothing left to do


def test_a_page_that_fails_keeps_waiting_with_its_reason(dossier, admin, monkeypatch):
    """A page the engine cannot read stays awaiting OCR, with the reason as a warning and in the summary."""
    doc_id = dossier.ingest_paths([INVOICE_SCAN], ocr=False)["documents"][0]["id"]

    def failing(data, filename, *, pages=None, **_kw):
        return [ingest.OcrPage(n, "", None, "rapidocr", 0, "页面无法识别 / page unreadable") for n in pages]

    monkeypatch.setattr(ingest, "ocr_pages", failing)  # inherited by the forked OCR process
    summary = dossier.ocr(workers=1)
    assert summary["failed"] == [{"id": doc_id, "page": 1, "error": "页面无法识别 / page unreadable"}]
    shown = dossier.show(doc_id, admin)
    assert shown["status"] == "awaiting_ocr" and shown["pages"][0]["needs_ocr"]
    assert any("page unreadable" in _said(w) for w in shown["warnings"])


def test_an_unknown_engine_is_refused_before_any_work(dossier):
    """A misspelt engine name fails at once with the list of engines."""
    dossier.ingest_paths([INVOICE_SCAN], ocr=False)
    with pytest.raises(ingest.OcrUnavailable, match="rapidocr"):
        dossier.ocr(engine="abbyy")


def test_an_ocr_process_that_hangs_is_killed_and_the_pages_keep_waiting(dossier, admin, monkeypatch):
    """A hung OCR engine is killed at the deadline; the reason names OCR, the pages still await OCR."""
    import signal
    import time

    doc_id = dossier.ingest_paths([INVOICE_SCAN], ocr=False)["documents"][0]["id"]

    def hang(*_args, **_kw):
        signal.signal(signal.SIGALRM, signal.SIG_IGN)  # as C code deaf to the soft alarm would be
        time.sleep(600)

    monkeypatch.setattr(ingest, "ocr_pages", hang)
    monkeypatch.setattr("pipeline.ocr.PAGE_TIMEOUT_S", 1.0)
    monkeypatch.setattr("pipeline.pool.KILL_GRACE_S", 0.5)
    summary = dossier.ocr(workers=1)
    assert [{**f, "error": _said(f["error"])} for f in summary["failed"]] == [
        {"id": doc_id, "page": 1, "error": "OCR 识别超时（超过 1 秒） / OCR took longer than 1 s"}
    ]
    shown = dossier.show(doc_id, admin)
    assert shown["status"] == "awaiting_ocr" and shown["pages"][0]["needs_ocr"]
    assert any("OCR took longer" in _said(w) for w in shown["warnings"])


def _said(text: str | None) -> str:
    """A stored reason as the CLI says it (both languages); plain text as written."""
    return str(load_stored(text) or text or "")
