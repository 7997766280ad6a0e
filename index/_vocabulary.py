"""The index vocabulary behind "did you mean": words the index holds that are one or two edits from a typed word.

Only words worth correcting are kept and looked up (:func:`vocabulary_word`): runs of three or
more CJK characters (jieba's words of the ``words`` stream; a typo in a two-character word could
mean too many words) and runs of three or more Latin letters (the grams streams' Latin pieces),
at most :data:`MAX_WORD` characters.  A CJK word is corrected by one edit (a wrong, missing or
extra character), a Latin word of up to five letters by one and a longer one by two
(:func:`max_edits`); distances are Levenshtein's (RapidFuzz).

The embedded backend keeps the words in ``search_vocab`` (one row per distinct word, written in
the transaction that indexes a document; a word stays when its documents go, until an erasure's
:meth:`SqliteVocabulary.purge`): each process holds the table in memory, bucketed by script and
length, and reads only rows added since it last looked.  An index written before the table
existed is filled once from the FTS5 index itself (``fts5vocab``).  OpenSearch answers from its
own term dictionary (the stock ``term`` suggester; :func:`term_suggest_body`).

The vocabulary knows every document's words whoever may read them: what it offers is only a
candidate, which the application shows after running the corrected query as the user.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from sqlalchemy import Connection

from index._analysis import is_cjk, normalize_text

__all__ = [
    "MAX_WORD",
    "SqliteVocabulary",
    "max_edits",
    "nearest",
    "suggested_terms",
    "term_suggest_body",
    "terms_of",
    "vocabulary_word",
]

#: Longer words are neither kept nor looked up.
MAX_WORD = 32
#: Shortest word kept or corrected (CJK characters or Latin letters).
MIN_WORD = 3
#: At most this many candidates per looked-up word.
MAX_CANDIDATES = 8

_LATIN_RUN = re.compile(r"[a-z]{3,}")
_LATIN_WORD = re.compile(r"[a-z]{3,32}")
_WIDE_RUN = re.compile(r"[^\x00-\x7f]{3,}")

VOCAB_DDL = ("CREATE TABLE IF NOT EXISTS search_vocab (id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE)",)


def _script(word: str) -> str | None:
    """``cjk`` or ``latin`` for a word the vocabulary keeps, else None."""
    if not MIN_WORD <= len(word) <= MAX_WORD:
        return None
    if _LATIN_WORD.fullmatch(word):
        return "latin"
    if all(is_cjk(ch) for ch in word):
        return "cjk"
    return None


def vocabulary_word(text: str) -> str | None:
    """``text`` as the index writes it (NFKC, lower case) when it is a word the vocabulary corrects, else None."""
    if len(text) > MAX_WORD * 2:
        return None
    word = normalize_text(text).strip()
    return word if _script(word) else None


def max_edits(word: str) -> int:
    """How many edits a correction of ``word`` may make: 1 for CJK, 1 or 2 for Latin (over five letters: 2)."""
    script = _script(word)
    if script == "cjk":
        return 1
    if script == "latin":
        return 1 if len(word) <= 5 else 2
    return 0


def terms_of(words_stream: str, texts: Iterable[str]) -> set[str]:
    """The vocabulary's words in one document: CJK words of its ``words`` stream, Latin words of its texts.

    Cheap on purpose (it runs for every document written; about 0.1 ms for a 2 KB one): C-speed
    regular expressions, no per-word Python work.  A Latin word is a run of letters of the lower-cased
    text (``PowerEdge`` gives ``poweredge``, which a search finds through its joined form).
    """
    found = set(_WIDE_RUN.findall(words_stream))
    for text in texts:
        found.update(_LATIN_RUN.findall(text.lower()))
    return {t for t in found if len(t) <= MAX_WORD}


def nearest(word: str, terms: Sequence[str], limit: int = MAX_CANDIDATES) -> list[str]:
    """The ``terms`` within :func:`max_edits` of ``word`` (itself left out), nearest first, then the same length first."""
    edits = max_edits(word)
    if not edits or not terms:
        return []
    found = process.extract(word, terms, scorer=Levenshtein.distance, score_cutoff=edits, limit=None)
    ranked = sorted(
        (distance, abs(len(term) - len(word)), term) for term, distance, _ in found if term != word
    )
    return [term for _, _, term in ranked[:limit]]


class SqliteVocabulary:
    """The embedded index's ``search_vocab`` table and this process's copy of it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: set[str] = set()
        self._buckets: dict[tuple[str, int], list[str]] = {}
        self._last_id = 0
        self._filled = False

    def _forget(self) -> None:
        self._known = set()
        self._buckets = {}
        self._last_id = 0

    def _take(self, rows: Iterable[tuple[int, str]]) -> None:
        for row_id, term in rows:
            self._last_id = max(self._last_id, int(row_id))
            self._add(str(term))

    def _add(self, term: str) -> None:
        if term in self._known:
            return
        script = _script(term)
        if script is None:
            return
        self._known.add(term)
        self._buckets.setdefault((script, len(term)), []).append(term)

    def _refresh(self, conn: Connection) -> None:
        """Read the rows added since the last look (all of them after a purge elsewhere shrank the table)."""
        size = int(conn.exec_driver_sql("SELECT count(*) FROM search_vocab").scalar() or 0)
        if size < len(self._known):
            self._forget()
        self._take(conn.exec_driver_sql("SELECT id, term FROM search_vocab WHERE id > ?", (self._last_id,)))

    def remember(self, conn: Connection, terms: set[str]) -> None:
        """Add a written document's words (those this process does not know yet) in the caller's transaction."""
        with self._lock:
            if not self._filled:
                self._fill(conn)
            new = sorted(t for t in terms - self._known if _script(t))  # the same rows whatever the set order
            if not new:
                return
            conn.exec_driver_sql("INSERT OR IGNORE INTO search_vocab (term) VALUES (?)", [(t,) for t in new])
            self._refresh(conn)

    def similar(self, conn: Connection, text: str, limit: int = MAX_CANDIDATES) -> list[str]:
        """Words of the index within :func:`max_edits` of ``text`` (normalised as the index does), nearest first."""
        word = vocabulary_word(text)
        if word is None:
            return []
        with self._lock:
            if not self._filled:
                self._fill(conn)
            self._refresh(conn)
            script = _script(word) or ""
            edits = max_edits(word)
            pool = [
                t
                for n in range(len(word) - edits, len(word) + edits + 1)
                for t in self._buckets.get((script, n), ())
            ]
        return nearest(word, pool, limit)

    def _fill(self, conn: Connection) -> None:
        """Once per index: the words of an index written before the table existed, from FTS5's own vocabulary."""
        done = conn.exec_driver_sql("SELECT value FROM search_meta WHERE key = 'vocabulary'").scalar()
        if done == "1":
            self._filled = True
            return
        conn.exec_driver_sql(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_fts_terms USING fts5vocab(main, search_fts, 'row')"
        )
        found: list[tuple[str]] = []
        for low, high in (("a", "{"), ("\u3040", "\U0010ffff")):
            rows = conn.exec_driver_sql(
                "SELECT term FROM temp.search_fts_terms WHERE term >= ? AND term < ?", (low, high)
            )
            found.extend((str(t),) for (t,) in rows if _script(str(t)))
        if found:
            conn.exec_driver_sql("INSERT OR IGNORE INTO search_vocab (term) VALUES (?)", found)
        conn.exec_driver_sql("INSERT OR REPLACE INTO search_meta (key, value) VALUES ('vocabulary', '1')")
        self._filled = True  # (in the caller's transaction: a rollback leaves the next process to fill it)

    def clear(self, conn: Connection) -> None:
        """Forget every word (the index was emptied)."""
        with self._lock:
            conn.exec_driver_sql("DELETE FROM search_vocab")
            conn.exec_driver_sql("INSERT OR REPLACE INTO search_meta (key, value) VALUES ('vocabulary', '1')")
            self._forget()
            self._filled = True

    def purge(self, conn: Connection) -> None:
        """Drop the words no document holds any more (after an erasure: none of its words may stay)."""
        with self._lock:
            conn.exec_driver_sql(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_fts_terms"
                " USING fts5vocab(main, search_fts, 'row')"
            )
            conn.exec_driver_sql(
                "DELETE FROM search_vocab WHERE NOT EXISTS"
                " (SELECT 1 FROM temp.search_fts_terms v WHERE v.term = search_vocab.term)"
            )
            self._forget()


