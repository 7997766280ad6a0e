"""OpenSearch query DSL for a parsed query, a request and a principal.

It means exactly what the embedded backend's FTS5 expression and column masks mean
(:mod:`index._query`, :mod:`index._sqlite`): the same analysed tokens go in, so

* a term is its gram phrase over ``title``/``meta``/``grams`` (``match_phrase`` over a
  whitespace-analysed stream of pre-analysed tokens: positions are the analysis's
  positions, so a phrase means adjacency), or any other form the analysis gave it
  (the jieba word in ``words``, joined phone numbers, camel-case joined forms, the
  relaxed phrase of lower-case words);
* words are ANDed, ``OR`` makes alternatives, ``-term`` goes to ``must_not``;
* every filter, the permission filter included, sits in the ``filter`` clause of the
  one query, so totals and aggregations never count a document the caller may not read.

Boosts stand in for the embedded bm25 column weights (title 10, meta 6, words 2,
grams 1); ties go to the most recent document, as there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from index._common import readable_levels
from index._fields import ENTITY_FIELDS, filter_values
from index._formats import SCAN
from index._query import (
    ParsedQuery,
    Term,
    column_filters,
    entity_groups,
    include_versions,
    pinyin_form,
    scan_filter,
)
from index._relevance import os_tier_clauses
from index._types import ACCESS_LEVELS, ACTIVITY_ID_BASE, Principal, SearchRequest

__all__ = [
    "FACET_FIELDS",
    "build_query",
    "entity_token",
    "facet_aggs",
    "has_positive",
    "lifecycle_clause",
    "sort_clause",
]

GRAM_FIELDS = ("title", "meta", "grams")
ALL_FIELDS = ("title", "meta", "words", "grams")
BOOST = {"title": 10.0, "meta": 6.0, "words": 2.0, "grams": 1.0}
#: Terms a trailing one-character prefix may expand to inside a phrase (a single-character query is a prefix query, unbounded).
MAX_EXPANSIONS = 1000
#: Facet name -> keyword field it counts.
FACET_FIELDS = {
    "doc_type": "doc_type",
    "customer": "customers",
    "tag": "tags",
    "customer_type": "customer_types",
    "industry": "industries",
    "region": "regions",
    "stage": "customer_stages",
    "importance": "customer_importance",
    "ctag": "customer_tags",
    "format": "file_format",
    "scan": "scan",
    "year": "year",
}
#: The customers' steering fields' filter kinds -> the keyword field each one matches exactly.
STEERING_FIELDS = {"stage": "customer_stages", "importance": "customer_importance", "ctag": "customer_tags"}

Clause = dict[str, Any]


def entity_token(kind: str, key: str) -> str:
    """How an entity (kind, lookup key) is stored in the ``entity`` keyword field."""
    return f"{kind}:{key}"


def _phrase(field: str, grams: Sequence[str], prefix: bool) -> Clause:
    boost = BOOST[field]
    if prefix and len(grams) == 1:
        return {"prefix": {field: {"value": grams[0], "boost": boost}}}
    if prefix:
        return {
            "match_phrase_prefix": {
                field: {
                    "query": " ".join(grams),
                    "analyzer": "whitespace",
                    "max_expansions": MAX_EXPANSIONS,
                    "boost": boost,
                }
            }
        }
    if len(grams) == 1:
        return {"term": {field: {"value": grams[0], "boost": boost}}}
    return {"match_phrase": {field: {"query": " ".join(grams), "analyzer": "whitespace", "boost": boost}}}


def _any_gram_field(grams: Sequence[str], prefix: bool) -> list[Clause]:
    return [_phrase(f, grams, prefix) for f in GRAM_FIELDS]


def _term(field: str, value: str) -> Clause:
    return {"term": {field: {"value": value, "boost": BOOST[field]}}}


def _should(clauses: list[Clause]) -> Clause:
    if len(clauses) == 1:
        return clauses[0]
    return {"bool": {"should": clauses, "minimum_should_match": 1}}


def term_clause(term: Term) -> Clause:
    """One query term: its gram phrase, or any other form the analysis gave it (see ``QueryToken``)."""
    tok = term.token
    parts = _any_gram_field(tok.grams, tok.prefix)
    for variant in tok.variants:
        parts.extend(_any_gram_field(variant, tok.prefix))
    if tok.word is not None:
        parts.append(_term("words", tok.word))
    for alt in tok.alternatives:
        parts.extend(_term(f, alt) for f in ALL_FIELDS)
    for joined in tok.joined:
        parts.extend(_term(f, joined) for f in GRAM_FIELDS)
    if tok.relaxed is not None:
        groups = [
            _should([c for grams, prefix in group for c in _any_gram_field(grams, prefix)])
            for group in tok.relaxed.groups
        ]
        parts.append({"bool": {"must": groups}})
    pinyin = pinyin_form(term)
    if pinyin is not None:
        parts.append(_term("words", pinyin))
    return _should(parts)


def has_positive(parsed: ParsedQuery) -> bool:
    """True when the query has terms that must match (and so a relevance score)."""
    return bool(parsed.groups)


def _wildcard_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")


def _permission(principal: Principal) -> Clause | None:
    """What ``principal`` may read (None: everything), as the embedded backend's mask decides it."""
    levels = readable_levels(principal)
    if levels >= set(ACCESS_LEVELS):
        return None
    readable: list[Clause] = [{"terms": {"confidentiality": sorted(levels)}}]
    owned = sorted(principal.owned_customer_ids) if principal.role == "sales" else []
    if owned:
        readable.append(
            {
                "bool": {
                    "filter": [
                        {"term": {"confidentiality": "confidential"}},
                        {"terms": {"access_customer_ids": owned}},
                    ]
                }
            }
        )
    return _should(readable)


