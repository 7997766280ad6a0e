"""Activities and comments (沟通记录, ``Dossier.activities``): calls, visits, meetings, e-mails, notes, remarks on documents.

An activity is logged against a customer (optionally a document) without a file: when, who
(the author, the principal), with whom (contacts), what was said, the next step and a
confidentiality level.  A ``comment`` is a remark on a document: its customer is the
document's primary customer, and it is at least as restricted as the document
(:func:`pipeline.activity_index.activity_level`, the container rule's joining).

**Who may log**: admins and managers on any customer; finance on any customer; sales on the
customers they own (:func:`dossier.app.folder.owned_customer_ids`), and comments on any
document they can read; viewers nothing.  **Who may edit or delete**: the author, or an admin
or manager.  **Who reads one**: the documents' rule — :func:`index.readable_levels` of the
principal, plus ``confidential`` ones of the customers a sales rep owns; admins and managers
all.  A comment on a document in the trash is read by no one (and the index drops it).

Every write is audited (``activity_add``, ``activity_edit``, ``activity_delete``) and updates
the search index in the records' transaction (:mod:`pipeline.activity_index`): nothing is
half-written.  A customer that does not exist and a document one may not read both answer
404 with a message naming what was asked for.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, false, func, or_, select, true
from sqlalchemy.orm import Session

from dossier.app import folder
from dossier.app.resources import HomeResources
from foundation.errors import DossierError, Forbidden, NotFound
from foundation.messages import msg
from index import CONFIDENTIALITY_LEVELS, Principal, readable_levels
from pipeline.activity_index import (
    KIND_LABELS,
    activity_level,
    activity_title,
    index_activities,
    unindex_activities,
)
from records import ACTIVITY_KINDS, Activity, Customer, Document, record_event, utcnow

__all__ = [
    "LOGGED_KINDS",
    "MAX_BODY",
    "MAX_CONTACTS",
    "MAX_NEXT_STEP",
    "MAX_SUBJECT",
    "ActivityError",
    "ActivityService",
    "activity_hits",
    "activity_readable_clause",
    "activity_view",
    "may_read_activity",
    "parse_when",
]

#: Kinds logged against a customer (``comment`` is the remark on a document).
LOGGED_KINDS = tuple(k for k in ACTIVITY_KINDS if k != "comment")
MAX_SUBJECT = 255
MAX_BODY = 20_000
MAX_NEXT_STEP = 1000
MAX_CONTACTS = 20
MAX_CONTACT = 64
#: Roles that read every activity and may edit or delete anyone's.
MANAGE_ROLES = ("admin", "manager")
#: Roles that may log activities at all (sales only on the customers they own).
LOG_ROLES = ("admin", "manager", "finance", "sales")
MAX_PER_PAGE = 200


class ActivityError(DossierError):
    """An activity that cannot be stored as given (a bad date, a kind, a level, a field too long)."""

    status = 400


def parse_when(value: str | datetime | None) -> datetime:
    """When an activity happened: a datetime, ``2026-12-01``, ``2026-12-01 10:00`` (``/`` too); None is now."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return utcnow()
    if isinstance(value, datetime):
        return value.replace(tzinfo=None, microsecond=0)
    text = str(value).strip().replace("/", "-").replace("T", " ")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ActivityError(msg("app.activity.bad_when", value=str(value)[:40])) from None
    if not 1900 <= when.year <= 2200:
        raise ActivityError(msg("app.activity.bad_when", value=str(value)[:40]))
    return when.replace(tzinfo=None, microsecond=0)


def may_read_activity(
    principal: Principal, row: Activity, owned: Iterable[int], doc: Document | None
) -> bool:
    """Whether ``principal`` reads activity ``row`` (``doc``: its document, if any; one in the trash hides it)."""
    if doc is not None and doc.trashed_at is not None:
        return False
    if principal.role in MANAGE_ROLES:
        return True
    if row.confidentiality in readable_levels(principal):
        return True
    return (
        principal.role == "sales"
        and row.confidentiality == "confidential"
        and row.customer_id is not None
        and row.customer_id in set(owned)
    )


