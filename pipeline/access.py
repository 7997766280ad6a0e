"""The container rule: what reading a document takes once its containers and parts count too.

A container's original holds its parts: an e-mail its attachments, an archive its members, a
split scan every part's pages.  Its search text may hold theirs too.  So:

- **A container is at least as strict as each of its parts** (children, and files inside it
  that were stored before as documents of their own, :class:`records.DocumentPart`).
- **A part is at least as strict as the containers it was taken out of** (its parent chain):
  a manager who marks an e-mail confidential marks what came out of it too.

Levels form a lattice: ``public`` < ``internal`` < ``confidential`` and ``internal`` <
``finance``; ``confidential`` joined with ``finance`` is :data:`RESTRICTED`, which only admins
and managers read (no other role may read both parts).  For a ``confidential`` result, the
customers whose sales owner may read it are the customers common to every confidential piece
(an owner of one of them owns a customer of each piece), never more.

The result is stored on each document (``documents.access_level``, ``document_access``), on
its automatic reminders (``reminders.confidentiality``, see :mod:`pipeline.reminders`) and
copied into its index entry, so the search backends, SQL counts and every single-document
check apply the same rule.  :func:`refresh` recomputes it for the whole family of the
documents it is given; callers reindex what it returns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from index import CONFIDENTIALITY_LEVELS
from records import Customer, Document, DocumentPart, Reminder

__all__ = [
    "DEFAULT_LEVELS",
    "RESTRICTED",
    "Access",
    "access_of",
    "at_least",
    "default_level",
    "join_levels",
    "keep_deleted_parts",
    "refresh",
    "stored_access",
]

#: The level a document gets from its type until a manager sets another.
DEFAULT_LEVELS = {
    "invoice": "finance",  # 发票: finance and management
    "contract": "confidential",  # 合同: management and the customer's own sales rep
}
DEFAULT_LEVEL = "internal"


def default_level(doc_type: str) -> str:
    """The confidentiality a document of ``doc_type`` gets by default (invoices finance, contracts confidential)."""
    return DEFAULT_LEVELS.get(doc_type, DEFAULT_LEVEL)


#: The effective level of something that holds confidential and finance documents at once.
RESTRICTED = "restricted"

_RANK = {"public": 0, "internal": 1, "confidential": 2, "finance": 2, RESTRICTED: 3}
assert set(CONFIDENTIALITY_LEVELS) < set(_RANK)


def join_levels(a: str, b: str) -> str:
    """The least level at least as strict as both ``a`` and ``b`` (confidential ⊔ finance = restricted)."""
    if a == b:
        return a
    rank_a, rank_b = _RANK.get(a, 1), _RANK.get(b, 1)
    if rank_a == rank_b:
        return RESTRICTED
    return a if rank_a > rank_b else b


def at_least(level: str, other: str) -> bool:
    """Whether ``level`` is at least as strict as ``other`` (everyone who may read ``level`` may read ``other``)."""
    return join_levels(level, other) == level


@dataclass(frozen=True)
class Access:
    """What reading takes: a level and, for ``confidential``, the customers whose owners may read."""

    level: str
    customers: frozenset[int] = frozenset()

    def join(self, other: Access) -> Access:
        """At least as strict as both: the joined level; for confidential, the customers both allow."""
        level = join_levels(self.level, other.level)
        if level != "confidential":
            return Access(level)
        if self.level == other.level == "confidential":
            return Access(level, self.customers & other.customers)
        return Access(level, self.customers if self.level == "confidential" else other.customers)


def _customer_ids(doc: Document) -> frozenset[int]:
    ids = {link.customer_id for link in doc.customer_links}
    if doc.customer_id is not None:
        ids.add(doc.customer_id)
    return frozenset(ids)


def _own(doc: Document) -> Access:
    """The document's own level (and customers, when confidential)."""
    level = doc.confidentiality
    return Access(level, _customer_ids(doc) if level == "confidential" else frozenset())


def _held(doc: Document) -> Access:
    """What the document's original holds: its own level and, once a part inside it was deleted, that part's."""
    own = _own(doc)
    return own.join(Access(doc.access_floor)) if doc.access_floor else own


def _parts(doc: Document) -> list[Document]:
    return [*doc.children, *(p.part for p in doc.included if p.part is not None)]


