"""The customer folder, read side: the customer list, its filter choices and one customer's page.

Every function takes an open :class:`~sqlalchemy.orm.Session` and the caller's
:class:`~index.Principal`; only documents the principal may read are counted or listed.
The reading rule is the index's: :func:`index.readable_levels`, plus ``confidential``
documents of the customers a sales user owns (:func:`may_read`, :func:`readable_clause`).

A document belongs to a customer through ``document_customers`` (several customers per
document) or, for rows written before links existed, through ``documents.customer_id``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, case, false, func, or_, select, true, union
from sqlalchemy.orm import Session, selectinload

import index
from foundation.errors import NotFound
from foundation.messages import msg
from foundation.variants import fold_variants
from index import Principal
from ingest import DOC_TYPES
from pipeline import access
from pipeline.amounts import is_total_role
from records import Customer, Document, DocumentCustomer, EntityRow, User, document_access

__all__ = [
    "AMOUNT_DOC_TYPES",
    "DOCS_PER_PAGE",
    "TOTAL_ROLE_MARKS",
    "UNDATED",
    "customer_names",
    "customer_page",
    "filter_options",
    "links_subquery",
    "list_customers",
    "matches",
    "may_read",
    "owned_customer_ids",
    "readable_clause",
    "readable_document",
    "summary",
]

#: Roles that read every document and see every registry state.
READ_ALL_ROLES = ("admin", "manager")

#: The year group of documents without a date.
UNDATED = "日期不详"

#: Document types whose amounts are the customer's key amounts.
AMOUNT_DOC_TYPES = ("contract", "quote", "invoice")

#: Amount roles that name a document's total (合同总价, 价税合计, 报价总额 …): :mod:`pipeline.amounts`' rule.
TOTAL_ROLE_MARKS = ("总", "合计", "total")

#: How many key amounts a customer page lists.
KEY_AMOUNTS = 10

#: Documents per page of a customer's document list.
DOCS_PER_PAGE = 50

#: How many contract dates a customer page lists (newest first).
CONTRACT_DATES = 20


# -- permissions -----------------------------------------------------------------------------


def owned_customer_ids(session: Session, principal: Principal) -> frozenset[int]:
    """The customers a sales principal owns: those it carries plus those whose owner is its user."""
    if principal.role != "sales":
        return frozenset()
    owned = set(principal.owned_customer_ids)
    if principal.user_id is not None:
        owned.update(session.scalars(select(Customer.id).where(Customer.owner_id == principal.user_id)))
    return frozenset(owned)


def may_read(
    principal: Principal, doc: Document, owned: Collection[int] | None = None, *, in_trash: bool = False
) -> bool:
    """Whether ``principal`` may read ``doc``: by its access (the container rule, :mod:`pipeline.access`).

    The access level must be one the role reads, or ``confidential`` with a customer the sales
    principal owns among the access customers.  ``owned`` defaults to
    ``principal.owned_customer_ids`` (see :func:`owned_customer_ids`).  A document in the
    trash is read by no one — except, with ``in_trash``, as a line of the trash page.
    """
    if doc.trashed_at is not None and not in_trash:
        return False
    if principal.role in READ_ALL_ROLES:
        return True
    readers = access.stored_access(doc)
    if readers.level in index.readable_levels(principal):
        return True
    if principal.role != "sales" or readers.level != "confidential":
        return False
    owned = principal.owned_customer_ids if owned is None else owned
    return bool(owned) and not readers.customers.isdisjoint(owned)


def readable_document(session: Session, doc_id: int, principal: Principal) -> Document:
    """Document ``doc_id`` with its pages, versions and tags, read as ``principal``.

    NotFound when it does not exist, is in the trash or ``principal`` may not read it: the three look the same.
    """
    doc = session.get(
        Document,
        doc_id,
        options=[selectinload(Document.pages), selectinload(Document.versions), selectinload(Document.tags)],
    )
    if doc is None or not may_read(principal, doc):
        raise NotFound(msg("app.document.not_found", id=doc_id))
    return doc


def readable_clause(
    principal: Principal, owned: Collection[int] = (), *, in_trash: bool = False
) -> ColumnElement[bool]:
    """:func:`may_read` as a SQL condition on ``Document`` (for counts and lists); ``in_trash``: the trash's documents instead."""
    lifecycle = Document.trashed_at.is_not(None) if in_trash else Document.trashed_at.is_(None)
    return lifecycle & _access_clause(principal, owned)


