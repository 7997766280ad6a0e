"""PPTX: one page per slide, slide tables TAB-joined."""

from __future__ import annotations

import json

import ingest
from tests.ingest.conftest import DEV, first_dev


def test_one_page_per_slide() -> None:
    """A 9-slide proposal gives 9 pages in slide order."""
    path = first_dev("proposals/*.pptx")
    doc = ingest.parse_file(path)
    truth = next(
        json.loads(x)
        for x in (DEV / "truth.jsonl").open(encoding="utf-8")
        if json.loads(x)["file"] == str(path.relative_to(DEV))
    )
    first_line = truth["text"].splitlines()[0]
    assert len(doc.pages) == 9
    assert doc.pages[0].text.splitlines()[0] == first_line
    assert any("\t" in p.text for p in doc.pages), "the price table keeps its cells"


def test_slide_limit() -> None:
    """More slides than ``max_pages`` raises LimitExceeded."""
    import pytest

    with pytest.raises(ingest.LimitExceeded):
        ingest.parse_file(first_dev("proposals/*.pptx"), limits=ingest.Limits(max_pages=3))
