"""The customer list a sales team steers by: filters, the figures per customer, sorted and paged in SQL.

Besides the registry fields (:func:`dossier.app.folder.list_customers`' rows) each customer has

* ``documents``: how many of its documents the viewer may read;
* ``last_activity``: the latest of its activities' ``occurred_at`` and its documents'
  ``created_at`` (only activities and documents the viewer may read);
* ``open_reminders``: its open reminders the viewer may see (their own, or of a level they read);
* ``contract_amount``: the sum of the contract amounts of its contracts the viewer may read —
  each contract's total as the customer page's key amounts take it (its 总/合计/total amount, else
  its largest), so the list and the page agree.

The sort (``name``, ``last_activity``, ``open_reminders``, ``contract_amount``; the figures
largest or latest first, customers without one last) and the page are the database's work:
one query, whatever the number of customers.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, false, func, or_, select, true
from sqlalchemy.orm import Session, selectinload

import index
from dossier.app import _reminder_rules as reminder_rules
from dossier.app import folder
from foundation.variants import fold_variants
from foundation.vocabulary import customer_type_name, importance_level
from index import Principal
from records import Activity, Customer, Document, Reminder, User

__all__ = ["MAX_LIMIT", "SORTS", "customer_list"]

SORTS = ("name", "last_activity", "open_reminders", "contract_amount")
MAX_LIMIT = 500
_CENT = Decimal("0.01")


def _level_clause(column: Any, customer_column: Any, principal: Principal, owned: Collection[int]) -> Any:
    """What ``principal`` may read of rows with a confidentiality ``column`` about customer ``customer_column``."""
    if principal.role in folder.READ_ALL_ROLES:
        return true()
    levels = sorted(index.readable_levels(principal))
    clause = column.in_(levels) if levels else false()
    if principal.role == "sales" and owned:
        clause = or_(clause, and_(column == "confidential", customer_column.in_(sorted(owned))))
    return clause


def _figures(principal: Principal, owned: Collection[int]) -> tuple[Any, Any, Any, Any]:
    """Subqueries by customer id: (documents, last document), last activity, open reminders, contract amount."""
    links = folder.links_subquery()
    readable = folder.readable_clause(principal, owned)
    docs = (
        select(
            links.c.customer_id.label("customer_id"),
            func.count(func.distinct(Document.id)).label("documents"),
            func.max(Document.created_at).label("last_document"),
        )
        .join(Document, Document.id == links.c.document_id)
        .where(readable)
        .group_by(links.c.customer_id)
        .subquery()
    )
    activities = (
        select(
            Activity.customer_id.label("customer_id"), func.max(Activity.occurred_at).label("last_activity")
        )
        .where(
            Activity.customer_id.is_not(None),
            _level_clause(Activity.confidentiality, Activity.customer_id, principal, owned),
        )
        .group_by(Activity.customer_id)
        .subquery()
    )
    # The reminders' own rule (its document readable too): over Reminder outer-joined to its Document.
    visible = reminder_rules.visible_clause(principal, owned)
    reminders = (
        select(Reminder.customer_id.label("customer_id"), func.count(Reminder.id).label("open_reminders"))
        .select_from(Reminder)
        .outerjoin(Document, Document.id == Reminder.document_id)
        .where(Reminder.customer_id.is_not(None), Reminder.status == "open", visible)
        .group_by(Reminder.customer_id)
        .subquery()
    )
    # A contract's amount is the stored documents.amount (pipeline.amounts: its total, else its largest).
    contracts = (
        select(links.c.customer_id.label("customer_id"), func.sum(Document.amount).label("contract_amount"))
        .join(Document, Document.id == links.c.document_id)
        .where(Document.doc_type == "contract", Document.amount.is_not(None), readable)
        .group_by(links.c.customer_id)
        .subquery()
    )
    return docs, activities, reminders, contracts


def _fold(text: str) -> str:
    return fold_variants(unicodedata.normalize("NFKC", text).casefold().strip())


def _tag_ids(session: Session, tag: str) -> list[int]:
    """Customers carrying ``tag`` (compared as the search's ``ctag:`` compares: exactly, after trimming)."""
    wanted = tag.strip()
    rows = session.execute(select(Customer.id, Customer.tags))
    return [int(cid) for cid, tags in rows if wanted in [str(t).strip() for t in tags or []]]


def customer_list(
    session: Session,
    principal: Principal,
    *,
    customer_type: str | None = None,
    industry: str | None = None,
    region: str | None = None,
    owner: str | None = None,
    stage: str | None = None,
    importance: str | None = None,
    tag: str | None = None,
    text: str | None = None,
    status: str | None = "confirmed",
    sort: str = "name",
    offset: int = 0,
    limit: int = 50,
) -> dict[str, Any]:
    """One page of the customer list: ``{"total", "offset", "limit", "sort", "customers": [rows]}``.

    Filters as :func:`dossier.app.folder.list_customers` takes them, plus ``stage`` (exact),
    ``importance`` (A/B/C in any case or width) and ``tag`` (a customer tag); an unknown
    ``sort`` reads as ``name``.
    """
    owned = folder.owned_customer_ids(session, principal)
    docs, activities, reminders, contracts = _figures(principal, owned)
    last_document, last_activity = docs.c.last_document, activities.c.last_activity
    latest = case(
        (last_document.is_(None), last_activity),
        (last_activity.is_(None), last_document),
        (last_activity > last_document, last_activity),
        else_=last_document,
    )
    open_count = func.coalesce(reminders.c.open_reminders, 0)
    query = (
        select(
            Customer,
            func.coalesce(docs.c.documents, 0),
            last_document,
            last_activity,
            open_count,
            contracts.c.contract_amount,
        )
        .outerjoin(docs, docs.c.customer_id == Customer.id)
        .outerjoin(activities, activities.c.customer_id == Customer.id)
        .outerjoin(reminders, reminders.c.customer_id == Customer.id)
        .outerjoin(contracts, contracts.c.customer_id == Customer.id)
        .options(selectinload(Customer.owner))
    )
    conditions: list[Any] = []
    if status:
        conditions.append(Customer.status == status)
    if customer_type:
        conditions.append(Customer.customer_type == (customer_type_name(customer_type) or customer_type))
    if industry:
        conditions.append(Customer.industry == industry)
    if region:
        conditions.append(Customer.region == region)
    if stage:
        conditions.append(Customer.stage == stage.strip())
    if importance:
        conditions.append(Customer.importance == (importance_level(importance) or importance.strip()))
    if owner:
        owner_ids = select(User.id).where(or_(User.username == owner, User.display_name == owner))
        conditions.append(or_(Customer.owner_name == owner, Customer.owner_id.in_(owner_ids)))
    if tag:
        conditions.append(Customer.id.in_(_tag_ids(session, tag)))
    needle = _fold(text or "")
    if needle:
        candidates = session.scalars(select(Customer).where(*conditions))
        conditions.append(Customer.id.in_([c.id for c in candidates if folder.matches(c, needle)]))
    if conditions:
        query = query.where(*conditions)
    total = int(session.scalar(select(func.count(Customer.id)).where(*conditions)) or 0)
    sort = sort if sort in SORTS else "name"
    order: list[Any] = []
    if sort == "last_activity":
        order.append(latest.desc().nulls_last())
    elif sort == "open_reminders":
        order.append(open_count.desc())
    elif sort == "contract_amount":
        order.append(contracts.c.contract_amount.desc().nulls_last())
    order += [Customer.name, Customer.id]
    limit = max(1, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))
    rows = session.execute(query.order_by(*order).offset(offset).limit(limit)).all()
    out = []
    for customer, documents, doc_at, activity_at, open_n, amount in rows:
        out.append(
            dict(
                folder.summary(customer),
                documents=int(documents),
                last_activity=_latest(doc_at, activity_at),
                open_reminders=int(open_n),
                contract_amount=None if amount is None else f"{Decimal(str(amount)).quantize(_CENT)}",
            )
        )
    return {"total": total, "offset": offset, "limit": limit, "sort": sort, "customers": out}


def _latest(*values: Any) -> str | None:
    found = [v for v in values if isinstance(v, datetime)]
    return max(found).isoformat(timespec="seconds") if found else None
