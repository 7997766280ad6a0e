"""Tantivy queries for a parsed query, a request and a principal (the Tantivy backend, :mod:`index._tantivy`).

They mean exactly what the embedded backend's FTS5 expression and column masks mean
(:mod:`index._query`, :mod:`index._sqlite`), as :mod:`index._os_query` does for OpenSearch:
the index holds the embedded index's own token streams (:func:`index._sqlite_entry.entry_of`),
split again by Tantivy's ``simple`` tokenizer as FTS5's ``unicode61`` splits them, with positions,
so a term is a phrase over grams (every substring, phrases exact).  Each FTS5 clause becomes one
Tantivy clause (a ``regex_phrase_query`` where FTS5 has a prefix ``*``), groups AND, terms of a
group OR, exclusions MUST_NOT.  Every filter, the permission filter included, is a clause of the
one query, so totals and aggregations never count what the caller may not read.

Per-field boosts stand in for the embedded bm25 column weights (title 10, meta 6, words 2,
grams 1); the relevance tiers (:mod:`index._relevance`) are constant-score ``should`` clauses whose
scores outweigh any text score, as on OpenSearch.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import tantivy

from index._common import readable_levels
from index._fields import ENTITY_FIELDS, filter_values
from index._formats import SCAN

# The field names, boosts and facets of the OpenSearch mapping, which this schema repeats (index._tv_schema).
from index._os_query import BOOST, FACET_FIELDS, GRAM_FIELDS, STEERING_FIELDS
from index._query import (
    ParsedQuery,
    Term,
    column_filters,
    entity_groups,
    include_versions,
    pinyin_form,
    scan_filter,
)
from index._relevance import named_types
from index._types import ACCESS_LEVELS, ACTIVITY_ID_BASE, Principal, SearchRequest

__all__ = ["FACET_FIELDS", "TEXT_FIELDS", "TvQueries", "date_number", "entity_term"]

TEXT_FIELDS = ("title", "meta", "grams", "words")
TIER_FIELDS = ("title", "meta")
_INT64_MAX = 2**63 - 1
#: The tiers' constant scores: far above any text score, and small enough for Tantivy's 32-bit scores to
#: keep the text score's precision (about 0.001) on top of them.
TYPE_BOOST = 20_000.0
FIELDS_BOOST = 10_000.0
#: Regex queries (customer, industry, region, year and date filters) kept made, per :class:`TvQueries`.
REGEX_QUERIES = 1024


def entity_term(kind: str, key: str) -> str:
    """How an entity (kind, lookup key) is stored in the ``entity`` keyword field."""
    return f"{kind}\x1f{key}"


def date_number(date: str, *, upper: bool = False) -> int:
    """A date or date prefix (``2024``, ``2024-03``, ``2024-03-05``) as ``yyyymmdd``; a prefix reaches back
    to its first day, or with ``upper`` forward past its last one."""
    digits = "".join(ch for ch in date if ch.isdigit())[:8]
    return int(digits.ljust(8, "9" if upper else "0")) if digits else 0


class TvQueries:
    """Builds the Tantivy queries of requests over one schema (``analyze`` splits a stream as the index does)."""

    def __init__(self, schema: Any, analyze: Callable[[str], list[str]]) -> None:
        self.schema = schema
        self._analyze = analyze
        # A regex query compiles its automaton when made (~1 ms for ``.*contoso.*``): one query object serves
        # every search that filters by the same value (the objects are immutable and shared across threads).
        self._regex = functools.lru_cache(maxsize=REGEX_QUERIES)(self._new_regex)

    # -- small pieces --------------------------------------------------------------------------

    @staticmethod
    def _any(parts: Sequence[Any]) -> Any:
        t = tantivy
        if not parts:
            return t.Query.empty_query()
        return parts[0] if len(parts) == 1 else t.Query.boolean_query([(t.Occur.Should, p) for p in parts])

    @staticmethod
    def _all(parts: Sequence[Any]) -> Any:
        t = tantivy
        if not parts:
            return t.Query.all_query()
        return parts[0] if len(parts) == 1 else t.Query.boolean_query([(t.Occur.Must, p) for p in parts])

    def _terms(self, field: str, values: Iterable[str]) -> Any:
        wanted = sorted({v for v in values if v})
        if not wanted:
            return tantivy.Query.empty_query()
        return tantivy.Query.term_set_query(self.schema, field, wanted)

    def _new_regex(self, field: str, pattern: str) -> Any:
        return tantivy.Query.regex_query(self.schema, field, pattern)

    def _ids(self, lower: int | None, upper: int | None) -> Any:
        t = tantivy
        return t.Query.range_query(self.schema, "id", t.FieldType.Integer, lower, upper)

    # -- text ----------------------------------------------------------------------------------

    def _phrase(self, fields: Iterable[str], texts: Iterable[str], prefix: bool = False) -> Any:
        """The phrase of ``texts`` in any of ``fields`` (the last token a prefix where ``prefix``)."""
        t = tantivy
        words = [tok for text in texts for tok in self._analyze(text)]
        if not words:
            return t.Query.empty_query()
        parts = []
        for field in fields:
            if prefix:
                pattern = [re.escape(w) for w in words[:-1]] + [re.escape(words[-1]) + ".*"]
                if len(pattern) == 1:
                    q = t.Query.regex_query(self.schema, field, pattern[0])
                else:
                    q = t.Query.regex_phrase_query(self.schema, field, list[str | tuple[int, str]](pattern))
            elif len(words) == 1:
                q = t.Query.term_query(self.schema, field, words[0])
            else:
                q = t.Query.phrase_query(self.schema, field, list[str | tuple[int, str]](words))
            parts.append(t.Query.boost_query(q, BOOST[field]))
        return self._any(parts)

    def term(self, term: Term, within: Sequence[str] = TEXT_FIELDS, *, scored: bool = True) -> Any | None:
        """One term: each form :func:`index._query._term_match` gives FTS5, as alternatives, in the fields
        ``within`` (None when no form of it can match there).

        ``scored=False`` leaves out the ``words`` clause of a Chinese word: the words column holds the jieba
        words of the body, each also a run of the body's grams, so that clause only adds score (a digit word
        stays: the words column joins phone numbers the grams hold in groups).
        """
        t = tantivy
        tok = term.token

        def fields(names: Sequence[str]) -> list[str]:
            return [f for f in names if f in within]

        grams = fields(GRAM_FIELDS)
        parts = []
        if grams:
            parts.append(self._phrase(grams, tok.grams, tok.prefix))
            parts += [self._phrase(grams, v, tok.prefix) for v in tok.variants]
            parts += [self._phrase(grams, [j]) for j in tok.joined]
        if tok.word is not None and "words" in within and (scored or tok.word.isdigit()):
            parts.append(self._phrase(("words",), [tok.word]))
        parts += [self._phrase(fields(TEXT_FIELDS), [alt]) for alt in tok.alternatives if fields(TEXT_FIELDS)]
        if tok.relaxed is not None and grams:
            groups = [
                self._any([self._phrase(grams, g, p) for g, p in group]) for group in tok.relaxed.groups
            ]
            parts.append(t.Query.boolean_query([(t.Occur.Must, g) for g in groups]))
        pinyin = pinyin_form(term)
        if pinyin is not None and "words" in within:
            parts.append(self._phrase(("words",), [pinyin]))
        return self._any(parts) if parts else None

    # -- filters -------------------------------------------------------------------------------

    def permission(self, principal: Principal) -> Any | None:
        """What ``principal`` may read (None: everything), as the embedded backend's mask decides it."""
        t = tantivy
        levels = readable_levels(principal)
        if levels >= set(ACCESS_LEVELS):
            return None
        readable = self._terms("confidentiality", levels)
        owned = sorted(principal.owned_customer_ids) if principal.role == "sales" else []
        if owned:
            theirs = self._all(
                [
                    t.Query.term_query(self.schema, "confidentiality", "confidential"),
                    t.Query.term_set_query(self.schema, "access", [int(i) for i in owned]),
                ]
            )
            readable = self._any([readable, theirs])
        return readable

    def field(
        self, kind: str, values: Sequence[str], exact_customers: Callable[[Sequence[str]], set[str]]
    ) -> Any:
        """Documents matching any of ``values`` (normalised by ``filter_values``) of field ``kind``."""
        if kind == "customer":
            exact = exact_customers(values)
            return self._any(
                [
                    tantivy.Query.term_query(self.schema, "customer_keys", v)
                    if v in exact
                    else self._regex("customer_keys", ".*" + re.escape(v) + ".*")
                    for v in values
                ]
            )
        if kind == "type":
            return self._terms("doc_type_key", (v.lower() for v in values))
        if kind == "tag":
            return self._terms("tags", values)
        if kind == "customer_type":
            return self._terms("customer_types", values)
        if kind == "industry":
            return self._any([self._regex("industry_keys", ".*" + re.escape(v) + ".*") for v in values])
        if kind == "region":
            return self._any([self._regex("region_keys", re.escape(v) + ".*") for v in values])
        if kind == "year":
            return self._any([self._regex("date", re.escape(v) + ".*") for v in values if v])
        if kind in STEERING_FIELDS:
            return self._terms(STEERING_FIELDS[kind], values)
        if kind == "format":
            return self._terms("file_format", values)
        raise ValueError(f"unknown filter kind {kind!r}")

    def entities(self, group: Sequence[tuple[str, str]]) -> Any:
        """Documents having any (kind, lookup value) of ``group``; a date also matches the document's own date."""
        parts = []
        for kind, value in group:
            if kind == "date" and len(value) < 10:
                parts.append(self._regex("entity", re.escape(entity_term(kind, value)) + ".*"))
            else:
                parts.append(tantivy.Query.term_query(self.schema, "entity", entity_term(kind, value)))
            if kind == "date":
                parts.append(self._regex("date", re.escape(value) + ".*"))
        return self._any(parts)

    def entries(self, versions: bool, activities: str) -> Any | None:
        """Which entries a request searches (:func:`index._sqlite.entry_mask`); None for every entry."""
        activity = self._ids(None, -ACTIVITY_ID_BASE)
        if activities == "only":
            return activity
        wanted = self._ids(1 if not versions else -ACTIVITY_ID_BASE + 1, None)
        if activities == "exclude":
            return wanted
        return None if versions else self._any([wanted, activity])

    def lifecycle(self, archived: str) -> tuple[Any, Any] | None:
        """(occur, clause) of the lifecycle filter (:func:`index._query.lifecycle_filter`); None: every entry."""
        t = tantivy
        if archived == "only":
            return t.Occur.Must, t.Query.term_query(self.schema, "lifecycle", "archived")
        if archived == "exclude":
            return t.Occur.MustNot, t.Query.term_query(self.schema, "lifecycle", "archived")
        return None

    # -- the whole query -----------------------------------------------------------------------

    def build(
        self,
        parsed: ParsedQuery,
        request: SearchRequest,
        principal: Principal,
        exact_customers: Callable[[Sequence[str]], set[str]],
        *,
        tiers: bool,
        scored: bool = True,
    ) -> list[tuple[Any, Any]]:
        """The (occur, clause) pairs of a search, its lifecycle filter left out (the caller adds it: the
        lifecycle counts are taken before it); ``tiers`` adds the relevance tiers' ``should`` clauses.

        ``scored=False`` gives the same matches with the clauses that only add score left out (see
        :meth:`term`): the query that counts facets, where no score is read.
        """
        t = tantivy
        occurs: list[tuple[Any, Any]] = []
        groups = [self._any([self.term(x, scored=scored) for x in group]) for group in parsed.groups]
        occurs += [(t.Occur.Must, g) for g in groups]
        occurs += [(t.Occur.MustNot, self.term(x, scored=scored)) for x in parsed.excludes]
        permission = self.permission(principal)
        if permission is not None:
            occurs.append((t.Occur.Must, permission))
        for kind, values in column_filters(request, parsed).items():
            if values:
                occurs.append((t.Occur.Must, self.field(kind, values, exact_customers)))
        if request.customer_ids:
            ids = sorted({int(i) for i in request.customer_ids})
            occurs.append((t.Occur.Must, t.Query.term_set_query(self.schema, "customer_id", ids)))
        for group in entity_groups(request, parsed):
            occurs.append((t.Occur.Must, self.entities(group)))
        for kind, value in parsed.excluded_fields:
            if kind in ENTITY_FIELDS:
                occurs.append((t.Occur.MustNot, self.entities([(kind, value)])))
            else:
                occurs.append(
                    (t.Occur.MustNot, self.field(kind, filter_values(kind, [value]), exact_customers))
                )
        if request.date_from or request.date_to:
            low = date_number(request.date_from) if request.date_from else 1
            high = date_number(request.date_to, upper=True) if request.date_to else _INT64_MAX
            occurs.append(
                (t.Occur.Must, t.Query.range_query(self.schema, "date_num", t.FieldType.Integer, low, high))
            )
        scans = scan_filter(request, parsed)
        if scans is not None:
            occur = t.Occur.Must if scans == "only" else t.Occur.MustNot
            occurs.append((occur, t.Query.term_query(self.schema, "scan", SCAN)))
        entries = self.entries(include_versions(request, parsed), request.activities)
        if entries is not None:
            occurs.append((t.Occur.Must, entries))
        if tiers and scored and parsed.groups:
            occurs += [(t.Occur.Should, c) for c in self._tiers(parsed)]
        if not any(o == t.Occur.Must for o, _ in occurs):
            occurs.append((t.Occur.Must, t.Query.all_query()))
        return occurs

    def _tiers(self, parsed: ParsedQuery) -> list[Any]:
        """Constant-score clauses making the relevance tiers (:mod:`index._relevance`): a named type, then every
        term in the title or meta."""
        t = tantivy
        out = []
        codes = named_types(parsed)
        if codes:
            out.append(
                t.Query.const_score_query(self._terms("doc_type_key", (c.lower() for c in codes)), TYPE_BOOST)
            )
        groups = []
        for group in parsed.groups:
            parts = [p for p in (self.term(x, TIER_FIELDS) for x in group) if p is not None]
            if not parts:
                return out
            groups.append(self._any(parts))
        out.append(t.Query.const_score_query(self._all(groups), FIELDS_BOOST))
        return out


def text_score(score: float) -> float:
    """A hit's text score without the tier scores it got (:data:`TYPE_BOOST` is a multiple of :data:`FIELDS_BOOST`)."""
    return max(0.0, float(score) % FIELDS_BOOST)
