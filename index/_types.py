"""Values that cross the ``index`` boundary, and the :class:`SearchBackend` protocol."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

#: Confidentiality levels, least to most restricted.
CONFIDENTIALITY_LEVELS = ("public", "internal", "confidential", "finance")
#: Levels an index entry may carry: a document's own levels, and ``restricted`` for what holds
#: confidential and finance documents at once (a container of both: only admins and managers read it).
ACCESS_LEVELS = (*CONFIDENTIALITY_LEVELS, "restricted")
#: Entries for activities and comments have ids at or below minus this (superseded versions'
#: entries are minus their version row's id, which stays far above it).
ACTIVITY_ID_BASE = 10**12
#: ``doc_type`` of the entry of an activity (call, visit, meeting, e-mail, note) and of a comment.
ACTIVITY_DOC_TYPES = ("activity", "comment")


def activity_entry_id(activity_id: int) -> int:
    """The index entry id of activity (or comment) ``activity_id``."""
    return -(ACTIVITY_ID_BASE + activity_id)


def entry_activity(entry_id: int) -> int:
    """The activity id an entry id stands for, or 0 for a document's or a version's entry."""
    return -entry_id - ACTIVITY_ID_BASE if entry_id <= -ACTIVITY_ID_BASE else 0


@dataclass(frozen=True)
class Principal:
    """Who is searching.  Every search takes one; the backend filters inside the query."""

    username: str
    role: str  # admin, manager, finance, sales, viewer
    user_id: int | None = None
    owned_customer_ids: frozenset[int] = frozenset()

    @classmethod
    def system(cls) -> Principal:
        """The all-seeing principal used by the CLI run by the operator and by reindex."""
        return cls(username="system", role="admin")


@dataclass(frozen=True)
class IndexDocument:
    """Everything the index needs to know about one document.

    ``customers``/``customer_ids`` are the linked customers (display names, registry ids);
    ``customer_aliases`` their registry full names, short names and aliases (the customer
    filter matches these); ``customer_types``, ``industries`` and ``regions`` (provinces such
    as 浙江省) come from the linked customers too.  ``entities`` holds (kind, normalised
    value) pairs, kinds as in ``ingest.ENTITY_KINDS``, for exact field filters; their
    strings belong in ``extra`` as well, so plain queries find them.

    ``confidentiality`` is what reading the document takes (one of :data:`ACCESS_LEVELS`: for a
    container or a part, the application's container rule has already joined it with the
    others'), and ``access_customer_ids`` the customers whose sales owners may read it when it
    is ``confidential`` — the permission filter uses these two, never ``customer_ids``.

    ``lifecycle`` is ``active`` or ``archived`` (a document in the trash is not indexed).  An
    entry for a *superseded version* of a document has ``version`` > 0 (its number),
    ``document_id`` the document's id and ``id`` = minus the version row's id; the document's
    own (current) entry has ``version`` 0 and ``document_id`` 0 (it is ``id``).

    An entry for an *activity or comment* has ``activity`` > 0 (the activity row's id), ``id`` =
    :func:`activity_entry_id` of it, ``doc_type`` one of :data:`ACTIVITY_DOC_TYPES`,
    ``document_id`` the commented document (0: none) and the customer's fields as a document's.

    ``customer_stages`` (销售阶段), ``customer_importance`` (A/B/C) and ``customer_tags``
    (客户标签) come from the linked customers, like ``customer_types``.

    ``file_format`` is the kind of file the document came as (:data:`FILE_FORMATS`,
    :func:`index.file_format` of its MIME type and file name); ``scan`` says its text was
    recognised from page images (an image file, a scanned PDF).
    """

    id: int
    title: str
    text: str
    filename: str = ""
    doc_type: str = "other"
    customers: tuple[str, ...] = ()
    customer_ids: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()
    confidentiality: str = "internal"
    date: str | None = None  # ISO yyyy-mm-dd, the document's own date
    created_at: str = ""  # ISO timestamp of intake, tie-breaker for ranking
    extra: tuple[str, ...] = ()  # entity strings and other searchable metadata
    customer_aliases: tuple[str, ...] = ()
    customer_types: tuple[str, ...] = ()  # 潜在客户 / 现有客户 / 流失客户
    industries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()  # provinces: 浙江省, 上海市
    entities: tuple[tuple[str, str], ...] = ()  # (kind, normalised value)
    access_customer_ids: tuple[int, ...] = ()
    lifecycle: str = "active"  # active | archived
    version: int = 0  # 0: the current entry; n > 0: superseded version n of ``document_id``
    document_id: int = 0
    activity: int = 0  # > 0: this entry is activity (or comment) ``activity``
    customer_stages: tuple[str, ...] = ()
    customer_importance: tuple[str, ...] = ()
    customer_tags: tuple[str, ...] = ()
    file_format: str = ""  # one of FILE_FORMATS (pdf, word, …); "" for an activity's or comment's entry
    scan: bool = False  # an image file, or a PDF whose text came from OCR

    @property
    def document(self) -> int:
        """The document this entry belongs to (``id`` for a current entry; 0 for an activity on none)."""
        if self.activity:
            return self.document_id
        return self.document_id or self.id


@dataclass(frozen=True)
class SearchRequest:
    """A query plus filters, sort and page.  ``query`` uses the syntax of BRIEF §4.

    Values of one filter are alternatives (ORed), different filters all apply (ANDed), and
    so do the filters written in the query.  ``customers`` are names: one equal to a linked
    customer's full name or alias selects exactly that customer, any other is a fragment of
    the names and aliases.  ``customer_types`` accepts the short forms (``潜在``), ``regions``
    a prefix (``浙江``), ``industries`` a fragment; ``years`` the document date's year.
    ``entities`` are (kind, value) pairs that must *each* match one of the document's
    entities exactly (after normalisation; a ``date`` value may be a ``2024-03`` prefix).
    """

    query: str
    customers: tuple[str, ...] = ()
    doc_types: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None
    customer_ids: tuple[int, ...] = ()
    customer_types: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    years: tuple[str, ...] = ()
    entities: tuple[tuple[str, str], ...] = ()
    sort: str = "relevance"  # relevance | date_desc | date_asc
    offset: int = 0
    limit: int = 20
    facets: bool = True
    archived: str = "exclude"  # exclude | include | only
    versions: str = "current"  # current | all
    activities: str = "include"  # include | exclude | only: the entries of activities and comments
    stages: tuple[str, ...] = ()  # customer's sales stage (销售阶段), exact
    importance: tuple[str, ...] = ()  # customer's importance: A, B, C
    customer_tags: tuple[str, ...] = ()  # customer tags (客户标签), exact
    formats: tuple[str, ...] = ()  # file formats (FILE_FORMATS: pdf, word, excel …), ORed
    scans_only: bool = False  # only scans (image files, PDFs whose text came from OCR)


@dataclass(frozen=True)
class SearchHit:
    """One ranked hit: the entry id, its score and an HTML snippet (escaped, matches in <mark>).

    ``version`` > 0 says the hit is superseded version ``version`` of document ``document_id``
    (``id`` is then minus the version row's id); for a current entry both are 0.  ``activity``
    > 0 says the hit is that activity or comment (``id`` is :func:`activity_entry_id` of it).

    ``title_parts`` is empty when the entry's title identifies it; for a generic title
    (采购合同, Invoice, a file name) it holds what identifies it instead, as (part, value) pairs
    of ``type`` (a doc_type code), ``customer``, ``number`` and ``date``;
    :func:`index.display_title` makes the shown title of them in a language.
    """

    id: int
    score: float
    snippet: str
    title_html: str = ""
    version: int = 0
    document_id: int = 0
    activity: int = 0
    title_parts: tuple[tuple[str, str], ...] = ()

    @property
    def document(self) -> int:
        """The document this hit belongs to (0 for an activity on no document)."""
        if self.activity:
            return self.document_id
        return self.document_id or self.id


@dataclass(frozen=True)
class SearchResult:
    """A page of hits, the total match count and facet counts over all matches.

    ``facets`` maps ``doc_type``, ``customer``, ``tag``, ``customer_type``, ``industry``,
    ``region``, ``stage``, ``importance``, ``ctag``, ``format``, ``scan`` (one value, ``scan``) and ``year`` to
    (value, count) pairs, most frequent first (years newest first).
    """

    total: int
    hits: Sequence[SearchHit]
    took_ms: float
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


@dataclass(frozen=True)
class FlushReport:
    """What one flush of queued index work did (an embedded backend has nothing to flush).

    ``rejected`` holds (document id, reason) of documents the engine refused for good;
    ``error`` says why work is still waiting (the engine is unreachable), else None.
    """

    sent: int = 0
    rejected: tuple[tuple[int, str], ...] = ()
    error: str | None = None


class Rebuild(Protocol):
    """A full reindex in progress (:meth:`SearchBackend.start_rebuild`).

    Documents are added in id order; ``resume_after`` is the last id a crashed earlier
    run already added (0 for a fresh start), so a rerun continues from there.
    """

    resume_after: int

    def add(self, docs: Sequence[IndexDocument], *, connection: Any = None) -> None:
        """Add a batch (ids ascending, all above the ids added before)."""
        ...

    def finish(self) -> None:
        """Make the rebuilt index the one searched."""
        ...


class SearchBackend(Protocol):
    """What every search backend provides (embedded SQLite FTS5, OpenSearch).

    ``queued_writes`` is True when writes made with a connection wait in an outbox until
    :meth:`flush` sends them (an external engine); False when they are part of the
    records transaction itself (the embedded index).
    """

    name: str
    queued_writes: bool

    def ensure_schema(self, connection: Any = None) -> None:
        """Create what the index needs to exist (tables, an engine's index and template) if it is not there."""
        ...

    def index(self, docs: Iterable[IndexDocument], *, connection: Any = None) -> None:
        """Add or replace documents.  ``connection`` joins the caller's transaction if given."""
        ...

    def delete(self, ids: Iterable[int], *, connection: Any = None) -> None:
        """Remove documents; unknown ids are ignored."""
        ...

    def expunge(self, ids: Sequence[int]) -> bool:
        """After a committed :meth:`delete` of ``ids`` (an erasure): make what the engine kept of them unrecoverable.

        The embedded index merges its segments (no deleted token stays in its pages); OpenSearch
        drops their queued entries, sends the deletes and force-merges away segments holding
        deleted documents.  False when the engine could not do it now (try again later).
        """
        ...

    def search(self, request: SearchRequest, principal: Principal) -> SearchResult:
        """Run a query, filtered by what ``principal`` may read, inside the query itself."""
        ...

    def count(self) -> int:
        """Number of indexed documents."""
        ...

    def similar_words(self, word: str, limit: int = 8) -> list[str]:
        """Words the index holds one edit from ``word`` (a Latin word of six letters or more: two), nearest first.

        For "did you mean": only runs of three or more CJK characters or Latin letters are looked up
        (anything else has none).  The words come from every document, readable or not: a caller
        shows one only after running the corrected query as the user.
        """
        ...

    def clear(self) -> None:
        """Drop every indexed document (reindex starts from here)."""
        ...

    def needs_reindex(self) -> bool:
        """True when the stored index predates fields the current version indexes (until :meth:`clear`)."""
        ...

    def iter_ids(self, request: SearchRequest, principal: Principal, *, batch: int = 1000) -> Iterator[int]:
        """Every matching id in the request's order, however many (``offset``/``limit`` ignored)."""
        ...

    def iter_hits(
        self, request: SearchRequest, principal: Principal, *, batch: int = 500, snippets: bool = True
    ) -> Iterator[SearchHit]:
        """Every matching hit in the request's order with score (and, unless ``snippets`` is False, snippet).

        For exports: memory stays bounded by ``batch`` whatever the number of hits.
        """
        ...

    def entry_ids(self) -> Iterator[int]:
        """Every entry id the index holds, streamed in no particular order (``dossier check`` compares them
        with the records); superseded-version entries have their negative ids."""
        ...

    def flush(self, *, force: bool = False) -> FlushReport:
        """Send index work queued by committed transactions (``force``: also work waiting out a backoff).

        A no-op for an embedded backend.
        """
        ...

    def settle(self, timeout_s: float = 30.0) -> bool:
        """Send everything queued and make it visible to search; False when that failed within ``timeout_s``."""
        ...

    def start_rebuild(self, *, restart: bool = False) -> Rebuild:
        """Begin (or, unless ``restart``, resume) rebuilding the whole index from the records."""
        ...

    def status(self) -> dict[str, Any]:
        """State for ``dossier status``: ``backend``, ``documents``, ``pending``, ``failures``, ``error``."""
        ...