def _access_clause(principal: Principal, owned: Collection[int]) -> ColumnElement[bool]:
    if principal.role in READ_ALL_ROLES:
        return true()
    levels = sorted(index.readable_levels(principal))
    level = func.coalesce(Document.access_level, Document.confidentiality)
    clause: ColumnElement[bool] = level.in_(levels) if levels else false()
    if principal.role == "sales" and owned:
        ids = sorted(owned)
        allowed = select(document_access.c.document_id).where(document_access.c.customer_id.in_(ids))
        clause = or_(clause, (level == "confidential") & Document.id.in_(allowed))
    return clause


def links_subquery() -> Any:
    """(document_id, customer_id) of every link, the primary ``customer_id`` column included."""
    return union(
        select(
            DocumentCustomer.document_id.label("document_id"),
            DocumentCustomer.customer_id.label("customer_id"),
        ),
        select(Document.id.label("document_id"), Document.customer_id.label("customer_id")).where(
            Document.customer_id.is_not(None)
        ),
    ).subquery()


# -- the list --------------------------------------------------------------------------------


def _fold(text: str) -> str:
    return fold_variants(unicodedata.normalize("NFKC", text).casefold().strip())


def _owner(customer: Customer) -> str:
    if customer.owner_name:
        return customer.owner_name
    return customer.owner.username if customer.owner is not None else ""


def matches(customer: Customer, needle: str) -> bool:
    """Whether a folded ``needle`` is in the customer's name, an alias, credit code, registry id, city or region."""
    haystack = [
        customer.name,
        *(customer.aliases or []),
        customer.credit_code or "",
        customer.external_id or "",
    ]
    haystack += [customer.city or "", customer.region or ""]
    return any(needle in _fold(h) for h in haystack if h)


def readable_counts(
    session: Session, principal: Principal, customer_ids: Iterable[int] | None = None
) -> dict[int, int]:
    """How many documents ``principal`` may read, per customer."""
    links = links_subquery()
    query = (
        select(links.c.customer_id, func.count(func.distinct(Document.id)))
        .join(Document, Document.id == links.c.document_id)
        .where(readable_clause(principal, owned_customer_ids(session, principal)))
        .group_by(links.c.customer_id)
    )
    if customer_ids is not None:
        query = query.where(links.c.customer_id.in_(list(customer_ids)))
    return {int(cid): int(n) for cid, n in session.execute(query)}


def list_customers(
    session: Session,
    principal: Principal,
    *,
    customer_type: str | None = None,
    industry: str | None = None,
    region: str | None = None,
    owner: str | None = None,
    status: str | None = "confirmed",
    text: str | None = None,
) -> list[dict[str, Any]]:
    """Registry customers matching the filters, by name, with the count of documents the caller may read.

    ``status`` None lists every state; ``owner`` matches the registry's owner name or the
    owner's user name or display name; ``text`` is a case-insensitive substring of the name, an alias, the
    credit code, the external id, the city or the region.
    """
    query = select(Customer).options(selectinload(Customer.owner))
    if status:
        query = query.where(Customer.status == status)
    if customer_type:
        query = query.where(Customer.customer_type == customer_type)
    if industry:
        query = query.where(Customer.industry == industry)
    if region:
        query = query.where(Customer.region == region)
    if owner:
        owner_ids = select(User.id).where(or_(User.username == owner, User.display_name == owner))
        query = query.where(or_(Customer.owner_name == owner, Customer.owner_id.in_(owner_ids)))
    # Sorted here, not by the database: PostgreSQL's collation may order Chinese names differently.
    customers = sorted(session.scalars(query), key=lambda c: c.name)
    needle = _fold(text or "")
    if needle:
        customers = [c for c in customers if matches(c, needle)]
    counts = readable_counts(session, principal, [c.id for c in customers]) if customers else {}
    return [dict(summary(c), documents=counts.get(c.id, 0)) for c in customers]