def _field_filter(
    kind: str, values: Sequence[str], exact_customers: Callable[[Sequence[str]], set[str]]
) -> Clause:
    """Documents matching any of ``values`` (normalised by ``filter_values``) of field ``kind``."""
    if kind == "customer":
        exact = exact_customers(values)
        return _should(
            [
                {"term": {"customer_keys": v}}
                if v in exact
                else {"wildcard": {"customer_keys": {"value": f"*{_wildcard_escape(v)}*"}}}
                for v in values
            ]
        )
    if kind == "type":
        return {"terms": {"doc_type_key": sorted({v.lower() for v in values})}}
    if kind == "tag":
        return {"terms": {"tags": list(values)}}
    if kind == "customer_type":
        return {"terms": {"customer_types": list(values)}}
    if kind == "industry":
        return _should(
            [{"wildcard": {"industry_keys": {"value": f"*{_wildcard_escape(v)}*"}}} for v in values]
        )
    if kind == "region":
        return _should([{"prefix": {"region_keys": v}} for v in values])
    if kind == "year":
        return _should([{"prefix": {"date": v}} for v in values])
    if kind in STEERING_FIELDS:
        return {"terms": {STEERING_FIELDS[kind]: list(values)}}
    if kind == "format":
        return {"terms": {"file_format": list(values)}}
    raise ValueError(f"unknown filter kind {kind!r}")


def _entity_filter(group: Sequence[tuple[str, str]]) -> Clause:
    """Documents having any (kind, lookup value) of ``group``; a date also matches the document's own date."""
    clauses: list[Clause] = []
    for kind, value in group:
        if kind == "date" and len(value) < 10:
            clauses.append({"prefix": {"entity": entity_token(kind, value)}})
        else:
            clauses.append({"term": {"entity": entity_token(kind, value)}})
        if kind == "date":
            clauses.append({"prefix": {"date": value}})
    return _should(clauses) if clauses else {"match_none": {}}


def _date_range(date_from: str | None, date_to: str | None) -> Clause:
    bounds: dict[str, str] = {}
    if date_from:
        bounds["gte"] = date_from
    if date_to:
        bounds["lte"] = date_to + "\uffff"  # a bare upper date (2024-03) includes all of it
    return {"range": {"date": bounds}}


def build_query(
    parsed: ParsedQuery,
    request: SearchRequest,
    principal: Principal,
    exact_customers: Callable[[Sequence[str]], set[str]],
) -> Clause:
    """The whole ``query`` of a search: text clauses, exclusions, filters and the permission filter.

    ``exact_customers(values)`` says which customer filter values are some document's
    full customer name or alias (those select exactly that name; the others are fragments).
    """
    must = [_should([term_clause(t) for t in group]) for group in parsed.groups]
    must_not: list[Clause] = [term_clause(t) for t in parsed.excludes]
    filters: list[Clause] = []
    permission = _permission(principal)
    if permission is not None:
        filters.append(permission)
    for kind, values in column_filters(request, parsed).items():
        if values:
            filters.append(_field_filter(kind, values, exact_customers))
    if request.customer_ids:
        filters.append({"terms": {"customer_ids": sorted({int(i) for i in request.customer_ids})}})
    for group in entity_groups(request, parsed):
        filters.append(_entity_filter(group))
    for kind, value in parsed.excluded_fields:
        if kind in ENTITY_FIELDS:
            must_not.append(_entity_filter([(kind, value)]))
        else:
            must_not.append(_field_filter(kind, filter_values(kind, [value]), exact_customers))
    if request.date_from or request.date_to:
        filters.append(_date_range(request.date_from, request.date_to))
    scans = scan_filter(request, parsed)
    if scans == "only":
        filters.append({"term": {"scan": SCAN}})
    elif scans == "exclude":
        must_not.append({"term": {"scan": SCAN}})
    entries = entry_clause(include_versions(request, parsed), request.activities)
    if entries is not None:
        filters.append(entries)
    body: dict[str, Any] = {}
    if must:
        body["must"] = must
        body["should"] = os_tier_clauses(parsed, must)  # ordering only: what the query names first
        body["minimum_should_match"] = 0
    if filters:
        body["filter"] = filters
    if must_not:
        body["must_not"] = must_not
    return {"bool": body} if body else {"match_all": {}}


