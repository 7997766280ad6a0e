"""The start page's figures (工作台): recent documents, the intake backlog and the charts' numbers.

Every figure counts only what the principal may read, by the search's own rules, so that a chart
element's number is the number of hits of the search it links to:

* a document counts when search would find it: stored (``indexed`` or ``awaiting_ocr``), not in
  the trash, not archived, and readable (:func:`dossier.app.folder.readable_clause`: the levels the
  role reads, plus ``confidential`` documents of the customers a sales rep owns);
* a document belongs to a customer as search files it (:func:`pipeline.extraction.searchable_customers`):
  its primary customer, and its links that were given or chosen or point at a confirmed customer;
* a document's amount is its total as the customer page's key amounts take it (its 总/合计/total
  amount, else its largest), stored with its entities as ``documents.amount`` (:mod:`pipeline.amounts`);
  a segment sums the amounts of its documents that have one.

Everything is a handful of SQL aggregates (no loop over documents), with dates as the ``doc_date``
text (``YYYY-MM-DD``) compared and cut with ``substr``, which SQLite and PostgreSQL both read.
The figures are kept per principal for :data:`CACHE_SECONDS` at most, and only while the records'
fingerprint (:meth:`Dashboard.fingerprint`) is unchanged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, case, func, literal, or_, select, union, union_all
from sqlalchemy.orm import Session

from dossier.app import folder
from dossier.app.resources import HomeResources
from index import Principal
from ingest import DOC_TYPES
from pipeline.extraction import KEPT_METHODS
from pipeline.indexing import INDEXED_STATUSES
from records import Customer, Document, DocumentCustomer, IngestBatch, IngestJob, Page, User

__all__ = ["AMOUNT_TYPES", "CACHE_SECONDS", "DIMENSIONS", "RECENT", "Dashboard", "months_back"]

#: The document types whose amounts the amount charts show.
AMOUNT_TYPES = ("contract", "quote")
#: The customer fields the amount charts group by (``owner``: the customer's owner).
DIMENSIONS = ("customer_type", "stage", "region", "owner")
#: How many recent documents the start page lists.
RECENT = 8
#: How many groups an amount or customer chart shows at most (the largest).
MAX_GROUPS = 12
#: How long a principal's figures are kept (when the records did not change meanwhile).
CACHE_SECONDS = 30.0
_CACHE_SIZE = 256
_CENT = Decimal("0.01")


def months_back(today: date, count: int = 12) -> list[str]:
    """The ``count`` months up to ``today``'s, oldest first, as ``YYYY-MM``."""
    year, month = today.year, today.month
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def _next_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year + 1:04d}-01" if mon == 12 else f"{year:04d}-{mon + 1:02d}"


def _searchable(principal: Principal, owned: Collection[int]) -> Any:
    """What search finds of ``Document`` for ``principal``: stored, not trashed, not archived, readable."""
    return (
        folder.readable_clause(principal, owned)
        & Document.status.in_(INDEXED_STATUSES)
        & Document.archived_at.is_(None)
    )


def _add(groups: dict[str, dict[str, Any]], value: str | None, doc_type: str, n: int, total: Decimal) -> None:
    """Add ``n`` documents of ``doc_type`` worth ``total`` to the group of ``value`` (none without a value)."""
    if not value:
        return
    group = groups.setdefault(value, {"value": value, "types": {}})
    count, amount = group["types"].get(doc_type, (0, Decimal(0)))
    group["types"][doc_type] = (count + n, amount + total)


def _money(value: Any) -> str:
    return f"{Decimal(str(value or 0)).quantize(_CENT)}"


