"""A scanned stack with separator sheets becomes one document per part, each OCR'd and searchable."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from foundation.errors import NotFound
from foundation.messages import load_stored
from index import Principal, SearchRequest
from records import Document
from tests.ingest.test_split import FONT, pdf_of, sheet_scan_base

PARTS = {
    "青松贸易": ["采购合同", "甲方：青松贸易有限公司", "合同编号：HT-2031-0001", "合同金额：人民币壹万元整"],
    "白鹭物流": ["报价单", "客户：白鹭物流有限公司", "报价编号：BJ-2031-0002", "有效期三十天"],
    "金穗食品": ["拜访记录", "客户：金穗食品有限公司", "拜访日期：2031年3月5日", "下次跟进：寄送样品"],
}


def text_page(lines: list[str], dpi: int = 150) -> Image.Image:
    """An A4 page with a few lines of large Chinese text, as a scanner would deliver it."""
    width, height = int(8.27 * dpi), int(11.69 * dpi)
    page = Image.new("L", (width, height), 250)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, size=int(dpi / 4))
    for n, line in enumerate(lines):
        draw.text((int(dpi * 0.8), int(dpi * (1 + n * 0.6))), line, fill=20, font=font)
    page.info["dpi"] = (dpi, dpi)
    return page


def blank_page(dpi: int = 150) -> Image.Image:
    page = Image.new("L", (int(8.27 * dpi), int(11.69 * dpi)), 248)
    page.info["dpi"] = (dpi, dpi)
    return page


def test_a_stack_splits_at_the_qr_sheet_and_a_blank_page(dossier, admin, tmp_path):
    """GIVEN one PDF of three paper documents, separated by the QR sheet and by a blank page,
    WHEN ingested THEN three part documents exist (linked to the stack), each OCR'd and found by its text."""
    sheet = sheet_scan_base(dpi=150).copy()
    sheet.info["dpi"] = (150, 150)
    pages = [
        text_page(PARTS["青松贸易"]),
        sheet,
        text_page(PARTS["白鹭物流"]),
        blank_page(),
        text_page(PARTS["金穗食品"]),
    ]
    stack = tmp_path / "SCAN_stack.pdf"
    stack.write_bytes(pdf_of(pages))
    summary = dossier.ingest_paths([stack])
    assert summary["failed"] == [] and summary["ingested"] == 1
    parent_id = summary["documents"][0]["id"]
    parent = dossier.show(parent_id, admin)
    assert parent["status"] == "indexed" and parent["pages"] == []
    assert any("split into 3 documents" in _said(w) for w in parent["warnings"])
    assert len(parent["children"]) == 3
    with dossier.sessions() as session:
        parts = session.scalars(
            select(Document).where(Document.parent_id == parent_id).order_by(Document.id)
        ).all()
        assert [p.relation for p in parts] == ["part"] * 3
        assert [p.current.filename for p in parts] == [f"SCAN_stack.part-0{n}.pdf" for n in (1, 2, 3)]
    for name, part in zip(PARTS, parts, strict=True):
        shown = dossier.show(part.id, admin)
        assert shown["status"] == "indexed" and len(shown["pages"]) == 1 and shown["pages"][0]["ocr"]
        hits = [h["id"] for h in dossier.search(SearchRequest(query=name), admin)["hits"]]
        assert hits == [part.id], (name, hits)
    types = {dossier.show(p.id, admin)["doc_type"] for p in parts}
    assert types == {"contract", "quote", "visit"}  # typed again from the OCR text
    # The container rule: the stack's original holds the contract's pages, so it is as strict as the
    # contract (confidential, of no customer a sales rep owns) — its parts keep their own levels.
    sales, finance = Principal("sales1", "sales"), Principal("finance1", "finance")
    for reader in (sales, finance):
        with pytest.raises(NotFound):
            dossier.open_original(parent_id, reader)
        assert parent_id not in {h["id"] for h in dossier.search(SearchRequest(query=""), reader)["hits"]}
        readable = {h["id"] for h in dossier.search(SearchRequest(query=""), reader)["hits"]}
        assert readable == {parts[1].id, parts[2].id}  # the quote and the visit note, not the contract
    assert dossier.open_original(parent_id, admin)[0] == "SCAN_stack.pdf"


def test_split_off_keeps_the_stack_whole(settings, admin, tmp_path):
    """DOSSIER_SPLIT=off: the same stack is one document with every page."""
    from dossier.app.services import Dossier

    d = Dossier.open(settings.with_overrides(DOSSIER_SPLIT="off"), require_init=False)
    d.init(admin_password="split-test-Passw0rd")
    stack = tmp_path / "stack.pdf"
    stack.write_bytes(pdf_of([text_page(PARTS["青松贸易"]), blank_page(), text_page(PARTS["白鹭物流"])]))
    summary = d.ingest_paths([stack], ocr=False)
    shown = d.show(summary["documents"][0]["id"], admin)
    assert len(shown["pages"]) == 3 and shown["children"] == []


def _said(text: str | None) -> str:
    """A stored reason as the CLI says it (both languages); plain text as written."""
    return str(load_stored(text) or text or "")