def summary(c: Customer) -> dict[str, Any]:
    """A customer's registry fields as the list, the page and the API show them."""
    return {
        "id": c.id,
        "name": c.name,
        "aliases": [a for a in (c.aliases or []) if a != c.name],
        "credit_code": c.credit_code,
        "external_id": c.external_id,
        "customer_type": c.customer_type,
        "stage": c.stage,
        "industry": c.industry,
        "region": c.region,
        "city": c.city,
        "importance": c.importance,
        "tags": list(c.tags or []),
        "owner": _owner(c),
        "owner_name": c.owner_name,
        # The account the owner name is linked to (dossier.app.owners); None: no owner, or none matches.
        "owner_account": c.owner.username if c.owner is not None else None,
        "status": c.status,
    }


def filter_options(session: Session) -> dict[str, list[str]]:
    """The distinct types, industries, regions, owners, stages, importance grades and tags of confirmed customers, for the filter form."""
    confirmed = Customer.status == "confirmed"

    def distinct(column: Any) -> list[str]:
        rows = session.scalars(select(column).where(confirmed, column.is_not(None), column != "").distinct())
        return sorted(str(v) for v in rows)

    owners = set(distinct(Customer.owner_name))
    owners.update(
        session.scalars(
            select(User.username)
            .join(Customer, Customer.owner_id == User.id)
            .where(confirmed, or_(Customer.owner_name.is_(None), Customer.owner_name == ""))
        )
    )
    tags = {str(t) for row in session.scalars(select(Customer.tags).where(confirmed)) for t in row or [] if t}
    return {
        "customer_types": distinct(Customer.customer_type),
        "industries": distinct(Customer.industry),
        "regions": distinct(Customer.region),
        "owners": sorted(owners),
        "stages": distinct(Customer.stage),
        "importance": distinct(Customer.importance),
        "tags": sorted(tags),
    }


def customer_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """Names of the given customer ids (unknown ids are left out)."""
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return {}
    rows = session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(wanted)))
    return {int(cid): str(name) for cid, name in rows}


# -- one customer ----------------------------------------------------------------------------


def _contact(raw: Any) -> dict[str, str]:
    raw = raw if isinstance(raw, dict) else {}
    return {k: str(raw.get(k) or "") for k in ("name", "title", "mobile", "landline", "email")}


def _amount(value: str) -> Decimal | None:
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return amount if amount.is_finite() else None


def _doc_entry(doc: Document, customer_id: int) -> dict[str, Any]:
    link = next((lk for lk in doc.customer_links if lk.customer_id == customer_id), None)
    version = doc.current
    return {
        "id": doc.id,
        "title": doc.title or (version.filename if version else ""),
        "filename": version.filename if version else "",
        "doc_type": doc.doc_type if doc.doc_type in DOC_TYPES else "other",
        "date": doc.doc_date,
        "status": doc.status,
        "confidentiality": doc.confidentiality,
        "method": link.method if link is not None else ("given" if doc.customer_id == customer_id else None),
        "evidence": link.evidence if link is not None else None,
        "primary": (link.position == 0) if link is not None else doc.customer_id == customer_id,
    }


class _AmountRow(NamedTuple):
    document_id: int
    value: str
    role: str | None
    text: str
    page: int


