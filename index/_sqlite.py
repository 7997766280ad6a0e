"""The embedded backend: SQLite FTS5 inside the records database.

Schema (created idempotently by :meth:`SqliteBackend.ensure_schema`):

* ``search_fts`` — a *contentless* FTS5 table (``content=''``), rowid = document
  id, columns ``title``, ``meta`` (filename, customer names, tags, extra
  entities), ``words`` (jieba) and ``grams`` (bigrams + Latin tokens).  Every
  column holds pre-analysed tokens joined by spaces; ``unicode61`` only splits
  them again (all our tokens consist of letters and digits, which it keeps).
* ``search_doc`` — one row per document: filter and display columns, and one
  zlib blob holding the original text (for snippets) followed by the jieba
  ``words`` stream.  A contentless table needs the exact tokens it was given to
  issue its ``'delete'`` command: ``words`` depends on jieba's dictionary, which
  changes as customers are added, so it is kept, not recomputed; ``title``,
  ``meta`` and ``grams`` are pure functions of the stored title, meta text and
  body, so they are recomputed (compressing text and words together costs a
  fraction of storing every stream).  The ``title``, ``meta`` and ``grams``
  streams end with the marked joined forms of camel-case words (see
  :mod:`index._analysis`); no phrase can span into them.  The ``words`` column is
  the stored jieba words followed by the marked pinyin of the title and the
  metadata names (:mod:`index._pinyin`), recomputed from the stored texts.
* ``search_meta`` — ``analysis``: the :data:`ANALYSIS_VERSION` the stored streams
  were made with.  A ``'delete'`` must repeat the exact tokens, so when the
  analysis changes, :meth:`SqliteBackend.ensure_schema` rebuilds the FTS5 table
  from ``search_body`` (``'delete-all'``, then every document again, with its
  stored ``words``) before anything else touches it.  ``dossier reindex`` does
  the same from the records and is never needed for this.
* ``search_doc.lifecycle`` — ``archived`` for an archived document ('' or ``active``
  otherwise): a search leaves archived entries out unless the request or ``is:archived``
  asks for them (:func:`index._query.lifecycle_filter`); the ``lifecycle`` facet counts
  active and archived matches before that filter, so people see what is left out.
* ``search_doc.file_format`` and ``search_doc.scan`` — the entry's file format
  (:data:`index.FILE_FORMATS`) and ``scan`` for a scan ('' otherwise): in-memory set columns like
  the customers' fields, so their filters and the ``format``/``scan`` facets are masks and counts.
* ``search_doc_customer`` and ``search_doc_tag`` — linked customers (with registry
  ids, for the ``customer_ids`` filter) and tags.
* ``search_doc_access`` — (customer id, doc_id): the customers whose sales owners may read a
  ``confidential`` entry (``IndexDocument.access_customer_ids``: the owner permission).
* ``search_doc_entity`` — (kind, lookup value, doc_id), the key of a ``WITHOUT ROWID``
  table, so an exact entity filter (``phone:13812345678``) is one index range at any
  size; values are in the form :func:`index._fields.entity_key` gives.
* ``search_doc_version`` — (entry id, document id, version number) of each entry for a
  *superseded version* of a document: such entries have negative ids (minus the version
  row's id) and are searched only when the request asks for every version (``version:all``).
  A new table, empty in an index written before it, needs no reindex: versions' entries are
  written as documents get new versions.
* ``search_meta`` also holds ``schema``: the :data:`SCHEMA_VERSION` of the tables.  An
  index written by an older version is migrated in place (new columns, new tables) and
  flagged ``reindex``, because what it lacks (entities, customer types …) comes only from
  the records: :meth:`SqliteBackend.needs_reindex` says so until :meth:`SqliteBackend.clear`
  (which a full ``dossier reindex`` starts with).  Until then it answers as before, with
  the new filters matching nothing it was not told.

* ``search_log`` — the ids each write changed, so every process's in-memory
  filter columns (:mod:`index._columns`) catch up with other processes' writes.

A search first looks up the exact filters (entities, customer ids) in their
indexes, then makes one FTS5 pass for the matching ids (fetched as one string;
limited to those ids when they are few), then applies the permission filter and
the request's other filters as vectorised masks over the whole match set, and
counts the total and the facets from what remains; the page is ranked by bm25
(a second FTS5 pass over at most ``RANK_LIMIT`` matches) or sorted by
recency/date ranks.  Nothing is counted before the permission mask,
so totals and facets never reveal documents the caller may not read.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from itertools import zip_longest
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from foundation.errors import DossierError
from foundation.messages import msg
from foundation.vocabulary import importance_level
from index._analysis import ANALYSIS_VERSION, normalize_text
from index._columns import LIST_SEP, RELOAD_ALL, Columns, DocColumns
from index._common import InvalidDocument, readable_levels
from index._fields import ENTITY_FIELDS, customer_type_name, entity_key, filter_values, fold
from index._formats import SCAN
from index._query import (
    ParsedQuery,
    column_filters,
    compile_match,
    entity_groups,
    field_values_of,
    include_versions,
    lifecycle_filter,
    parse_request,
    scan_filter,
)
from index._rebuild import PooledRebuild
from index._relevance import sqlite_tiers, tiered_page
from index._snippet import hit_texts
from index._sqlite_entry import Entry, derived_streams, entry_of, unpack, words_column
from index._sqlite_hot import joined_ids, match_positions, memo_hits, page_scores, raw
from index._titles import NUMBER_KINDS, is_generic_title, title_parts
from index._types import (
    ACCESS_LEVELS,
    ACTIVITY_ID_BASE,
    FlushReport,
    IndexDocument,
    Principal,
    Rebuild,
    SearchHit,
    SearchRequest,
    SearchResult,
    entry_activity,
)
from index._vocabulary import VOCAB_DDL, SqliteVocabulary

__all__ = [
    "InvalidDocument",
    "SqliteBackend",
    "readable_levels",
]  # the first and last re-exported from _common

_log = logging.getLogger(__name__)

#: bm25 weights of (title, meta, words, grams): title and entities first, whole words before bigrams.
COLUMN_WEIGHTS = (10.0, 6.0, 2.0, 1.0)
FACET_LIMIT = 50

_SCHEMA = (
    """CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
        title, meta, words, grams, content='', tokenize='unicode61 remove_diacritics 0')""",
    # The filter columns every process keeps in memory (index._columns); lists are LIST_SEP-joined.
    """CREATE TABLE IF NOT EXISTS search_doc (
        id INTEGER PRIMARY KEY,
        doc_type TEXT NOT NULL,
        confidentiality TEXT NOT NULL,
        date TEXT,
        created_at TEXT NOT NULL DEFAULT '',
        customers TEXT NOT NULL DEFAULT '',
        tags TEXT NOT NULL DEFAULT '',
        customer_keys TEXT NOT NULL DEFAULT '',
        customer_types TEXT NOT NULL DEFAULT '',
        industries TEXT NOT NULL DEFAULT '',
        regions TEXT NOT NULL DEFAULT '',
        lifecycle TEXT NOT NULL DEFAULT '',
        customer_stages TEXT NOT NULL DEFAULT '',
        customer_importance TEXT NOT NULL DEFAULT '',
        customer_tags TEXT NOT NULL DEFAULT '',
        file_format TEXT NOT NULL DEFAULT '',
        scan TEXT NOT NULL DEFAULT '')""",
    """CREATE TABLE IF NOT EXISTS search_body (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL DEFAULT '',
        meta TEXT NOT NULL DEFAULT '',
        content BLOB NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS search_doc_customer (
        doc_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        name_norm TEXT NOT NULL,
        customer_id INTEGER,
        PRIMARY KEY (doc_id, name)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS search_doc_access (
        customer_id INTEGER NOT NULL,
        doc_id INTEGER NOT NULL,
        PRIMARY KEY (customer_id, doc_id)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS search_doc_tag (
        doc_id INTEGER NOT NULL,
        tag TEXT NOT NULL,
        PRIMARY KEY (doc_id, tag)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS search_doc_entity (
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        doc_id INTEGER NOT NULL,
        PRIMARY KEY (kind, value, doc_id)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS search_doc_version (
        id INTEGER PRIMARY KEY,
        document_id INTEGER NOT NULL,
        version INTEGER NOT NULL)""",
    # Ids changed by each write, so every process's in-memory columns can catch up.
    "CREATE TABLE IF NOT EXISTS search_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, doc_id INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS search_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS search_doc_date ON search_doc (date)",
    "CREATE INDEX IF NOT EXISTS search_doc_customer_id ON search_doc_customer (customer_id)",
    "CREATE INDEX IF NOT EXISTS search_doc_tag_tag ON search_doc_tag (tag)",
    "CREATE INDEX IF NOT EXISTS search_doc_entity_doc ON search_doc_entity (doc_id)",
    "CREATE INDEX IF NOT EXISTS search_doc_access_doc ON search_doc_access (doc_id)",
)

#: Columns added to ``search_doc`` since the first version, added in place to an older index.
_ADDED_COLUMNS = (
    "customer_keys",
    "customer_types",
    "industries",
    "regions",
    "lifecycle",
    "customer_stages",
    "customer_importance",
    "customer_tags",
    "file_format",
    "scan",
)
#: Names the tables and what each document row holds; an index made by an older one needs a reindex.
#: 3: search_doc_access and the container rule's levels; 4: search_doc.lifecycle;
#: 5: the customers' stages, importance and tags; 6: the file format and the scan flag (an older index is
#: migrated and flagged for `dossier reindex`, which `Dossier.open` runs)
SCHEMA_VERSION = "6"
#: Older schemas whose entries are still right once migrated (none since 6: an entry of 5 or older lacks the
#: file format and scan flag the records hold).
_NO_REINDEX_FROM: tuple[str, ...] = ()
#: Tables with one or more rows per document, by their document id column.
_DOC_TABLES = (
    ("search_doc", "id"),
    ("search_body", "id"),
    ("search_doc_customer", "doc_id"),
    ("search_doc_tag", "doc_id"),
    ("search_doc_entity", "doc_id"),
    ("search_doc_access", "doc_id"),
    ("search_doc_version", "id"),
)
#: Entity values kept per document (distinct (kind, value) pairs); a huge order list keeps its first ones.
MAX_ENTITIES = 5000
#: Above this many matches relevance order falls back to recency: such a term says
#: little about any one document, and bm25 over all of them costs ~1 µs per match.
RANK_LIMIT = 10_000

#: Up to this many ids from the exact filters, the text query looks each one up instead of walking its
#: matches (measured at 100,000 documents: 100 lookups ~3-8 ms, a common term's walk ~40 ms, 2,000 lookups
#: 60-270 ms).  Ranking always walks: bm25 per looked-up id recomputes its statistics every time.
NARROW_LIMIT = 300

#: Entries of search_log kept for processes that are behind; older ones reload everything.
LOG_KEEP = 100_000


class SqliteBackend:
    """:class:`SearchBackend` on SQLite FTS5, sharing the records database's engine."""

    name = "sqlite"
    queued_writes = False

    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name != "sqlite":
            raise DossierError(msg("index.sqlite.needs_sqlite", dialect=engine.dialect.name))
        self._engine = engine
        self._schema_ready = False
        self._columns = DocColumns()
        self._vocabulary = SqliteVocabulary()  # "did you mean" words (index._vocabulary)

    # -- schema ---------------------------------------------------------------

    def ensure_schema(self, connection: Connection | None = None) -> None:
        """Create the index tables if they do not exist (idempotent)."""
        if connection is None:
            with self._engine.begin() as conn:
                self._create(conn)
            self._schema_ready = True
        else:
            # The caller's transaction may still roll back: check again next time.
            self._create(connection)

    def _create(self, conn: Connection) -> None:
        for ddl in _SCHEMA + VOCAB_DDL:
            conn.exec_driver_sql(ddl)
        if self._current(conn):
            return
        # Take the write lock, then look again: another process may have rebuilt meanwhile.
        conn.exec_driver_sql("UPDATE search_meta SET value = value WHERE key IN ('analysis', 'schema')")
        if self._current(conn):
            return
        has_docs = conn.exec_driver_sql("SELECT 1 FROM search_body LIMIT 1").first() is not None
        schema = self._meta(conn, "schema")
        if schema != SCHEMA_VERSION:
            self._migrate(conn, has_docs and schema not in _NO_REINDEX_FROM)
        if self._meta(conn, "analysis") != ANALYSIS_VERSION:
            if has_docs:
                self._rebuild(conn)
            conn.exec_driver_sql(
                "INSERT OR REPLACE INTO search_meta (key, value) VALUES ('analysis', ?)", (ANALYSIS_VERSION,)
            )

    def _current(self, conn: Connection) -> bool:
        return (
            self._meta(conn, "analysis") == ANALYSIS_VERSION and self._meta(conn, "schema") == SCHEMA_VERSION
        )

    @staticmethod
    def _meta(conn: Connection, key: str) -> str | None:
        value = conn.exec_driver_sql("SELECT value FROM search_meta WHERE key = ?", (key,)).scalar()
        return None if value is None else str(value)

    @staticmethod
    def _migrate(conn: Connection, has_docs: bool) -> None:
        """Bring an older index's tables up to :data:`SCHEMA_VERSION`; flag it for a reindex if it holds documents."""
        present = {str(r[1]) for r in conn.exec_driver_sql("PRAGMA table_info(search_doc)")}
        for column in _ADDED_COLUMNS:
            if column not in present:
                conn.exec_driver_sql(f"ALTER TABLE search_doc ADD COLUMN {column} TEXT NOT NULL DEFAULT ''")
        if has_docs:
            _log.warning(
                "搜索索引由旧版本建立，缺少实体与客户字段；请运行 `dossier reindex` / The search index was built"
                " by an older version and lacks entity and customer fields; run `dossier reindex`"
            )
            conn.exec_driver_sql("INSERT OR REPLACE INTO search_meta (key, value) VALUES ('reindex', '1')")
            # Rows written before the customer_keys column existed still filter by their names.
            rows = conn.exec_driver_sql("SELECT id, customers FROM search_doc WHERE customers != ''").all()
            if rows:
                conn.exec_driver_sql(
                    "UPDATE search_doc SET customer_keys = ? WHERE id = ?",
                    [
                        (_joined(fold(n) for n in str(names).split(LIST_SEP)), doc_id)
                        for doc_id, names in rows
                    ],
                )
            conn.exec_driver_sql("INSERT INTO search_log (doc_id) VALUES (?)", (RELOAD_ALL,))  # all reload
        conn.exec_driver_sql(
            "INSERT OR REPLACE INTO search_meta (key, value) VALUES ('schema', ?)", (SCHEMA_VERSION,)
        )

    def needs_reindex(self) -> bool:
        """True when the index was written by an older version and lacks fields only the records hold.

        Stays True until :meth:`clear` (a full reindex clears first, then indexes everything).
        """
        return bool(self._run(None, lambda c: self._meta(c, "reindex") == "1"))

    def _rebuild(self, conn: Connection) -> None:
        """Re-derive every document's FTS5 tokens with the current analysis (it changed since they were made)."""
        started = time.perf_counter()
        ids = [int(r[0]) for r in conn.exec_driver_sql("SELECT id FROM search_body ORDER BY id")]
        _log.warning(
            "搜索分析已更新，正在重建 %d 篇文档的全文索引 / Search analysis changed; rebuilding the full-text"
            " index of %d documents",
            len(ids),
            len(ids),
        )
        conn.exec_driver_sql("INSERT INTO search_fts (search_fts) VALUES ('delete-all')")
        unreadable: list[int] = []
        for start in range(0, len(ids), 500):
            chunk = tuple(ids[start : start + 500])
            marks = ", ".join("?" * len(chunk))
            rows = []
            for doc_id, title, meta_text, blob in conn.exec_driver_sql(
                f"SELECT id, title, meta, content FROM search_body WHERE id IN ({marks})", chunk
            ).all():
                try:
                    text, w = unpack(blob)
                except (InvalidDocument, zlib.error, UnicodeDecodeError, ValueError):
                    unreadable.append(int(doc_id))
                    continue
                t, m, g = derived_streams(title, meta_text, text)
                rows.append((doc_id, t, m, words_column(w, title, meta_text), g))
            if rows:
                conn.exec_driver_sql(
                    "INSERT INTO search_fts (rowid, title, meta, words, grams) VALUES (?, ?, ?, ?, ?)", rows
                )
        if unreadable:
            # Not in the FTS5 table any more, so drop the rest of them too; `dossier reindex` restores them.
            _log.warning(
                "%d 篇文档的索引数据无法读取，已移出索引 / %d documents had unreadable index data and were"
                " dropped from the index; run `dossier reindex`",
                len(unreadable),
                len(unreadable),
            )
            conn.exec_driver_sql("INSERT INTO search_log (doc_id) VALUES (?)", [(i,) for i in unreadable])
            for start in range(0, len(unreadable), 500):
                chunk = tuple(unreadable[start : start + 500])
                marks = ", ".join("?" * len(chunk))
                for table, col in _DOC_TABLES:
                    conn.exec_driver_sql(f"DELETE FROM {table} WHERE {col} IN ({marks})", chunk)
        _log.warning(
            "全文索引已重建（%.1f 秒）/ Full-text index rebuilt in %.1f s",
            time.perf_counter() - started,
            time.perf_counter() - started,
        )

    def _run(self, connection: Connection | None, fn: Any, *args: Any) -> Any:
        if connection is not None:
            if not self._schema_ready:
                self.ensure_schema(connection)
            return fn(connection, *args)
        if not self._schema_ready:
            self.ensure_schema()
        with self._engine.begin() as conn:
            return fn(conn, *args)

    # -- writing --------------------------------------------------------------

    def index(self, docs: Iterable[IndexDocument], *, connection: Any = None) -> None:
        """Add or replace documents; inside ``connection``'s transaction when given."""
        rows = [(doc, entry_of(doc)) for doc in docs]
        if rows:
            self._run(connection, self._write, rows)

    def write_entries(self, rows: Sequence[tuple[IndexDocument, Entry]], *, connection: Any = None) -> None:
        """Add or replace documents whose entries were computed already (:func:`index._sqlite_entry.entry_of`)."""
        if rows:
            self._run(connection, self._write, rows)

    def _write(self, conn: Connection, rows: Sequence[tuple[IndexDocument, Entry]]) -> None:
        self._remove(conn, [doc.id for doc, _ in rows])
        fts: list[tuple[Any, ...]] = []
        side: list[tuple[Any, ...]] = []
        body: list[tuple[Any, ...]] = []
        customers: list[tuple[Any, ...]] = []
        tags: list[tuple[int, str]] = []
        entities: list[tuple[str, str, int]] = []
        access: list[tuple[int, int]] = []
        versions: list[tuple[int, int, int]] = []
        for doc, entry in rows:
            if doc.version or doc.activity:  # an activity's entry: (id, its commented document, 0)
                versions.append((doc.id, doc.document, doc.version))
            fts.append((doc.id, entry.title, entry.meta, entry.words_column, entry.grams))
            side.append(
                (
                    doc.id,
                    doc.doc_type,
                    doc.confidentiality,
                    doc.date or None,
                    doc.created_at,
                    _joined(doc.customers),
                    _joined(doc.tags),
                    _joined(fold(n) for n in (*doc.customers, *doc.customer_aliases)),
                    _joined(customer_type_name(c) or c.strip() for c in doc.customer_types),
                    _joined(i.strip() for i in doc.industries),
                    _joined(r.strip() for r in doc.regions),
                    "archived" if doc.lifecycle == "archived" else "active",
                    _joined(s.strip() for s in doc.customer_stages),
                    _joined(importance_level(i) or i.strip() for i in doc.customer_importance),
                    _joined(t.strip() for t in doc.customer_tags),
                    doc.file_format,
                    SCAN if doc.scan else "",
                )
            )
            body.append((doc.id, doc.title, entry.meta_text, entry.blob))
            seen: set[str] = set()
            for name, cid in zip_longest(doc.customers, doc.customer_ids):
                key = name if name is not None else f"#{cid}"
                if key not in seen:
                    seen.add(key)
                    customers.append((doc.id, key, normalize_text(key), cid))
            tags.extend((doc.id, tag) for tag in dict.fromkeys(doc.tags))
            pairs = dict.fromkeys(
                (kind, entity_key(kind, value)) for kind, value in doc.entities if kind and value
            )
            entities.extend((kind, key, doc.id) for kind, key in list(pairs)[:MAX_ENTITIES] if key)
            access.extend((int(cid), doc.id) for cid in dict.fromkeys(doc.access_customer_ids))
        conn.exec_driver_sql(
            "INSERT INTO search_fts (rowid, title, meta, words, grams) VALUES (?, ?, ?, ?, ?)", fts
        )
        conn.exec_driver_sql(
            "INSERT INTO search_doc (id, doc_type, confidentiality, date, created_at, customers, tags,"
            " customer_keys, customer_types, industries, regions, lifecycle,"
            " customer_stages, customer_importance, customer_tags, file_format, scan)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            side,
        )
        conn.exec_driver_sql("INSERT INTO search_body (id, title, meta, content) VALUES (?, ?, ?, ?)", body)
        if customers:
            conn.exec_driver_sql("INSERT INTO search_doc_customer VALUES (?, ?, ?, ?)", customers)
        if tags:
            conn.exec_driver_sql("INSERT INTO search_doc_tag VALUES (?, ?)", tags)
        if entities:
            conn.exec_driver_sql(
                "INSERT INTO search_doc_entity (kind, value, doc_id) VALUES (?, ?, ?)", entities
            )
        if access:
            conn.exec_driver_sql("INSERT INTO search_doc_access (customer_id, doc_id) VALUES (?, ?)", access)
        if versions:
            conn.exec_driver_sql(
                "INSERT INTO search_doc_version (id, document_id, version) VALUES (?, ?, ?)", versions
            )
        self._vocabulary.remember(conn, set().union(*(entry.terms for _, entry in rows)))

    def _remove(self, conn: Connection, ids: Sequence[int]) -> None:
        if ids:
            conn.exec_driver_sql("INSERT INTO search_log (doc_id) VALUES (?)", [(int(i),) for i in ids])
            conn.exec_driver_sql(
                "DELETE FROM search_log WHERE seq < (SELECT max(seq) FROM search_log) - ?", (LOG_KEEP,)
            )
        for start in range(0, len(ids), 500):
            chunk = [int(i) for i in ids[start : start + 500]]
            marks = ", ".join("?" * len(chunk))
            old = conn.exec_driver_sql(
                f"SELECT id, title, meta, content FROM search_body WHERE id IN ({marks})", tuple(chunk)
            ).all()
            if not old:
                continue
            deletes = []
            for doc_id, title, meta_text, blob in old:
                text, w = unpack(blob)
                t, m, g = derived_streams(title, meta_text, text)
                deletes.append((doc_id, t, m, words_column(w, title, meta_text), g))
            conn.exec_driver_sql(
                "INSERT INTO search_fts (search_fts, rowid, title, meta, words, grams)"
                " VALUES ('delete', ?, ?, ?, ?, ?)",
                deletes,
            )
            found = tuple(d[0] for d in deletes)
            fmarks = ", ".join("?" * len(found))
            for table, col in _DOC_TABLES:
                conn.exec_driver_sql(f"DELETE FROM {table} WHERE {col} IN ({fmarks})", found)

    def delete(self, ids: Iterable[int], *, connection: Any = None) -> None:
        """Remove documents; unknown ids are ignored."""
        self._run(connection, self._remove, list(ids))

    def expunge(self, ids: Sequence[int]) -> bool:
        """Merge every FTS5 segment into one ('optimize'): the tokens of deleted documents leave the table's pages.

        A contentless FTS5 table deletes by adding delete markers; the tokens themselves stay in
        older segments until they are merged.  The freed pages still hold them until the
        database is vacuumed (:mod:`dossier.app._erasure` does that next).
        """
        self._run(
            None, lambda conn: conn.exec_driver_sql("INSERT INTO search_fts (search_fts) VALUES ('optimize')")
        )
        self._run(None, self._vocabulary.purge)  # no word of the erased documents stays in the vocabulary
        return True

    def clear(self) -> None:
        """Drop every indexed document."""

        def _clear(conn: Connection) -> None:
            conn.exec_driver_sql("INSERT INTO search_fts (search_fts) VALUES ('delete-all')")
            for table, _ in _DOC_TABLES:
                conn.exec_driver_sql(f"DELETE FROM {table}")
            conn.exec_driver_sql("DELETE FROM search_log")
            conn.exec_driver_sql("DELETE FROM search_meta WHERE key = 'reindex'")  # empty is up to date
            conn.exec_driver_sql("INSERT INTO search_log (doc_id) VALUES (?)", (RELOAD_ALL,))  # all reload
            self._vocabulary.clear(conn)

        self._run(None, _clear)

    def count(self) -> int:
        """Number of indexed documents (superseded versions' entries not counted)."""
        return int(
            self._run(
                None, lambda c: c.exec_driver_sql("SELECT count(*) FROM search_doc WHERE id > 0").scalar()
            )
        )

    # -- searching ------------------------------------------------------------

    def similar_words(self, word: str, limit: int = 8) -> list[str]:
        """Words of the index one edit (Latin: up to two) from ``word``, nearest first (:mod:`index._vocabulary`)."""
        try:
            return list(self._run(None, self._vocabulary.similar, word, limit))
        except (
            OperationalError
        ) as exc:  # a writer holds the database past the busy timeout: no suggestions now
            _log.warning("did-you-mean vocabulary unavailable: %s", exc)
            return []

    def search(self, request: SearchRequest, principal: Principal) -> SearchResult:
        """Run a query, filtered inside SQL by what ``principal`` may read."""
        started = time.perf_counter()
        parsed = parse_request(request)
        if not self._schema_ready:
            self.ensure_schema()
        with self._engine.connect() as conn:
            try:
                result = self._search(conn, request, principal, parsed)
            finally:
                conn.rollback()
        took = (time.perf_counter() - started) * 1000
        return SearchResult(total=result[0], hits=result[1], took_ms=round(took, 2), facets=result[2])

    def _search(
        self, conn: Connection, request: SearchRequest, principal: Principal, parsed: ParsedQuery
    ) -> tuple[int, list[SearchHit], dict[str, list[tuple[str, int]]]]:
        columns, pos, positive = self._matches(conn, request, principal, parsed, lifecycle=False)
        lifecycles = columns.lifecycle_counts(pos)  # before the lifecycle filter: what it leaves out too
        pos = pos[columns.lifecycle_mask(pos, lifecycle_filter(request, parsed))]
        total = len(pos)
        limit = max(0, min(int(request.limit), 1000))
        offset = max(0, int(request.offset))
        page = self._ordered_page(conn, columns, pos, positive, request, parsed, offset, limit)
        facets = columns.facets(pos, FACET_LIMIT) if request.facets and total else {}
        if request.facets and lifecycles:
            facets["lifecycle"] = lifecycles
        fields = field_values_of(request, parsed)
        terms = tuple(t.text for t in parsed.positive_terms)
        hits = memo_hits(
            columns.memo, page, (terms, tuple(fields)), lambda p: self._hits(conn, p, parsed, fields)
        )
        return total, hits, facets

    def _matches(
        self,
        conn: Connection,
        request: SearchRequest,
        principal: Principal,
        parsed: ParsedQuery,
        *,
        lifecycle: bool = True,
    ) -> tuple[Columns, np.ndarray, str | None]:
        """(columns, positions of every readable match, the positive FTS5 expression).

        ``lifecycle`` False leaves the lifecycle filter (archived or not) to the caller.
        """
        columns = self._columns.refresh(conn)
        positive, negative = compile_match(parsed)
        # Exact filters (entities, customer ids) first: a handful of ids spares FTS5 a common term's walk.
        required = _required_ids(conn, columns, request, parsed)
        if positive is not None:
            expression = f"({positive}) NOT ({negative})" if negative is not None else positive
            within = required if required is not None and len(required) <= NARROW_LIMIT else None
            if within is None:
                pos = match_positions(conn, columns, expression)
            else:
                pos = columns.positions_of(_match_ids(conn, expression, within))
            if required is not None:
                pos = pos[columns.id_mask(pos, required)]
        else:
            pos = columns.all_positions() if required is None else columns.positions_of(required)
            if negative is not None:
                pos = pos[~np.isin(pos, match_positions(conn, columns, negative))]
        pos = pos[entry_mask(columns.ids[pos], include_versions(request, parsed), request.activities)]
        pos = pos[self._allowed(conn, columns, pos, request, parsed, principal)]
        if lifecycle:
            pos = pos[columns.lifecycle_mask(pos, lifecycle_filter(request, parsed))]
        return columns, pos, positive

    def _page(
        self,
        conn: Connection,
        columns: Columns,
        pos: np.ndarray,
        positive: str | None,
        request: SearchRequest,
        offset: int,
        limit: int,
    ) -> list[tuple[int, float]]:
        """(id, bm25) of the matches ``offset`` … ``offset + limit`` in the request's order."""
        total = len(pos)
        relevance = request.sort not in ("date_desc", "date_asc")
        if relevance and positive is not None and total <= RANK_LIMIT:
            return self._ranked_page(conn, columns, pos, positive, offset, limit)
        rank = columns.rank("recent" if relevance else request.sort)[pos]
        want = min(total, offset + limit)
        if want < total:
            top = np.argpartition(rank, want - 1)[:want] if want else np.zeros(0, dtype=np.int64)
        else:
            top = np.arange(total)
        top = top[np.argsort(rank[top], kind="stable")][offset:]
        return [(int(columns.ids[pos[i]]), 0.0) for i in top]

    def _ordered_page(
        self,
        conn: Connection,
        columns: Columns,
        pos: np.ndarray,
        positive: str | None,
        request: SearchRequest,
        parsed: ParsedQuery,
        offset: int,
        limit: int,
    ) -> list[tuple[int, float]]:
        """:meth:`_page` in relevance tiers (:mod:`index._relevance`): a named type, then title/meta matches first."""
        tiers = None
        if request.sort not in ("date_desc", "date_asc"):
            tiers = sqlite_tiers(conn, columns, pos, parsed, positive, len(pos) <= RANK_LIMIT)
        return tiered_page(
            tiers,
            pos,
            lambda part, o, n: self._page(conn, columns, part, positive, request, o, n),
            offset,
            limit,
        )

    def iter_ids(self, request: SearchRequest, principal: Principal, *, batch: int = 1000) -> Iterator[int]:
        """Every matching id in the request's order (the match set is fixed when iteration starts)."""
        for hit in self.iter_hits(request, principal, batch=batch, snippets=False):
            yield hit.id

    def iter_hits(
        self, request: SearchRequest, principal: Principal, *, batch: int = 500, snippets: bool = True
    ) -> Iterator[SearchHit]:
        """Every matching hit in the request's order, with its score (and snippet), ``batch`` at a time.

        The match set is fixed when iteration starts; the snippets of each batch are read then.
        """
        parsed = parse_request(request)
        if not self._schema_ready:
            self.ensure_schema()
        with self._engine.connect() as conn:
            try:
                columns, pos, positive = self._matches(conn, request, principal, parsed)
                ordered = self._ordered_page(conn, columns, pos, positive, request, parsed, 0, len(pos))
            finally:
                conn.rollback()
        step = max(1, batch)
        for start in range(0, len(ordered), step):
            chunk = ordered[start : start + step]
            if not snippets:
                with self._engine.connect() as conn:
                    try:
                        of = _versions_of(conn, [doc_id for doc_id, _ in chunk])
                    finally:
                        conn.rollback()
                yield from (
                    SearchHit(
                        id=doc_id,
                        score=-float(score or 0.0),
                        snippet="",
                        document_id=of.get(doc_id, (0, 0))[0],
                        version=of.get(doc_id, (0, 0))[1],
                        activity=entry_activity(doc_id),
                    )
                    for doc_id, score in chunk
                )
                continue
            with self._engine.connect() as conn:
                try:
                    found = self._hits(conn, chunk, parsed, field_values_of(request, parsed))
                finally:
                    conn.rollback()
            yield from found

    def entry_ids(self, *, batch: int = 20000) -> Iterator[int]:
        """Every entry id the index holds, ascending, read a batch at a time (no long read transaction)."""

        def page(conn: Connection, after: int) -> list[int]:
            sql = "SELECT id FROM search_doc WHERE id > ? ORDER BY id LIMIT ?"
            return [int(r[0]) for r in conn.exec_driver_sql(sql, (after, batch))]

        after = -(1 << 63)
        while True:
            ids: list[int] = self._run(None, page, after)
            yield from ids
            if len(ids) < batch:
                return
            after = ids[-1]

    # -- the protocol's queue and rebuild parts: the embedded index is written in the records' transaction --

    def flush(self, *, force: bool = False) -> FlushReport:
        """Nothing waits: every write went into the records' own transaction."""
        return FlushReport()

    def settle(self, timeout_s: float = 30.0) -> bool:
        """Every committed write is searchable already."""
        return True

    def start_rebuild(self, *, restart: bool = False) -> Rebuild:
        """Empty the index; the batches go straight in, analysed by worker processes while the one before
        is written (:mod:`index._rebuild`; a crashed rebuild simply starts again)."""
        self.clear()
        return PooledRebuild(self)

    def status(self) -> dict[str, Any]:
        """Documents indexed; nothing is ever pending."""
        return {"backend": self.name, "documents": self.count(), "pending": 0, "failures": [], "error": None}

    @staticmethod
    def _allowed(
        conn: Connection,
        columns: Columns,
        pos: np.ndarray,
        request: SearchRequest,
        parsed: ParsedQuery,
        principal: Principal,
    ) -> np.ndarray:
        """The permission filter and the request's column filters, as one mask over the matches.

        The exact filters (entities, customer ids) were applied before: see :func:`_required_ids`.
        """
        mask = np.ones(len(pos), dtype=bool)
        levels = readable_levels(principal)
        if not levels >= set(ACCESS_LEVELS):
            readable = columns.level_mask(pos, levels)
            owned = sorted(principal.owned_customer_ids) if principal.role == "sales" else []
            if owned:
                owned_docs = _access_docs(conn, owned)
                readable |= columns.level_mask(pos, ("confidential",)) & columns.id_mask(pos, owned_docs)
            mask &= readable
        for kind, values in column_filters(request, parsed).items():
            if values:
                mask &= _field_mask(columns, pos, kind, values)
        scans = scan_filter(request, parsed)
        if scans is not None:
            is_scan = columns.set_mask("scan", pos, SCAN.__eq__, key="scan")
            mask &= is_scan if scans == "only" else ~is_scan
        for kind, value in parsed.excluded_fields:
            if kind in ENTITY_FIELDS:
                mask &= ~columns.id_mask(pos, _entity_ids(conn, columns, [(kind, value)]))
            else:
                mask &= ~_field_mask(columns, pos, kind, filter_values(kind, [value]))
        if request.date_from or request.date_to:
            mask &= columns.date_mask(pos, request.date_from, request.date_to)
        return mask

    @staticmethod
    def _ranked_page(
        conn: Connection, columns: Columns, pos: np.ndarray, positive: str, offset: int, limit: int
    ) -> list[tuple[int, float]]:
        """bm25 over the (few) selected matches; ties go to the most recent."""
        if not len(pos):
            return []
        weights = ", ".join(map(str, COLUMN_WEIGHTS))
        ids = columns.ids[pos]
        score = page_scores(conn, columns, pos, positive, weights)
        order = np.lexsort((columns.rank("recent")[pos], score))[offset : offset + limit]
        return [(int(ids[i]), float(score[i])) for i in order]

    @staticmethod
    def _hits(
        conn: Connection, page: Sequence[Any], parsed: ParsedQuery, fields: Sequence[tuple[str, str]] = ()
    ) -> list[SearchHit]:
        """The hits of ``page`` ((id, bm25) pairs): snippets (``fields``: the field queries' values to show)
        and, for generic titles, the parts of a display title."""
        if not page:
            return []
        ids = tuple(int(r[0]) for r in page)
        marks = ", ".join("?" * len(ids))
        docs = {
            r[0]: r
            for r in raw(conn).execute(
                "SELECT b.id, b.title, b.meta, b.content, d.doc_type, d.customers, d.date"
                f" FROM search_body b JOIN search_doc d ON d.id = b.id WHERE b.id IN ({marks})",
                ids,
            )
        }
        generic = tuple(
            i for i, r in docs.items() if i > -ACTIVITY_ID_BASE and is_generic_title(str(r[1] or ""))
        )
        numbers = _numbers_of(conn, generic)
        terms = [t.text for t in parsed.positive_terms]
        of = _versions_of(conn, ids)
        hits = []
        for doc_id, score in page:
            if doc_id not in docs:  # deleted since the match set was taken
                continue
            _, title, meta, body, doc_type, customers, date = docs[doc_id]
            text, _ = unpack(body)
            snippet, title_html = hit_texts(title, meta, text, terms, fields)
            parts = (
                title_parts(
                    title, doc_type, str(customers or "").split(LIST_SEP), numbers.get(doc_id, ()), date
                )
                if doc_id in generic
                else ()
            )
            hits.append(
                SearchHit(
                    id=doc_id,
                    score=-float(score or 0.0),
                    snippet=snippet,
                    title_html=title_html,
                    document_id=of.get(doc_id, (0, 0))[0],
                    version=of.get(doc_id, (0, 0))[1],
                    activity=entry_activity(doc_id),
                    title_parts=parts,
                )
            )
        return hits


def _numbers_of(conn: Connection, ids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    """``{entry id: [(kind, number) …]}``: the contract, quote, invoice and order numbers of ``ids``."""
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    kinds = ", ".join("?" * len(NUMBER_KINDS))
    out: dict[int, list[tuple[str, str]]] = {}
    for doc_id, kind, value in conn.exec_driver_sql(
        f"SELECT doc_id, kind, value FROM search_doc_entity WHERE doc_id IN ({marks}) AND kind IN ({kinds})",
        (*ids, *NUMBER_KINDS),
    ):
        out.setdefault(int(doc_id), []).append((str(kind), str(value)))
    return out


def entry_mask(ids: np.ndarray, versions: bool, activities: str) -> np.ndarray:
    """Which entries a request searches: superseded versions' (``versions``) and activities' (include|exclude|only).

    A document's own entry has a positive id, a superseded version's minus its version row's
    id, an activity's at or below minus :data:`index.ACTIVITY_ID_BASE`.
    """
    is_activity = ids <= -ACTIVITY_ID_BASE
    if activities == "only":
        return is_activity
    mask = ids > 0 if not versions else ~is_activity
    if activities != "exclude":
        mask |= is_activity
    return mask


def _versions_of(conn: Connection, ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """``{entry id: (document id, version number)}`` of the superseded versions' and activities' entries among ``ids``.

    An activity's entry has version 0 and its commented document (0: none).
    """
    old = tuple(int(i) for i in ids if int(i) < 0)
    if not old:
        return {}
    marks = ", ".join("?" * len(old))
    rows = conn.exec_driver_sql(
        f"SELECT id, document_id, version FROM search_doc_version WHERE id IN ({marks})", old
    ).all()
    return {int(r[0]): (int(r[1]), int(r[2])) for r in rows}


#: The customers' steering fields' filter kinds -> the set column each one matches exactly.
_STEERING_COLUMNS = {"stage": "customer_stages", "importance": "customer_importance", "ctag": "customer_tags"}


def _field_mask(columns: Columns, pos: np.ndarray, kind: str, values: list[str]) -> np.ndarray:
    """True where the document matches any of ``values`` (normalised) of field ``kind``."""
    if kind == "customer":
        return columns.customer_mask(pos, values)
    if kind == "type":
        return columns.type_mask(pos, values)
    if kind == "tag":
        return columns.tag_mask(pos, values)
    key = (kind, tuple(values))  # names the test below: its accepted codes are worked out once a snapshot
    if kind == "customer_type":
        wanted = set(values)
        return columns.set_mask("customer_types", pos, wanted.__contains__, key)
    if kind == "industry":
        return columns.set_mask("industries", pos, lambda m: any(v in fold(m) for v in values), key)
    if kind == "region":
        return columns.set_mask("regions", pos, lambda m: any(fold(m).startswith(v) for v in values), key)
    if kind == "year":
        return columns.date_prefix_mask(pos, values)
    if kind in _STEERING_COLUMNS:
        wanted = set(values)
        return columns.set_mask(_STEERING_COLUMNS[kind], pos, wanted.__contains__, key)
    if kind == "format":
        wanted = set(values)
        return columns.set_mask("file_format", pos, wanted.__contains__, key)
    raise ValueError(f"unknown filter kind {kind!r}")


def _customer_docs(conn: Connection, customer_ids: Iterable[int]) -> np.ndarray:
    """Ids of the documents linked to any of the registry customers ``customer_ids``."""
    wanted = sorted({int(i) for i in customer_ids})
    marks = ", ".join("?" * len(wanted))
    return _ids(
        conn, f"SELECT group_concat(doc_id) FROM search_doc_customer WHERE customer_id IN ({marks})", wanted
    )


def _access_docs(conn: Connection, customer_ids: Iterable[int]) -> np.ndarray:
    """Ids of the confidential entries the sales owners of ``customer_ids`` may read."""
    wanted = sorted({int(i) for i in customer_ids})
    marks = ", ".join("?" * len(wanted))
    return _ids(
        conn, f"SELECT group_concat(doc_id) FROM search_doc_access WHERE customer_id IN ({marks})", wanted
    )


def _required_ids(
    conn: Connection, columns: Columns, request: SearchRequest, parsed: ParsedQuery
) -> np.ndarray | None:
    """Sorted ids every result must be among, from the exact filters (None when there are none).

    ``customer_ids`` and each entity OR-group (of the request and of the query) are looked
    up by their indexes and intersected.
    """
    sets: list[np.ndarray] = []
    if request.customer_ids:
        sets.append(_customer_docs(conn, request.customer_ids))
    for group in entity_groups(request, parsed):
        sets.append(_entity_ids(conn, columns, group))
    if not sets:
        return None
    found = sets[0]
    for ids in sets[1:]:
        found = np.intersect1d(found, ids, assume_unique=True)
    return found


def _entity_ids(conn: Connection, columns: Columns, group: Sequence[tuple[str, str]]) -> np.ndarray:
    """Sorted ids of the documents having any of the (kind, lookup value) entities of ``group``.

    A ``date`` shorter than a day (``2024``, ``2024-03``) is a prefix; a date also matches
    the document's own date.
    """
    found: list[np.ndarray] = []
    for kind, value in group:
        if kind == "date" and len(value) < 10:
            sql = "SELECT group_concat(doc_id) FROM search_doc_entity WHERE kind = ? AND value >= ? AND value < ?"
            args: tuple[str, ...] = (kind, value, value + "\x7f")
        else:
            sql = "SELECT group_concat(doc_id) FROM search_doc_entity WHERE kind = ? AND value = ?"
            args = (kind, value)
        found.append(_ids(conn, sql, args))
        if kind == "date":
            every = columns.all_positions()
            found.append(columns.ids[every[columns.date_prefix_mask(every, [value])]])
    return np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)


def _ids(conn: Connection, sql: str, args: Sequence[Any]) -> np.ndarray:
    """Document ids a ``SELECT group_concat(…)`` returns, as one sorted array."""
    return np.unique(joined_ids(conn.exec_driver_sql(sql, tuple(args)).scalar()))


def _joined(values: Iterable[str]) -> str:
    """Distinct non-empty values as one LIST_SEP-joined column value."""
    return LIST_SEP.join(dict.fromkeys(v for v in values if v))


def _match_ids(conn: Connection, expression: str, within: np.ndarray | None = None) -> np.ndarray:
    """Every rowid matching an FTS5 expression, fetched as one string (row-by-row costs ~0.5 µs each).

    With ``within`` (a few ids), FTS5 looks each id up instead of walking every match.
    """
    if within is None:
        joined = conn.exec_driver_sql(
            "SELECT group_concat(rowid) FROM search_fts WHERE search_fts MATCH ?", (expression,)
        ).scalar()
    elif not len(within):
        return np.zeros(0, dtype=np.int64)
    else:
        joined = conn.exec_driver_sql(
            "SELECT group_concat(rowid) FROM search_fts WHERE search_fts MATCH ?"
            " AND rowid IN (SELECT value FROM json_each(?))",
            (expression, "[" + ",".join(map(str, within.tolist())) + "]"),
        ).scalar()
    return joined_ids(joined)