def _ancestors(session: Session, doc: Document) -> list[Document]:
    out: list[Document] = []
    seen = {doc.id}
    parent_id = doc.parent_id
    while parent_id is not None and parent_id not in seen:
        parent = session.get(Document, parent_id)
        if parent is None:
            break
        seen.add(parent_id)
        out.append(parent)
        parent_id = parent.parent_id
    return out


def access_of(session: Session, doc: Document) -> Access:
    """``doc``'s access by the container rule, from the records as they are in ``session`` now."""
    result = _held(doc)
    for ancestor in _ancestors(session, doc):
        result = result.join(_own(ancestor))
    return result.join(_inside(doc, {doc.id}))


def _inside(doc: Document, seen: set[int]) -> Access:
    """The join of every part's own level, recursively (what ``doc``'s original holds)."""
    result = Access("public")
    for part in _parts(doc):
        if part.id in seen:
            continue
        seen.add(part.id)
        result = result.join(_held(part)).join(_inside(part, seen))
    return result


def stored_access(doc: Document) -> Access:
    """The access stored on ``doc``; before it was first computed, its own level (and no sales owner)."""
    return Access(doc.access_level or doc.confidentiality, frozenset(c.id for c in doc.access_customers))


def _family(session: Session, docs: Iterable[Document]) -> list[Document]:
    """Every document whose access may depend on ``docs``: their roots' trees and the containers including them."""
    roots: dict[int, Document] = {}
    todo = list(docs)
    seen: set[int] = set()
    while todo:
        doc = todo.pop()
        if doc.id is None or doc.id in seen:
            continue
        seen.add(doc.id)
        chain = [doc, *_ancestors(session, doc)]
        root = chain[-1]
        roots[root.id] = root
        for member in chain:  # a container that includes one of these (not as a child) depends on it too
            containers = session.scalars(
                select(Document)
                .join(DocumentPart, DocumentPart.container_id == Document.id)
                .where(DocumentPart.part_id == member.id)
            ).all()
            todo.extend(containers)
    out: list[Document] = []
    visited: set[int] = set()
    stack = list(roots.values())
    while stack:
        doc = stack.pop()
        if doc.id in visited:
            continue
        visited.add(doc.id)
        out.append(doc)
        stack.extend(doc.children)
    return out


def refresh(session: Session, docs: Iterable[Document]) -> list[Document]:
    """Recompute the stored access of ``docs`` and of every document it depends on or bears on.

    Returns the documents whose stored access changed (the caller reindexes them, as well as
    the ``docs`` it changed itself).  Runs in the caller's transaction.
    """
    changed: list[Document] = []
    for doc in _family(session, docs):
        wanted = access_of(session, doc)
        if doc.access_level == wanted.level and stored_access(doc) == wanted:
            continue
        doc.access_level = wanted.level
        customers = (session.get(Customer, i) for i in sorted(wanted.customers))
        doc.access_customers = [c for c in customers if c is not None]
        changed.append(doc)
    if changed:
        session.flush()
        for doc in changed:  # a document's automatic reminders are read like the document
            session.execute(
                update(Reminder)
                .where(Reminder.document_id == doc.id, Reminder.source == "document")
                .values(confidentiality=doc.access_level)
            )
    return changed


def keep_deleted_parts(session: Session, deleted: Iterable[Document]) -> list[Document]:
    """Before ``deleted`` go: containers that stay and hold one of them keep its access as their floor.

    A container's original still holds the bytes of a part deleted on its own, so it stays at
    least as strict as that part was (a confidential floor has no sales owner: admins and
    managers only).  Returns the containers whose floor rose; :func:`refresh` them after the delete.
    """
    gone = {d.id: d for d in deleted}
    raised: list[Document] = []
    for doc in gone.values():
        level = stored_access(doc).level
        holders = [session.get(Document, doc.parent_id)] if doc.parent_id is not None else []
        holders += session.scalars(
            select(Document)
            .join(DocumentPart, DocumentPart.container_id == Document.id)
            .where(DocumentPart.part_id == doc.id)
        ).all()
        for holder in holders:
            if holder is None or holder.id in gone:
                continue
            floor = join_levels(holder.access_floor, level) if holder.access_floor else level
            if floor != holder.access_floor:
                holder.access_floor = floor
                raised.append(holder)
    return raised
