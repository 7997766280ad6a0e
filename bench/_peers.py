"""Peer engines for ``bench/search.py``: the same documents in a Tantivy index and in SQLite FTS5.

Two designs other document tools ship with, built from the same generated documents and asked the
same plain queries, so every benchmark run shows how far Dossier is from them, in speed and in
what they find:

* :class:`TantivyPeer` is set up the way Paperless-ngx v3 builds its Tantivy index
  (``src/documents/search/_schema.py`` and ``_tokenizer.py`` there): ``title``, ``content``,
  ``correspondent``, ``document_type``, ``tag`` and ``original_filename`` through the *simple*
  tokenizer (split on what is not a letter or digit, so a run of Chinese characters is one token)
  -> remove_long(65) -> lowercase -> ascii_fold, title boosted 2x; plus ``bigram_content``, the
  whole text through ngram(2, 2) -> lowercase, indexed WITHOUT positions (``index_option="freq"``),
  not stored.  A query word matches a text field as a token (a quoted phrase by positions), or
  ``bigram_content`` when every character bigram of the word is in the document, anywhere in it:
  without positions the bigrams of 合同金额 need not be next to each other, and a single character
  has no bigram at all.  Words are ANDed like Dossier's (Paperless' own parser ORs them, which
  would only lower its precision further); ``-word`` excludes, ``a OR b`` ORs.  A query answers
  the count and the top 25 with a highlighted ``content`` snippet (``SnippetGenerator``), as
  Paperless' ``search()`` does for a page of 25.  (The Paperless sources read for this declare
  ``bigram_content`` with Tantivy's default options, positions included, and their default query
  fields leave it out; this peer follows the design the search-v2 issue measured, bigrams
  without positions searched beside the text fields, which is also what makes a Chinese
  substring findable at all with the simple tokenizer.)
* :class:`Fts5Peer` is SQLite FTS5 with its default ``unicode61`` tokenizer, as sist2 builds its
  ``search`` table (columns name, content, title, path; rank ``bm25(8, 3, 8, 5)``): count, then
  the top 25 by rank with ``snippet()`` of the content.  unicode61 also makes a run of Chinese
  characters one token, so 合同 is not found inside 本合同金额.

Nothing here is Dossier code: the peers exist to be measured (speed) and judged (recall and
precision on the judged dev queries, via :func:`judge`).  tantivy is a development dependency
(``requirements-dev.txt``); :func:`tantivy_missing` says how to get it.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sqlite3
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

#: How many hits a page shows in both peers (Paperless' default page size).
PAGE = 25

#: Paperless-ngx's default search fields and boosts.
_TEXT_FIELDS = ("title", "content", "correspondent", "document_type", "tag")
_BOOSTS = {"title": 2.0}

_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')


@dataclass(frozen=True)
class Clause:
    """One part of a plain query: a word or a quoted phrase, negated or not."""

    text: str
    phrase: bool = False
    negated: bool = False


@dataclass(frozen=True)
class PlainQuery:
    """A plain query as both peers read it: clauses ANDed, or ORed when the query says ``OR``."""

    clauses: tuple[Clause, ...]
    any_of: bool = False

    @property
    def positive(self) -> list[Clause]:
        return [c for c in self.clauses if not c.negated and c.text]

    @property
    def negative(self) -> list[Clause]:
        return [c for c in self.clauses if c.negated and c.text]


def parse_plain(query: str) -> PlainQuery:
    """Words, ``"quoted phrases"``, ``-excluded`` words and ``OR`` (an unpaired quote is a character)."""
    clauses: list[Clause] = []
    any_of = False
    for m in _TOKEN.finditer(query.replace("\u201c", '"').replace("\u201d", '"')):
        if m.group(3) is not None:
            word = m.group(3)
            if word == "OR":
                any_of = True
                continue
            negated = word.startswith("-") and len(word) > 1
            word = word[1:] if negated else word
            clauses.append(Clause(word.replace('"', ""), negated=negated))
        else:
            clauses.append(Clause(m.group(2), phrase=True, negated=bool(m.group(1))))
    return PlainQuery(tuple(clauses), any_of)


@dataclass
class Answer:
    """What a peer answers for one query: the total, the ids of the page, and its snippets."""

    total: int
    ids: list[int]
    snippets: list[str] = field(default_factory=list)

    @property
    def highlighted(self) -> int:
        return sum("<b>" in s or "<mark>" in s for s in self.snippets)


class Peer(Protocol):
    """A peer engine: built once from documents, then asked plain queries."""

    name: str

    def add(self, docs: Sequence[Any]) -> None: ...

    def finish(self) -> None: ...

    def search(self, query: str, limit: int = PAGE) -> Answer: ...

    def size_bytes(self) -> int: ...

    def close(self) -> None: ...


def tantivy_missing() -> str:
    """Empty when tantivy can be imported; otherwise how to get it."""
    try:
        import tantivy  # noqa: F401
    except ImportError:
        return (
            "tantivy is not installed: the Tantivy peer needs it (a development dependency):"
            " .venv/bin/pip install -r requirements-dev.txt"
        )
    return ""


class TantivyPeer:
    """A Tantivy index set up like Paperless-ngx v3's (see the module docstring)."""

    name = "tantivy"

    def __init__(self, directory: Path | None = None, *, memory_mb: int = 256) -> None:
        import tantivy

        self._t = tantivy
        self._own = directory is None
        self.path = Path(tempfile.mkdtemp(prefix="peer-tantivy-")) if directory is None else directory
        self.path.mkdir(parents=True, exist_ok=True)
        sb = tantivy.SchemaBuilder()
        sb.add_unsigned_field("id", stored=True, indexed=True, fast=True)
        for name in (*_TEXT_FIELDS, "original_filename"):
            sb.add_text_field(name, stored=True, tokenizer_name="paperless_text")
        sb.add_text_field(
            "bigram_content", stored=False, tokenizer_name="bigram_analyzer", index_option="freq"
        )
        self.schema = sb.build()
        self.index = tantivy.Index(self.schema, path=str(self.path))
        text = (
            tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.remove_long(65))
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.ascii_fold())
            .build()
        )
        self._bigrams = (
            tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.ngram(min_gram=2, max_gram=2, prefix_only=False))
            .filter(tantivy.Filter.lowercase())
            .build()
        )
        self.index.register_tokenizer("paperless_text", text)
        self.index.register_tokenizer("bigram_analyzer", self._bigrams)
        self._writer: Any = self.index.writer(heap_size=memory_mb * 1024 * 1024)

    def add(self, docs: Sequence[Any]) -> None:
        """Add index documents (``IndexDocument``: id, title, text, filename, doc_type, customers, tags)."""
        t = self._t
        for d in docs:
            doc = t.Document()
            doc.add_unsigned("id", d.id)
            doc.add_text("title", d.title)
            doc.add_text("content", d.text)
            doc.add_text("bigram_content", d.text)
            doc.add_text("original_filename", d.filename)
            doc.add_text("document_type", d.doc_type)
            for name in d.customers:
                doc.add_text("correspondent", name)
            for tag in d.tags:
                doc.add_text("tag", tag)
            self._writer.add_document(doc)

    def finish(self) -> None:
        self._writer.commit()
        self._writer.wait_merging_threads()
        self._writer = None
        self.index.reload()

    def _word(self, clause: Clause) -> Any:
        t = self._t
        text = clause.text.replace('"', " ").replace("\\", " ").strip()
        parts = []
        with contextlib.suppress(ValueError):
            parts.append(self.index.parse_query(f'"{text}"', list(_TEXT_FIELDS), field_boosts=_BOOSTS))
        grams = {tok for tok in self._bigrams.analyze(text)}
        if grams:
            parts.append(
                t.Query.boolean_query(
                    [
                        (t.Occur.Must, t.Query.term_query(self.schema, "bigram_content", g))
                        for g in sorted(grams)
                    ]
                )
            )
        if not parts:
            return t.Query.empty_query()
        return t.Query.boolean_query([(t.Occur.Should, p) for p in parts])

    def query(self, query: str) -> Any:
        """The Tantivy query for a plain query string."""
        t = self._t
        plain = parse_plain(query)
        positive, negative = plain.positive, plain.negative
        if not positive:
            occurs = [(t.Occur.Must, t.Query.all_query())]
        else:
            occur = t.Occur.Should if plain.any_of else t.Occur.Must
            occurs = [(occur, self._word(c)) for c in positive]
        occurs += [(t.Occur.MustNot, self._word(c)) for c in negative]
        return t.Query.boolean_query(occurs)

    def search(self, query: str, limit: int = PAGE) -> Answer:
        """Count and the top ``limit`` hits with a highlighted ``content`` snippet each."""
        t = self._t
        q = self.query(query)
        searcher = self.index.searcher()
        result = searcher.search(q, limit=limit, count=True)
        generator = t.SnippetGenerator.create(searcher, q, self.schema, "content")
        ids, snippets = [], []
        for _score, address in result.hits:
            doc = searcher.doc(address)
            ids.append(doc["id"][0])
            snippets.append(generator.snippet_from_doc(doc).to_html())
        return Answer(result.count or 0, ids, snippets)

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())

    def close(self) -> None:
        self._writer = None
        if self._own:
            shutil.rmtree(self.path, ignore_errors=True)