def activity_readable_clause(principal: Principal, owned: Iterable[int]) -> ColumnElement[bool]:
    """:func:`may_read_activity` as a SQL condition on ``Activity`` (the trash condition apart: see callers)."""
    if principal.role in MANAGE_ROLES:
        return true()
    levels = sorted(readable_levels(principal))
    clause: ColumnElement[bool] = Activity.confidentiality.in_(levels) if levels else false()
    owned_ids = sorted(set(owned))
    if principal.role == "sales" and owned_ids:
        clause = or_(
            clause, (Activity.confidentiality == "confidential") & Activity.customer_id.in_(owned_ids)
        )
    return clause


def _not_on_trashed() -> ColumnElement[bool]:
    """Activities not on a document in the trash."""
    trashed = select(Document.id).where(Document.trashed_at.is_not(None))
    return or_(Activity.document_id.is_(None), Activity.document_id.not_in(trashed))


class ActivityService:
    """Log, edit, delete and list activities and comments (see the module docstring)."""

    def __init__(self, home: HomeResources) -> None:
        self._home = home
        self._sessions = home.sessions
        self._backend = home.backend

    # -- writing -------------------------------------------------------------------------------

    def add(
        self,
        principal: Principal,
        *,
        kind: str = "note",
        customer: int | str | None = None,
        document: int | None = None,
        occurred_at: str | datetime | None = None,
        contacts: Sequence[str] = (),
        subject: str = "",
        body: str = "",
        next_step: str | None = None,
        confidentiality: str | None = None,
    ) -> dict[str, Any]:
        """Log an activity (or, with kind ``comment``, a comment on ``document``); returns it as :meth:`get` does."""
        kind = _kind(kind)
        if principal.role not in LOG_ROLES:
            raise Forbidden(msg("app.activity.forbidden"))
        when = parse_when(occurred_at)
        fields = _checked_fields(contacts=contacts, subject=subject, body=body, next_step=next_step)
        level = _level(confidentiality, principal)
        with self._sessions() as session:
            owned = folder.owned_customer_ids(session, principal)
            doc = None
            if document is not None:
                doc = folder.readable_document(session, int(document), principal)
            elif kind == "comment":
                raise ActivityError(msg("app.activity.comment_needs_document"))
            if kind == "comment":
                assert doc is not None
                target = session.get(Customer, doc.customer_id) if doc.customer_id is not None else None
                if principal.role == "viewer":
                    raise Forbidden(msg("app.activity.forbidden"))
            else:
                if customer is None or customer == "":
                    if doc is None or doc.customer_id is None:
                        raise ActivityError(msg("app.activity.customer_required"))
                    target = session.get(Customer, doc.customer_id)
                else:
                    target = _customer(session, customer)
                if target is None:
                    raise ActivityError(msg("app.activity.customer_required"))
                if principal.role == "sales" and target.id not in owned:
                    raise Forbidden(msg("app.activity.not_your_customer", name=target.name))
            if not fields["body"] and not fields["subject"]:
                raise ActivityError(msg("app.activity.empty"))
            row = Activity(
                kind=kind,
                customer_id=target.id if target is not None else None,
                document_id=doc.id if doc is not None else None,
                occurred_at=when,
                author=principal.username,
                author_id=principal.user_id,
                confidentiality=activity_level(level, doc),
                **fields,
            )
            _check_readable(principal, row, owned)
            session.add(row)
            session.flush()
            record_event(
                session,
                principal.username,
                "activity_add",
                target_type="activity",
                target_id=row.id,
                detail=_audit_view(row, target),
            )
            index_activities(session, self._backend, [row])
            session.commit()
            return activity_view(session, row, principal)

    def comment(
        self, principal: Principal, document_id: int, text: str, *, confidentiality: str | None = None
    ) -> dict[str, Any]:
        """Comment on a document one can read (its level at least the document's)."""
        return self.add(
            principal, kind="comment", document=document_id, body=text, confidentiality=confidentiality
        )

    def edit(self, principal: Principal, activity_id: int, **changes: Any) -> dict[str, Any]:
        """Change an activity's fields (author, admin or manager): ``kind``, ``occurred_at``, ``contacts``,
        ``subject``, ``body``, ``next_step``, ``confidentiality``; audited with before and after."""
        allowed = {"kind", "occurred_at", "contacts", "subject", "body", "next_step", "confidentiality"}
        unknown = sorted(set(changes) - allowed)
        if unknown:
            raise ActivityError(msg("app.activity.unknown_field", name=", ".join(unknown)))
        with self._sessions() as session:
            owned = folder.owned_customer_ids(session, principal)
            row, doc = self._writable(session, principal, activity_id, owned)
            before = _audit_view(row, None)
            if "kind" in changes and changes["kind"] is not None:
                kind = _kind(changes["kind"])
                if (kind == "comment") != (row.kind == "comment"):
                    raise ActivityError(msg("app.activity.kind_fixed"))
                row.kind = kind
            if changes.get("occurred_at") is not None:
                row.occurred_at = parse_when(changes["occurred_at"])
            current: dict[str, Any] = {
                "contacts": row.contacts or [],
                "subject": row.subject,
                "body": row.body,
                "next_step": row.next_step,
            }
            current.update({k: v for k, v in changes.items() if k in current and v is not None})
            fields = _checked_fields(**current)
            if not fields["body"] and not fields["subject"]:
                raise ActivityError(msg("app.activity.empty"))
            for key, value in fields.items():
                setattr(row, key, value)
            if changes.get("confidentiality"):
                row.confidentiality = activity_level(_level(changes["confidentiality"], principal), doc)
            _check_readable(principal, row, owned)
            row.updated_at = utcnow()
            after = _audit_view(row, None)
            changed = {k: [before[k], after[k]] for k in after if before.get(k) != after[k]}
            record_event(
                session,
                principal.username,
                "activity_edit",
                target_type="activity",
                target_id=row.id,
                detail={"kind": row.kind, "customer_id": row.customer_id, "changed": changed},
            )
            index_activities(session, self._backend, [row])
            session.commit()
            return activity_view(session, row, principal)

    def delete(self, principal: Principal, activity_id: int) -> dict[str, Any]:
        """Delete an activity (author, admin or manager); audited with what it said."""
        with self._sessions() as session:
            owned = folder.owned_customer_ids(session, principal)
            row, _doc = self._writable(session, principal, activity_id, owned)
            target = session.get(Customer, row.customer_id) if row.customer_id else None
            record_event(
                session,
                principal.username,
                "activity_delete",
                target_type="activity",
                target_id=row.id,
                detail=_audit_view(row, target),
            )
            unindex_activities(session, self._backend, [row.id])
            session.delete(row)
            session.commit()
            return {"id": activity_id, "deleted": True}

    def _writable(
        self, session: Session, principal: Principal, activity_id: int, owned: Iterable[int]
    ) -> tuple[Activity, Document | None]:
        row, doc = self._readable(session, principal, activity_id, owned)
        mine = (
            row.author_id == principal.user_id
            if row.author_id is not None
            else row.author == principal.username
        )
        if not (mine or principal.role in MANAGE_ROLES):
            raise Forbidden(msg("app.activity.edit_forbidden"))
        return row, doc

    def _readable(
        self, session: Session, principal: Principal, activity_id: int, owned: Iterable[int]
    ) -> tuple[Activity, Document | None]:
        row = session.get(Activity, int(activity_id))
        doc = session.get(Document, row.document_id) if row is not None and row.document_id else None
        if row is None or not may_read_activity(principal, row, owned, doc):
            raise NotFound(msg("app.activity.not_found", id=activity_id))
        if doc is not None and not folder.may_read(principal, doc, set(owned)):
            raise NotFound(msg("app.activity.not_found", id=activity_id))
        return row, doc

    # -- reading -------------------------------------------------------------------------------

    def get(self, principal: Principal, activity_id: int) -> dict[str, Any]:
        """One activity as ``principal`` reads it; NotFound when it does not exist or may not be read."""
        with self._sessions() as session:
            owned = folder.owned_customer_ids(session, principal)
            row, _doc = self._readable(session, principal, activity_id, owned)
            return activity_view(session, row, principal)

    def list(
        self,
        principal: Principal,
        *,
        customer: int | str | None = None,
        document: int | None = None,
        kind: str | None = None,
        page: int = 1,
        per_page: int = 50,
    ) -> dict[str, Any]:
        """Activities ``principal`` may read, newest first: ``{"items", "total", "page", "pages"}``."""
        per_page = max(1, min(int(per_page), MAX_PER_PAGE))
        page = max(1, int(page))
        with self._sessions() as session:
            owned = folder.owned_customer_ids(session, principal)
            where = [activity_readable_clause(principal, owned), _not_on_trashed()]
            if customer not in (None, ""):
                assert customer is not None
                target = _customer(session, customer)
                where.append(Activity.customer_id == target.id)
            if document is not None:
                doc = folder.readable_document(session, int(document), principal)
                where.append(Activity.document_id == doc.id)
            if kind:
                where.append(Activity.kind == _kind(kind))
            total = int(session.scalar(select(func.count(Activity.id)).where(*where)) or 0)
            rows = session.scalars(
                select(Activity)
                .where(*where)
                .order_by(Activity.occurred_at.desc(), Activity.id.desc())
                .offset((page - 1) * per_page)
                .limit(per_page)
            ).all()
            return {
                "items": [activity_view(session, r, principal) for r in rows],
                "total": total,
                "page": page,
                "pages": max(1, math.ceil(total / per_page)),
                "per_page": per_page,
            }


