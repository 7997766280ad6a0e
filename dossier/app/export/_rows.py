"""Search hits joined with their records, batch by batch: what every export format writes.

The backend yields every readable hit in the request's order (:meth:`index.SearchBackend.iter_hits`);
each batch of hits costs a fixed handful of queries (documents with their newest version and
page count, customers, tags, entities, and the opening pages' text for plain snippets)
whatever its size, and only that batch is in memory.  The documents query also applies the
caller's permissions itself, so a document whose confidentiality changed after it was
indexed never slips into an export.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, and_, any_, bindparam, func, literal_column, select
from sqlalchemy.dialects import postgresql

from dossier.app import folder
from dossier.app._activities import activity_hits
from dossier.app.export._snippets import PlainSnippets
from index import Principal, SearchBackend, SearchHit, SearchRequest
from ingest import DOC_TYPES, group_entity_values
from pipeline.activity_index import KIND_LABELS
from pipeline.extraction import KEPT_METHODS
from records import Customer, Document, DocumentCustomer, EntityRow, Page, Tag, Version

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session, sessionmaker

__all__ = ["ExportRow", "iter_rows", "plain_text"]

#: What plain snippets read of a document: its first pages, each up to this many characters.
SNIPPET_PAGES = 2
SNIPPET_PAGE_CHARS = 4000

#: Amount roles that name a document's total (as on the customer page: 合同总价, 价税合计, 报价总额 …).
TOTAL_ROLE_MARKS = ("总", "合计", "total")

_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def plain_text(fragment: str) -> str:
    """An HTML snippet (escaped text with ``<mark>``) as plain text on one line."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub("", fragment or ""))).strip()


@dataclass(slots=True)  # not frozen: frozen slots cost twice as much to build, and exports build millions
class ExportRow:
    """One exported hit: the document's display data, its score and snippet, a link to its page.

    ``customers`` are the customers it is filed under in search (primary first); ``amount``
    its total (an amount labelled 总/合计/total, else its largest), None without one;
    ``snippet`` plain text and ``snippet_html`` the search page's highlighted snippet, each
    when the export asked for it; ``entities`` (``{kind: [values]}``) likewise.
    """

    id: int
    title: str
    customers: tuple[str, ...]
    doc_type: str
    date: str | None
    tags: tuple[str, ...]
    filename: str
    size: int
    pages: int
    score: float
    snippet_html: str
    url: str
    snippet: str = ""
    amount: Decimal | None = None
    mime: str = ""
    sha256: str = ""
    status: str = ""
    uploaded_at: datetime | None = None
    entities: dict[str, list[str]] | None = field(default=None)
    archived: bool = False  # archived (归档): read-only, left out of default searches
    #: The customers' sales stages (销售阶段), importance grades (重要性) and tags (客户标签), in customer order.
    stages: tuple[str, ...] = ()
    importance: tuple[str, ...] = ()
    customer_tags: tuple[str, ...] = ()
    kind: str = "document"  # document, or an activity's kind: call, visit, meeting, email, note, comment
    activity: int = 0  # > 0: the row is that activity or comment (``id`` is then 0: no document)

    @property
    def doc_type_label(self) -> str:
        """The type's Chinese label (合同), or the code when unknown."""
        labels = DOC_TYPES.get(self.doc_type) or ACTIVITY_TYPE_LABELS.get(self.doc_type)
        return labels[0] if labels else self.doc_type

    @property
    def kind_label(self) -> str:
        """文档 for a document, the activity kind's Chinese label (电话, 拜访 …) for an activity."""
        if not self.activity:
            return "文档"
        labels = KIND_LABELS.get(self.kind)
        return labels[0] if labels else self.kind


#: Labels of the ``doc_type`` of activity rows.
ACTIVITY_TYPE_LABELS = {"activity": ("沟通记录", "activity"), "comment": ("评论", "comment")}


def activity_row(
    shown: dict[str, Any], hit: SearchHit, base_url: str, snippets: PlainSnippets | None
) -> ExportRow:
    """The export row of an activity or comment hit (``shown``: :func:`dossier.app._activities.activity_hits`)."""
    if snippets is not None:
        snippet_text = snippets.of_pages([shown.get("body") or ""])
    else:
        snippet_text = plain_text(hit.snippet) if hit.snippet else ""
    return ExportRow(
        0,
        shown["title"],
        tuple(shown["customers"]),
        shown["doc_type"],
        shown["date"],
        (),
        "",
        0,
        0,
        round(hit.score, 4) or 0.0,
        hit.snippet,
        base_url + shown["link"] if shown["link"] else "",
        snippet_text,
        status="activity",
        kind=shown["kind"],
        activity=shown["activity"],
    )


