"""A measured design study for issue 18: Dossier's own analysis, searched by Tantivy instead of FTS5.

Not the product.  The embedded backend answers from SQLite FTS5; issue 18 asks it to answer within
2x of a Tantivy index and finds FTS5 itself the limit (phrase matching and bm25 over every match of
a common term).  This module asks the question before anyone swaps engines: fed the *same*
streams the embedded index writes (:func:`index._sqlite_entry.entry_of`: title, meta, grams and
words, each already normalised and cut into Dossier's tokens) and asked the *same* queries
(:func:`index._query.parse_request`, compiled here as :func:`index._query.compile_match` compiles
them for FTS5), does Tantivy find exactly the same documents, and how fast?

- **Tokens:** the streams are split by Tantivy's ``simple`` tokenizer (runs of alphanumeric
  characters), as FTS5's ``unicode61`` splits them in the embedded index; nothing is lower-cased
  or folded again (the streams are normal already).  Positions are indexed: every query is a
  phrase over grams, which is what keeps Dossier's guarantees (every substring, phrases exact).
- **Queries:** one clause per FTS5 clause: a phrase over the title, meta and grams fields (a
  ``regex_phrase_query`` whose last word is a prefix where FTS5 has ``*``: Tantivy's own phrase
  prefix query stops at 50 expansions, the regex one at 16,384), a phrase in words, the
  alternatives over all four fields, the relaxed groups, the pinyin token.  Groups AND, terms of a
  group OR, exclusions MUST_NOT.
- **Answer:** the count, the top ``limit`` by Tantivy's bm25 (its ranking, not FTS5's: FTS5's
  column weights become per-field boosts), and the embedded index's twelve facets and lifecycle
  counts, all from one query: the permission filter inside it as the embedded index applies it
  (the readable confidentiality levels, plus confidential documents of the customers a sales rep
  owns), a document's own entries only (no superseded versions, no activities), active documents
  only; the facets are terms aggregations under a lifecycle bucket, so the lifecycle counts
  are taken before the lifecycle filter, as the embedded index takes them.

What it leaves out, and what the backend built on it would have to add: the request's column,
entity, customer-id and date filters, ``version:all``, activity and archive searches, relevance
tiers, sorting by date, snippets (Dossier's, from the stored text), writes in the document's
transaction (Tantivy has one writer per index, so a multi-process install needs a lock or a single
indexing process, and the SQLite records stay the truth: an index behind them catches up from
``search_log`` after a crash).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from index import ACCESS_LEVELS, IndexDocument, Principal, SearchRequest
from index._common import readable_levels
from index._os_query import BOOST, FACET_FIELDS
from index._query import QueryToken, Term, parse_request, pinyin_form
from index._sqlite_entry import Entry

try:  # a development dependency (requirements-dev.txt)
    import tantivy
except ImportError:  # pragma: no cover - bench only
    tantivy = None

__all__ = ["TantivyEngine", "available"]

_TEXT = ("title", "meta", "grams", "words")
_GRAM_FIELDS = ("title", "meta", "grams")
_BOOSTS = BOOST  # COLUMN_WEIGHTS of the embedded index as field boosts
_FACETS = FACET_FIELDS  # the embedded index's facets and the keyword field each counts
_FACET_SIZE = 50  # index._sqlite.FACET_LIMIT
_KEYWORDS = ("confidentiality", "lifecycle", *dict.fromkeys(_FACETS.values()))


def available() -> bool:
    """Whether tantivy (a development dependency) is installed."""
    return tantivy is not None


class TantivyEngine:
    """A Tantivy index of Dossier's entries, queried with Dossier's parsed queries (see the module doc)."""

    def __init__(self, directory: Path | None = None, memory_mb: int = 256) -> None:
        if tantivy is None:
            raise RuntimeError("tantivy is not installed (pip install -r requirements-dev.txt)")
        self._own = directory is None
        self.path = Path(tempfile.mkdtemp(prefix="dossier-tantivy-")) if directory is None else directory
        self.path.mkdir(parents=True, exist_ok=True)
        sb = tantivy.SchemaBuilder()
        sb.add_integer_field("id", stored=False, indexed=True, fast=True)
        sb.add_integer_field("access", stored=False, indexed=True)  # customers whose owners may read it
        for name in _TEXT:
            sb.add_text_field(name, stored=False, tokenizer_name="dossier_tokens")
        for name in _KEYWORDS:
            sb.add_text_field(name, stored=False, fast=True, tokenizer_name="raw")
        self.schema = sb.build()
        self.index = tantivy.Index(self.schema, path=str(self.path))
        self._tokens = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).build()
        self.index.register_tokenizer("dossier_tokens", self._tokens)
        self._writer: Any = self.index.writer(heap_size=memory_mb * 1024 * 1024)
        self._searcher: Any = None

    # -- writing ---------------------------------------------------------------------------------

    def add(self, rows: Iterable[tuple[IndexDocument, Entry]]) -> None:
        """Add documents with the entries the embedded index computed for them."""
        for doc, entry in rows:
            d = tantivy.Document()
            d.add_integer("id", doc.id)
            d.add_text("title", entry.title)
            d.add_text("meta", entry.meta)
            d.add_text("grams", entry.grams)
            d.add_text("words", entry.words_column)
            for customer in dict.fromkeys(doc.access_customer_ids or doc.customer_ids):
                d.add_integer("access", customer)
            keywords = {
                "doc_type": (doc.doc_type,),
                "confidentiality": (doc.confidentiality,),
                "lifecycle": (doc.lifecycle,),
                "customers": doc.customers,
                "tags": doc.tags,
                "customer_types": doc.customer_types,
                "industries": doc.industries,
                "regions": doc.regions,
                "customer_stages": doc.customer_stages,
                "customer_importance": doc.customer_importance,
                "customer_tags": doc.customer_tags,
                "file_format": (doc.file_format,),
                "scan": ("scan",) if doc.scan else (),
                "year": (doc.date[:4],) if doc.date else (),
            }
            for name, values in keywords.items():
                for value in dict.fromkeys(v for v in values if v):
                    d.add_text(name, value)
            self._writer.add_document(d)

    def commit(self) -> None:
        """Make what was added searchable (one commit, as a batch of the rebuild would)."""
        self._writer.commit()
        self._writer.wait_merging_threads()
        self._writer = self.index.writer()
        self.index.reload()
        self._searcher = None

    def finish(self) -> None:
        """Commit and merge: the index is read-only from here."""
        self._writer.commit()
        self._writer.wait_merging_threads()
        self._writer = None
        self.index.reload()
        self._searcher = None

    # -- queries ---------------------------------------------------------------------------------

    def _split(self, texts: Iterable[str]) -> list[str]:
        """The tokens FTS5's unicode61 makes of a phrase's texts (the simple tokenizer's runs)."""
        return [tok for text in texts for tok in self._tokens.analyze(text)]

    def _phrase(self, fields: Iterable[str], texts: Iterable[str], prefix: bool = False) -> Any:
        """The phrase of ``texts`` in any of ``fields`` (the last token a prefix where ``prefix``)."""
        t = tantivy
        words = self._split(texts)
        if not words:
            return t.Query.empty_query()
        parts = []
        for field in fields:
            boost = _BOOSTS[field]
            if prefix:
                pattern = [re.escape(w) for w in words[:-1]] + [re.escape(words[-1]) + ".*"]
                if len(pattern) == 1:
                    q = t.Query.regex_query(self.schema, field, pattern[0])
                else:
                    q = t.Query.regex_phrase_query(self.schema, field, pattern)
            elif len(words) == 1:
                q = t.Query.term_query(self.schema, field, words[0])
            else:
                q = t.Query.phrase_query(self.schema, field, words)
            parts.append(t.Query.boost_query(q, boost))
        return parts[0] if len(parts) == 1 else t.Query.boolean_query([(t.Occur.Should, p) for p in parts])

    def _term(self, term: Term) -> Any:
        """One term: each form :func:`index._query._term_match` gives FTS5, as alternatives."""
        t = tantivy
        tok: QueryToken = term.token
        parts = [self._phrase(_GRAM_FIELDS, tok.grams, tok.prefix)]
        parts += [self._phrase(_GRAM_FIELDS, v, tok.prefix) for v in tok.variants]
        if tok.word is not None:
            parts.append(self._phrase(("words",), [tok.word]))
        parts += [self._phrase(_TEXT, [alt]) for alt in tok.alternatives]
        parts += [self._phrase(_GRAM_FIELDS, [j]) for j in tok.joined]
        if tok.relaxed is not None:
            groups = [
                t.Query.boolean_query([(t.Occur.Should, self._phrase(_GRAM_FIELDS, g, p)) for g, p in group])
                for group in tok.relaxed.groups
            ]
            parts.append(t.Query.boolean_query([(t.Occur.Must, g) for g in groups]))
        pinyin = pinyin_form(term)
        if pinyin is not None:
            parts.append(self._phrase(("words",), [pinyin]))
        return t.Query.boolean_query([(t.Occur.Should, p) for p in parts])

    def query(self, request: SearchRequest, principal: Principal) -> Any:
        """The Tantivy query for a plain request as ``principal``: text, exclusions and the level filter."""
        t = tantivy
        parsed = parse_request(request)
        occurs: list[tuple[Any, Any]] = []
        for group in parsed.groups:
            occurs.append(
                (t.Occur.Must, t.Query.boolean_query([(t.Occur.Should, self._term(x)) for x in group]))
            )
        if not occurs:
            occurs.append((t.Occur.Must, t.Query.all_query()))
        occurs += [(t.Occur.MustNot, self._term(x)) for x in parsed.excludes]
        occurs.append((t.Occur.Must, t.Query.range_query(self.schema, "id", t.FieldType.Integer, 1, 2**62)))
        levels = readable_levels(principal)
        if not levels >= set(ACCESS_LEVELS):
            readable = t.Query.term_set_query(self.schema, "confidentiality", sorted(levels))
            owned = sorted(principal.owned_customer_ids) if principal.role == "sales" else []
            if owned:
                theirs = t.Query.boolean_query(
                    [
                        (t.Occur.Must, t.Query.term_query(self.schema, "confidentiality", "confidential")),
                        (t.Occur.Must, t.Query.term_set_query(self.schema, "access", owned)),
                    ]
                )
                readable = t.Query.boolean_query([(t.Occur.Should, readable), (t.Occur.Should, theirs)])
            occurs.append((t.Occur.Must, readable))
        return t.Query.boolean_query(occurs)

    def _active(self, query: Any) -> Any:
        t = tantivy
        active = t.Query.term_query(self.schema, "lifecycle", "active")
        return t.Query.boolean_query([(t.Occur.Must, query), (t.Occur.Must, active)])

    def searcher(self) -> Any:
        if self._searcher is None:
            self._searcher = self.index.searcher()
        return self._searcher

    def search(
        self, request: SearchRequest, principal: Principal, *, limit: int = 20, facets: bool = True
    ) -> tuple[int, list[int], dict[str, list[tuple[str, int]]]]:
        """(total, the ids of the first ``limit`` active hits by bm25, facet counts and lifecycle counts)."""
        searcher = self.searcher()
        q = self.query(request, principal)
        result = searcher.search(self._active(q), limit=limit, count=True)
        ids = searcher.fast_field_values("id", [address for _, address in result.hits])
        counts: dict[str, list[tuple[str, int]]] = {}
        if facets and result.count:
            per_facet = {k: {"terms": {"field": f, "size": _FACET_SIZE}} for k, f in _FACETS.items()}
            spec = {"lifecycle": {"terms": {"field": "lifecycle", "size": 4}, "aggs": per_facet}}
            buckets = searcher.aggregate(q, spec)["lifecycle"]["buckets"]
            counts["lifecycle"] = [(b["key"], int(b["doc_count"])) for b in buckets]
            for bucket in buckets:
                if bucket["key"] == "active":
                    for k in _FACETS:
                        counts[k] = [(b["key"], int(b["doc_count"])) for b in bucket[k]["buckets"]]
        return int(result.count or 0), [int(i) for i in ids], counts

    def match_ids(self, request: SearchRequest, principal: Principal) -> set[int]:
        """Every matching id (for comparing match sets; slow on big sets)."""
        searcher = self.searcher()
        q = self._active(self.query(request, principal))
        n = max(1, searcher.num_docs)
        result = searcher.search(q, limit=n, count=False)
        return {int(i) for i in searcher.fast_field_values("id", [a for _, a in result.hits])}

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())

    def close(self) -> None:
        self._writer = None
        self._searcher = None
        if self._own:
            shutil.rmtree(self.path, ignore_errors=True)