def _fts5_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


class Fts5Peer:
    """SQLite FTS5 with the unicode61 tokenizer, laid out like sist2's ``search`` table."""

    name = "fts5"

    def __init__(self, path: Path | None = None) -> None:
        self._own = path is None
        self._dir = Path(tempfile.mkdtemp(prefix="peer-fts5-")) if path is None else None
        self.path = self._dir / "search.db" if self._dir is not None else path  # type: ignore[operator]
        assert self.path is not None
        self.db = sqlite3.connect(self.path, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5(name, content, title, path, tokenize='unicode61')"
        )
        self.db.execute("INSERT INTO search(search, rank) VALUES ('rank', 'bm25(8, 3, 8, 5)')")
        self.db.execute("INSERT INTO search(search, rank) VALUES ('automerge', 0)")

    def add(self, docs: Sequence[Any]) -> None:
        with self.db:
            self.db.executemany(
                "INSERT INTO search(rowid, name, content, title, path) VALUES (?, ?, ?, ?, ?)",
                [(d.id, d.filename, d.text, d.title, d.doc_type) for d in docs],
            )

    def finish(self) -> None:
        with self.db:
            self.db.execute("INSERT INTO search(search, rank) VALUES ('automerge', 4)")
            self.db.execute("INSERT INTO search(search) VALUES ('optimize')")
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    @staticmethod
    def match(query: str) -> str:
        """The FTS5 MATCH expression for a plain query ('' when it matches everything)."""
        plain = parse_plain(query)
        positive = [_fts5_string(c.text) for c in plain.positive]
        if not positive:
            return ""
        expr = (" OR " if plain.any_of else " AND ").join(positive)
        if len(positive) > 1:
            expr = f"({expr})"
        for c in plain.negative:
            expr += f" NOT {_fts5_string(c.text)}"
        return expr

    def search(self, query: str, limit: int = PAGE) -> Answer:
        """Count, then the top ``limit`` by rank with ``snippet()`` of the content."""
        expr = self.match(query)
        if not expr:
            total = self.db.execute("SELECT count(*) FROM search").fetchone()[0]
            rows = self.db.execute("SELECT rowid, '' FROM search LIMIT ?", (limit,)).fetchall()
        else:
            total = self.db.execute("SELECT count(*) FROM search WHERE search MATCH ?", (expr,)).fetchone()[0]
            rows = self.db.execute(
                "SELECT rowid, snippet(search, 1, '<mark>', '</mark>', '…', 20) FROM search"
                " WHERE search MATCH ? ORDER BY rank LIMIT ?",
                (expr, limit),
            ).fetchall()
        return Answer(total, [r[0] for r in rows], [r[1] for r in rows])

    def size_bytes(self) -> int:
        (pages,) = self.db.execute(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
        ).fetchone()
        return int(pages)

    def close(self) -> None:
        self.db.close()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)