def term_suggest_body(word: str, limit: int = MAX_CANDIDATES) -> dict[str, Any]:
    """An OpenSearch ``_search`` body asking the stock ``term`` suggester for words near ``word``.

    CJK words come from the ``words`` field (jieba's), Latin ones from ``grams``, ``title`` and
    ``meta`` (their Latin pieces); every position of the word may be wrong (``prefix_length`` 0).
    """
    fields = ("words",) if _script(word) == "cjk" else ("grams", "title", "meta")
    options = {
        "suggest_mode": "always",
        "max_edits": max(1, max_edits(word)),
        "prefix_length": 0,
        "min_word_length": MIN_WORD,
        "size": limit,
        "analyzer": "whitespace",
        "sort": "score",
    }
    return {
        "size": 0,
        "suggest": {
            f"f{i}": {"text": word, "term": {**options, "field": field}} for i, field in enumerate(fields)
        },
    }


def suggested_terms(answer: dict[str, Any], word: str, limit: int = MAX_CANDIDATES) -> list[str]:
    """The words of a :func:`term_suggest_body` answer that the vocabulary keeps, ranked as :func:`nearest` ranks."""
    options = {
        str(option.get("text") or "")
        for entries in (answer.get("suggest") or {}).values()
        for entry in entries
        for option in entry.get("options") or ()
    }
    return nearest(word, sorted(t for t in options if _script(t)), limit)
