"""Legacy .doc/.xls/.ppt: converted by LibreOffice when installed, otherwise refused with advice."""

from __future__ import annotations

import shutil

import pytest

import ingest
from tests.ingest.conftest import REAL

DOC = REAL / "unstructured" / "duplicate_paragraphs.doc"


def test_legacy_doc() -> None:
    """Without LibreOffice a .doc raises UnsupportedFile naming LibreOffice; with it, it parses."""
    if not DOC.exists():
        pytest.skip("real corpus not present")
    if shutil.which("soffice"):
        assert "This document contains duplicates" in ingest.parse_file(DOC).text
    else:
        with pytest.raises(ingest.UnsupportedFile, match="LibreOffice"):
            ingest.parse_file(DOC)


def test_ole_types_are_told_apart() -> None:
    """OLE2 files are recognised as doc, xls, ppt or msg from their streams."""
    cases = {
        "unstructured/duplicate_paragraphs.doc": "doc",
        "unstructured/tests_example.xls": "xls",
        "unstructured/legacy_presentation.ppt": "ppt",
        "msgreader_sicos/rtf_body.msg": "msg",
    }
    for rel, fmt in cases.items():
        path = REAL / rel
        if path.exists():
            assert ingest.detect(path.read_bytes(), "x.bin").format == fmt


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice is not installed (make installs it)")
def test_legacy_spreadsheet_and_slides_are_converted() -> None:
    """A .xls becomes a sheet page with its cells, a .ppt a page per slide with its text."""
    xls = ingest.parse_file(REAL / "unstructured" / "tests_example.xls")
    assert xls.format == "xls" and "What is 2+2?" in xls.text
    ppt = ingest.parse_file(REAL / "unstructured" / "legacy_presentation.ppt")
    assert ppt.format == "ppt" and "Adding a Bullet Slide" in ppt.text