def open_peers(names: Iterable[str]) -> list[Peer]:
    """Fresh, empty peers by name (``tantivy``, ``fts5``)."""
    made: list[Peer] = []
    for name in names:
        made.append(TantivyPeer() if name == "tantivy" else Fts5Peer())
    return made


@dataclass
class Judged:
    """Recall and precision of one engine over judged queries, and where it went wrong."""

    relevant: int = 0
    found: int = 0
    hits: int = 0
    good: int = 0
    highlighted: int = 0
    #: relevant documents not found although they contain every query term (substring misses)
    substring_misses: int = 0
    #: hits whose text does not contain a query term as written (terms scattered, across breaks)
    scattered: int = 0
    misses: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)

    def line(self, name: str) -> str:
        return (
            f"  {name:<22} recall {self.found:>4}/{self.relevant:<4} = {self.found / max(self.relevant, 1):6.1%}"
            f"   precision {self.good:>4}/{self.hits:<4} = {self.good / max(self.hits, 1):6.1%}"
            f"   highlighted {self.highlighted:>4}/{self.hits:<4}"
            f"   substring misses {self.substring_misses:>3}   hits without the terms as written {self.scattered:>3}"
        )


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


def judge(search: Any, queries: Sequence[dict], files: dict[int, str], texts: dict[int, str]) -> Judged:
    """Judge ``search(q) -> Answer`` (every hit, not a page) over the judged ``queries``.

    ``files`` maps a document id to its corpus file (what ``relevant`` names), ``texts`` to its
    title, file name and text (what all three engines search).  A *substring miss* is a relevant document that holds every term of the
    query as written but was not found; a *scattered* hit is one whose text lacks a positive
    term as written (for a peer: bigrams apart, across a sentence break, another word's letters).
    """
    out = Judged()
    folded = {i: _fold(t) for i, t in texts.items()}
    by_file = {f: i for i, f in files.items()}
    for q in queries:
        answer: Answer = search(q["q"])
        found = {files[i] for i in answer.ids if i in files}
        relevant = set(q["relevant"])
        literal = q.get("match") in ("substring_ci", "all_terms_ci")
        terms = [_fold(t) for t in q.get("terms") or () if _fold(t)] if literal else []
        out.relevant += len(relevant)
        out.found += len(relevant & found)
        out.hits += len(found)
        out.good += len(found & relevant)
        out.highlighted += answer.highlighted
        for f in sorted(relevant - found):
            out.misses.append(f"{q['id']} {q['q']!r} missed {f}")
            text = folded.get(by_file.get(f, -1), "")
            if terms and all(t in text for t in terms):
                out.substring_misses += 1
        for f in sorted(found - relevant):
            out.extras.append(f"{q['id']} {q['q']!r} also found {f}")
        if terms:
            out.scattered += sum(
                1 for i in answer.ids if i in folded and not all(t in folded[i] for t in terms)
            )
    return out


