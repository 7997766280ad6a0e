"""Search hits joined with their records, batch by batch: what every export format writes.

The backend yields every readable hit in the request's order (:meth:`index.SearchBackend.iter_hits`);
each batch of hits costs a fixed handful of queries (documents, versions, page counts,
customers, tags, entities) whatever its size, and only that batch is in memory.  The
documents query also applies the caller's permissions itself, so a document whose
confidentiality changed after it was indexed never slips into an export.
"""

from __future__ import annotations

import html
import re
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from dossier import folder
from index import Principal, SearchBackend, SearchHit, SearchRequest
from ingest import DOC_TYPES, ENTITY_KINDS
from records import Customer, Document, DocumentCustomer, EntityRow, Page, Tag, Version
from workers.extract import KEPT_METHODS

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

__all__ = ["ExportRow", "iter_rows", "plain_text"]

#: Amount roles that name a document's total (as on the customer page: 合同总价, 价税合计, 报价总额 …).
TOTAL_ROLE_MARKS = ("总", "合计", "total")

_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def plain_text(fragment: str) -> str:
    """An HTML snippet (escaped text with ``<mark>``) as plain text on one line."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub("", fragment or ""))).strip()


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One exported hit: the document's display data, its score and snippet, a link to its page.

    ``customers`` are the customers it is filed under in search (primary first); ``amount``
    its total (an amount labelled 总/合计/total, else its largest), None without one;
    ``entities`` (``{kind: [values]}``) only when the export asked for them.
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
    amount: Decimal | None = None
    mime: str = ""
    sha256: str = ""
    status: str = ""
    uploaded_at: datetime | None = None
    entities: dict[str, list[str]] | None = field(default=None)

    @property
    def doc_type_label(self) -> str:
        """The type's Chinese label (合同), or the code when unknown."""
        labels = DOC_TYPES.get(self.doc_type)
        return labels[0] if labels else self.doc_type

    @property
    def snippet(self) -> str:
        """The snippet as plain text."""
        return plain_text(self.snippet_html)


def _amount(value: str) -> Decimal | None:
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return amount if amount.is_finite() else None