def entry_clause(versions: bool, activities: str) -> dict[str, Any] | None:
    """Which entries a request searches (see :func:`index._sqlite.entry_mask`): None for every entry.

    A document's own entry has a positive ``doc_id``, a superseded version's minus its
    version row's id, an activity's at or below minus :data:`ACTIVITY_ID_BASE`.
    """
    activity = {"range": {"doc_id": {"lte": -ACTIVITY_ID_BASE}}}
    if activities == "only":
        return activity
    wanted = {"range": {"doc_id": {"gt": 0 if not versions else -ACTIVITY_ID_BASE}}}
    if activities == "exclude":
        return wanted
    return {"bool": {"should": [wanted, activity], "minimum_should_match": 1}} if not versions else None


def customer_values(request: SearchRequest, parsed: ParsedQuery) -> list[str]:
    """Every customer filter value of a request and its query (positive and excluded), normalised."""
    values = list(column_filters(request, parsed)["customer"])
    for kind, value in parsed.excluded_fields:
        if kind == "customer":
            values.extend(filter_values("customer", [value]))
    return list(dict.fromkeys(values))


def sort_clause(request: SearchRequest, ranked: bool) -> list[Any]:
    """Sort keys as the embedded backend orders: score, then the most recent; or by document date."""
    if request.sort == "date_desc":
        return [{"date": {"order": "desc", "missing": "_last"}}, {"created_at": "desc"}, {"doc_id": "desc"}]
    if request.sort == "date_asc":
        return [{"date": {"order": "asc", "missing": "_last"}}, {"created_at": "asc"}, {"doc_id": "asc"}]
    recent = [{"created_at": "desc"}, {"doc_id": "desc"}]
    return [{"_score": "desc"}, *recent] if ranked else recent


def lifecycle_clause(archived: str) -> Clause | None:
    """The lifecycle filter (:func:`index._query.lifecycle_filter`): None when every entry is covered.

    An entry written before the ``lifecycle`` field existed has none and reads as active.
    """
    if archived == "only":
        return {"term": {"lifecycle": "archived"}}
    if archived == "exclude":
        return {"bool": {"must_not": [{"term": {"lifecycle": "archived"}}]}}
    return None


def facet_aggs(limit: int, post_filter: Clause | None = None) -> dict[str, Any]:
    """A terms aggregation per facet, most frequent first, then by value.

    The facets count the hits (``post_filter``, the lifecycle filter, applied); the
    ``lifecycle`` facet counts every match, so it says how many the filter left out.
    """
    facets = {
        name: {"terms": {"field": field, "size": limit, "order": [{"_count": "desc"}, {"_key": "asc"}]}}
        for name, field in FACET_FIELDS.items()
    }
    return {
        "hits": {"filter": post_filter or {"match_all": {}}, "aggs": facets},
        "lifecycle": {"terms": {"field": "lifecycle", "missing": "active", "size": 2}},
    }


def facets_from(aggs: dict[str, Any]) -> dict[str, list[tuple[str, int]]]:
    """The facet lists of a search response's aggregations (years newest first)."""
    out: dict[str, list[tuple[str, int]]] = {}
    within = aggs.get("hits") or {}
    for name in FACET_FIELDS:
        buckets: Iterable[dict[str, Any]] = (within.get(name) or {}).get("buckets", [])
        rows = [(str(b["key"]), int(b["doc_count"])) for b in buckets if str(b["key"]).strip()]
        out[name] = sorted(rows, key=lambda r: r[0], reverse=True) if name == "year" else rows
    states = {str(b["key"]): int(b["doc_count"]) for b in (aggs.get("lifecycle") or {}).get("buckets", [])}
    lifecycles = [(name, states[name]) for name in ("active", "archived") if states.get(name)]
    if lifecycles:
        out["lifecycle"] = lifecycles
    return out