def activity_hits(
    session: Session, principal: Principal, activity_ids: Sequence[int]
) -> dict[int, dict[str, Any]]:
    """``{activity id: its search hit display}`` for the ids ``principal`` may read now (the records decide).

    The display has ``activity`` (the id), ``id`` (0: not a document), ``kind``, ``doc_type``
    (``activity`` or ``comment``), ``title``, ``customer``/``customers``, ``date``,
    ``document`` (the commented document's id or None) and ``link``: the customer timeline's
    anchor, or the document page's comments for a comment.
    """
    if not activity_ids:
        return {}
    owned = folder.owned_customer_ids(session, principal)
    rows = session.scalars(select(Activity).where(Activity.id.in_(sorted(set(activity_ids))))).all()
    docs = {
        d.id: d
        for d in session.scalars(
            select(Document).where(Document.id.in_({r.document_id for r in rows if r.document_id}))
        )
    }
    customers = {
        c.id: c
        for c in session.scalars(
            select(Customer).where(Customer.id.in_({r.customer_id for r in rows if r.customer_id}))
        )
    }
    out: dict[int, dict[str, Any]] = {}
    for row in rows:
        doc = docs.get(row.document_id) if row.document_id else None
        if not may_read_activity(principal, row, owned, doc):
            continue
        if doc is not None and not folder.may_read(principal, doc, owned):
            continue
        customer = customers.get(row.customer_id) if row.customer_id else None
        if row.kind == "comment" and doc is not None:
            link = f"/documents/{doc.id}#comment-{row.id}"
        elif customer is not None:
            link = f"/customers/{customer.id}#activity-{row.id}"
        else:
            link = ""
        out[row.id] = {
            "id": 0,
            "activity": row.id,
            "kind": row.kind,
            "doc_type": "comment" if row.kind == "comment" else "activity",
            "title": activity_title(row, doc),
            "filename": "",
            "customer": customer.name if customer is not None else None,
            "customer_id": customer.id if customer is not None else None,
            "customers": [customer.name] if customer is not None else [],
            "date": row.occurred_at.date().isoformat() if row.occurred_at else None,
            "occurred_at": row.occurred_at.isoformat(timespec="minutes") if row.occurred_at else None,
            "author": row.author,
            "contacts": list(row.contacts or []),
            "document": doc.id if doc is not None else None,
            "confidentiality": row.confidentiality,
            "body": row.body,
            "status": "indexed",
            "version": 0,
            "link": link,
        }
    return out


