"""Values that cross the ``index`` boundary, and the :class:`SearchBackend` protocol."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

#: Confidentiality levels, least to most restricted.
CONFIDENTIALITY_LEVELS = ("public", "internal", "confidential", "finance")


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
    """Everything the index needs to know about one document."""

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


@dataclass(frozen=True)
class SearchRequest:
    """A query plus filters, sort and page.  ``query`` uses the syntax of BRIEF §4."""

    query: str
    customers: tuple[str, ...] = ()
    doc_types: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None
    sort: str = "relevance"  # relevance | date_desc | date_asc
    offset: int = 0
    limit: int = 20
    facets: bool = True


@dataclass(frozen=True)
class SearchHit:
    """One ranked hit: the id, its score and an HTML snippet (escaped, matches in <mark>)."""

    id: int
    score: float
    snippet: str
    title_html: str = ""


@dataclass(frozen=True)
class SearchResult:
    """A page of hits, the total match count and facet counts over all matches."""

    total: int
    hits: Sequence[SearchHit]
    took_ms: float
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


class SearchBackend(Protocol):
    """What every search backend provides (embedded SQLite FTS5, OpenSearch)."""

    name: str

    def index(self, docs: Iterable[IndexDocument], *, connection: Any = None) -> None:
        """Add or replace documents.  ``connection`` joins the caller's transaction if given."""
        ...

    def delete(self, ids: Iterable[int], *, connection: Any = None) -> None:
        """Remove documents; unknown ids are ignored."""
        ...

    def search(self, request: SearchRequest, principal: Principal) -> SearchResult:
        """Run a query, filtered by what ``principal`` may read, inside the query itself."""
        ...

    def count(self) -> int:
        """Number of indexed documents."""
        ...

    def clear(self) -> None:
        """Drop every indexed document (reindex starts from here)."""
        ...