def _key_amounts(session: Session, scope: ColumnElement[bool]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Each readable contract/quote/invoice's amount, largest first (ties: newer date, then higher id); sums per type.

    ``scope``: the SQL condition of the customer's readable documents.  A document's amount is the stored
    ``documents.amount`` (:mod:`pipeline.amounts`: its 总/合计/total amount, else its largest), so the sums are one
    aggregate; only the shown documents' amount entities are read, for the passage (role, text, page) it came from.
    """
    # ``doc_type || ''`` and ``amount + 0``: from the customer's documents, not along the home-wide (type, amount) index.
    amount = Document.amount + 0
    priced = scope & (Document.doc_type + "").in_(AMOUNT_DOC_TYPES) & amount.is_not(None)
    sums = {
        str(doc_type): Decimal(total)
        for doc_type, total in session.execute(
            select(Document.doc_type, func.sum(amount)).where(priced).group_by(Document.doc_type)
        )
        if total is not None
    }
    if not sums:
        return [], {}
    docs = session.execute(
        select(Document.id, Document.title, Document.doc_type, Document.doc_date, Document.amount)
        .where(priced)
        .order_by(amount.desc(), Document.doc_date.desc().nulls_last(), Document.id.desc())
        .limit(KEY_AMOUNTS)
    ).all()
    ids = [d.id for d in docs]
    sources: dict[int, tuple[bool, Decimal, _AmountRow]] = {}
    for row in session.execute(
        select(EntityRow.document_id, EntityRow.value, EntityRow.role, EntityRow.text, EntityRow.page).where(
            # ``kind || ''``: by the few documents' ids, not through every amount of the home.
            EntityRow.document_id.in_(ids),
            (EntityRow.kind + "") == "amount",
        )
    ):
        entry = _AmountRow(*row)
        value = _amount(entry.value)
        if value is None:
            continue
        candidate = (is_total_role(entry.role), value, entry)
        current = sources.get(entry.document_id)
        if current is None or candidate[:2] > current[:2]:
            sources[entry.document_id] = candidate
    titles = _titles(session, ids, {d.id: d for d in docs})
    amounts = []
    for d in docs:
        source = sources.get(d.id)
        amounts.append(
            {
                "value": f"{Decimal(d.amount):.2f}",
                "role": source[2].role or "" if source else "",
                "text": source[2].text if source else "",
                "page": source[2].page if source else None,
                "document_id": d.id,
                "title": titles[d.id],
                "doc_type": d.doc_type,
                "date": d.doc_date,
            }
        )
    ordered = {t: f"{sums[t]:.2f}" for t in AMOUNT_DOC_TYPES if t in sums}
    return amounts, ordered


def _titles(session: Session, ids: list[int], docs: dict[int, Any]) -> dict[int, str]:
    """Each document's title, or its current version's file name where it has none."""
    out = {i: docs[i].title for i in ids if docs[i].title}
    missing = [i for i in ids if i not in out]
    if missing:
        for doc in session.scalars(
            select(Document).where(Document.id.in_(missing)).options(selectinload(Document.versions))
        ):
            out[doc.id] = doc.current.filename if doc.current else ""
    return out


def _undated() -> ColumnElement[bool]:
    return or_(Document.doc_date.is_(None), Document.doc_date == "")


def _key_dates(session: Session, scope: ColumnElement[bool]) -> dict[str, Any]:
    """The first and latest dated readable document and the newest :data:`CONTRACT_DATES` contracts' dates."""
    dated = select(Document.id, Document.title, Document.doc_type, Document.doc_date).where(
        scope, ~_undated()
    )

    def points(stmt: Any) -> list[dict[str, Any]]:
        rows = {r.id: r for r in session.execute(stmt)}
        titles = _titles(session, list(rows), rows)
        return [
            {
                "date": r.doc_date,
                "document_id": r.id,
                "title": titles[r.id],
                "doc_type": r.doc_type if r.doc_type in DOC_TYPES else "other",
            }
            for r in rows.values()
        ]

    first = points(dated.order_by(Document.doc_date, Document.id).limit(1))
    latest = points(dated.order_by(Document.doc_date.desc(), Document.id.desc()).limit(1))
    contracts = points(
        # ``doc_type || ''``: from the customer's documents, not along the home-wide type index.
        dated.where((Document.doc_type + "") == "contract")
        .order_by(Document.doc_date.desc(), Document.id.desc())
        .limit(CONTRACT_DATES)
    )
    return {
        "contracts": contracts,
        "first": first[0] if first else None,
        "latest": latest[0] if latest else None,
    }


def _type_of() -> Any:
    """The document's type as the page groups it: an unknown type reads as ``other``."""
    return case((Document.doc_type.in_(DOC_TYPES), Document.doc_type), else_="other")


def _year_of() -> Any:
    """The document's year as the page groups it: :data:`UNDATED` where it has no date."""
    return case((_undated(), UNDATED), else_=func.substr(Document.doc_date, 1, 4))


def customer_page(
    session: Session,
    customer_id: int,
    principal: Principal,
    *,
    page: int = 1,
    doc_type: str | None = None,
    year: str | None = None,
    per_page: int | None = None,
) -> dict[str, Any]:
    """One customer: its fields and contacts, one page of its readable documents, key amounts and dates.

    Counts, groups, amounts and dates are computed in SQL over every document ``principal`` may
    read; only the page's documents (``per_page``, default :data:`DOCS_PER_PAGE`, newest first: dated by date, then undated,
    each by id) are loaded.  ``doc_type`` and ``year`` (a year or :data:`UNDATED`) narrow the
    list (not the counts).  ``type_counts`` follows ``DOC_TYPES`` order and ``year_counts``
    runs newest first with :data:`UNDATED` last; ``by_type``/``by_year`` group the page's
    documents the same way.  Unknown ids, and rejected customers for anyone but admins and
    managers, raise ``NotFound``.
    """
    customer = session.get(Customer, customer_id, options=[selectinload(Customer.owner)])
    if customer is None or (customer.status == "rejected" and principal.role not in READ_ALL_ROLES):
        raise NotFound(msg("app.customer.not_found", id=customer_id))
    per_page = per_page or DOCS_PER_PAGE
    owned = owned_customer_ids(session, principal)
    # The customer's documents by id (its primary column's index and its links' index), then the reading
    # rule; ``trashed_at`` through ``coalesce`` so that the planner does not walk its index (every live row).
    ids = union(
        select(Document.id).where(Document.customer_id == customer_id),
        select(DocumentCustomer.document_id).where(DocumentCustomer.customer_id == customer_id),
    )
    live = func.coalesce(Document.trashed_at, Document.trashed_at).is_(None)
    scope = Document.id.in_(ids) & live & _access_clause(principal, owned)
    kind, when = _type_of(), _year_of()
    per_type: dict[str, int] = dict(
        session.execute(select(kind, func.count()).where(scope).group_by(kind)).all()
    )
    per_year: dict[str, int] = dict(
        session.execute(select(when, func.count()).where(scope).group_by(when)).all()
    )
    total = sum(per_type.values())
    type_counts = [{"doc_type": t, "count": per_type[t]} for t in DOC_TYPES if per_type.get(t)]
    years = sorted((y for y in per_year if y != UNDATED), reverse=True) + (
        [UNDATED] if UNDATED in per_year else []
    )
    year_counts = [{"year": y, "count": per_year[y]} for y in years]

    shown = scope
    if doc_type:
        shown = shown & (kind == doc_type)
    if year:
        shown = shown & (when == year)
    matching = total if shown is scope else int(session.scalar(select(func.count()).where(shown)) or 0)
    pages = max(1, -(-matching // per_page))
    page = min(max(1, page), pages)
    found = session.scalars(
        select(Document)
        .where(shown)
        .order_by(
            case((_undated(), 1), else_=0),
            func.coalesce(Document.doc_date, "").desc(),
            Document.id.desc(),
        )
        .offset((page - 1) * per_page)
        .limit(per_page)
        .options(selectinload(Document.versions), selectinload(Document.customer_links))
    ).all()
    entries = [_doc_entry(d, customer_id) for d in found]
    by_type = [
        {"doc_type": t["doc_type"], "count": t["count"], "documents": group}
        for t in type_counts
        if (group := [d for d in entries if d["doc_type"] == t["doc_type"]])
    ]
    by_year = [
        {"year": y["year"], "count": y["count"], "documents": group}
        for y in year_counts
        if (group := [d for d in entries if (d["date"][:4] if d["date"] else UNDATED) == y["year"]])
    ]
    amounts, totals = _key_amounts(session, scope)
    return dict(
        summary(customer),
        address=customer.address,
        notes=customer.notes,
        contacts=[_contact(c) for c in customer.contacts or []],
        documents=entries,
        document_count=total,
        matching_count=matching,
        page=page,
        pages=pages,
        per_page=per_page,
        doc_type_filter=doc_type or None,
        year_filter=year or None,
        type_counts=type_counts,
        year_counts=year_counts,
        by_type=by_type,
        by_year=by_year,
        key_amounts=amounts,
        amount_totals=totals,
        key_dates=_key_dates(session, scope),
        legal_hold=customer.legal_hold,
        legal_hold_reason=customer.legal_hold_reason,
    )