def activity_view(session: Session, row: Activity, principal: Principal) -> dict[str, Any]:
    """An activity as lists, the API and the CLI show it."""
    customer = session.get(Customer, row.customer_id) if row.customer_id else None
    doc = session.get(Document, row.document_id) if row.document_id else None
    mine = (
        row.author_id == principal.user_id if row.author_id is not None else row.author == principal.username
    )
    return {
        "id": row.id,
        "kind": row.kind,
        "kind_label": list(KIND_LABELS.get(row.kind, (row.kind, row.kind))),
        "doc_type": "comment" if row.kind == "comment" else "activity",
        "customer": {"id": customer.id, "name": customer.name} if customer is not None else None,
        "document": {"id": doc.id, "title": doc.title} if doc is not None else None,
        "occurred_at": row.occurred_at.isoformat(timespec="minutes") if row.occurred_at else None,
        "author": row.author,
        "contacts": list(row.contacts or []),
        "subject": row.subject,
        "body": row.body,
        "next_step": row.next_step,
        "confidentiality": row.confidentiality,
        "created_at": row.created_at.isoformat(timespec="seconds") if row.created_at else None,
        "updated_at": row.updated_at.isoformat(timespec="seconds") if row.updated_at else None,
        "may_edit": mine or principal.role in MANAGE_ROLES,
    }