class Dashboard:
    """The start page's figures for one principal (:meth:`start_page`), each part also on its own."""

    def __init__(self, home: HomeResources) -> None:
        self._home = home
        self._lock = threading.Lock()
        self._cache: dict[tuple[Any, ...], tuple[float, tuple[Any, ...], dict[str, Any]]] = {}

    # -- the whole page ----------------------------------------------------------------------

    def start_page(self, principal: Principal, today: date | None = None) -> dict[str, Any]:
        """``{"recent", "backlog", "empty_home", "registry_empty", "months", "by_month", "amounts", "customers"}``.

        The recent documents and the backlog are read every time; the charts' figures are kept for
        :data:`CACHE_SECONDS` per principal (user, role, owned customers) and ``today``, as long as
        :meth:`fingerprint` says nothing they count was written since.
        """
        today = today or date.today()
        with self._home.sessions() as session:
            owned = folder.owned_customer_ids(session, principal)
            page: dict[str, Any] = {
                "recent": self._recent(session, principal, owned),
                "backlog": self._backlog(session, principal, owned),
            }
            # A brand-new home (no document at all, or no registered customer): the page says how to begin.
            page["empty_home"] = not page["recent"] and session.scalar(select(Document.id).limit(1)) is None
            page["registry_empty"] = (
                session.scalar(select(Customer.id).where(Customer.status == "confirmed").limit(1)) is None
            )
            page.update(self._charts(session, principal, owned, today))
        return page

    def charts(self, principal: Principal, today: date | None = None) -> dict[str, Any]:
        """The charts' figures alone: ``{"months", "by_month", "amounts", "customers"}``."""
        with self._home.sessions() as session:
            owned = folder.owned_customer_ids(session, principal)
            return self._charts(session, principal, owned, today or date.today())

    def _charts(
        self, session: Session, principal: Principal, owned: Collection[int], today: date
    ) -> dict[str, Any]:
        key = (principal.username, principal.role, principal.user_id, tuple(sorted(owned)), today)
        mark = self.fingerprint(session)
        now = time.monotonic()
        with self._lock:
            kept = self._cache.get(key)
        if kept is not None and kept[1] == mark and now - kept[0] < CACHE_SECONDS:
            return kept[2]
        figures = {
            **self._by_month(session, principal, owned, today),
            "amounts": self._amounts(session, principal, owned),
            "customers": self._customers(session),
        }
        with self._lock:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = (now, mark, figures)
        return figures

    @staticmethod
    def fingerprint(session: Session) -> tuple[Any, ...]:
        """What changes whenever a chart may: documents (their amounts included: ``documents.amount``), their links
        (and which are given or chosen), customers, users (counts, sums, last changes).  Not seen: an account's
        display name (an owner's label)."""
        # each figure on its own: a maximum is one look into an index, the counts one pass over the smallest
        docs = session.execute(
            select(
                select(func.count(Document.id)).scalar_subquery(),
                select(func.max(Document.updated_at)).scalar_subquery(),
                select(func.max(Document.id)).scalar_subquery(),
                select(func.max(Customer.updated_at)).scalar_subquery(),
                select(func.count(Customer.id)).scalar_subquery(),
                select(func.count(User.id)).scalar_subquery(),
            )
        ).one()
        links = session.execute(  # one pass over the links
            select(
                func.count(),
                func.sum(DocumentCustomer.customer_id * 7 + DocumentCustomer.document_id),
                func.sum(case((DocumentCustomer.method.in_(KEPT_METHODS), 1), else_=0)),
            ).select_from(DocumentCustomer)
        ).one()
        return (*docs, *links)

    # -- parts -------------------------------------------------------------------------------

    def _recent(self, session: Session, principal: Principal, owned: Collection[int]) -> list[dict[str, Any]]:
        """The newest documents the principal may read (top-level ones: no attachments, no archive members)."""
        rows = session.execute(
            select(
                Document.id,
                Document.title,
                Document.doc_type,
                Document.doc_date,
                Document.created_at,
                Customer.name,
            )
            .outerjoin(Customer, Customer.id == Document.customer_id)
            .where(_searchable(principal, owned), Document.parent_id.is_(None))
            .order_by(Document.id.desc())  # newest first: ids grow with time, and the key needs no sort
            .limit(RECENT)
        ).all()
        return [
            {
                "id": int(doc_id),
                "title": title or "",
                "doc_type": doc_type if doc_type in DOC_TYPES else "other",
                "date": doc_date,
                "created_at": created.isoformat(timespec="seconds") if created else None,
                "customer": customer,
            }
            for doc_id, title, doc_type, doc_date, created, customer in rows
        ]

    def _backlog(self, session: Session, principal: Principal, owned: Collection[int]) -> dict[str, int]:
        """Files still queued and files that failed (of the batches the principal sees), pages awaiting OCR
        and pages whose OCR failed (of the documents the principal may read)."""
        jobs = select(IngestJob.status, func.count(IngestJob.id)).join(
            IngestBatch, IngestBatch.id == IngestJob.batch_id
        )
        if principal.role not in folder.READ_ALL_ROLES:
            jobs = jobs.where(IngestBatch.created_by == principal.username)
        counts = dict(
            session.execute(
                jobs.where(IngestJob.status.in_(("queued", "failed"))).group_by(IngestJob.status)
            ).all()
        )
        pages = dict(
            session.execute(
                select(Page.ocr_error.is_not(None), func.count(Page.id))
                .join(Document, Document.id == Page.document_id)
                .where(
                    Page.needs_ocr.is_(True),
                    folder.readable_clause(principal, owned),
                    Document.status != "failed",
                )
                .group_by(Page.ocr_error.is_not(None))
            ).all()
        )
        return {
            "queued": int(counts.get("queued") or 0),
            "failed": int(counts.get("failed") or 0),
            "awaiting_ocr": int(pages.get(False) or 0),
            "ocr_failed": int(pages.get(True) or 0),
        }

    def _by_month(
        self, session: Session, principal: Principal, owned: Collection[int], today: date
    ) -> dict[str, Any]:
        """Documents per type per month of the 12 months up to ``today`` (by the document's date)."""
        months = months_back(today)
        month = func.substr(Document.doc_date, 1, 7)
        rows = session.execute(
            select(month, Document.doc_type, func.count(Document.id))
            .where(
                _searchable(principal, owned),
                Document.doc_date >= f"{months[0]}-01",
                Document.doc_date < f"{_next_month(months[-1])}-01",
            )
            .group_by(month, Document.doc_type)
        ).all()
        counts: dict[str, dict[str, int]] = {m: {} for m in months}
        for m, doc_type, n in rows:
            if m in counts:
                counts[m][doc_type] = int(n)
        return {"months": months, "by_month": counts}

    def _amounts(
        self, session: Session, principal: Principal, owned: Collection[int]
    ) -> dict[str, list[dict[str, Any]]]:
        """Per value of each customer field (:data:`DIMENSIONS`): contracts and quotes (how many, their
        amounts' sum), largest sums first.

        A document filed under several customers counts once under each of their values (as the
        search's filter finds it under each).  One statement: an aggregate per customer, and the few
        documents filed under two customers or more, so that those counted twice under the same value
        are taken out once more.  The amounts are the stored ``documents.amount``.
        """
        visible = _searchable(principal, owned) & Document.doc_type.in_(AMOUNT_TYPES)
        filed = union(  # (document, customer) once each: its filed links and its primary customer
            select(
                DocumentCustomer.document_id.label("id"),
                DocumentCustomer.customer_id.label("cid"),
                Document.doc_type,
                Document.amount,
            )
            .join(Customer, Customer.id == DocumentCustomer.customer_id)
            .join(Document, Document.id == DocumentCustomer.document_id)
            .where(visible, or_(DocumentCustomer.method.in_(KEPT_METHODS), Customer.status == "confirmed")),
            select(
                Document.id.label("id"), Document.customer_id.label("cid"), Document.doc_type, Document.amount
            ).where(visible, Document.customer_id.is_not(None)),
        ).cte("filed")  # used twice below: computed once (SQLite and PostgreSQL materialise it)
        shared_ids = select(filed.c.id).group_by(filed.c.id).having(func.count() > 1)
        rows = session.execute(
            union_all(
                # per customer and type: how many, their sum (id NULL) …
                select(
                    filed.c.cid,
                    filed.c.doc_type,
                    func.count().label("n"),
                    func.sum(filed.c.amount).label("total"),
                    literal(None, Integer).label("id"),
                ).group_by(filed.c.cid, filed.c.doc_type),
                # … and each document filed under two customers or more, one row per customer
                select(filed.c.cid, filed.c.doc_type, literal(1, Integer), filed.c.amount, filed.c.id).where(
                    filed.c.id.in_(shared_ids)
                ),
            )
        ).all()
        per_customer = [
            (cid, doc_type, n, total) for cid, doc_type, n, total, doc_id in rows if doc_id is None
        ]
        shared = [
            (doc_id, cid, doc_type, total) for cid, doc_type, _n, total, doc_id in rows if doc_id is not None
        ]
        values = self._customer_values(session, {int(r[0]) for r in per_customer})
        out = {}
        for dim in DIMENSIONS:
            groups: dict[str, dict[str, Any]] = {}

            for cid, doc_type, n, total in per_customer:
                _add(groups, values[int(cid)][dim], doc_type, int(n), Decimal(str(total or 0)))
            seen: dict[tuple[int, str], int] = {}
            for doc_id, cid, doc_type, amount in shared:  # a second customer with the same value: once only
                value = values.get(int(cid), {}).get(dim)
                if value and seen.setdefault((int(doc_id), value), 0) > 0:
                    _add(groups, value, doc_type, -1, -Decimal(str(amount or 0)))
                if value:
                    seen[(int(doc_id), value)] += 1
            out[dim] = self._ranked(groups, values["labels"] if dim == "owner" else {})
        return out

    @staticmethod
    def _ranked(groups: dict[str, dict[str, Any]], labels: dict[str, str]) -> list[dict[str, Any]]:
        """The groups with their labels, counts and amounts as text, largest total first, at most :data:`MAX_GROUPS`."""
        out: list[dict[str, Any]] = []
        for value, group in groups.items():
            types = {t: group["types"].get(t, (0, Decimal(0))) for t in AMOUNT_TYPES}
            total = sum((amount for _n, amount in types.values()), Decimal(0))
            out.append(
                {
                    "value": value,
                    "label": labels.get(value, value),
                    "types": {t: {"count": n, "amount": _money(a)} for t, (n, a) in types.items()},
                    "total": total,
                }
            )
        out.sort(key=lambda g: (-Decimal(g["total"]), str(g["value"])))
        for group in out:
            group["total"] = _money(group["total"])
        return out[:MAX_GROUPS]

    @staticmethod
    def _customer_values(session: Session, ids: set[int]) -> dict[Any, Any]:
        """For each customer id, its value of each of :data:`DIMENSIONS`; ``"labels"``: owners' display names."""
        out: dict[Any, Any] = {}
        labels: dict[str, str] = {}
        rows = session.execute(
            select(
                Customer.id,
                Customer.customer_type,
                Customer.stage,
                Customer.region,
                func.coalesce(User.username, Customer.owner_name),
                func.coalesce(User.display_name, User.username, Customer.owner_name),
            )
            .outerjoin(User, User.id == Customer.owner_id)
            .where(Customer.id.in_(sorted(ids)))
        )
        for cid, customer_type, stage, region, owner, owner_label in rows:
            out[int(cid)] = {"customer_type": customer_type, "stage": stage, "region": region, "owner": owner}
            if owner:
                labels[str(owner)] = str(owner_label or owner)
        out["labels"] = labels
        return out

    def _customers(self, session: Session) -> dict[str, Any]:
        """Confirmed customers by type and by sales stage (the registry is everyone's to see), and those without."""
        out: dict[str, Any] = {}
        for field in ("customer_type", "stage"):
            column = getattr(Customer, field)
            rows = session.execute(
                select(column, func.count(Customer.id)).where(Customer.status == "confirmed").group_by(column)
            ).all()
            groups: list[dict[str, Any]] = sorted(
                ({"value": str(v), "count": int(n)} for v, n in rows if v),
                key=lambda g: (-int(g["count"]), str(g["value"])),
            )
            out[field] = groups[:MAX_GROUPS]
            out[f"{field}_unset"] = sum(int(n) for v, n in rows if not v)
        return out
