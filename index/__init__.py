"""Search: Chinese analysis, query syntax and the search backends.

Callers use only what is listed in ``__all__``::

    backend = open_backend(engine, settings.opensearch_url)   # or index_name=…, replicas=…
    backend.index([IndexDocument(...)], connection=conn)
    result = backend.search(SearchRequest("明远 报价"), principal)

After opening, ``backend.needs_reindex()`` is True when the stored index was written by
an older version that lacked fields only the records hold; a full reindex (which starts
with ``backend.clear()``) brings it up to date.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from foundation.messages import msg
from index._analysis import add_user_words
from index._common import BackendUnavailable, InvalidDocument, readable_levels
from index._fields import (
    CUSTOMER_TYPES,
    FIELDS,
    BadDate,
    NothingToSearch,
    QueryTooLong,
    SearchRefused,
    check_dates,
    customer_type_name,
    date_bound,
)
from index._formats import FILE_FORMATS, SCAN, file_format, format_name
from index._opensearch import OpenSearchBackend, SearchUnavailable
from index._pinyin import pinyin_match
from index._query import MAX_QUERY_CHARS, QuerySyntaxError, parse_query
from index._snippet import find_spans, highlight_spans
from index._sqlite import SqliteBackend
from index._tantivy import TantivyBackend
from index._titles import display_title, is_generic_title, title_parts
from index._types import (
    ACCESS_LEVELS,
    ACTIVITY_DOC_TYPES,
    ACTIVITY_ID_BASE,
    CONFIDENTIALITY_LEVELS,
    FlushReport,
    IndexDocument,
    Principal,
    Rebuild,
    SearchBackend,
    SearchHit,
    SearchRequest,
    SearchResult,
    activity_entry_id,
    entry_activity,
)

__all__ = [
    "ACCESS_LEVELS",
    "ACTIVITY_DOC_TYPES",
    "ACTIVITY_ID_BASE",
    "CONFIDENTIALITY_LEVELS",
    "CUSTOMER_TYPES",
    "FIELDS",
    "FILE_FORMATS",
    "MAX_QUERY_CHARS",
    "SCAN",
    "BackendUnavailable",
    "BadDate",
    "FlushReport",
    "IndexDocument",
    "InvalidDocument",
    "NothingToSearch",
    "OpenSearchBackend",
    "Principal",
    "QuerySyntaxError",
    "QueryTooLong",
    "Rebuild",
    "SearchBackend",
    "SearchHit",
    "SearchRefused",
    "SearchRequest",
    "SearchResult",
    "SearchUnavailable",
    "SqliteBackend",
    "TantivyBackend",
    "activity_entry_id",
    "add_user_words",
    "check_dates",
    "customer_type_name",
    "date_bound",
    "display_title",
    "entry_activity",
    "file_format",
    "format_name",
    "highlight",
    "hit_display_title",
    "is_generic_title",
    "open_backend",
    "parse_query",
    "pinyin_match",
    "readable_levels",
    "title_parts",
]


def _open_sqlite(engine: Engine, **_options: Any) -> SearchBackend:
    backend = SqliteBackend(engine)
    backend.ensure_schema()
    return backend


def _open_opensearch(engine: Engine, url: str, **options: Any) -> SearchBackend:
    # Nothing is asked of the cluster here: a Dossier opens (and takes uploads) while it is down.
    return OpenSearchBackend(engine, url, **options)


def _open_tantivy(engine: Engine, directory: str = "", home: str = "", **_options: Any) -> SearchBackend:
    """The embedded Tantivy index: beside the SQLite records file, else in ``directory`` or ``<home>/tantivy``."""
    chosen = directory or (
        None if engine.dialect.name == "sqlite" or not home else str(Path(home) / "tantivy")
    )
    backend = TantivyBackend(engine, chosen)
    backend.ensure_schema()
    return backend


#: Backend aliases, in the style of RQ's serializer map.
BACKENDS = {"": _open_sqlite, "sqlite": _open_sqlite, "tantivy": _open_tantivy}


def open_backend(engine: Engine, opensearch_url: str = "", **options: Any) -> SearchBackend:
    """The search backend a setting names: ``""``/``"sqlite"`` (embedded), ``"tantivy"`` (embedded Tantivy
    index beside the records) or an OpenSearch URL.

    ``options`` go to :class:`OpenSearchBackend` (``index_name``, ``shards``, ``replicas``,
    ``refresh``, ``timeout_s``) or to the Tantivy backend (``directory``, ``home``); SQLite FTS5 has none.
    """
    choice = (opensearch_url or "").strip()
    factory = BACKENDS.get(choice.lower())
    if factory is not None:
        return factory(engine, **options)
    if choice.lower().startswith(("http://", "https://")):
        return _open_opensearch(engine, choice, **options)
    raise BackendUnavailable(msg("index.backend.unknown", choice=repr(choice)))


def highlight(text: str, query: str) -> str:
    """``text`` HTML-escaped, with every match of the query's positive terms in ``<mark>`` (none for a bad query)."""
    try:
        terms = [t.text for t in parse_query(query).positive_terms]
    except SearchRefused:
        terms = []
    return highlight_spans(text, find_spans(text, terms) if terms else [], collapse=False)


def hit_display_title(hit: dict[str, Any], lang: str = "zh") -> str:
    """The title to show for a hit dict (``title`` and ``title_parts`` as the app hands them out) in ``lang``."""
    return display_title(str(hit.get("title") or ""), hit.get("title_parts") or {}, lang)