def _audit_view(row: Activity, customer: Customer | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": row.kind,
        "customer_id": row.customer_id,
        "document_id": row.document_id,
        "occurred_at": row.occurred_at.isoformat(timespec="minutes") if row.occurred_at else None,
        "contacts": list(row.contacts or []),
        "subject": row.subject,
        "body": (row.body or "")[:500],
        "next_step": row.next_step,
        "confidentiality": row.confidentiality,
    }
    if customer is not None:
        out["customer"] = customer.name
    return out


def _check_readable(principal: Principal, row: Activity, owned: Iterable[int]) -> None:
    """Refuse a level its author could not read back (a rep's finance note would vanish from their own view)."""
    if not may_read_activity(principal, row, owned, None):
        raise ActivityError(msg("app.activity.level_unreadable", level=row.confidentiality))


def _kind(kind: str) -> str:
    value = (kind or "").strip().lower()
    if value not in ACTIVITY_KINDS:
        raise ActivityError(
            msg("app.activity.bad_kind", kind=str(kind)[:40], kinds=", ".join(ACTIVITY_KINDS))
        )
    return value


def _level(level: str | None, principal: Principal) -> str:
    """The level asked for, or the author's default: finance for finance, else internal."""
    if not level:
        return "finance" if principal.role == "finance" else "internal"
    value = level.strip().lower()
    if value not in CONFIDENTIALITY_LEVELS:
        raise ActivityError(
            msg("app.activity.bad_level", level=level[:40], levels=", ".join(CONFIDENTIALITY_LEVELS))
        )
    return value


def _checked_fields(
    *, contacts: Sequence[str] | str | None, subject: str | None, body: str | None, next_step: str | None
) -> dict[str, Any]:
    """The text fields, stripped and within their limits (a clear 400 error naming the limit otherwise)."""
    if isinstance(contacts, str):
        contacts = [c for c in contacts.replace("，", ",").replace("、", ",").split(",")]
    names = list(dict.fromkeys(c.strip() for c in (contacts or []) if c and c.strip()))
    if len(names) > MAX_CONTACTS:
        raise ActivityError(msg("app.activity.too_many_contacts", count=len(names), max=MAX_CONTACTS))
    for name in names:
        if len(name) > MAX_CONTACT:
            raise ActivityError(msg("app.activity.contact_too_long", max=MAX_CONTACT))
    subject = (subject or "").strip()
    body = (body or "").strip()
    step = (next_step or "").strip() or None
    if len(subject) > MAX_SUBJECT:
        raise ActivityError(
            msg("app.activity.too_long", field="subject", max=MAX_SUBJECT, count=len(subject))
        )
    if len(body) > MAX_BODY:
        raise ActivityError(msg("app.activity.too_long", field="body", max=MAX_BODY, count=len(body)))
    if step is not None and len(step) > MAX_NEXT_STEP:
        raise ActivityError(
            msg("app.activity.too_long", field="next_step", max=MAX_NEXT_STEP, count=len(step))
        )
    return {"contacts": names, "subject": subject, "body": body, "next_step": step}


def _customer(session: Session, ref: int | str) -> Customer:
    """A customer by id (digits) or by name or alias; NotFound naming what was asked for."""
    text = str(ref).strip()
    found: Customer | None = None
    if text.isdigit():
        found = session.get(Customer, int(text))
    else:
        found = session.scalars(select(Customer).where(Customer.name == text)).first()
        if found is None:
            found = next(
                (
                    c
                    for c in session.scalars(select(Customer).where(Customer.status != "rejected"))
                    if text in (c.aliases or [])
                ),
                None,
            )
    if found is None or found.status == "rejected":
        raise NotFound(msg("app.activity.no_customer", name=text[:80]))
    return found
