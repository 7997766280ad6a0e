"""The Tantivy backend: Dossier's own analysis in an embedded Tantivy index, a follower of the records.

Grown out of the engine study ``bench/_tantivy_engine.py`` (which proved that Tantivy, fed the embedded
index's token streams and compiled queries, finds exactly the documents FTS5 finds, 3-4x faster).

* **What is indexed:** each entry's ``title``/``meta``/``grams``/``words`` streams
  (:func:`index._sqlite_entry.streams_of`, the embedded index's own), split by Tantivy's ``simple``
  tokenizer with positions; keyword fields (raw, fast) for every filter and facet; the entry's
  original title, metadata text and body stored for snippets (:func:`index._snippet.hit_texts`)
  (:mod:`index._tv_schema`).
  Queries: :mod:`index._tv_query`.  Everything (text, permissions, filters, tiers, sort, facets)
  runs inside one Tantivy query; nothing is counted outside it.  The facets are counted by the same
  matches in a second thread (shared by the process) while the first ranks the page and builds its
  snippets: Tantivy lets go of the GIL while it searches, so the two run side by side.
* **Writes never get lost:** as with OpenSearch, a write is an outbox row (:mod:`index._outbox`)
  in the caller's records transaction (``queued_writes``); after the commit :meth:`flush` applies
  the rows to the index (delete by id, add) and commits it, and only then drops the rows.  A process
  killed at any point leaves rows behind, which the next flush (of any process; every search starts
  with one when rows wait) applies again: applying a row twice is harmless.
* **One writer:** Tantivy allows one writer per index; web, workers and CLI all write, so a writer is
  opened and committed only under an exclusive ``fcntl.flock`` on a lock file beside the index.
* **Readers** reload the index before each search, so a committed write is seen by every process.
* **Where:** a directory beside the SQLite records file (``dossier.db`` -> ``dossier.tantivy``), or the
  ``directory`` option (PostgreSQL homes: ``<home>/tantivy``).
* ``dossier.json`` in the directory names the schema and analysis the index was written with.  A new
  index is up to date (like a new OpenSearch index: a home switched to Tantivy runs ``dossier reindex``);
  an index of another schema is replaced by an empty one, and an index of another schema or analysis
  makes :meth:`needs_reindex` True until :meth:`clear` (which a full reindex starts with).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import tantivy
from sqlalchemy import Engine

from index._analysis import ANALYSIS_VERSION, user_word_count
from index._common import InvalidDocument, check_document
from index._memo import HIT_UNITS, Memo
from index._outbox import Outbox, OutboxRow, document_from_json
from index._query import ParsedQuery, field_values_of, lifecycle_filter, parse_request
from index._rebuild import PooledRebuild
from index._snippet import hit_texts
from index._sqlite_entry import streams_of
from index._titles import is_generic_title, title_parts
from index._tv_query import FACET_FIELDS, TvQueries, text_score
from index._tv_schema import (
    SCHEMA,
    document_of,
    fields_of,
    index_directory,
    stored_document,
    stored_texts,
    tv_document,
)
from index._types import (
    ACTIVITY_ID_BASE,
    FlushReport,
    IndexDocument,
    Principal,
    SearchHit,
    SearchRequest,
    SearchResult,
    entry_activity,
)
from index._vocabulary import _script as vocabulary_script
from index._vocabulary import max_edits, nearest, vocabulary_word

__all__ = ["TantivyBackend", "index_directory"]

_log = logging.getLogger(__name__)

#: Names the fields of the Tantivy schema; an index of another one is replaced (and needs a reindex).
TV_SCHEMA = "2"
FACET_LIMIT = 50
#: Seconds a read of the index's vocabulary (did-you-mean) serves before a changed index is read again.
VOCABULARY_TTL_S = 30.0
#: Hits past a ranked page read to order equal scores by recency.
TIE_WINDOW = 200
#: Outbox rows applied per index commit.
FLUSH_ROWS = 2000
#: Documents a rebuild writes per index commit: each commit costs ~0.5 s and the merges it starts as
#: much again, whatever its size (measured at 500: 1.1 s a commit, half the rebuild's time), and the
#: writer lock is held for one commit's documents.
REBUILD_COMMIT_ROWS = 10_000
#: Units (about 4 bytes) of results and hits kept per commit (:class:`~index._memo.Memo`): about 8 MB.
MEMO_BUDGET = 2_000_000
#: Memory of the index writer.
WRITER_HEAP = 64 * 1024 * 1024
_MARKER = "dossier.json"
#: The outbox state naming the ids flushes wrote while a rebuild runs (JSON list; absent: no rebuild).
_REBUILDING = "tantivy_rebuild"
_LOCK = ".dossier-writer.lock"


_facets_pool: ThreadPoolExecutor | None = None
_facets_pool_lock = threading.Lock()


def _facet_threads() -> ThreadPoolExecutor:
    """The threads that count facets beside the searches, shared by the process's Tantivy indexes (created at
    the first search; as many as :class:`~concurrent.futures.ThreadPoolExecutor` makes by default)."""
    global _facets_pool
    with _facets_pool_lock:
        if _facets_pool is None:
            _facets_pool = ThreadPoolExecutor(thread_name_prefix="dossier-facets")
        return _facets_pool


def _forget_facet_threads() -> None:
    """In a forked child (an RQ work horse): the parent's threads are not there, so the child makes its own."""
    global _facets_pool, _facets_pool_lock
    _facets_pool, _facets_pool_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_facet_threads)