def _is_total(role: str) -> bool:
    """Whether an amount's label names the document's total."""
    return "总" in role or "合计" in role or "total" in role.lower()  # TOTAL_ROLE_MARKS, the cheap ones first


def _amount(value: str) -> Decimal | None:
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return amount if amount.is_finite() else None


def _tag_list(raw: Any) -> list[str]:
    """A customer's tags as the raw cursor hands them: a JSON text (SQLite) or a list (PostgreSQL)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return []
    return [str(t) for t in raw] if isinstance(raw, list) else []


def _id_filter(column: Any, dialect: str) -> Any:
    """``column`` among the ``ids`` parameter, passed as one value (a JSON list on SQLite, an array on
    PostgreSQL) so each statement is compiled once, however many ids a batch holds."""
    if dialect == "sqlite":
        return column.in_(select(literal_column("value")).select_from(func.json_each(bindparam("ids"))))
    if dialect == "postgresql":
        return column == any_(bindparam("ids", type_=postgresql.ARRAY(Integer)))
    return column.in_(bindparam("ids", expanding=True))


class _Raw:
    """A statement compiled once for the database's driver and run on its own cursor.

    Export batches read tens of thousands of rows a second: plain DB-API tuples instead of
    SQLAlchemy rows save a few microseconds each.  Only ``ids`` changes between runs; the
    other parameters (confidentiality levels, owned customers, constants) are fixed at compile time.
    """

    def __init__(self, statement: Any, dialect: Any) -> None:
        placeholder = "[]" if dialect.name == "sqlite" else []
        state = statement.compile(dialect=dialect).construct_expanded_state({"ids": placeholder})
        self.sql: str = state.statement
        self.params: dict[str, Any] = dict(state.parameters)
        self.order: list[str] | None = list(state.positiontup) if state.positiontup is not None else None

    def run(self, conn: Connection, ids: Any) -> list[tuple[Any, ...]]:
        """Every row for ``ids`` (the database's form of the id list), as tuples."""
        params = dict(self.params, ids=ids)
        args: Any = [params[name] for name in self.order] if self.order is not None else params
        cursor = conn.connection.cursor()
        try:
            cursor.execute(self.sql, args)
            return list(cursor.fetchall())
        finally:
            cursor.close()


class _Queries:
    """The per-batch statements of one export, built once for its principal and database."""

    docs: Any
    links: Any
    customers: Any
    tags: Any
    entities: Any
    texts: Any

    def __init__(
        self, principal: Principal, owned: frozenset[int], entities: bool, dialect: str, times: bool = False
    ) -> None:
        self.dialect = dialect
        # Upload times only matter to ZIP members; reading them as datetimes costs a few µs a row.
        uploaded: Any = Version.uploaded_at if times else literal_column("NULL")
        current = (
            select(func.max(Version.number))
            .where(Version.document_id == Document.id)
            .correlate(Document)
            .scalar_subquery()
        )
        pages = (
            select(func.count())
            .select_from(Page)
            .where(Page.document_id == Document.id)
            .correlate(Document)
            .scalar_subquery()
        )
        self.docs = (
            select(
                Document.id,
                Document.title,
                Document.doc_type,
                Document.doc_date,
                Document.customer_id,
                Document.status,
                Version.filename,
                Version.size,
                Version.mime,
                Version.sha256,
                uploaded,
                pages.label("pages"),
                Document.archived_at,
            )
            .outerjoin(Version, and_(Version.document_id == Document.id, Version.number == current))
            .where(_id_filter(Document.id, dialect), folder.readable_clause(principal, owned))
        )
        self.links = (
            select(
                DocumentCustomer.document_id,
                DocumentCustomer.method,
                Customer.id,
                Customer.name,
                Customer.status,
                Customer.stage,
                Customer.importance,
                Customer.tags,
            )
            .join(Customer, Customer.id == DocumentCustomer.customer_id)
            .where(_id_filter(DocumentCustomer.document_id, dialect))
            .order_by(DocumentCustomer.document_id, DocumentCustomer.position)
        )
        self.customers = select(
            Customer.id, Customer.name, Customer.stage, Customer.importance, Customer.tags
        ).where(_id_filter(Customer.id, dialect))
        self.tags = (
            select(Document.id, Tag.name)
            .join(Document.tags)
            .where(_id_filter(Document.id, dialect))
            .order_by(Tag.name)
        )
        query = select(EntityRow.document_id, EntityRow.kind, EntityRow.value, EntityRow.role).where(
            _id_filter(EntityRow.document_id, dialect)
        )
        if not entities:
            # ``kind || ''`` keeps the planner on the document index: the kind index would scan every amount.
            query = query.where((EntityRow.kind + "") == "amount")
        self.entities = query.order_by(EntityRow.id)
        self.texts = (
            select(Page.document_id, func.substr(Page.text, 1, SNIPPET_PAGE_CHARS))
            .where(_id_filter(Page.document_id, dialect), Page.number <= SNIPPET_PAGES)
            .order_by(Page.document_id, Page.number)
        )

    def compile(self, dialect: Any) -> None:
        """Compile every statement for this database (once per export)."""
        for name in ("docs", "links", "customers", "tags", "entities", "texts"):
            setattr(self, name, _Raw(getattr(self, name), dialect))

    def ids(self, ids: list[int]) -> Any:
        """The ``ids`` parameter in this database's form."""
        return json.dumps(ids) if self.dialect == "sqlite" else list(ids)


class _Batch:
    """The records of one batch of hit ids, read with one query per kind."""

    def __init__(
        self, conn: Connection, ids: list[int], queries: _Queries, entities: bool, texts: bool
    ) -> None:
        self.docs = {r[0]: r for r in queries.docs.run(conn, queries.ids(ids))}
        params = queries.ids(list(self.docs))
        self.customers = self._customers(conn, queries, params)
        self.tags: dict[int, list[str]] = {}
        for doc_id, name in queries.tags.run(conn, params):
            self.tags.setdefault(doc_id, []).append(name)
        self.amounts: dict[int, tuple[bool, Decimal]] = {}
        pairs: dict[int, list[tuple[str, str]]] = {}
        for doc_id, kind, value, role in queries.entities.run(conn, params):
            if entities:
                pairs.setdefault(doc_id, []).append((kind, value))
            if kind == "amount" and (amount := _amount(value)) is not None:
                candidate = (role is not None and _is_total(role), amount)
                if doc_id not in self.amounts or candidate > self.amounts[doc_id]:
                    self.amounts[doc_id] = candidate
        self.entities: dict[int, dict[str, list[str]]] | None = None
        if entities:
            self.entities = {doc_id: group_entity_values(found) for doc_id, found in pairs.items()}
        self.texts: dict[int, list[str]] = {}
        if texts:
            for doc_id, text in queries.texts.run(conn, params):
                if text:
                    self.texts.setdefault(doc_id, []).append(text)

    def _customers(self, conn: Connection, queries: _Queries, params: Any) -> dict[int, tuple[str, ...]]:
        """Each document's search customers, as ``pipeline.extraction.searchable_customers`` chooses them.

        Their steering fields are kept in ``self.steering`` (customer id -> (stage, importance, tags))
        and each document's customer ids, in the same order, in ``self.customer_ids``.
        """
        out: dict[int, dict[int, str]] = {}  # doc -> {customer id: name}, in link order
        names: dict[int, str] = {}
        self.steering: dict[int, tuple[str | None, str | None, list[str]]] = {}
        for doc_id, method, cid, name, status, stage, importance, tags in queries.links.run(conn, params):
            if method in KEPT_METHODS or status == "confirmed":
                chosen = out.get(doc_id)
                if chosen is None:
                    out[doc_id] = {cid: name}
                elif cid not in chosen:
                    chosen[cid] = name
                names[cid] = name
                self.steering[cid] = (stage, importance, _tag_list(tags))
        primaries: set[int] = {d[4] for d in self.docs.values() if d[4] is not None}
        missing = sorted(primaries - names.keys())
        if missing:
            for cid, name, stage, importance, tags in queries.customers.run(conn, queries.ids(missing)):
                names[cid] = name
                self.steering[cid] = (stage, importance, _tag_list(tags))
        result: dict[int, tuple[str, ...]] = {}
        self.customer_ids: dict[int, tuple[int, ...]] = {}
        empty: dict[int, str] = {}
        for doc_id, doc in self.docs.items():
            chosen = out.get(doc_id, empty)
            primary = doc[4]  # customer_id
            if primary is not None and primary not in chosen and primary in names:
                result[doc_id] = (names[primary], *chosen.values())  # the primary customer comes first
                self.customer_ids[doc_id] = (primary, *chosen)
            elif chosen:
                result[doc_id] = tuple(chosen.values())
                self.customer_ids[doc_id] = tuple(chosen)
        return result

    def steering_of(self, doc_id: int) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        """(stages, importance grades, customer tags) of a document's customers, each distinct, in customer order."""
        found = [self.steering[c] for c in self.customer_ids.get(doc_id, ()) if c in self.steering]
        if not found:
            return (), (), ()
        return (
            tuple(dict.fromkeys(s for s, _i, _t in found if s)),
            tuple(dict.fromkeys(i for _s, i, _t in found if i)),
            tuple(dict.fromkeys(t for _s, _i, tags in found for t in tags if t)),
        )

    def row(self, hit: SearchHit, base_url: str, snippets: PlainSnippets | None) -> ExportRow | None:
        """The export row of one hit; None when the records do not hold it or the caller may not read it."""
        doc_id = hit.document  # an old version's hit (version:all) is its document's row
        doc = self.docs.get(doc_id)
        if doc is None:
            return None
        amount = self.amounts.get(doc_id)
        entities = None
        if self.entities is not None:
            entities = self.entities.get(doc_id) or group_entity_values(())
        if snippets is not None:
            snippet_text = snippets.of_pages(self.texts.get(doc_id, ()))
        else:
            snippet_text = plain_text(hit.snippet) if hit.snippet else ""
        (
            _id,
            title,
            doc_type,
            date,
            _cid,
            status,
            filename,
            size,
            mime,
            sha256,
            uploaded_at,
            pages,
            archived_at,
        ) = doc
        if isinstance(uploaded_at, str):  # SQLite hands DateTime columns back as text
            uploaded_at = datetime.fromisoformat(uploaded_at)
        stages, importance, customer_tags = self.steering_of(doc_id)
        return ExportRow(
            doc_id,
            title or filename or "",
            self.customers.get(doc_id, ()),
            doc_type,
            date,
            tuple(self.tags.get(doc_id, ())),
            filename or "",
            size or 0,
            pages or 0,
            round(hit.score, 4) or 0.0,  # no -0.0 for unranked hits
            hit.snippet,
            base_url + "/documents/" + str(doc_id),
            snippet_text,
            amount[1] if amount is not None else None,
            mime or "",
            sha256 or "",
            status,
            uploaded_at,
            entities,
            archived_at is not None,
            stages,
            importance,
            customer_tags,
        )


def iter_rows(
    sessions: sessionmaker[Session],
    backend: SearchBackend,
    request: SearchRequest,
    principal: Principal,
    *,
    base_url: str,
    entities: bool = False,
    snippets: str | None = "plain",
    limit: int | None = None,
    times: bool = False,
    batch: int = 1000,
) -> Generator[ExportRow, None, None]:
    """Every hit of ``request`` that ``principal`` may read, as :class:`ExportRow`, in the request's order.

    ``snippets``: ``"index"`` takes the backend's highlighted snippets (as search shows them),
    ``"plain"`` cuts plain-text ones from the records (:mod:`dossier.app.export._snippets`, many
    times faster), None leaves them empty.  ``limit`` stops after that many hits (None: all);
    ``entities`` loads every entity (JSON Lines), otherwise only amounts are read; ``times``
    reads the originals' upload times (``uploaded_at``, for ZIP members).  Memory holds one batch.
    """
    base_url = base_url.rstrip("/")
    with sessions() as session:
        owned = folder.owned_customer_ids(session, principal)
    dialect = sessions.kw["bind"].dialect
    queries = _Queries(principal, owned, entities, dialect.name, times=times)
    queries.compile(dialect)
    plain = PlainSnippets(request.query) if snippets == "plain" else None
    hits = backend.iter_hits(request, principal, batch=batch, snippets=snippets == "index")
    source = islice(hits, limit) if limit is not None else hits

    try:
        while chunk := list(islice(source, batch)):
            with sessions() as session:
                found = _Batch(
                    session.connection(),
                    [h.document for h in chunk if not h.activity],
                    queries,
                    entities,
                    plain is not None,
                )
                remarks = activity_hits(session, principal, [h.activity for h in chunk if h.activity])
                session.rollback()
            for hit in chunk:
                if hit.activity:  # an activity or comment: a row of its own, never its document's
                    shown = remarks.get(hit.activity)
                    if shown is not None:
                        yield activity_row(shown, hit, base_url, plain)
                    continue
                row = found.row(hit, base_url, plain)
                if row is not None:
                    yield row
    finally:
        close = getattr(hits, "close", None)
        if close is not None:
            close()  # an OpenSearch point in time is released at once, also when the reader stops early
