"""Documents written in traditional characters are typed as their simplified versions are."""

from __future__ import annotations

import opencc

import ingest
from ingest import type_code
from tests.ingest.conftest import load_truth


def test_a_traditional_text_gets_the_type_of_its_simplified_original():
    """Every dev text (.txt/.md) converted to traditional (OpenCC s2t) gets the type its original gets
    (without the fold, 12 of 19 meeting notes, quotes … became "other")."""
    to_traditional = opencc.OpenCC("s2t")
    checked = 0
    for record in load_truth():
        text = record.get("text") or ""
        if record.get("expect") != "ok" or not text or not record["file"].endswith((".txt", ".md")):
            continue
        original = ingest.guess_doc_type(ingest.parse_bytes(text.encode(), "doc.txt")).code
        traditional = ingest.parse_bytes(to_traditional.convert(text).encode(), "doc.txt")
        assert ingest.guess_doc_type(traditional).code == original, record["file"]
        checked += 1
    assert checked >= 10


def test_type_names_in_traditional_characters():
    """type:報價單 and type:會議紀要 name the types as 报价单 and 会议纪要 do."""
    assert type_code("報價單") == "quote"
    assert type_code("會議紀要") == "meeting"
    assert type_code("合同") == "contract"