class _Rebuild:
    """A full reindex into the Tantivy index: each batch goes straight in (no outbox), committed under the lock.

    The batches are analysed by a pool of worker processes (:class:`~index._rebuild.PooledRebuild`, with
    :func:`~index._tv_schema.fields_of`), each while the batch before is written, and committed
    :data:`REBUILD_COMMIT_ROWS` at a time.  Changes made
    meanwhile are not lost: while a rebuild runs, every flush notes the ids it wrote or deleted
    (``_REBUILDING`` in the outbox's state, under the writer lock), and a batch skips those ids — it was
    read from the records before the change, so its copy is older (a deleted document would come back).
    :meth:`finish` ends the noting.  A document the index refuses is left out with a warning.
    """

    resume_after = 0

    def __init__(self, backend: TantivyBackend, *, processes: int | None = None) -> None:
        self._backend = backend
        self._pool = PooledRebuild(self, processes=processes, analyse=fields_of)
        self._held: list[tuple[int, Any]] = []

    def add(self, docs: Sequence[IndexDocument], *, connection: Any = None) -> None:
        """Index a batch (analysed by the workers; the batch before is written meanwhile)."""
        self._pool.add(docs)

    def finish(self) -> None:
        """Write the last batches, stop the workers and end the noting of flushed ids."""
        self._pool.finish()
        self._commit()
        self._backend.outbox.set_state(_REBUILDING, None)
        self._backend.reload()

    def index(self, docs: Sequence[IndexDocument], *, connection: Any = None) -> None:
        """Analyse a batch here (a small one, or one the workers could not analyse)."""
        for doc in docs:
            try:
                self._hold(doc.id, tv_document(doc, streams_of(doc)))
            except InvalidDocument as exc:
                _log.warning("document %s not indexed: %s", doc.id, exc)

    def write_entries(
        self, rows: Sequence[tuple[IndexDocument, dict[str, list[Any]]]], *, connection: Any = None
    ) -> None:
        """Take a batch the workers analysed (:func:`~index._tv_schema.fields_of`)."""
        for doc, fields in rows:
            self._hold(doc.id, document_of(fields))

    def _hold(self, doc_id: int, document: Any) -> None:
        """Keep a document for the next commit, which comes every :data:`REBUILD_COMMIT_ROWS` documents."""
        self._held.append((doc_id, document))
        if len(self._held) >= REBUILD_COMMIT_ROWS:
            self._commit()

    def _commit(self) -> None:
        held, self._held = self._held, []
        if held:
            self._backend.apply(held, rebuilding=True)


