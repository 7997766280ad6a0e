"""The OpenSearch backend: the same analysed tokens as the embedded index, in an OpenSearch cluster.

No analysis plugin is needed (so a managed service works too): :mod:`index._analysis`
turns every text into token streams here, and the cluster stores them in ``text`` fields
with the built-in ``whitespace`` analyzer, positions kept, so a phrase means adjacency
exactly as in FTS5.  The joined camel-case forms go in as a second value of their field,
after the mapping's position gap, so no phrase can reach them by accident.

Layout on the cluster:

* an index template ``<name>`` (``index_patterns: <name>-v*``) with explicit mappings,
  ``dynamic: strict``, and the schema and analysis versions in ``_meta``;
* physical indexes ``<name>-v<schema>-<stamp>`` behind the alias ``<name>``, which
  every search and write goes through.  :meth:`OpenSearchBackend.start_rebuild` fills a
  new physical index from the records and swaps the alias in one atomic call, so search
  never stops; a crashed rebuild resumes where it stopped (its progress is kept in the
  records database, :mod:`index._outbox`).

Writes go through the outbox (:mod:`index._outbox`) in the caller's transaction and are
sent in bulk by :meth:`OpenSearchBackend.flush` after the commit: with the document's
outbox sequence number as its external version, so an older write never overwrites a
newer one.  A document the cluster refuses (a mapping error) is reported with the reason
and never retried; the rest of the batch goes in.  An unreachable cluster leaves the work
queued, retried with backoff; searches then fail with :class:`BackendUnavailable` (503).

Bulk writes do not refresh (throughput; the index refreshes every second by itself)
unless :attr:`OpenSearchBackend.refresh` says ``wait_for`` (the web process, so a user
sees their own change on the next page) or ``true`` (tests).  Result sets deeper than
10,000 hits are walked with a point in time and ``search_after``, never with ``from``.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Connection, Engine

from foundation.errors import DossierError
from foundation.messages import msg
from foundation.vocabulary import importance_level
from index._analysis import ANALYSIS_VERSION, grams_and_joined, normalize_text, words
from index._common import BackendUnavailable, check_document, meta_text
from index._fields import customer_type_name, entity_key, fold
from index._formats import SCAN
from index._os_query import (
    build_query,
    customer_values,
    entity_token,
    facet_aggs,
    facets_from,
    has_positive,
    lifecycle_clause,
    sort_clause,
)
from index._outbox import Outbox, OutboxRow, backoff_s, document_from_json
from index._pinyin import meta_pinyin
from index._query import field_values_of, lifecycle_filter, parse_request
from index._relevance import reported_score
from index._snippet import hit_texts
from index._titles import NUMBER_KINDS, is_generic_title, title_parts
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
from index._vocabulary import suggested_terms, term_suggest_body, vocabulary_word

__all__ = ["SCHEMA_VERSION", "OpenSearchBackend", "SearchRefused", "SearchUnavailable", "mappings"]

_log = logging.getLogger(__name__)
# The client logs every failed request with a traceback; during an outage that floods the logs,
# and this module says what happened once, in words a user can act on.
logging.getLogger("opensearch").setLevel(logging.ERROR)

#: Names the mapping below; an index made with another one needs a reindex.
# 2: access_customer_ids and the container rule's levels; 3: superseded versions; 4: lifecycle;
# 5: the customers' stages, importance and tags (added to an older index's mapping in place, so writes go on
# until `dossier reindex` fills them for the documents written before); 6: the file format, the scan flag and
# the document numbers a display title shows (added the same way)
SCHEMA_VERSION = "6"
#: Keyword fields added since an older schema: :meth:`OpenSearchBackend.ensure_schema` adds them to its mapping.
ADDED_KEYWORDS = ("customer_stages", "customer_importance", "customer_tags", "file_format", "scan", "numbers")
#: Numbers (contract, quote, invoice, order) kept per entry for its display title.
MAX_NUMBERS = 8
FACET_LIMIT = 50
#: Deepest hit ``from``/``size`` may reach (OpenSearch's ``index.max_result_window``).
MAX_WINDOW = 10_000
#: Entity values kept per document (as the embedded backend keeps).
MAX_ENTITIES = 5000
#: Longest token sent (Lucene refuses terms over 32,766 bytes; no query can name a longer one anyway).
MAX_TOKEN_CHARS = 1000
#: Outbox rows read per bulk round, and bytes per bulk request.
FLUSH_ROWS = 500
BULK_BYTES = 8 * 1024 * 1024
#: A single document larger than this (as sent) is refused with a reason instead of failing its batch.
MAX_DOC_BYTES = 60 * 1024 * 1024
#: Seconds a process stops trying after the cluster could not be reached (work waits in the outbox).
MAX_PAUSE_S = 30.0
_BUILDING = "opensearch.rebuild"
_PIT_KEEP = "2m"
#: How long a scroll over every entry id (``entry_ids``) stays open between its pages.
_SCROLL_KEEP = "2m"

_TEXT = {"type": "text", "analyzer": "whitespace", "position_increment_gap": 100}
_STORED = {"type": "text", "index": False}
_KEYWORD = {"type": "keyword", "ignore_above": 4096}


class SearchUnavailable(BackendUnavailable):
    """The OpenSearch cluster cannot be reached or does not answer; the work waits."""

    status = 503


class SearchRefused(DossierError):
    """The cluster refused a request for a reason of its own (a 4xx answer other than 404/409/429)."""

    status = 400


def mappings() -> dict[str, Any]:
    """The explicit mapping of every Dossier index (``dynamic: strict``)."""
    keyword_fields = (
        "doc_type",
        "doc_type_key",
        "confidentiality",
        "date",
        "year",
        "created_at",
        "customers",
        "customer_keys",
        "customer_types",
        "industries",
        "industry_keys",
        "regions",
        "region_keys",
        "tags",
        "entity",
        "lifecycle",
        *ADDED_KEYWORDS,
    )
    properties: dict[str, Any] = {
        "doc_id": {"type": "long"},
        "document_id": {"type": "long"},
        "version": {"type": "long"},
        "customer_ids": {"type": "long"},
        "access_customer_ids": {"type": "long"},
        **{name: dict(_TEXT) for name in ("title", "meta", "words", "grams")},
        **{name: dict(_STORED) for name in ("title_text", "meta_text", "body")},
        **{name: dict(_KEYWORD) for name in keyword_fields},
    }
    return {
        "dynamic": "strict",
        "_meta": {"schema": SCHEMA_VERSION, "analysis": ANALYSIS_VERSION, "app": "dossier"},
        # The token streams are only searched; the original texts make the snippets.
        "_source": {"excludes": ["title", "meta", "words", "grams"]},
        "properties": properties,
    }


def _cap(tokens: list[str]) -> str:
    return " ".join(t if len(t) <= MAX_TOKEN_CHARS else t[:MAX_TOKEN_CHARS] for t in tokens)


def _stream(text: str) -> list[str]:
    """A field's value: the grams, then (after the position gap) the joined forms."""
    grams_, joined = grams_and_joined(text)
    return [_cap(grams_), _cap(joined)] if joined else [_cap(grams_)]