#: The query categories of ``bench/search.py``'s mix that are plain text (no filters, sorts or
#: field syntax), which the peers are asked too.
PLAIN = ("corpus", "common", "phrase", "syntax")


def peak_rss_mb() -> float:
    """The peak resident memory of this process so far, in MB (Linux: ru_maxrss is in KB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(peer: Peer, docs: Iterable[Any], batch: int) -> float:
    """Add ``docs`` in batches and finish; returns the seconds it took."""
    import time

    started = time.perf_counter()
    chunk: list[Any] = []
    for doc in docs:
        chunk.append(doc)
        if len(chunk) >= batch:
            peer.add(chunk)
            chunk = []
    if chunk:
        peer.add(chunk)
    peer.finish()
    return time.perf_counter() - started


def latencies(peer: Peer, queries: Sequence[str], repeat: int) -> tuple[list[float], list[int]]:
    """Milliseconds of every query, ``repeat`` rounds (after a warm-up), and the first round's totals."""
    import time

    for q in queries[:5]:
        peer.search(q)
    timings: list[float] = []
    totals: list[int] = []
    for r in range(repeat):
        for q in queries:
            t0 = time.perf_counter()
            answer = peer.search(q)
            timings.append((time.perf_counter() - t0) * 1000)
            if r == 0:
                totals.append(answer.total)
    return timings, totals


def _pct(xs: Sequence[float], p: float) -> float:
    ys = sorted(xs)
    return ys[min(len(ys) - 1, round(p * (len(ys) - 1)))] if ys else 0.0