class _Batch:
    """The records of one batch of hit ids, read with one query per kind."""

    def __init__(self, session: Session, ids: list[int], principal: Principal, owned: frozenset[int], entities: bool):
        self.docs = {
            r.id: r
            for r in session.execute(
                select(Document.id, Document.title, Document.doc_type, Document.doc_date, Document.customer_id,
                       Document.status)
                .where(Document.id.in_(ids), folder.readable_clause(principal, owned))
            )
        }
        found = list(self.docs)
        self.versions: dict[int, Any] = {}
        for v in session.execute(
            select(Version.document_id, Version.number, Version.filename, Version.size, Version.mime, Version.sha256,
                   Version.uploaded_at)
            .where(Version.document_id.in_(found))
        ):
            current = self.versions.get(v.document_id)
            if current is None or v.number > current.number:
                self.versions[v.document_id] = v
        self.pages: dict[int, int] = {
            doc_id: int(n)
            for doc_id, n in session.execute(
                select(Page.document_id, func.count()).where(Page.document_id.in_(found)).group_by(Page.document_id)
            )
        }
        self.customers = self._customers(session, found)
        self.tags: dict[int, list[str]] = {}
        for doc_id, name in session.execute(
            select(Document.id, Tag.name).join(Document.tags).where(Document.id.in_(found)).order_by(Tag.name)
        ):
            self.tags.setdefault(doc_id, []).append(name)
        self.amounts: dict[int, tuple[bool, Decimal]] = {}
        self.entities: dict[int, dict[str, list[str]]] | None = {} if entities else None
        query = select(EntityRow.document_id, EntityRow.kind, EntityRow.value, EntityRow.role).where(
            EntityRow.document_id.in_(found)
        )
        if not entities:
            query = query.where(EntityRow.kind == "amount")
        for doc_id, kind, value, role in session.execute(query.order_by(EntityRow.id)):
            if self.entities is not None:
                values = self.entities.setdefault(doc_id, {k: [] for k in ENTITY_KINDS}).setdefault(kind, [])
                if value not in values:
                    values.append(value)
            if kind == "amount" and (amount := _amount(value)) is not None:
                candidate = (any(m in (role or "").lower() for m in TOTAL_ROLE_MARKS), amount)
                if doc_id not in self.amounts or candidate > self.amounts[doc_id]:
                    self.amounts[doc_id] = candidate

    def _customers(self, session: Session, ids: list[int]) -> dict[int, list[str]]:
        """Each document's search customers, as ``workers.extract.searchable_customers`` chooses them."""
        out: dict[int, list[tuple[int, str]]] = {}
        for doc_id, method, cid, name, status in session.execute(
            select(DocumentCustomer.document_id, DocumentCustomer.method, Customer.id, Customer.name, Customer.status)
            .join(Customer, Customer.id == DocumentCustomer.customer_id)
            .where(DocumentCustomer.document_id.in_(ids))
            .order_by(DocumentCustomer.document_id, DocumentCustomer.position)
        ):
            chosen = out.setdefault(doc_id, [])
            if (method in KEPT_METHODS or status == "confirmed") and all(c != cid for c, _n in chosen):
                chosen.append((cid, name))
        primaries = {d.customer_id for d in self.docs.values() if d.customer_id is not None}
        names: dict[int, str] = {}
        if primaries:
            found = session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(primaries)))
            names = {cid: name for cid, name in found}
        for doc_id, doc in self.docs.items():
            chosen = out.setdefault(doc_id, [])
            if doc.customer_id in names and all(c != doc.customer_id for c, _n in chosen):
                chosen.insert(0, (doc.customer_id, names[doc.customer_id]))
        return {doc_id: [n for _c, n in chosen] for doc_id, chosen in out.items()}

    def row(self, hit: SearchHit, base_url: str) -> ExportRow | None:
        """The export row of one hit; None when the records do not hold it or the caller may not read it."""
        doc = self.docs.get(hit.id)
        if doc is None:
            return None
        version = self.versions.get(hit.id)
        amount = self.amounts.get(hit.id)
        entities = None
        if self.entities is not None:
            entities = self.entities.get(hit.id) or {k: [] for k in ENTITY_KINDS}
        return ExportRow(
            id=doc.id,
            title=doc.title or (version.filename if version is not None else ""),
            customers=tuple(self.customers.get(doc.id, ())),
            doc_type=doc.doc_type,
            date=doc.doc_date,
            tags=tuple(self.tags.get(doc.id, ())),
            filename=version.filename if version is not None else "",
            size=int(version.size) if version is not None else 0,
            pages=self.pages.get(doc.id, 0),
            score=round(float(hit.score), 4) or 0.0,  # no -0.0 for unranked hits
            snippet_html=hit.snippet,
            url=f"{base_url}/documents/{doc.id}",
            amount=amount[1] if amount is not None else None,
            mime=version.mime if version is not None else "",
            sha256=version.sha256 if version is not None else "",
            status=doc.status,
            uploaded_at=version.uploaded_at if version is not None else None,
            entities=entities,
        )


def iter_rows(
    sessions: sessionmaker[Session],
    backend: SearchBackend,
    request: SearchRequest,
    principal: Principal,
    *,
    base_url: str,
    entities: bool = False,
    limit: int | None = None,
    batch: int = 500,
) -> Generator[ExportRow, None, None]:
    """Every hit of ``request`` that ``principal`` may read, as :class:`ExportRow`, in the request's order.

    ``limit`` stops after that many hits (None: all of them); ``entities`` loads every
    entity (JSON Lines), otherwise only amounts are read.  Memory holds one batch.
    """
    base_url = base_url.rstrip("/")
    with sessions() as session:
        owned = folder.owned_customer_ids(session, principal)
    hits = backend.iter_hits(request, principal, batch=batch)
    try:
        source = islice(hits, limit) if limit is not None else hits
        while True:
            chunk = list(islice(source, batch))
            if not chunk:
                return
            with sessions() as session:
                found = _Batch(session, [h.id for h in chunk], principal, owned, entities)
                session.rollback()
            for hit in chunk:
                row = found.row(hit, base_url)
                if row is not None:
                    yield row
    finally:
        close = getattr(hits, "close", None)
        if close is not None:
            close()  # an OpenSearch point in time is released at once, also when the reader stops early
