"""Outlook .msg: header lines and body like an e-mail; attachments are children."""

from __future__ import annotations

from pathlib import Path

import pytest

import ingest
from tests.ingest.conftest import REAL

SAMPLE = REAL / "msgreader_sicos" / "dutch_business_2_attachments.msg"


def test_msg_with_attachments() -> None:
    """A real .msg gives Subject/From lines, a body and its two attachments as children."""
    if not SAMPLE.exists():
        pytest.skip("real corpus not present")
    doc = ingest.parse_file(SAMPLE)
    assert doc.format == "msg"
    assert doc.text.startswith("Subject: E-mail with 2 attachments")
    assert len(doc.children) == 2 and all(c.relation == "attachment" and c.data for c in doc.children)


@pytest.mark.parametrize(
    "path", sorted(REAL.glob("*/*.msg")) if REAL.is_dir() else [], ids=lambda p: Path(p).name
)
def test_every_real_msg_parses_or_fails_cleanly(path: Path) -> None:
    """Odd .msg files (ANSI code pages, nested, S/MIME) parse or raise IngestError."""
    try:
        doc = ingest.parse_file(path)
    except ingest.IngestError as exc:
        assert "\n" not in str(exc)
    else:
        assert doc.format == "msg"
