"""The intake chain on real files: store, dedupe, fail visibly, link children, index in one go."""

from __future__ import annotations

import shutil

from foundation.messages import load_stored, render_stored
from index import SearchRequest
from records import Document
from tests.conftest import DEV

CONTRACT = DEV / "contracts" / "产品购销合同_宸宇集团_HT-2024-0503_v2.pdf"
EMAIL = DEV / "emails" / "Quotation for Laptop Refresh - Pacific Rim.eml"
SCAN = DEV / "scans" / "IMG_20230718_152640.jpg"
BROKEN = DEV / "bad" / "truncated.pdf"
ENCRYPTED = DEV / "bad" / "加密合同_需密码.pdf"


def test_a_born_digital_pdf_is_stored_indexed_and_searchable(dossier, admin):
    """GIVEN a text PDF WHEN ingested THEN its pages are stored, it is indexed and a search finds it."""
    summary = dossier.ingest_paths([CONTRACT])
    assert summary["ingested"] == 1 and summary["failed"] == []
    doc_id = summary["documents"][0]["id"]
    shown = dossier.show(doc_id, admin)
    assert shown["status"] == "indexed"
    assert shown["filename"] == CONTRACT.name
    assert shown["doc_type"] == "contract" and "合同" in shown["doc_type_reason"]
    assert len(shown["pages"]) >= 2 and all(p["text"] for p in shown["pages"])
    assert dossier.open_original(doc_id, admin)[2] == CONTRACT.read_bytes()
    hits = dossier.search(SearchRequest(query="宸宇"), admin)["hits"]
    assert [h["id"] for h in hits] == [doc_id]
    assert "<mark>" in hits[0]["snippet"]


def test_the_same_file_twice_is_stored_once_and_reported_duplicate(dossier, tmp_path):
    """A second copy (another name, same bytes) is a duplicate of the first document."""
    copy = tmp_path / "copy-of-contract.pdf"
    shutil.copy(CONTRACT, copy)
    first = dossier.ingest_paths([CONTRACT])
    second = dossier.ingest_paths([copy, CONTRACT])
    assert second["ingested"] == 0 and second["duplicates"] == 2
    assert {d["id"] for d in second["duplicate_of"]} == {first["documents"][0]["id"]}
    with dossier.sessions() as session:
        assert session.query(Document).count() == 1
    assert len([p for p in dossier.blobs.root.rglob("*") if p.is_file()]) == 1


def test_a_broken_file_fails_visibly_with_its_original_kept(dossier, admin):
    """GIVEN a truncated and an encrypted PDF THEN each is failed with a one-line reason, originals kept, batch goes on."""
    summary = dossier.ingest_paths([BROKEN, ENCRYPTED, CONTRACT])
    assert summary["ingested"] == 1
    failed = {f["file"]: _said(f["error"]) for f in summary["failed"]}
    assert set(failed) == {str(BROKEN), str(ENCRYPTED)}
    assert "密码" in failed[str(ENCRYPTED)] and "password" in failed[str(ENCRYPTED)]
    assert all("\n" not in reason and "Traceback" not in reason for reason in failed.values())
    with dossier.sessions() as session:
        bad = session.query(Document).filter_by(status="failed").all()
        assert len(bad) == 2
        for doc in bad:
            assert doc.error
            assert dossier.blobs.get(doc.current.sha256)  # the original is kept
    status = dossier.status()
    assert status["by_status"] == {"failed": 2, "indexed": 1}
    assert {_said(f["error"]) for f in status["recent_failures"]} == set(failed.values())


def test_an_email_attachment_becomes_a_linked_document(dossier, admin):
    """An .eml's attachment is its own document, linked to the e-mail; the e-mail is found by attachment text."""
    summary = dossier.ingest_paths([EMAIL])
    email_id = summary["documents"][0]["id"]
    shown = dossier.show(email_id, admin)
    assert shown["doc_type"] == "email"
    assert len(shown["children"]) == 1
    child = dossier.show(shown["children"][0]["id"], admin)
    assert child["parent_id"] == email_id and child["relation"] == "attachment"
    assert child["filename"].endswith(".pdf")
    word = "BJ20240312-08"
    ids = {h["id"] for h in dossier.search(SearchRequest(query=word), admin)["hits"]}
    assert {email_id, child["id"]} <= ids


def test_a_scan_is_stored_and_awaits_ocr_when_ocr_is_left_for_later(dossier, admin):
    """An image is stored with its page marked awaiting OCR, not dropped."""
    summary = dossier.ingest_paths([SCAN], ocr=False)
    assert summary["awaiting_ocr"] == 1 and summary["failed"] == []
    shown = dossier.show(summary["documents"][0]["id"], admin)
    assert shown["status"] == "awaiting_ocr"
    assert shown["pages"] and all(p["needs_ocr"] for p in shown["pages"])
    assert dossier.status()["pages_awaiting_ocr"] == len(shown["pages"])


def test_a_scan_is_read_by_ocr_during_intake_and_becomes_searchable(dossier, admin):
    """Without a queue, intake OCRs image pages in the same run: per-page text, ocr flag, confidence."""
    summary = dossier.ingest_paths([SCAN])
    assert summary["failed"] == [] and summary["awaiting_ocr"] == 0
    shown = dossier.show(summary["documents"][0]["id"], admin)
    assert shown["status"] == "indexed"
    page = shown["pages"][0]
    assert page["ocr"] is True and page["confidence"] > 0.5 and len(page["text"]) > 20
    word = next(w for w in ("合同", "发票", "报价", "客户", "公司") if w in page["text"])
    assert shown["id"] in [h["id"] for h in dossier.search(SearchRequest(query=word), admin)["hits"]]