class TantivyBackend:
    """:class:`~index.SearchBackend` on an embedded Tantivy index beside the records (see the module doc)."""

    name = "tantivy"
    queued_writes = True

    def __init__(self, engine: Engine, directory: str | os.PathLike[str] | None = None) -> None:
        self._engine = engine
        self._own = False
        if (
            directory is None
            and engine.dialect.name == "sqlite"
            and engine.url.database in (None, "", ":memory:")
        ):
            directory, self._own = tempfile.mkdtemp(prefix="dossier-tantivy-"), True
        self.path = index_directory(engine, directory)
        self.outbox = Outbox(engine)
        self._tables_ready = False
        self._flush_lock = threading.Lock()
        self._schema = SCHEMA
        self._tokens = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).build()
        self._index: Any = None
        self._queries: TvQueries | None = None
        self._vocabulary: tuple[tuple[int, int], dict[tuple[str, int], list[str]], float] | None = None
        self._memo_lock = threading.Lock()
        self._loaded: bytes | None = None  # the meta.json the reader last reloaded
        self._memo: tuple[bytes | None, Memo] = (None, Memo(MEMO_BUDGET))

    # -- the index directory --------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, *, wait: bool = True) -> Iterator[bool]:
        """Hold the exclusive writer lock (yields False when ``wait`` is False and another process holds it)."""
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / _LOCK, "a+b") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @staticmethod
    @contextlib.contextmanager
    def _writer(index: Any) -> Iterator[Any]:
        """A writer of ``index`` (the caller holds the lock): committed when the block ends, rolled back when it
        raises, and its merging threads waited for either way."""
        writer = index.writer(heap_size=WRITER_HEAP)
        try:
            yield writer
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()

    def _marker(self) -> dict[str, Any]:
        try:
            found = json.loads((self.path / _MARKER).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return found if isinstance(found, dict) else {}

    def _set_marker(self, **values: Any) -> None:
        target = self.path / _MARKER
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps({**self._marker(), **values}), encoding="utf-8")
        os.replace(tmp, target)

    def _open(self) -> Any:
        if self._index is not None:
            return self._index
        with self._locked():
            marker = self._marker()
            if marker.get("schema") != TV_SCHEMA:
                # A new index is up to date (as a new OpenSearch index is: `dossier reindex` fills it from
                # the records); one of another schema is replaced by an empty one that needs the reindex.
                existing = bool(marker) or (self.path / "meta.json").exists()  # (a lost marker too)
                analysis = None if existing else ANALYSIS_VERSION
                for child in self.path.iterdir() if self.path.exists() else ():
                    if child.name != _LOCK:
                        shutil.rmtree(child) if child.is_dir() else child.unlink()
                self.path.mkdir(parents=True, exist_ok=True)
                self._set_marker(schema=TV_SCHEMA, analysis=analysis)
            index = tantivy.Index(self._schema, path=str(self.path), reuse=True)
        index.register_tokenizer("dossier_tokens", self._tokens)
        self._queries = TvQueries(self._schema, self._tokens.analyze)
        self._index = index
        return index

    def reload(self) -> None:
        """See what other processes committed."""
        self._open().reload()

    def _tables(self) -> None:
        if not self._tables_ready:
            self.outbox.create()
            self._tables_ready = True

    def ensure_schema(self, connection: Any = None) -> None:
        """Create the outbox tables and the index directory if they are not there."""
        self._tables()
        self._open()

    def needs_reindex(self) -> bool:
        """True when the index was made by another schema or analysis (or never filled), until :meth:`clear`."""
        self._open()
        return self._marker().get("analysis") != ANALYSIS_VERSION

    # -- writing --------------------------------------------------------------------------------

    def index(self, docs: Iterable[IndexDocument], *, connection: Any = None) -> None:
        """Queue documents in ``connection``'s transaction (applied by :meth:`flush` after the commit);
        without a connection, queue and apply them now."""
        batch = list(docs)
        for doc in batch:
            check_document(doc)
        if batch:
            self._queue(lambda conn: self.outbox.put_documents(conn, batch), connection)

    def delete(self, ids: Iterable[int], *, connection: Any = None) -> None:
        """Queue removals as :meth:`index` queues documents; unknown ids are ignored."""
        wanted = [int(i) for i in ids]
        if wanted:
            self._queue(lambda conn: self.outbox.put_deletes(conn, wanted), connection)

    def _queue(self, write: Callable[[Any], None], connection: Any) -> None:
        self._tables()
        if connection is not None:
            write(connection)
            return
        with self._engine.begin() as conn:
            write(conn)
        self.flush()

    def apply(self, rows: Sequence[tuple[int, Any]], *, rebuilding: bool = False) -> None:
        """Replace the entries of the ids (a Tantivy document, or None to delete) and commit, under the lock.

        ``rebuilding``: a rebuild's batch, which leaves out the ids a flush wrote since the rebuild began.
        """
        index = self._open()
        with self._locked():
            if rebuilding:
                newer = self._rebuild_touched()
                rows = [row for row in rows if int(row[0]) not in newer]
            with self._writer(index) as writer:
                for doc_id, document in rows:
                    writer.delete_documents_by_term("id", int(doc_id))
                    if document is not None:
                        writer.add_document(document)
        index.reload()

    def flush(self, *, force: bool = False, wait: bool = True) -> FlushReport:
        """Apply every due outbox row to the index; rows leave the outbox only after the index committed them.

        ``force`` also applies rows waiting out a backoff after a failed try; ``wait`` False returns at once
        when another process holds the writer lock (it is applying them).  A failing index (a full disk)
        leaves the rows queued, retried later, and says why in the report's ``error``.
        """
        self._tables()
        sent = 0
        rejected: list[tuple[int, str]] = []
        index = self._open()
        with self._flush_lock, self._locked(wait=wait) as held:
            if not held:
                return FlushReport()
            while True:
                rows = self.outbox.due(FLUSH_ROWS, now=float("inf") if force else None)
                if not rows:
                    break
                try:
                    done, refused = self._apply_rows(index, rows)
                except (OSError, ValueError, RuntimeError) as exc:
                    reason = f"{type(exc).__name__}: {exc}"[:500]
                    _log.warning("Tantivy index write failed, queued work waits: %s", reason)
                    self.outbox.retry_later(rows, reason)
                    return FlushReport(sent=sent, rejected=tuple(rejected), error=reason)
                self._note_rebuild_writes([row.doc_id for row in rows])
                self.outbox.done(done)
                self.outbox.reject(refused)
                sent += len(done)
                rejected.extend((row.doc_id, reason) for row, reason in refused)
                if len(rows) < FLUSH_ROWS:
                    break
        index.reload()
        return FlushReport(sent=sent, rejected=tuple(rejected))

    def _apply_rows(
        self, index: Any, rows: list[OutboxRow]
    ) -> tuple[list[OutboxRow], list[tuple[OutboxRow, str]]]:
        """Write ``rows`` in one index commit (the caller holds the lock)."""
        done: list[OutboxRow] = []
        refused: list[tuple[OutboxRow, str]] = []
        with self._writer(index) as writer:
            for row in rows:
                writer.delete_documents_by_term("id", row.doc_id)
                if row.op == "index" and row.payload is not None:
                    try:
                        doc = document_from_json(row.payload)
                        writer.add_document(tv_document(doc, streams_of(doc)))
                    except (InvalidDocument, ValueError, TypeError) as exc:
                        refused.append((row, str(exc)))
                        continue
                done.append(row)
        return done, refused

    def _rebuild_touched(self) -> set[int]:
        """The ids flushes wrote since the running rebuild began (none without one; call under the lock)."""
        state = self.outbox.get_state(_REBUILDING)
        return set() if state is None else {int(i) for i in json.loads(state)}

    def _note_rebuild_writes(self, ids: Sequence[int]) -> None:
        """While a rebuild runs, remember ``ids`` (just committed by a flush) so its batches leave them alone."""
        state = self.outbox.get_state(_REBUILDING)
        if state is not None and ids:
            known = json.loads(state)
            self.outbox.set_state(_REBUILDING, json.dumps(sorted({*known, *map(int, ids)})))

    def settle(self, timeout_s: float = 30.0) -> bool:
        """Apply everything queued (by any process) and reload; False when rows still wait after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while True:
            if self.flush(force=True).error is not None:
                return False  # the index fails: the work stays queued
            if self.outbox.pending() == 0:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    def expunge(self, ids: Sequence[int]) -> bool:
        """Drop the queued entries of ``ids``, apply their deletes, then rewrite the index so no segment file
        keeps them: every live entry is written anew from what the index stored of it (its ``source``, title
        and body), the old segments, wholly deleted, are dropped, and their files collected.

        tantivy-py offers no forced merge; the rewrite holds the writer lock for as long as a reindex of
        the stored entries takes (analysis included: about 1 ms an entry).
        """
        self._tables()
        with self._engine.begin() as conn:
            self.outbox.drop_documents(conn, [int(i) for i in ids])
        if not self.settle():
            return False
        index = self._open()
        with self._flush_lock, self._locked():
            index.reload()
            searcher = index.searcher()
            found = searcher.search(tantivy.Query.all_query(), limit=max(1, searcher.num_docs), count=False)
            docs = [stored_document(searcher.doc(address).to_dict()) for _, address in found.hits]
            with self._writer(index) as writer:
                writer.delete_all_documents()
                for doc in docs:
                    writer.add_document(tv_document(doc, streams_of(doc)))
            writer = index.writer(heap_size=WRITER_HEAP)
            try:
                writer.garbage_collect_files()
            finally:
                writer.wait_merging_threads()
        index.reload()
        self._vocabulary = None  # no word of the erased entries is offered any more
        return True

    def clear(self) -> None:
        """Drop every indexed document and every queued write; the index is up to date from here."""
        self._tables()
        self.outbox.clear()
        index = self._open()
        with self._locked():
            with self._writer(index) as writer:
                writer.delete_all_documents()
            self._set_marker(schema=TV_SCHEMA, analysis=ANALYSIS_VERSION)
        index.reload()
        self._vocabulary = None

    def start_rebuild(self, *, restart: bool = False) -> _Rebuild:
        """Empty the index; the batches go straight in (a crashed rebuild simply starts again)."""
        self.clear()
        with self._locked():
            self.outbox.set_state(_REBUILDING, "[]")
        return _Rebuild(self)

    # -- reading --------------------------------------------------------------------------------

    def _searcher(self) -> Any:
        """A searcher of the newest commit, after applying work left in the outbox (a crashed writer's too)."""
        return self._snapshot()[0]

    def _snapshot(self) -> tuple[Any, Memo | None]:
        """(a searcher of the newest commit, the memo of that commit; None when a commit came meanwhile).

        A commit replaces the index's ``meta.json`` (written whole, then renamed; it names the commit's
        opstamp): the same file before and after a reload means the searcher shows that commit, and the
        memo kept for it holds; while the file stays the one last reloaded, no reload is needed.
        """
        self._tables()
        index = self._open()
        if self.outbox.waiting():
            self.flush(wait=False)
        before = self._generation()
        if before is None or before != self._loaded:  # (a reload costs ~0.15 ms, reading the file ~0.02)
            index.reload()
            after = self._generation()
            self._loaded = after if after == before else None
            if after != before:
                return index.searcher(), None
        searcher = index.searcher()
        with self._memo_lock:
            if self._memo[0] != before:
                self._memo = (before, Memo(MEMO_BUDGET))
            return searcher, self._memo[1]

    def _generation(self) -> bytes | None:
        """The index's ``meta.json`` (its segments and the commit's opstamp: every commit writes another)."""
        try:
            return (self.path / "meta.json").read_bytes()
        except OSError:
            return None

    def count(self) -> int:
        """Number of indexed documents (superseded versions' and activities' entries not counted)."""
        searcher = self._searcher()
        q = tantivy.Query.range_query(self._schema, "id", tantivy.FieldType.Integer, 1, None)
        return int(searcher.search(q, limit=1, count=True).count or 0)

    def entry_ids(self, *, batch: int = 20000) -> Iterator[int]:
        """Every entry id the index holds, ascending."""
        searcher = self._searcher()
        total = searcher.num_docs
        for offset in range(0, total, batch):
            found = searcher.search(
                tantivy.Query.all_query(),
                limit=batch,
                offset=offset,
                order_by_field="id",
                order=tantivy.Order.Asc,
            )
            yield from (int(key) for key, _ in found.hits)

    def similar_words(self, word: str, limit: int = 8) -> list[str]:
        """Words of the index one edit (Latin: up to two) from ``word``, nearest first (:mod:`index._vocabulary`).

        The vocabulary is the index's own term dictionary (CJK words of ``words``, Latin words of ``grams``;
        a term of deleted entries only is not listed), read again after a commit changed the index, at most
        every :data:`VOCABULARY_TTL_S` seconds (a suggestion is only a candidate, run as the user before
        it is shown).
        """
        typed = vocabulary_word(word)
        if typed is None:
            return []
        searcher = self._searcher()
        key = (searcher.num_docs, searcher.num_segments)
        now = time.monotonic()
        if self._vocabulary is None or (
            self._vocabulary[0] != key and now - self._vocabulary[2] > VOCABULARY_TTL_S
        ):
            buckets: dict[tuple[str, int], list[str]] = {}
            for field, script in (("words", "cjk"), ("grams", "latin")):
                for term, count in searcher.terms_with_prefix(field, ""):
                    if count and vocabulary_script(term) == script:
                        buckets.setdefault((script, len(term)), []).append(term)
            self._vocabulary = (key, buckets, now)
        script = vocabulary_script(typed) or ""
        edits = max_edits(typed)
        pool = [
            t
            for n in range(len(typed) - edits, len(typed) + edits + 1)
            for t in self._vocabulary[1].get((script, n), ())
        ]
        return nearest(typed, pool, limit)

    def status(self) -> dict[str, Any]:
        """Documents indexed, work waiting in the outbox, refused documents."""
        self._tables()
        return {
            "backend": self.name,
            "documents": self.count(),
            "pending": self.outbox.pending(),
            "failures": [{"document_id": d, "error": e} for d, e in self.outbox.failures()],
            "error": None,
        }

    def _exact_customers(self, searcher: Any) -> Callable[[Sequence[str]], set[str]]:
        return lambda values: {v for v in values if searcher.doc_freq("customer_keys", v) > 0}

    def _query(
        self, searcher: Any, request: SearchRequest, principal: Principal, parsed: ParsedQuery
    ) -> tuple[Any, bool]:
        """(the query, whether it is ranked by score)."""
        assert self._queries is not None
        ranked = request.sort not in ("date_desc", "date_asc") and bool(parsed.groups)
        occurs = self._queries.build(
            parsed, request, principal, self._exact_customers(searcher), tiers=ranked
        )
        lifecycle = self._queries.lifecycle(lifecycle_filter(request, parsed))
        return tantivy.Query.boolean_query([*occurs, lifecycle] if lifecycle else occurs), ranked

    def _counting(
        self, searcher: Any, request: SearchRequest, principal: Principal, parsed: ParsedQuery
    ) -> Any:
        """The query the facets are counted by: the same matches as :meth:`_query`'s before the lifecycle filter
        (the lifecycle counts are taken before it), without the clauses that only add score."""
        assert self._queries is not None
        exact = self._exact_customers(searcher)
        return tantivy.Query.boolean_query(
            self._queries.build(parsed, request, principal, exact, tiers=False, scored=False)
        )

    @staticmethod
    def _sort_key(request: SearchRequest) -> tuple[str, bool]:
        """(fast field, descending) of an unranked order: by date, else the most recent intake first."""
        if request.sort == "date_asc":
            return "date_asc", False
        return ("date_desc" if request.sort == "date_desc" else "recent"), True

    def _page(
        self, searcher: Any, query: Any, request: SearchRequest, ranked: bool, offset: int, limit: int
    ) -> tuple[int, list[tuple[float, Any]]]:
        """(the number of matches, (score, address) of the hits ``offset`` … ``offset + limit`` in the request's
        order), counted in the pass that finds the page.

        Unranked orders sort by a fast field, and equal keys by the id, as the embedded index does: the
        entries tied with the page's last key are fetched whole and ordered here.
        """
        want = offset + limit
        if ranked:
            found = searcher.search(query, limit=want + TIE_WINDOW, count=True)
            return int(found.count or 0), self._ranked(searcher, found.hits, offset, want) if limit else []
        if not want:
            return int(searcher.search(query, limit=1, count=True).count or 0), []
        field, desc = self._sort_key(request)
        order = tantivy.Order.Desc if desc else tantivy.Order.Asc
        found = searcher.search(query, limit=want, count=True, order_by_field=field, order=order)
        hits = found.hits
        if len(hits) == want:
            last = hits[-1][0]
            same = tantivy.Query.range_query(self._schema, field, tantivy.FieldType.Integer, last, last)
            tied = tantivy.Query.boolean_query([(tantivy.Occur.Must, query), (tantivy.Occur.Must, same)])
            n = int(searcher.search(tied, limit=1, count=True).count or 0)
            hits = [h for h in hits if h[0] != last]
            hits += searcher.search(
                tied, limit=max(n, 1), count=False, order_by_field=field, order=order
            ).hits
        ids = searcher.fast_field_values("id", [a for _, a in hits])
        keyed = sorted(zip(hits, ids, strict=True), key=lambda h: (h[0][0], h[1]), reverse=desc)
        return int(found.count or 0), [(0.0, a) for (_, a), _ in keyed[offset:want]]

    @staticmethod
    def _ranked(
        searcher: Any, hits: Sequence[tuple[Any, Any]], offset: int, want: int
    ) -> list[tuple[float, Any]]:
        """Hits by score, equal scores by the most recent intake, then the higher id (a window past the page
        decides); ``offset`` … ``want``."""
        addresses = [a for _, a in hits]
        recent = searcher.fast_field_values("recent", addresses)
        ids = searcher.fast_field_values("id", addresses)
        ranking = sorted(range(len(hits)), key=lambda i: (hits[i][0], recent[i], ids[i]), reverse=True)
        return [(float(hits[i][0]), hits[i][1]) for i in ranking[offset:want]]

    def search(self, request: SearchRequest, principal: Principal) -> SearchResult:
        """Run a query, filtered inside the Tantivy query by what ``principal`` may read.

        A result is kept in the memo of the commit it was read from (:meth:`_snapshot`), under the request,
        the principal (so under every right it has) and the segmenters' user words, and given again while
        the index has no newer commit; so are the hits (snippets) of each entry for the same terms.
        """
        started = time.perf_counter()
        parsed = parse_request(request)
        searcher, memo = self._snapshot()
        key = ("result", request, principal, user_word_count())
        try:
            hash(key)
        except TypeError:  # a caller's list where a tuple belongs: answered, not kept
            memo = None
        kept = memo.get(key) if memo is not None else None
        if kept is None:
            kept = self._search(searcher, memo, request, principal, parsed)
            if memo is not None:
                memo.put(key, kept, HIT_UNITS * (1 + len(kept.hits)) + sum(map(len, kept.facets.values())))
        took = (time.perf_counter() - started) * 1000
        # The caller's own lists: what the memo keeps is never changed by what a caller does with its result.
        facets = {name: list(rows) for name, rows in kept.facets.items()}
        return replace(kept, hits=list(kept.hits), facets=facets, took_ms=round(took, 2))

    def _search(
        self,
        searcher: Any,
        memo: Memo | None,
        request: SearchRequest,
        principal: Principal,
        parsed: ParsedQuery,
    ) -> SearchResult:
        counting = self._counting(searcher, request, principal, parsed) if request.facets else None
        # The facets are counted in another thread while this one ranks and builds the page: Tantivy lets go
        # of the GIL while it searches, so on two cores the two run side by side.
        facets_job = (
            _facet_threads().submit(self._facets, searcher, counting, lifecycle_filter(request, parsed))
            if counting is not None
            else None
        )
        full, ranked = self._query(searcher, request, principal, parsed)
        limit = max(0, min(int(request.limit), 1000))
        offset = max(0, int(request.offset))
        total, page = self._page(searcher, full, request, ranked, offset, limit)
        hits = self._hits(searcher, memo, page, parsed, field_values_of(request, parsed), ranked)
        facets = facets_job.result() if facets_job is not None else {}
        return SearchResult(total=total, hits=hits, took_ms=0.0, facets=facets)

    def _facets(self, searcher: Any, plain: Any, archived: str) -> dict[str, list[tuple[str, int]]]:
        """The facets of the hits, and the lifecycle counts of every match (before the lifecycle filter).

        One pass over the matches before the lifecycle filter: the facets are counted per lifecycle, and the
        hits' facets are those of the lifecycles the filter (``archived``: :func:`index._query.lifecycle_filter`)
        keeps.
        """
        out: dict[str, list[tuple[str, int]]] = {}
        spec = {k: {"terms": {"field": f, "size": 100_000}} for k, f in FACET_FIELDS.items()}
        found = searcher.aggregate(
            plain, {"lifecycle": {"terms": {"field": "lifecycle", "size": 4}, "aggs": spec}}
        )
        by_state = {str(b["key"]): b for b in found["lifecycle"]["buckets"]}
        lifecycles = {state: int(b["doc_count"]) for state, b in by_state.items()}
        if not sum(lifecycles.values()):
            return out
        kept = {"exclude": ("active",), "only": ("archived",)}.get(archived, ("active", "archived"))
        for name in FACET_FIELDS:
            rows: dict[str, int] = {}
            for state in kept:
                for bucket in by_state[state][name]["buckets"] if state in by_state else ():
                    value = str(bucket["key"])
                    if value.strip():
                        rows[value] = rows.get(value, 0) + int(bucket["doc_count"])
            top = sorted(rows.items(), key=lambda kv: (-kv[1], kv[0]))[:FACET_LIMIT]
            out[name] = sorted(top, reverse=True) if name == "year" else top
        if not any(out.values()):
            out = {}
        states_list = [(n, lifecycles[n]) for n in ("active", "archived") if lifecycles.get(n)]
        if states_list:
            out["lifecycle"] = states_list
        return out

    def _hits(
        self,
        searcher: Any,
        memo: Memo | None,
        page: Sequence[tuple[Any, Any]],
        parsed: ParsedQuery,
        fields: Sequence[tuple[str, str]],
        ranked: bool,
    ) -> list[SearchHit]:
        """The hits of ``page`` ((score or sort key, address) pairs) with snippets from the stored texts (those
        built for the same terms from this commit come from the memo)."""
        terms = [t.text for t in parsed.positive_terms]
        ids = searcher.fast_field_values("id", [address for _, address in page]) if page else []
        hits = []
        for (key, address), doc_id in zip(page, ids, strict=True):
            score = text_score(key) if ranked else 0.0
            memo_key = ("hit", int(doc_id), tuple(terms), tuple(fields))
            hit = memo.get(memo_key) if memo is not None else None
            if hit is None:
                hit = self._hit(searcher.doc(address).to_dict(), score, terms, fields)
                if memo is not None:
                    memo.put(memo_key, hit, HIT_UNITS)
            hits.append(hit if hit.score == score else replace(hit, score=score))
        return hits

    @staticmethod
    def _hit(
        stored: dict[str, Any], score: float, terms: Sequence[str], fields: Sequence[tuple[str, str]] | None
    ) -> SearchHit:
        def first(name: str, default: Any = "") -> Any:
            values = stored.get(name) or [default]
            return values[0]

        doc_id = int(first("id", 0))
        title, meta, body = stored_texts(stored)
        if fields is None:
            snippet, title_html = "", ""
        else:
            snippet, title_html = hit_texts(title, meta, body, terms, fields)
        parts: tuple[tuple[str, str], ...] = ()
        if fields is not None and doc_id > -ACTIVITY_ID_BASE and is_generic_title(title):
            numbers = [tuple(n.split("\x1f", 1)) for n in stored.get("number") or ()]
            parts = title_parts(
                title,
                str(first("doc_type")),
                list(stored.get("customers") or ()),
                numbers,
                first("date", None),
            )
        return SearchHit(
            id=doc_id,
            score=score,
            snippet=snippet,
            title_html=title_html,
            version=int(first("version", 0)),
            document_id=int(first("document_id", 0)),
            activity=entry_activity(doc_id),
            title_parts=parts,
        )

    def iter_ids(self, request: SearchRequest, principal: Principal, *, batch: int = 1000) -> Iterator[int]:
        """Every matching id in the request's order (the match set is fixed when iteration starts)."""
        for hit in self.iter_hits(request, principal, batch=batch, snippets=False):
            yield hit.id

    def iter_hits(
        self, request: SearchRequest, principal: Principal, *, batch: int = 500, snippets: bool = True
    ) -> Iterator[SearchHit]:
        """Every matching hit in the request's order, with its score (and snippet), ``batch`` at a time.

        The searcher (the match set) is fixed when iteration starts.
        """
        parsed = parse_request(request)
        searcher = self._searcher()
        full, ranked = self._query(searcher, request, principal, parsed)
        total = int(searcher.search(full, limit=1, count=True).count or 0)
        if not total:
            return
        _, page = self._page(searcher, full, request, ranked, 0, total)
        terms = [t.text for t in parsed.positive_terms]
        fields = field_values_of(request, parsed) if snippets else None
        step = max(1, batch)
        for start in range(0, len(page), step):
            for key, address in page[start : start + step]:
                yield self._hit(
                    searcher.doc(address).to_dict(), text_score(key) if ranked else 0.0, terms, fields
                )

    def close(self) -> None:
        """Forget the index (a temporary one is removed)."""
        self._index = None
        if self._own:
            shutil.rmtree(self.path, ignore_errors=True)
