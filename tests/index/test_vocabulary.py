"""The index vocabulary behind "did you mean" (``SearchBackend.similar_words``), on each backend.

CJK words (jieba's, three characters and up) one edit away; Latin words one edit away, two for six
letters and more; nothing for short, odd or hostile input.  The embedded index keeps its words in a
table of its own: filled once from FTS5 for an index written before it, emptied by ``clear`` and
purged of an erased document's words by ``expunge``.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from index import IndexDocument, SearchBackend, SqliteBackend, open_backend

TEXTS = {
    1: "光华物流 报价单 运输服务 Pacific Rim Logistics shipment",
    2: "年度审计报告 Quarterly budget invoice",
}


@pytest.fixture
def filled(backend: SearchBackend) -> SearchBackend:
    backend.index([IndexDocument(id=i, title=f"文档{i}", text=t) for i, t in TEXTS.items()])
    backend.settle()
    return backend


#: (typed, a word it offers)
NEAR = [
    ("报介单", "报价单"),  # a wrong character
    ("审计报", "审计报告"),  # a missing one (审计报 is no word of its own)
    ("审计报告告", "审计报告"),  # an extra one
    ("invoce", "invoice"),  # one letter in a short word
    ("shipmnet", "shipment"),  # two letters in a longer word
    ("Logistcs", "logistics"),  # case does not matter
]


def test_words_one_edit_away_latin_up_to_two(filled: SearchBackend) -> None:
    """A word of the index within the edits allowed is offered, written as the index holds it."""
    for typed, wanted in NEAR:
        assert wanted in filled.similar_words(typed), typed
    assert "quarterly" in filled.similar_words("Ｑｕａｒｔｅｒｌｙｙ")  # full width reads as Latin
    assert "quarterly" not in filled.similar_words("Quarterly")  # the same word: nothing to correct


def test_too_far_or_too_short_finds_nothing(filled: SearchBackend) -> None:
    """Two wrong CJK characters, three wrong letters, and words under three characters have no neighbours."""
    assert "报价单" not in filled.similar_words("报介弹")
    assert "shipment" not in filled.similar_words("shxpmxnx")
    assert filled.similar_words("报价") == []
    assert filled.similar_words("in") == []


ODD = [
    "",
    "   ",
    "😀😀😀",
    "\ue000\ue001\ue002",
    "12345",
    "光华" * 500,
    "a" * 1000,
    '"报介单',
    "报介单 invoce",
    "-+*",
]


def test_odd_input_finds_nothing_and_never_fails(filled: SearchBackend) -> None:
    """Emoji, private-use characters, digits, 1,000 characters, quotes and several words: an empty list."""
    for typed in ODD:
        assert filled.similar_words(typed) == [], typed


def test_an_erased_documents_words_leave_the_vocabulary(sqlite_backend: SqliteBackend) -> None:
    """After a delete and an expunge (an erasure), no word only that document held is offered any more."""
    sqlite_backend.index([IndexDocument(id=i, title="t", text=t) for i, t in TEXTS.items()])
    assert "shipment" in sqlite_backend.similar_words("shipmnet")
    sqlite_backend.delete([1])
    assert sqlite_backend.expunge([1])
    assert sqlite_backend.similar_words("shipmnet") == []
    assert "invoice" in sqlite_backend.similar_words("invoce")  # the other document's words stay


def test_clear_empties_the_vocabulary(sqlite_backend: SqliteBackend) -> None:
    """A full reindex starts with clear(): no word of the old index survives it."""
    sqlite_backend.index([IndexDocument(id=1, title="t", text=TEXTS[1])])
    sqlite_backend.clear()
    assert sqlite_backend.similar_words("shipmnet") == []


def test_an_index_written_before_the_vocabulary_is_filled_from_fts5(engine: sa.Engine) -> None:
    """An index without vocabulary rows (an older version wrote it) gets its words from FTS5 on the first look."""
    first = open_backend(engine)
    first.index([IndexDocument(id=i, title="t", text=t) for i, t in TEXTS.items()])
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM search_vocab")
        conn.exec_driver_sql("DELETE FROM search_meta WHERE key = 'vocabulary'")
    again = open_backend(engine)
    assert "shipment" in again.similar_words("shipmnet")
    assert "报价单" in again.similar_words("报介单")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM search_vocab").scalar()


def test_other_processes_words_are_read(engine: sa.Engine) -> None:
    """A word written by another process (another backend object) is found without a restart."""
    reader, writer = open_backend(engine), open_backend(engine)
    assert reader.similar_words("shipmnet") == []
    writer.index([IndexDocument(id=1, title="t", text=TEXTS[1])])
    assert "shipment" in reader.similar_words("shipmnet")
