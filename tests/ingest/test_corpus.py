"""The shared corpus end to end: dev files with truth, hostile files, and real odd files."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import time
from pathlib import Path

import pytest

import ingest
from foundation.messages import load_stored
from tests.ingest.conftest import DEV, REAL, load_truth, squash

TRUTH = load_truth()
QUERIES = [json.loads(x) for x in (DEV / "queries.jsonl").read_text("utf-8").splitlines()] if TRUTH else []
GOOD = [t for t in TRUTH if t["doc_type"] != "hostile" and not t.get("scanned")]
SCANNED = [t for t in TRUTH if t.get("scanned")]
BAD = [t for t in TRUTH if t["doc_type"] == "hostile"]
REAL_FILES = (
    sorted(p for p in REAL.glob("*/*") if p.is_file() and p.name != "SOURCES.md") if REAL.is_dir() else []
)
_MD_MARKS = re.compile(r"^\s*(#{1,6}\s*|[-*+]\s+|\d+\.\s+|>\s*)|\*\*|__|`|\|")


def _ids(records: list[dict]) -> list[str]:
    return [r["file"] for r in records]


def _text_with_children(doc: ingest.ParsedDocument) -> str:
    parts = [doc.text]
    for child in doc.children:
        with contextlib.suppress(ingest.IngestError):
            parts.append(ingest.parse_bytes(child.data, child.filename, depth=1).text)
    return "\n".join(parts)


@pytest.mark.parametrize("record", GOOD, ids=_ids(GOOD))
def test_born_digital_text_contains_every_truth_line(record: dict) -> None:
    """Every line of the truth text (whitespace ignored, NFKC) is in the extracted text.

    Markdown is compared after removing its markup (``#``, ``**``, list marks, table pipes),
    because Dossier indexes the rendered text, not the markup.
    """
    doc = ingest.parse_file(DEV / record["file"])
    got = squash(doc.text)
    lines = record["text"].splitlines()
    if record["format"] == "md":
        got = squash(_MD_MARKS.sub("", doc.text))
        lines = [_MD_MARKS.sub("", ln) for ln in lines]
        lines = [re.sub(r"^-+$|^:?-+:?$", "", ln) for ln in lines]
    missing = [ln for ln in lines if squash(ln) and squash(ln) not in got]
    assert not missing, f"{len(missing)} truth lines missing, first: {missing[:3]}"
    assert not doc.needs_ocr


@pytest.mark.parametrize("record", GOOD, ids=_ids(GOOD))
def test_every_query_term_in_the_truth_is_found(record: dict) -> None:
    """Each query term the truth text contains is in the extracted text (e-mails: with attachments)."""
    doc = ingest.parse_file(DEV / record["file"])
    got = squash(_text_with_children(doc)).lower()
    truth = squash(record["text"]).lower()
    missing = [
        term
        for q in QUERIES
        for term in q.get("terms", [q["q"]])
        if squash(term).lower() in truth and squash(term).lower() not in got
    ]
    assert not missing


@pytest.mark.parametrize("record", SCANNED, ids=_ids(SCANNED))
def test_scans_parse_with_pages_awaiting_ocr(record: dict) -> None:
    """A scanned file parses into as many ``needs_ocr`` pages as the truth has pages."""
    doc = ingest.parse_file(DEV / record["file"])
    assert doc.needs_ocr
    assert all(p.needs_ocr and p.text == "" for p in doc.pages)
    assert len(doc.pages) == len(record.get("pages") or [1])
    assert "OCR" in " ".join(_said(w) for w in doc.warnings)


@pytest.mark.parametrize("record", BAD, ids=_ids(BAD))
def test_hostile_files_end_as_accepted(record: dict) -> None:
    """A hostile file raises IngestError when only an error is accepted; forbidden strings never appear."""
    path = DEV / record["file"]
    try:
        doc = ingest.parse_file(path)
    except ingest.IngestError as exc:
        assert "error" in record["accept"], f"unexpected error: {exc}"
        assert "\n" not in str(exc) and "Traceback" not in str(exc)
        return
    assert "ok" in record["accept"], "expected an IngestError"
    everything = doc.text + doc.title + "".join(c.filename for c in doc.children)
    for forbidden in record.get("must_not_contain") or []:
        assert forbidden not in everything
    if record["expect"] == "ok" and record.get("text"):
        expected = record["text"]
        if doc.format == "csv":  # the truth is the raw CSV; Dossier keeps cells, TAB-joined
            expected = "\n".join("\t".join(row) for row in csv.reader(io.StringIO(expected)))
        for line in expected.splitlines():
            assert squash(line) in squash(doc.text)


@pytest.mark.slow
@pytest.mark.parametrize("path", REAL_FILES, ids=[str(p.relative_to(REAL)) for p in REAL_FILES])
def test_real_files_parse_or_fail_cleanly(path: Path) -> None:
    """Every real-world file parses or raises IngestError (one-line message) within the time limit."""
    start = time.monotonic()
    try:
        with ingest.time_limit(60):
            doc = ingest.parse_file(path)
    except ingest.IngestError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert doc.pages
        assert doc.format
    assert time.monotonic() - start < 60


def _said(text: str | None) -> str:
    """A stored reason as the CLI says it (both languages); plain text as written."""
    return str(load_stored(text) or text or "")
