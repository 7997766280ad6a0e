"""The archive (归档, ``Dossier.archive``): documents kept read-only and out of the default search.

An archived document (``archived_at``/``archived_by``) stays in the search index with lifecycle
``archived``: a search leaves it out unless it asks (``is:archived``, ``SearchRequest.archived``),
and the ``lifecycle`` facet counts it.  It reads as before (page, download, export), but refuses
every change — metadata, level, new version, moving to the trash — until it is unarchived
(:func:`check_writable`).

A family is archived whole: a document goes with its attachments and archive members, and a
part follows its container — archiving or unarchiving any member acts on the family's root and
everything under it.  Managers and admins archive; each family is one ``archive``/``unarchive``
audit event.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import select

from dossier.app import permissions as rights
from dossier.app.folder import readable_document
from dossier.app.resources import HomeResources
from foundation.errors import DossierError, Forbidden
from foundation.messages import msg
from index import Principal, SearchRequest
from pipeline.indexing import index_documents
from records import Document, record_event, utcnow

__all__ = ["MAX_BULK", "ArchiveService", "ArchivedDocument", "check_writable", "family_root", "family_tree"]

#: The most documents one "archive this search's hits" may act on (narrow the search for more).
MAX_BULK = 10_000


class ArchivedDocument(DossierError):
    """A change to an archived document: it is read-only until unarchived."""

    status = 409


def check_writable(doc: Document) -> None:
    """Refuse a change to an archived document (:class:`ArchivedDocument`, saying to unarchive it first)."""
    if doc.archived_at is not None:
        raise ArchivedDocument(msg("app.archive.read_only", id=doc.id))


def family_root(session: Any, doc: Document) -> Document:
    """The top container ``doc`` was taken out of (``doc`` itself when it is none's part)."""
    seen = {doc.id}
    while doc.parent_id is not None and doc.parent_id not in seen:
        parent = session.get(Document, doc.parent_id)
        if parent is None:
            break
        seen.add(parent.id)
        doc = parent
    return doc


def family_tree(doc: Document) -> list[Document]:
    """``doc`` and, recursively, its attachments and archive members (parents first)."""
    out: list[Document] = []
    seen: set[int] = set()
    todo = [doc]
    while todo:
        current = todo.pop(0)
        if current.id in seen:
            continue
        seen.add(current.id)
        out.append(current)
        todo.extend(current.children)
    return out


class ArchiveService:
    """Archive and unarchive documents (one at a time, several, or a search's hits)."""

    def __init__(self, home: HomeResources) -> None:
        self._home = home

    def archive(
        self, doc_ids: Iterable[int], principal: Principal, *, query: str | None = None
    ) -> dict[str, Any]:
        """Archive the families of ``doc_ids``; returns ``{"archived": [ids newly archived]}``."""
        return self._set(doc_ids, principal, archived=True, query=query)

    def unarchive(
        self, doc_ids: Iterable[int], principal: Principal, *, query: str | None = None
    ) -> dict[str, Any]:
        """Unarchive the families of ``doc_ids``; returns ``{"unarchived": [ids]}``."""
        return self._set(doc_ids, principal, archived=False, query=query)

    def archive_search(self, request: SearchRequest, principal: Principal) -> dict[str, Any]:
        """Archive every active hit of ``request`` the caller may read (at most :data:`MAX_BULK`)."""
        ids = self._hits(replace(request, archived="exclude", activities="exclude"), principal)
        return self.archive(ids, principal, query=request.query)

    def unarchive_search(self, request: SearchRequest, principal: Principal) -> dict[str, Any]:
        """Unarchive every archived hit of ``request`` the caller may read (at most :data:`MAX_BULK`)."""
        ids = self._hits(replace(request, archived="only", activities="exclude"), principal)
        return self.unarchive(ids, principal, query=request.query)

    def _hits(self, request: SearchRequest, principal: Principal) -> list[int]:
        if not rights.may_archive(principal):
            raise Forbidden(msg("app.archive.forbidden"))
        self._home.prepare_search()
        ids: list[int] = []
        for doc_id in self._home.backend.iter_ids(request, principal, batch=1000):
            if doc_id <= 0:  # a superseded version's (or an activity's) entry: never a document to archive
                continue
            ids.append(doc_id)
            if len(ids) > MAX_BULK:
                raise DossierError(msg("app.archive.too_many", limit=MAX_BULK))
        return ids

    def _set(
        self, doc_ids: Iterable[int], principal: Principal, *, archived: bool, query: str | None
    ) -> dict[str, Any]:
        if not rights.may_archive(principal):
            raise Forbidden(msg("app.archive.forbidden"))
        action = "archive" if archived else "unarchive"
        changed: list[int] = []
        with self._home.sessions() as session:
            roots: dict[int, Document] = {}
            for doc_id in dict.fromkeys(doc_ids):
                doc = readable_document(session, doc_id, principal)
                root = family_root(session, doc)
                roots.setdefault(root.id, root)
            now = utcnow()
            touched: list[Document] = []
            for root in roots.values():
                family = [d for d in family_tree(root) if d.trashed_at is None]
                moved = [d for d in family if (d.archived_at is None) == archived]
                if not moved:
                    continue
                for doc in moved:
                    doc.archived_at, doc.archived_by = (now, principal.username) if archived else (None, None)
                touched.extend(moved)
                detail: dict[str, Any] = {"title": root.title, "documents": sorted(d.id for d in moved)}
                if query:
                    detail["query"] = query[:500]
                record_event(
                    session,
                    principal.username,
                    action,
                    target_type="document",
                    target_id=root.id,
                    detail=detail,
                )
            if touched:
                index_documents(session, self._home.backend, touched)
            session.commit()
            changed = sorted(d.id for d in touched)
        return {"archived" if archived else "unarchived": changed}

    def archived_ids(self, doc_ids: Sequence[int]) -> set[int]:
        """Which of ``doc_ids`` are archived (for exports and lists)."""
        if not doc_ids:
            return set()
        with self._home.sessions() as session:
            return set(
                session.scalars(
                    select(Document.id).where(
                        Document.id.in_(list(doc_ids)), Document.archived_at.is_not(None)
                    )
                )
            )