def test_a_file_over_the_size_limit_is_refused_before_reading(settings, tmp_path):
    """A file larger than DOSSIER_MAX_FILE_MB fails with the limit in the reason and is not stored."""
    from dossier.app.services import Dossier

    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (1024 * 1024 + 1))
    d = Dossier.open(settings.with_overrides(DOSSIER_MAX_FILE_MB="1"), require_init=False)
    d.init(admin_password="intake-test-Passw0rd")
    summary = d.ingest_paths([big])
    assert [{**f, "error": _said(f["error"])} for f in summary["failed"]] == [
        {"file": str(big), "error": "文件超过 1 MB 上限 / file larger than the 1 MB limit"}
    ]
    assert not any(p.is_file() for p in d.blobs.root.rglob("*"))


def test_customer_type_and_tags_from_options_are_stored_and_filterable(dossier, admin):
    """--customer/--type/--tag land on the document and filter searches."""
    summary = dossier.ingest_paths([CONTRACT], customer="宸宇集团", doc_type="合同", tags=["重点"])
    doc_id = summary["documents"][0]["id"]
    shown = dossier.show(doc_id, admin)
    assert shown["customer"] == "宸宇集团" and shown["tags"] == ["重点"] and shown["doc_type"] == "contract"
    assert render_stored(shown["doc_type_reason"], "zh") == "导入时指定"
    assert render_stored(shown["doc_type_reason"], "en") == "given at intake"
    result = dossier.search(SearchRequest(query="合同", customers=("宸宇",), tags=("重点",)), admin)
    assert [h["id"] for h in result["hits"]] == [doc_id]
    assert result["hits"][0]["customer"] == "宸宇集团"


def test_folders_are_walked_with_litter_and_hidden_folders_skipped(tmp_path):
    """A folder is read recursively; .DS_Store, ~$lock files and hidden folders are not documents, hidden files are."""
    from pipeline.intake import collect_files

    (tmp_path / "客户A" / "合同").mkdir(parents=True)
    (tmp_path / "客户A" / "合同" / "a.txt").write_text("甲方")
    (tmp_path / ".done").mkdir()
    (tmp_path / ".done" / "old.txt").write_text("x")
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    (tmp_path / "~$合同.docx").write_bytes(b"\0")
    (tmp_path / "..%2Fname.txt").write_text("y")
    names = sorted(s.filename for s in collect_files([tmp_path]))
    assert names == ["..%2Fname.txt", "a.txt"]


def test_reindex_rebuilds_the_index_from_the_records(dossier, admin):
    """After the index is cleared, `reindex` makes every stored document searchable again, e-mails with their attachments."""
    summary = dossier.ingest_paths([CONTRACT, EMAIL, BROKEN])
    dossier.backend.clear()
    assert dossier.search(SearchRequest("宸宇"), admin)["total"] == 0
    assert dossier.reindex() == 3  # contract, e-mail, its attachment; not the failed file
    assert dossier.search(SearchRequest("宸宇"), admin)["total"] == 1
    email_id = next(d["id"] for d in summary["documents"] if d["file"] == str(EMAIL))
    assert email_id in {h["id"] for h in dossier.search(SearchRequest("BJ20240312-08"), admin)["hits"]}


def test_reindexing_one_document_picks_up_changed_metadata(dossier, admin):
    """A document whose date changed in the records is found by the new date range once reindexed."""
    doc_id = dossier.ingest_paths([CONTRACT])["documents"][0]["id"]
    with dossier.sessions() as session:
        session.get(Document, doc_id).doc_date = "2031-03-15"
        session.commit()
    assert dossier.search(SearchRequest("合同", date_from="2031-01-01"), admin)["total"] == 0
    dossier.reindex([doc_id])
    result = dossier.search(SearchRequest("合同", date_from="2031-01-01", date_to="2031-12-31"), admin)
    assert [h["id"] for h in result["hits"]] == [doc_id] and result["hits"][0]["date"] == "2031-03-15"


def test_an_interrupted_run_is_finished_by_the_next_one(dossier, admin):
    """Files taken by a run that died (queued, or claimed by a process that is gone) are processed by the
    next in-process run instead of waiting forever for a queue; the same file offered again is a duplicate."""
    import socket

    from pipeline.intake import IntakeOptions, Source

    intake = dossier.intake.make_intake(1)
    batch = intake.new_batch("cli", "admin")
    queued = intake.take(
        Source(label=str(CONTRACT), filename=CONTRACT.name, path=CONTRACT), IntakeOptions(), batch
    )
    held = intake.take(Source(label=str(EMAIL), filename=EMAIL.name, path=EMAIL), IntakeOptions(), batch)
    with dossier.sessions() as session:
        doc = session.get(Document, held.document_id)
        doc.status, doc.claimed_by = "processing", f"inline:{socket.gethostname()}:999999999"
        session.commit()
    again = dossier.ingest_paths([CONTRACT])
    assert again["duplicates"] == 1
    assert dossier.show(queued.document_id, admin)["status"] == "indexed"
    assert dossier.show(held.document_id, admin)["status"] == "indexed"
    files = dossier.batch_report(batch)["files"]
    assert files["done"] == 2 and files["queued"] == files["processing"] == 0


def _said(text: str | None) -> str:
    """A stored reason as the CLI says it (both languages); plain text as written."""
    return str(load_stored(text) or text or "")