def compare(
    names: Sequence[str],
    make_docs: Any,
    batch: int,
    queries: Sequence[str],
    repeat: int,
    dossier: dict[str, Any],
) -> None:
    """Build each peer from ``make_docs()`` (the same documents), time ``queries``, print beside Dossier.

    ``dossier`` holds Dossier embedded's ``docs_per_s``, ``size`` (bytes), ``timings`` (ms of the
    same plain queries) and ``totals`` (its first round's totals, in the order of ``queries``).
    """
    mb = 1024 * 1024
    rows: list[tuple[str, float, float, list[float], list[int]]] = [
        ("dossier", dossier["docs_per_s"], dossier["size"] / mb, dossier["timings"], dossier["totals"])
    ]
    for peer in open_peers(names):
        try:
            n = 0

            def counted() -> Iterable[Any]:
                nonlocal n
                for doc in make_docs():
                    n += 1
                    yield doc

            seconds = build(peer, counted(), batch)
            print(f"  {peer.name}: built {n:,} in {seconds:,.1f} s", flush=True)
            timings, totals = latencies(peer, queries, repeat)
            rows.append((peer.name, n / seconds, peer.size_bytes() / mb, timings, totals))
        finally:
            peer.close()
    d50, d95 = _pct(dossier["timings"], 0.5), _pct(dossier["timings"], 0.95)
    print(
        f"\npeers: the same documents, {len(queries)} plain queries ({', '.join(PLAIN)}) x {repeat};"
        f" peers answer count + top {PAGE} with highlighted snippets"
    )
    print(
        f"  {'engine':<9}{'build docs/s':>13}{'index MB':>10}{'p50 ms':>9}{'p95 ms':>9}"
        f"{'Dossier/peer p50':>18}{'p95':>7}{'build':>7}   totals vs Dossier (fewer / more)"
    )
    for name, rate, size, timings, totals in rows:
        p50, p95 = _pct(timings, 0.5), _pct(timings, 0.95)
        fewer = sum(a < b for a, b in zip(totals, dossier["totals"], strict=False))
        more = sum(a > b for a, b in zip(totals, dossier["totals"], strict=False))
        ratios = (
            f"{d50 / max(p50, 1e-9):>17.1f}x{d95 / max(p95, 1e-9):>6.1f}x{rate / dossier['docs_per_s']:>6.1f}x"
            if name != "dossier"
            else f"{'':>18}{'':>7}{'':>7}"
        )
        print(
            f"  {name:<9}{rate:>13,.0f}{size:>10,.1f}{p50:>9.1f}{p95:>9.1f}{ratios}"
            f"   {fewer} / {more} of {len(totals)}" + ("" if name != "dossier" else " (reference)")
        )
    print("  (Dossier/peer: Dossier's time over the peer's; above 1x Dossier is that many times slower)")


def judge_engines(
    names: Sequence[str],
    docs: Sequence[Any],
    files: dict[int, str],
    queries: Sequence[dict],
    dossier_search: Any,
    dossier_name: str = "embedded",
    *,
    verbose: bool = False,
) -> None:
    """Recall and precision of Dossier (its ``dossier_name`` backend) and each peer on the judged dev queries
    and dev documents."""
    texts = {d.id: f"{d.title}\n{d.filename}\n{d.text}" for d in docs}
    print(f"\njudged dev queries ({len(queries)} queries, {len(docs)} dev documents, every hit counted):")
    results = [(f"dossier {dossier_name}", judge(dossier_search, queries, files, texts))]
    for peer in open_peers(names):
        try:
            build(peer, docs, 500)
            results.append(
                (peer.name, judge(lambda q, p=peer: p.search(q, limit=len(docs)), queries, files, texts))
            )
        finally:
            peer.close()
    for name, judged in results:
        print(judged.line(name))
    print(
        "  substring misses: relevant documents that hold every query term as written and were not found;"
        "\n  hits without the terms as written: found though a term is not in the text as typed"
        " (bigrams far apart, across a sentence break)"
    )
    if verbose:
        for name, judged in results[1:]:
            for line in judged.misses:
                print(f"  {name} miss: {line}")
