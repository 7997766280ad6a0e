"""PDF: text layer per page; scans wait for OCR; encryption and damage are clear errors."""

from __future__ import annotations

import pytest

import ingest
from tests.ingest.conftest import dev_file, first_dev


def test_pages_follow_the_pdf() -> None:
    """A multi-page text PDF gives one page per PDF page, in order, with text."""
    doc = ingest.parse_file(first_dev("contracts/*.pdf"))
    assert doc.format == "pdf" and len(doc.pages) >= 2
    assert [p.number for p in doc.pages] == list(range(1, len(doc.pages) + 1))
    assert all(p.text and not p.needs_ocr for p in doc.pages)


def test_image_only_pdf_pages_are_kept_for_ocr() -> None:
    """An image-only PDF keeps every page, marked ``needs_ocr`` with empty text."""
    doc = ingest.parse_file(first_dev("scans/*.pdf"))
    assert doc.pages and all(p.needs_ocr and p.text == "" for p in doc.pages)


def test_user_password_is_encrypted_file() -> None:
    """A PDF with an open password raises EncryptedFile and leaks nothing."""
    with pytest.raises(ingest.EncryptedFile, match="密码"):
        ingest.parse_file(dev_file("bad/加密合同_需密码.pdf"))


def test_owner_password_only_opens() -> None:
    """A PDF with only an owner (permissions) password opens normally."""
    assert "水晶计划" in ingest.parse_file(dev_file("bad/权限受限_无打开密码.pdf")).text


def test_javascript_is_never_text() -> None:
    """/OpenAction JavaScript never reaches the text."""
    doc = ingest.parse_file(dev_file("bad/报价单_含脚本.pdf"))
    assert "琉璃计划" in doc.text and "JSCANARY" not in doc.text


@pytest.mark.parametrize("name", ["garbage.pdf", "truncated.pdf", "empty.pdf"])
def test_damaged_pdfs_are_broken(name: str) -> None:
    """Garbage, truncated and empty PDFs raise BrokenFile with a one-line reason."""
    with pytest.raises(ingest.BrokenFile) as info:
        ingest.parse_file(dev_file(f"bad/{name}"))
    assert "\n" not in str(info.value)


def test_page_limit() -> None:
    """More pages than ``max_pages`` raises LimitExceeded."""
    with pytest.raises(ingest.LimitExceeded):
        ingest.parse_file(first_dev("contracts/*.pdf"), limits=ingest.Limits(max_pages=1))
