"""Relevance tiers: what a query names comes first, then the usual score.

A ranked search (sort by relevance, with terms to match) orders its matches in tiers, best first,
and by score (bm25 embedded, Lucene's BM25 on OpenSearch) then recency inside each tier:

1. documents *of a type the query names* (合同, 报价单, 发票, invoice, quotation … — the words
   of :data:`foundation.vocabulary.DOC_TYPE_WORDS`, also as the end of a longer CJK word: 销售合同, 项目报价)
   whose title or meta (file name, customers, tags) holds every term;
2. the other documents of that type;
3. documents of other types whose title or meta holds every term;
4. the rest, which merely mention the terms in their text.

Without a type word in the query, tiers 3 and 4 alone apply: title and customer matches above
body matches.  Tiers only order: the matches, the totals and the facets stay exactly what the
query selects, and a ``type:`` filter or a date sort is untouched (a date sort has no tiers).

The embedded backend computes the tiers as a mask over the matches (the type from the in-memory
columns, the title/meta tier from one FTS5 pass with a ``{title meta}`` column filter over the
same expression) and ranks each tier's part in turn (:func:`tiered_page`).  OpenSearch adds
``constant_score`` ``should`` clauses whose boosts (:data:`TYPE_BOOST`, :data:`FIELDS_BOOST`)
outweigh any text score, named so each hit's reported score is its text score alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import Connection

from foundation.vocabulary import DOC_TYPE_WORDS
from index._analysis import normalize_text
from index._columns import Columns
from index._query import ParsedQuery
from index._sqlite_hot import match_positions

__all__ = [
    "FIELDS_BOOST",
    "TYPE_BOOST",
    "named_types",
    "os_tier_clauses",
    "reported_score",
    "sqlite_tiers",
    "tiered_page",
]

#: The tier values of :func:`sqlite_tiers` (summed): a named type, every term in the title or meta.
TIER_TYPE = 2
TIER_FIELDS = 1
#: OpenSearch boosts of the tiers: far above any text score the query clauses give (boosts 10/6/2/1).
TYPE_BOOST = 100_000.0
FIELDS_BOOST = 50_000.0
#: The names of the tier clauses in an OpenSearch query (``matched_queries`` of a hit).
_TYPE_NAME = "tier:type"
_FIELDS_NAME = "tier:fields"
#: The OpenSearch fields (and FTS5 columns) that make the title/meta tier.
TIER_FIELDS_NAMES = ("title", "meta")

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WS = re.compile(r"\s+")

T = TypeVar("T")


@cache
def _type_words() -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
    """({normalised word: type code}, ((CJK word, code) … longest first, for suffixes))."""
    exact: dict[str, str] = {}
    for code, words in DOC_TYPE_WORDS.items():
        for word in words:
            exact.setdefault(_WS.sub(" ", normalize_text(word)).strip(), code)
    suffixes = tuple(
        sorted(
            ((w, c) for w, c in exact.items() if len(w) >= 2 and all(_CJK.match(ch) for ch in w)),
            key=lambda wc: -len(wc[0]),
        )
    )
    return exact, suffixes


def _type_of(text: str) -> str | None:
    """The type code a query term (or run of terms) names, or None."""
    folded = _WS.sub(" ", normalize_text(text)).strip()
    exact, suffixes = _type_words()
    if folded in exact:
        return exact[folded]
    if folded and all(_CJK.match(ch) for ch in folded):
        for word, code in suffixes:
            if folded.endswith(word):
                return code
    return None


def named_types(parsed: ParsedQuery) -> tuple[str, ...]:
    """The document types a query's positive terms name (``合同``, ``销售合同``, ``"meeting notes"``), in order.

    A run of up to three consecutive words names a type too (``purchase order``, ``visit report``).
    """
    found: dict[str, None] = {}
    for group in parsed.groups:
        for term in group:
            code = _type_of(term.text)
            if code is not None:
                found[code] = None
    words = [t.text for g in parsed.groups if len(g) == 1 for t in g]
    for size in (2, 3):
        for start in range(len(words) - size + 1):
            code = _type_of(" ".join(words[start : start + size]))
            if code is not None:
                found[code] = None
    return tuple(found)


def sqlite_tiers(
    conn: Connection,
    columns: Columns,
    pos: np.ndarray,
    parsed: ParsedQuery,
    positive: str | None,
    fields: bool,
) -> np.ndarray | None:
    """The tier of each match at ``pos`` (bigger first; see the module), or None when all are equal.

    ``columns`` is the snapshot the positions index; ``positive``
    the FTS5 expression of the query's terms.  ``fields`` False leaves out the title/meta tier (one
    more FTS5 pass), for a match set too big to rank anyway.
    """
    if positive is None or not len(pos):
        return None
    tier = np.zeros(len(pos), dtype=np.int8)
    codes = named_types(parsed)
    if codes:
        tier[columns.type_mask(pos, codes)] += TIER_TYPE
    if fields:
        # Every match of the query in those columns, memoised with the snapshot (index._sqlite_hot).
        in_fields = match_positions(
            conn, columns, "{" + " ".join(TIER_FIELDS_NAMES) + "} : (" + positive + ")"
        )
        tier[np.isin(pos, in_fields)] += TIER_FIELDS
    if tier.min() == tier.max():
        return None
    return tier


def tiered_page(
    tiers: np.ndarray | None,
    pos: np.ndarray,
    page: Callable[[np.ndarray, int, int], list[T]],
    offset: int,
    limit: int,
) -> list[T]:
    """The matches ``offset`` … ``offset + limit`` in tier order, each tier's part ordered by ``page``.

    ``page(part, offset, limit)`` orders and cuts one part (bm25, recency); parts wholly before the
    offset or after the limit are never ranked.
    """
    if tiers is None:
        return page(pos, offset, limit)
    out: list[T] = []
    for tier in sorted(set(tiers.tolist()), reverse=True):
        part = pos[tiers == tier]
        if offset >= len(part):
            offset -= len(part)
            continue
        out.extend(page(part, offset, limit - len(out)))
        offset = 0
        if len(out) >= limit:
            break
    return out


# -- OpenSearch ------------------------------------------------------------------

_LEAVES = ("term", "prefix", "match_phrase", "match_phrase_prefix")


def _restricted(clause: dict[str, Any], fields: Sequence[str]) -> dict[str, Any] | None:
    """``clause`` (as :mod:`index._os_query` builds them) keeping only what searches ``fields``; None if nothing does."""
    for kind in _LEAVES:
        if kind in clause:
            return clause if set(clause[kind]) <= set(fields) else None
    inner = clause.get("bool")
    if inner is None:
        return None
    if "should" in inner:
        kept = [c for c in (_restricted(x, fields) for x in inner["should"]) if c is not None]
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else {"bool": {"should": kept, "minimum_should_match": 1}}
    if "must" in inner:
        parts = [_restricted(x, fields) for x in inner["must"]]
        if any(p is None for p in parts):
            return None
        return {"bool": {"must": parts}}
    return None


def os_tier_clauses(parsed: ParsedQuery, must: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``should`` clauses that make the tiers on OpenSearch (none without terms).

    ``must`` holds the query's term groups as :func:`index._os_query.build_query` made them;
    the title/meta tier is the same groups restricted to the ``title`` and ``meta`` fields.
    """
    if not must:
        return []
    out: list[dict[str, Any]] = []
    codes = named_types(parsed)
    if codes:
        out.append(
            {
                "constant_score": {
                    "filter": {"terms": {"doc_type_key": sorted(codes)}},
                    "boost": TYPE_BOOST,
                    "_name": _TYPE_NAME,
                }
            }
        )
    groups = [_restricted(c, TIER_FIELDS_NAMES) for c in must]
    if all(g is not None for g in groups):
        out.append(
            {
                "constant_score": {
                    "filter": {"bool": {"must": groups}},
                    "boost": FIELDS_BOOST,
                    "_name": _FIELDS_NAME,
                }
            }
        )
    return out


def reported_score(raw: dict[str, Any]) -> float:
    """A hit's text score: its ``_score`` less the tier boosts it matched (0.0 when unscored)."""
    score = float(raw.get("_score") or 0.0)
    matched = raw.get("matched_queries") or ()
    if _TYPE_NAME in matched:
        score -= TYPE_BOOST
    if _FIELDS_NAME in matched:
        score -= FIELDS_BOOST
    return max(score, 0.0)
