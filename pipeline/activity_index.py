"""The Activity -> IndexDocument mapping: activities and comments are searched like documents.

An activity's entry (:func:`activity_entry`) has id :func:`index.activity_entry_id` of the row,
``doc_type`` ``activity`` (a call, visit, meeting, e-mail or note) or ``comment``, the title
its subject (or the kind's name), the text its body, next step and contacts, and the fields of
its customer exactly as a document linked to that customer gets them.  Who may read it is its
``confidentiality`` with ``access_customer_ids`` its customer: a sales rep reads the
confidential ones of the customers they own, like documents.

A comment is at least as restricted as its document: :func:`sync_comments` raises a comment's
stored level to its document's access (the container rule's levels, :func:`access.join_levels`)
whenever the document is indexed, and a comment on a document in the trash leaves the index
with it (it comes back when the document is restored and indexed again).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from index import IndexDocument, SearchBackend, activity_entry_id
from pipeline import access
from pipeline.entry_customers import customer_fields
from records import Activity, Customer, Document

__all__ = [
    "KIND_LABELS",
    "activity_entries",
    "activity_entry",
    "activity_level",
    "activity_title",
    "index_activities",
    "index_customer_activities",
    "sync_comments",
    "unindex_activities",
]

#: The name of each activity kind, (中文, English): the title of an entry without a subject.
KIND_LABELS = {
    "call": ("电话", "call"),
    "visit": ("拜访", "visit"),
    "meeting": ("会议", "meeting"),
    "email": ("邮件", "e-mail"),
    "note": ("备注", "note"),
    "comment": ("评论", "comment"),
}


def activity_level(level: str, doc: Document | None) -> str:
    """The level an activity on ``doc`` has at least: its own joined with the document's access."""
    if doc is None:
        return level
    return access.join_levels(level, access.stored_access(doc).level)


def activity_title(activity: Activity, doc: Document | None = None) -> str:
    """An activity's title: its subject, else its kind's name (a comment's with its document's title)."""
    if activity.subject:
        return activity.subject
    label = KIND_LABELS.get(activity.kind, (activity.kind,))[0]
    return f"{label}：{doc.title}" if activity.kind == "comment" and doc is not None and doc.title else label


def activity_entry(
    activity: Activity, customer: Customer | None, doc: Document | None = None
) -> IndexDocument:
    """What the index gets for an activity or comment (``customer``: its customer, ``doc``: its document, if any)."""
    customers = [customer] if customer is not None else []
    contacts = [c for c in activity.contacts or [] if c]
    text = "\n\n".join(t for t in (activity.body, activity.next_step or "", "、".join(contacts)) if t)
    when = activity.occurred_at
    return IndexDocument(
        id=activity_entry_id(activity.id),
        title=activity_title(activity, doc),
        text=text,
        doc_type="comment" if activity.kind == "comment" else "activity",
        **customer_fields(customers),
        confidentiality=activity.confidentiality,
        access_customer_ids=tuple(c.id for c in customers),
        date=when.date().isoformat() if when else None,
        created_at=activity.created_at.isoformat() if activity.created_at else "",
        extra=(activity.author, *contacts),
        document_id=activity.document_id or 0,
        activity=activity.id,
    )


def activity_entries(session: Session, activities: Sequence[Activity]) -> list[IndexDocument]:
    """The entries of ``activities`` the index holds: all but those on documents in the trash."""
    return _split(session, activities)[0]


def _split(session: Session, activities: Sequence[Activity]) -> tuple[list[IndexDocument], list[int]]:
    """(entries to write, entry ids to remove: those on documents in the trash)."""
    docs = {
        d.id: d
        for d in session.scalars(
            select(Document).where(Document.id.in_({a.document_id for a in activities if a.document_id}))
        )
    }
    customers = {
        c.id: c
        for c in session.scalars(
            select(Customer).where(Customer.id.in_({a.customer_id for a in activities if a.customer_id}))
        )
    }
    keep: list[IndexDocument] = []
    gone: list[int] = []
    for a in activities:
        doc = docs.get(a.document_id) if a.document_id else None
        if doc is not None and doc.trashed_at is not None:
            gone.append(activity_entry_id(a.id))
        else:
            keep.append(activity_entry(a, customers.get(a.customer_id) if a.customer_id else None, doc))
    return keep, gone


def index_activities(session: Session, backend: SearchBackend, activities: Sequence[Activity]) -> None:
    """Index (or remove) ``activities`` in the caller's transaction: a comment on a document in the trash is removed."""
    session.flush()
    keep, gone = _split(session, activities)
    if gone:
        backend.delete(gone, connection=session.connection())
    if keep:
        backend.index(keep, connection=session.connection())


def unindex_activities(session: Session, backend: SearchBackend, activity_ids: Iterable[int]) -> None:
    """Remove the entries of ``activity_ids`` in the caller's transaction."""
    ids = [activity_entry_id(i) for i in activity_ids]
    if ids:
        backend.delete(ids, connection=session.connection())


def index_customer_activities(session: Session, backend: SearchBackend, customer_ids: Iterable[int]) -> int:
    """Re-index every activity of ``customer_ids`` (their stage, tags or names changed); returns how many."""
    wanted = sorted({int(i) for i in customer_ids})
    if not wanted:
        return 0
    rows = list(session.scalars(select(Activity).where(Activity.customer_id.in_(wanted))))
    for start in range(0, len(rows), 500):
        index_activities(session, backend, rows[start : start + 500])
    return len(rows)


def sync_comments(session: Session, backend: SearchBackend, docs: Sequence[Document]) -> None:
    """Keep the comments on ``docs`` as strict as their documents and in step with the trash, then index them."""
    ids = [d.id for d in docs]
    if not ids:
        return
    by_id = {d.id: d for d in docs}
    rows: list[Activity] = []
    for start in range(0, len(ids), 500):
        rows += session.scalars(select(Activity).where(Activity.document_id.in_(ids[start : start + 500])))
    if not rows:
        return
    for row in rows:
        doc = by_id.get(row.document_id or 0)
        level = activity_level(row.confidentiality, doc)
        if level != row.confidentiality:
            row.confidentiality = level
    index_activities(session, backend, rows)