def _distinct(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def source(doc: IndexDocument) -> dict[str, Any]:
    """The OpenSearch document for an index document: token streams, filter fields, original texts."""
    check_document(doc)
    meta = meta_text(doc)
    names = (*doc.customers, *doc.customer_aliases)
    pairs = dict.fromkeys((kind, entity_key(kind, value)) for kind, value in doc.entities if kind and value)
    out: dict[str, Any] = {
        "doc_id": doc.id,
        "document_id": doc.document,
        "version": doc.version,
        "title": _stream(doc.title),
        "meta": _stream(meta),
        # The jieba words, then the pinyin of the title and metadata names (as the embedded words column).
        "words": _cap([*words(normalize_text(doc.text)), *meta_pinyin(doc.title, meta)]),
        "grams": _stream(doc.text),
        "title_text": doc.title,
        "meta_text": meta,
        "body": doc.text,
        "doc_type": doc.doc_type,
        "doc_type_key": doc.doc_type.lower(),
        "confidentiality": doc.confidentiality,
        "created_at": doc.created_at,
        "customers": _distinct(doc.customers),
        "customer_ids": [int(i) for i in dict.fromkeys(doc.customer_ids) if i is not None],
        "access_customer_ids": [int(i) for i in dict.fromkeys(doc.access_customer_ids)],
        "customer_keys": _distinct([fold(n) for n in names]),
        "customer_types": _distinct([customer_type_name(c) or c.strip() for c in doc.customer_types]),
        "industries": _distinct([i.strip() for i in doc.industries]),
        "industry_keys": _distinct([fold(i) for i in doc.industries]),
        "regions": _distinct([r.strip() for r in doc.regions]),
        "region_keys": _distinct([fold(r) for r in doc.regions]),
        "tags": _distinct(list(doc.tags)),
        "entity": [entity_token(kind, key) for kind, key in list(pairs)[:MAX_ENTITIES] if key],
        "lifecycle": "archived" if doc.lifecycle == "archived" else "active",
        "customer_stages": _distinct([s.strip() for s in doc.customer_stages]),
        "customer_importance": _distinct([importance_level(i) or i.strip() for i in doc.customer_importance]),
        "customer_tags": _distinct([t.strip() for t in doc.customer_tags]),
        "file_format": doc.file_format,
        "scan": SCAN if doc.scan else "",
        "numbers": [entity_token(kind, key) for kind, key in pairs if kind in NUMBER_KINDS and key][
            :MAX_NUMBERS
        ],
    }
    if doc.date:
        out["date"] = doc.date
        out["year"] = doc.date[:4]
    return out


def _redacted(url: str) -> str:
    """``url`` without any user name or password (messages reach users and logs)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def _item_reason(item: dict[str, Any]) -> str:
    error = item.get("error") or {}
    if isinstance(error, dict):
        reason = error.get("reason") or error.get("type") or json.dumps(error, ensure_ascii=False)
        cause = (error.get("caused_by") or {}).get("reason")
        return f"{reason}: {cause}" if cause else str(reason)
    return str(error)


class OpenSearchBackend:
    """:class:`~index.SearchBackend` on an OpenSearch cluster (2.x), with its outbox in the records database."""

    name = "opensearch"
    queued_writes = True

    def __init__(
        self,
        engine: Engine,
        url: str,
        *,
        index_name: str = "dossier",
        shards: int = 1,
        replicas: int = 0,
        timeout_s: float = 10.0,
        refresh: str = "false",
        client: Any = None,
    ) -> None:
        from opensearchpy import OpenSearch

        self._engine = engine
        self._url = _redacted(url)
        self.alias = index_name
        self._shards = shards
        self._replicas = replicas
        self.refresh = refresh
        self._client = client or OpenSearch(
            hosts=[url], timeout=timeout_s, max_retries=0, retry_on_timeout=False, http_compress=True
        )
        self.outbox = Outbox(engine)
        self._tables_ready = False
        self._index_ready = False
        self._flush_lock = threading.Lock()
        self._paused_until = 0.0
        self._pause_error: str | None = None
        self._failures_in_a_row = 0

    # -- talking to the cluster -------------------------------------------------------------------

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call the client; an unreachable or failing cluster becomes :class:`SearchUnavailable`."""
        from opensearchpy.exceptions import ConnectionError as OsConnectionError
        from opensearchpy.exceptions import TransportError

        try:
            return fn(*args, **kwargs)
        except OsConnectionError as exc:  # includes timeouts
            raise SearchUnavailable(msg("index.opensearch.unreachable", url=self._url)) from exc
        except TransportError as exc:
            status = exc.status_code if isinstance(exc.status_code, int) else 0
            if status >= 500 or status in (0, 429):
                raise SearchUnavailable(
                    msg("index.opensearch.unavailable", status=exc.status_code, error=exc.error)
                ) from exc
            if status == 404:
                self._index_ready = False  # the alias is gone (a wiped cluster): made again on the next call
                raise SearchUnavailable(msg("index.opensearch.missing_index", alias=self.alias)) from exc
            raise SearchRefused(
                msg(
                    "index.opensearch.refused", status=exc.status_code, error=exc.error, detail=_one_line(exc)
                )
            ) from exc

    def _request(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        return self._call(self._client.transport.perform_request, method, path, params=params, body=body)

    # -- schema -----------------------------------------------------------------------------------

    def _tables(self) -> None:
        if not self._tables_ready:
            self.outbox.create()
            self._tables_ready = True

    def _settings(self) -> dict[str, Any]:
        return {
            "number_of_shards": self._shards,
            "number_of_replicas": self._replicas,
            "refresh_interval": "1s",
            "max_result_window": MAX_WINDOW,
        }

    def ensure_schema(self, connection: Connection | None = None) -> None:
        """Create the outbox tables, the index template and, if there is none, the first index behind the alias.

        Raises :class:`SearchUnavailable` when the cluster does not answer (the tables exist by then).
        """
        self._tables()
        if self._index_ready:
            return
        self._request(
            "PUT",
            f"/_index_template/{self.alias}",
            body={
                "index_patterns": [f"{self.alias}-v*"],
                "priority": 200,
                "template": {"settings": {"index": self._settings()}, "mappings": mappings()},
                "_meta": {"app": "dossier", "schema": SCHEMA_VERSION},
            },
        )
        if not self._alias_indexes():
            first = f"{self.alias}-v{SCHEMA_VERSION}-0"
            self._request("PUT", f"/{first}", params={"ignore": 400})  # another process may have made it
            self._request("PUT", f"/{first}/_alias/{self.alias}")
        else:
            # An index made by an older schema takes the newer keyword fields (strict mapping: writes would fail).
            self._request(
                "PUT",
                f"/{self.alias}/_mapping",
                body={"properties": {name: dict(_KEYWORD) for name in ADDED_KEYWORDS}},
                params={"ignore": 400},
            )
        self._index_ready = True

    def _alias_indexes(self) -> list[str]:
        """The physical indexes behind the alias (normally one)."""
        found = self._request("GET", f"/_alias/{self.alias}", params={"ignore": 404}) or {}
        return sorted(
            k for k, v in found.items() if isinstance(v, dict) and self.alias in v.get("aliases", {})
        )

    def needs_reindex(self) -> bool:
        """True when the index behind the alias was made by another mapping or analysis version.

        False while the cluster cannot be reached (that is not a reason to rebuild anything).
        """
        try:
            self.ensure_schema()
            found = self._request("GET", f"/{self.alias}/_mapping")
        except SearchUnavailable as exc:
            _log.warning("%s", exc.message)
            return False
        for body in found.values():
            meta = (body.get("mappings") or {}).get("_meta") or {}
            if meta.get("schema") != SCHEMA_VERSION or meta.get("analysis") != ANALYSIS_VERSION:
                return True
        return False

    # -- writing ----------------------------------------------------------------------------------

    def index(self, docs: Sequence[IndexDocument] | Any, *, connection: Any = None) -> None:
        """Queue documents in ``connection``'s transaction (sent by :meth:`flush` after the commit).

        Without a connection they are queued in a transaction of their own and sent at once.
        """
        batch = list(docs)
        for doc in batch:
            check_document(doc)
        if batch:
            self._queue(lambda conn: self.outbox.put_documents(conn, batch), connection)

    def delete(self, ids: Any, *, connection: Any = None) -> None:
        """Queue removals, as :meth:`index` queues documents; unknown ids are ignored."""
        wanted = [int(i) for i in ids]
        if wanted:
            self._queue(lambda conn: self.outbox.put_deletes(conn, wanted), connection)

    def expunge(self, ids: Sequence[int]) -> bool:
        """Drop the queued entries of ``ids``, send their deletes, then force-merge away deleted documents.

        ``only_expunge_deletes`` rewrites only the segments holding deleted documents; until then
        their source stays in the segment files.  False when the cluster could not be reached.
        """
        self._tables()
        with self._engine.begin() as conn:
            self.outbox.drop_documents(conn, [int(i) for i in ids])
        if not self.settle():
            return False
        try:
            self._request("POST", f"/{self.alias}/_forcemerge", params={"only_expunge_deletes": "true"})
        except SearchUnavailable:
            return False
        return True

    def _queue(self, write: Callable[[Connection], None], connection: Connection | None) -> None:
        self._tables()
        if connection is not None:
            write(connection)
            return
        with self._engine.begin() as conn:
            write(conn)
        report = self.flush()
        if report.error:
            _log.warning("%s", report.error)

    def flush(self, *, force: bool = False) -> FlushReport:
        """Send every due outbox row in bulk; returns what was sent, refused and why work still waits.

        ``force`` also sends rows waiting out their backoff, and tries even while this process
        pauses after a failure (the caller knows the cluster is back, or must know now).
        """
        self._tables()
        with self._flush_lock:
            if not force and time.monotonic() < self._paused_until:
                return FlushReport(error=self._pause_error)
            sent = 0
            rejected: list[tuple[int, str]] = []
            while True:
                rows = self.outbox.due(FLUSH_ROWS, now=float("inf") if force else None)
                if not rows:
                    break
                try:
                    self.ensure_schema()
                    done, retry, refused = self._send(rows, self._building_index())
                except SearchUnavailable as exc:
                    self.outbox.retry_later(rows, exc.message)
                    self._pause(exc.message)
                    return FlushReport(sent=sent, rejected=tuple(rejected), error=exc.message)
                self.outbox.done(done)
                self.outbox.reject(refused)
                sent += len(done)
                rejected.extend((row.doc_id, reason) for row, reason in refused)
                self._failures_in_a_row = 0
                if retry:
                    reason = retry[0][1]
                    self.outbox.retry_later([r for r, _ in retry], reason)
                    return FlushReport(sent=sent, rejected=tuple(rejected), error=reason)
                if len(rows) < FLUSH_ROWS:
                    break
            return FlushReport(sent=sent, rejected=tuple(rejected))

    def settle(self, timeout_s: float = 30.0) -> bool:
        """Send everything queued (by any process) and refresh, so search sees it; False if that failed in time."""
        deadline = time.monotonic() + timeout_s
        while True:
            if self.flush(force=True).error is not None:
                return False  # unreachable or failing: no use waiting here, the work stays queued
            if self.outbox.pending() == 0:
                break
            if time.monotonic() > deadline:
                return False
            time.sleep(0.25)
        try:
            self._request("POST", f"/{self.alias}/_refresh")
        except SearchUnavailable:
            return False
        return True

    def _pause(self, error: str) -> None:
        self._failures_in_a_row += 1
        self._paused_until = time.monotonic() + min(MAX_PAUSE_S, backoff_s(self._failures_in_a_row))
        self._pause_error = error
        self._index_ready = False  # the cluster may come back empty

    def _building_index(self) -> str | None:
        state = self.outbox.get_state(_BUILDING)
        return json.loads(state)["index"] if state else None

    def _send(
        self, rows: list[OutboxRow], building: str | None
    ) -> tuple[list[OutboxRow], list[tuple[OutboxRow, str]], list[tuple[OutboxRow, str]]]:
        """Bulk-write ``rows`` to the alias (and to an index being rebuilt): (done, to retry, refused)."""
        bodies: dict[int, bytes | None] = {}  # seq -> document source (None: a delete)
        refused: list[tuple[OutboxRow, str]] = []
        for row in rows:
            if row.op == "delete":
                bodies[row.seq] = None
                continue
            try:
                body = json.dumps(
                    source(document_from_json(row.payload or "{}")), ensure_ascii=False
                ).encode()
            except (DossierError, ValueError, TypeError, KeyError) as exc:
                refused.append((row, str(msg("index.document.invalid", detail=_one_line(exc)))))
                continue
            if len(body) > MAX_DOC_BYTES:
                refused.append((row, str(msg("index.document.too_large", mb=len(body) // 2**20))))
                continue
            bodies[row.seq] = body
        sendable = [row for row in rows if row.seq in bodies]
        errors: dict[int, tuple[str, str]] = {}  # seq -> ("retry" | "refused", reason)
        # The alias with the refresh policy; an index being rebuilt never (it does not refresh until done).
        for target, refresh in ((self.alias, self.refresh), *(((building, "false"),) if building else ())):
            for seq, kind, reason in self._bulk(sendable, bodies, target, refresh):
                errors.setdefault(seq, (kind, reason))
        if building:
            deleted = [row.doc_id for row in sendable if row.op == "delete" and row.seq not in errors]
            if deleted:
                self._note_rebuild_deletes(deleted)
        done = [row for row in sendable if row.seq not in errors]
        retry = [
            (row, f"OpenSearch: {errors[row.seq][1]}")
            for row in sendable
            if errors.get(row.seq, ("",))[0] == "retry"
        ]
        refused.extend(
            (row, msg("index.document.rejected", detail=errors[row.seq][1][:200]).dumps())
            for row in sendable
            if errors.get(row.seq, ("",))[0] == "refused"
        )
        return done, retry, refused

    def _bulk(
        self, rows: list[OutboxRow], bodies: dict[int, bytes | None], target: str, refresh: str
    ) -> Iterator[tuple[int, str, str]]:
        """Write ``rows`` to ``target``; yields (seq, "retry" | "refused", reason) for each row that failed."""
        lines: list[tuple[OutboxRow, bytes]] = []
        for row in rows:
            meta: dict[str, Any] = {
                "_index": target,
                "_id": str(row.doc_id),
                "version": row.seq,
                "version_type": "external_gte",
            }
            body = bodies[row.seq]
            if body is None:
                lines.append((row, json.dumps({"delete": meta}).encode() + b"\n"))
            else:
                # Through the alias only: a cluster that lost it must not auto-create an unmapped index.
                action = {"index": {**meta, "require_alias": target == self.alias}}
                lines.append((row, json.dumps(action).encode() + b"\n" + body + b"\n"))
        params = {"refresh": refresh} if refresh != "false" else None
        for chunk in _chunks(lines, BULK_BYTES):
            result = self._call(self._client.bulk, body=b"".join(data for _, data in chunk), params=params)
            for (row, _), item in zip(chunk, result.get("items", []), strict=False):
                entry = next(iter(item.values()))
                status = int(entry.get("status", 500))
                # 409: a newer version is there already; 404 on a delete: nothing to delete.
                if status < 300 or status == 409 or (row.op == "delete" and status == 404):
                    continue
                missing = (entry.get("error") or {}).get("type") == "index_not_found_exception"
                if missing:
                    self._index_ready = False  # the alias is gone (a wiped cluster): made again next round
                kind = "retry" if missing or status in (408, 429) or not 400 <= status < 500 else "refused"
                yield row.seq, kind, _item_reason(entry)

    # -- rebuilding -------------------------------------------------------------------------------

    def start_rebuild(self, *, restart: bool = False) -> OpenSearchRebuild:
        """A new physical index to fill from the records, or (unless ``restart``) the one a crashed run left."""
        self.ensure_schema()
        state = self.outbox.get_state(_BUILDING)
        if state and not restart:
            info = json.loads(state)
            if self._request("HEAD", f"/{info['index']}", params={"ignore": 404}):
                return OpenSearchRebuild(self, info["index"], int(info.get("last_id", 0)))
        if state:
            self._drop_index(json.loads(state)["index"])
        name = f"{self.alias}-v{SCHEMA_VERSION}-{time.strftime('%Y%m%d%H%M%S')}-{int(time.time() * 1000) % 1000:03d}"
        # While filling: no refreshes, no replicas; the template gives the rest.
        self._request(
            "PUT",
            f"/{name}",
            body={"settings": {"index": {"refresh_interval": "-1", "number_of_replicas": 0}}},
        )
        self.outbox.set_state(_BUILDING, json.dumps({"index": name, "last_id": 0, "deleted": []}))
        return OpenSearchRebuild(self, name, 0)

    def _note_rebuild_deletes(self, ids: Sequence[int]) -> None:
        state = self.outbox.get_state(_BUILDING)
        if state:
            info = json.loads(state)
            info["deleted"] = sorted({*info.get("deleted", []), *ids})
            self.outbox.set_state(_BUILDING, json.dumps(info))

    def _drop_index(self, name: str) -> None:
        self._request("DELETE", f"/{name}", params={"ignore": 404})

    def _swap(self, new: str) -> None:
        """Point the alias at ``new`` alone (one atomic call), then drop the indexes it pointed at."""
        old = [i for i in self._alias_indexes() if i != new]
        actions: list[dict[str, Any]] = [{"remove": {"index": i, "alias": self.alias}} for i in old]
        actions.append({"add": {"index": new, "alias": self.alias}})
        self._request("POST", "/_aliases", body={"actions": actions})
        for name in old:
            self._drop_index(name)

    def clear(self) -> None:
        """Replace the index by an empty one (the alias moves at once) and forget queued work."""
        self._tables()
        self.outbox.clear()
        rebuild = self.start_rebuild(restart=True)
        rebuild.finish()

    # -- reading ----------------------------------------------------------------------------------

    def count(self) -> int:
        """Number of documents the alias holds (as of its last refresh; superseded versions' entries not counted)."""
        self.ensure_schema()
        body = {"query": {"range": {"doc_id": {"gt": 0}}}}
        return int(self._request("POST", f"/{self.alias}/_count", body=body)["count"])

    def similar_words(self, word: str, limit: int = 8) -> list[str]:
        """Words of the index one edit (Latin: up to two) from ``word``, nearest first: the ``term`` suggester."""
        typed = vocabulary_word(word)
        if typed is None:
            return []
        self.ensure_schema()
        answer = self._request("POST", f"/{self.alias}/_search", body=term_suggest_body(typed, limit))
        return suggested_terms(answer, typed, limit)

    def status(self) -> dict[str, Any]:
        """Documents indexed, work waiting in the outbox, refused documents and why work waits."""
        self._tables()
        out: dict[str, Any] = {
            "backend": self.name,
            "documents": None,
            "pending": self.outbox.pending(),
            "failures": [{"document_id": d, "error": e} for d, e in self.outbox.failures()],
            "error": None,
        }
        try:
            out["documents"] = self.count()
        except SearchUnavailable as exc:
            out["error"] = exc.message
        if out["error"] is None and out["pending"]:
            out["error"] = self.outbox.last_error()
        return out

    def _exact_customers(self, values: Sequence[str]) -> set[str]:
        """Which customer filter values are some document's full customer name or alias."""
        body = {
            "size": 0,
            "aggs": {
                "exact": {
                    "filters": {
                        "filters": {f"v{i}": {"term": {"customer_keys": v}} for i, v in enumerate(values)}
                    }
                }
            },
        }
        found = self._call(self._client.search, index=self.alias, body=body)
        buckets = found["aggregations"]["exact"]["buckets"]
        return {v for i, v in enumerate(values) if buckets.get(f"v{i}", {}).get("doc_count", 0) > 0}

    def _body(self, request: SearchRequest, principal: Principal) -> tuple[dict[str, Any], _HitTexts, bool]:
        """(search body without paging, what the hits' snippets mark, whether it is ranked by score)."""
        parsed = parse_request(request)
        values = customer_values(request, parsed)
        exact = self._exact_customers(values) if values else set()
        ranked = has_positive(parsed) and request.sort not in ("date_desc", "date_asc")
        body = {
            "query": build_query(parsed, request, principal, lambda _: exact),
            "sort": sort_clause(request, ranked),
            "track_total_hits": True,
        }
        # The lifecycle filter applies to the hits after the aggregations: the lifecycle facet counts what it leaves out.
        post = lifecycle_clause(lifecycle_filter(request, parsed))
        if post is not None:
            body["post_filter"] = post
        return (
            body,
            _HitTexts([t.text for t in parsed.positive_terms], field_values_of(request, parsed)),
            ranked,
        )

    def search(self, request: SearchRequest, principal: Principal) -> SearchResult:
        """Run a query; permissions, filters, totals and facets are all inside the one search."""
        started = time.perf_counter()
        self.ensure_schema()
        body, terms, ranked = self._body(request, principal)
        limit = max(0, min(int(request.limit), 1000))
        offset = max(0, int(request.offset))
        if request.facets:
            body["aggs"] = facet_aggs(FACET_LIMIT, body.get("post_filter"))
        if ranked:
            body["track_scores"] = True
        body["_source"] = [*_VERSION_SOURCE, *_TEXT_SOURCE]
        if offset + limit <= MAX_WINDOW:
            found = self._call(
                self._client.search, index=self.alias, body={**body, "from": offset, "size": limit}
            )
            raw_hits = found["hits"]["hits"]
        else:  # deep page: walk to it with search_after, never past the window with from
            found = self._call(self._client.search, index=self.alias, body={**body, "size": 0})
            raw_hits = self._deep_page(body, offset, limit)
        total = int(found["hits"]["total"]["value"])
        hits = [self._hit(raw, terms) for raw in raw_hits]
        facets = facets_from(found.get("aggregations") or {}) if request.facets and total else {}
        took = (time.perf_counter() - started) * 1000
        return SearchResult(total=total, hits=hits, took_ms=round(took, 2), facets=facets)

    def _pit_pages(self, body: dict[str, Any], batch: int, source: Any) -> Iterator[list[dict[str, Any]]]:
        """Pages of hits of ``body`` in its sort order, through a point in time and ``search_after``."""
        pit = self._request("POST", f"/{self.alias}/_search/point_in_time", params={"keep_alive": _PIT_KEEP})
        pit_id = pit["pit_id"]
        try:
            after = None
            while True:
                page_body = {k: v for k, v in body.items() if k not in ("aggs", "track_total_hits")}
                page_body.update(
                    {
                        "size": batch,
                        "_source": source,
                        "pit": {"id": pit_id, "keep_alive": _PIT_KEEP},
                        "track_total_hits": False,
                    }
                )
                if after is not None:
                    page_body["search_after"] = after
                found = self._call(self._client.search, body=page_body)
                pit_id = found.get("pit_id", pit_id)
                hits = found["hits"]["hits"]
                if not hits:
                    return
                yield hits
                if len(hits) < batch:
                    return
                after = hits[-1]["sort"]
        finally:
            try:
                self._request("DELETE", "/_search/point_in_time", body={"pit_id": [pit_id]})
            except Exception:  # it expires by itself; never mask the caller's error for a cleanup call
                _log.debug("point in time not deleted", exc_info=True)

    def _deep_page(self, body: dict[str, Any], offset: int, limit: int) -> list[dict[str, Any]]:
        """The hits ``offset`` … ``offset + limit`` of a result set deeper than the window.

        The walk to them reads sort values only; the page's texts are fetched by id afterwards.
        """
        skipped = 0
        wanted: list[dict[str, Any]] = []
        for hits in self._pit_pages(body, MAX_WINDOW, False):
            start = max(0, offset - skipped)
            wanted.extend(hits[start : start + limit - len(wanted)])
            skipped += len(hits)
            if len(wanted) >= limit:
                break
        if not wanted:
            return []
        found = self._request(
            "POST",
            f"/{self.alias}/_mget",
            body={"ids": [h["_id"] for h in wanted]},
            params={"_source": ",".join([*_VERSION_SOURCE, *_TEXT_SOURCE])},
        )
        texts = {d["_id"]: d.get("_source") or {} for d in found.get("docs", []) if d.get("found")}
        return [{**h, "_source": texts.get(h["_id"], {})} for h in wanted]

    def iter_ids(self, request: SearchRequest, principal: Principal, *, batch: int = 1000) -> Iterator[int]:
        """Every matching id in the request's order, walked with a point in time (a fixed snapshot)."""
        for hit in self.iter_hits(request, principal, batch=batch, snippets=False):
            yield hit.id

    def iter_hits(
        self, request: SearchRequest, principal: Principal, *, batch: int = 500, snippets: bool = True
    ) -> Iterator[SearchHit]:
        """Every matching hit in the request's order, with its score (and snippet): a point in time and
        ``search_after``, ``batch`` hits per request, never ``from``."""
        self.ensure_schema()
        body, terms, ranked = self._body(request, principal)
        if ranked:
            body["track_scores"] = True
        source: Any = [*_VERSION_SOURCE, *_TEXT_SOURCE] if snippets else _VERSION_SOURCE
        for hits in self._pit_pages(body, max(1, min(batch, MAX_WINDOW)), source):
            for raw in hits:
                yield (
                    self._hit(raw, terms)
                    if snippets
                    else SearchHit(
                        id=int(raw["_id"]),
                        score=reported_score(raw),
                        snippet="",
                        document_id=_version_of(raw)[0],
                        version=_version_of(raw)[1],
                        activity=entry_activity(int(raw["_id"])),
                    )
                )

    def entry_ids(self, *, batch: int = 5000) -> Iterator[int]:
        """Every entry id the alias holds (as of its last refresh): a scroll in index order, ids only."""
        self.ensure_schema()
        found = self._call(
            self._client.search,
            index=self.alias,
            body={"query": {"match_all": {}}, "sort": ["_doc"], "_source": False, "size": batch},
            params={"scroll": _SCROLL_KEEP},
        )
        scroll_id = found.get("_scroll_id")
        try:
            while hits := found["hits"]["hits"]:
                for hit in hits:
                    yield int(hit["_id"])
                if len(hits) < batch:
                    return
                found = self._call(self._client.scroll, body={"scroll_id": scroll_id, "scroll": _SCROLL_KEEP})
                scroll_id = found.get("_scroll_id", scroll_id)
        finally:
            if scroll_id:
                try:
                    self._client.clear_scroll(body={"scroll_id": [scroll_id]})
                except Exception:  # it expires by itself; never mask the caller's error for a cleanup call
                    _log.debug("scroll not cleared", exc_info=True)

    @staticmethod
    def _hit(raw: dict[str, Any], marks: _HitTexts) -> SearchHit:
        src = raw.get("_source") or {}
        title = str(src.get("title_text", ""))
        snippet, title_html = hit_texts(
            title, src.get("meta_text", ""), src.get("body", ""), marks.terms, marks.fields
        )
        parts: tuple[tuple[str, str], ...] = ()
        if int(raw["_id"]) > -ACTIVITY_ID_BASE and is_generic_title(title):
            numbers = [tuple(str(n).split(":", 1)) for n in src.get("numbers") or [] if ":" in str(n)]
            parts = title_parts(
                title,
                str(src.get("doc_type") or "other"),
                [str(c) for c in src.get("customers") or []],
                [(n[0], n[1]) for n in numbers],
                src.get("date"),
            )
        return SearchHit(
            id=int(raw["_id"]),
            score=reported_score(raw),
            snippet=snippet,
            title_html=title_html,
            document_id=_version_of(raw)[0],
            version=_version_of(raw)[1],
            activity=entry_activity(int(raw["_id"])),
            title_parts=parts,
        )


#: The stored fields that say which superseded version an entry is (absent on current entries of older indexes).
_VERSION_SOURCE = ["document_id", "version"]
#: The stored fields a hit's snippet and display title are made of.
_TEXT_SOURCE = ["title_text", "meta_text", "body", "doc_type", "customers", "date", "numbers"]


@dataclass(frozen=True)
class _HitTexts:
    """What a search's snippets mark: its positive terms and its field queries' (kind, lookup value) pairs."""

    terms: list[str]
    fields: list[tuple[str, str]]


def _version_of(raw: dict[str, Any]) -> tuple[int, int]:
    """(document id, version number) of a hit from a superseded version's entry, else (0, 0).

    An activity's entry gives (its commented document or 0, 0).
    """
    src = raw.get("_source") or {}
    version = int(src.get("version") or 0)
    if entry_activity(int(raw["_id"])):
        return int(src.get("document_id") or 0), 0
    return (int(src.get("document_id") or 0), version) if version else (0, 0)


def _encoded(doc: IndexDocument) -> bytes:
    """A document as the bytes a bulk request carries (runs in the rebuild's analysis processes)."""
    return json.dumps(source(doc), ensure_ascii=False).encode()


#: Below this many documents a batch is analysed in the calling process (forking costs more).
PARALLEL_MIN = 64


class OpenSearchRebuild:
    """Filling a new physical index from the records; :meth:`finish` swaps the alias to it.

    While it runs, every flush writes to both the alias and the new index, so changes made
    meanwhile are not lost; the batches themselves only *create* documents, so a batch read
    before such a change never overwrites it.  Deletes made meanwhile are applied again at
    the end (a batch may have read the document just before it was deleted).
    """

    def __init__(
        self, backend: OpenSearchBackend, index: str, resume_after: int, workers: int | None = None
    ) -> None:
        self._backend = backend
        self.index = index
        self.resume_after = resume_after
        # Analysis (jieba above all) is what a rebuild waits for: spread it over the cores.
        self._workers = workers if workers is not None else (os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None

    def _encode(self, docs: Sequence[IndexDocument]) -> list[bytes]:
        if self._workers <= 1 or len(docs) < PARALLEL_MIN:
            return [_encoded(d) for d in docs]
        if self._pool is None:
            words(
                "预热"
            )  # load the segmenter (and the registry's words) before forking, so children inherit them
            self._pool = ProcessPoolExecutor(self._workers, mp_context=multiprocessing.get_context("fork"))
        chunk = max(1, len(docs) // (self._workers * 4))
        return list(self._pool.map(_encoded, docs, chunksize=chunk))

    def close(self) -> None:
        """Stop the analysis processes (:meth:`finish` does it too)."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def add(self, docs: Sequence[IndexDocument], *, connection: Any = None) -> None:
        """Create the batch's documents in the new index (documents already there are left alone)."""
        if not docs:
            return
        b = self._backend
        for doc in docs:
            check_document(doc)
        lines: list[tuple[int, bytes]] = []
        for doc, body in zip(docs, self._encode(docs), strict=True):
            action = json.dumps({"create": {"_index": self.index, "_id": str(doc.id)}}).encode()
            lines.append((doc.id, action + b"\n" + body + b"\n"))
        failures: list[str] = []
        for chunk in _chunks(lines, BULK_BYTES):
            result = b._call(b._client.bulk, body=b"".join(data for _, data in chunk))
            for (doc_id, _), item in zip(chunk, result.get("items", []), strict=False):
                entry = next(iter(item.values()))
                status = entry.get("status", 500)
                if status >= 300 and status != 409:
                    failures.append(f"{doc_id}: {_item_reason(entry)}")
        if failures:
            _log.warning(
                "%d 篇文档未能写入新索引 / %d documents were refused by the new index: %s",
                len(failures),
                len(failures),
                "; ".join(failures[:5]),
            )
        self.resume_after = max(self.resume_after, max(d.id for d in docs))
        state = b.outbox.get_state(_BUILDING)
        info = json.loads(state) if state else {"index": self.index, "deleted": []}
        info["last_id"] = self.resume_after
        b.outbox.set_state(_BUILDING, json.dumps(info))

    def finish(self) -> None:
        """Re-apply deletes made meanwhile, restore refresh and replicas, refresh, and swap the alias."""
        self.close()
        b = self._backend
        state = b.outbox.get_state(_BUILDING)
        deleted = json.loads(state).get("deleted", []) if state else []
        if deleted:
            lines = b"".join(
                json.dumps({"delete": {"_index": self.index, "_id": str(i)}}).encode() + b"\n"
                for i in deleted
            )
            b._call(b._client.bulk, body=lines)
        b._request(
            "PUT",
            f"/{self.index}/_settings",
            body={"index": {"refresh_interval": "1s", "number_of_replicas": b._replicas}},
        )
        b._request("POST", f"/{self.index}/_refresh")
        b._swap(self.index)
        b.outbox.set_state(_BUILDING, None)


def _chunks(lines: Sequence[tuple[Any, bytes]], limit: int) -> Iterator[list[tuple[Any, bytes]]]:
    """Consecutive runs of ``lines`` of at most ``limit`` bytes each (a longer single line goes alone)."""
    chunk: list[tuple[Any, bytes]] = []
    size = 0
    for entry in lines:
        if chunk and size + len(entry[1]) > limit:
            yield chunk
            chunk, size = [], 0
        chunk.append(entry)
        size += len(entry[1])
    if chunk:
        yield chunk
