"""The trash (回收站, ``Dossier.trash``): where a deleted document waits before it is gone for good.

Deleting a document (:meth:`TrashService.trash`, managers and admins) moves it — with its
attachments and archive members, recursively — to the trash: ``trashed_at``/``trashed_by`` are
set, its index entries (and those of its superseded versions, ``-Version.id``) are removed, and
records and originals stay.  From then on no one reads it anywhere (:func:`dossier.app.folder.may_read`
says no: page, download, page images, API, exports, search) except as a line of the trash page,
and nothing indexes it again (:func:`pipeline.indexing.index_documents`).  Containers that hold
it keep its access as their floor, exactly as when a part was deleted (:mod:`pipeline.access`).

One trashing is one unit: the document trashed and the parts trashed with it (same
``trashed_at``) are listed as one line, restored together (:meth:`TrashService.restore`) and
purged together.  Purging (:meth:`TrashService.purge`, confirmed; :meth:`TrashService.purge_expired`,
the workers' daily housekeeping, for what has waited ``DOSSIER_TRASH_DAYS``) is erasure
(:func:`dossier.app._erasure.erase_documents`).  A document under legal hold is never purged.
Audited: ``trash``, ``trash_restore``, ``trash_purge``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dossier.app import permissions as rights
from dossier.app._archive import check_writable, family_root, family_tree
from dossier.app._erasure import held as under_legal_hold
from dossier.app.folder import may_read, owned_customer_ids, readable_clause, readable_document
from dossier.app.resources import HomeResources
from foundation.errors import DossierError, Forbidden, NotFound
from foundation.messages import msg
from index import Principal
from pipeline import access
from pipeline.indexing import INDEXED_STATUSES, index_documents
from records import Document, record_event, utcnow

__all__ = ["Eraser", "TrashService"]

#: Erasure of documents for good (:func:`dossier.app._erasure.erase_documents`).
Eraser = Callable[[HomeResources, Sequence[int]], object]
#: The user name purges by the housekeeping are audited as.
SYSTEM = "system"


class PurgeNotConfirmed(DossierError):
    """A purge asked for without its confirmation."""

    status = 400


class TrashService:
    """Move to the trash, list it, restore from it and purge it."""

    def __init__(self, home: HomeResources, *, erase: Eraser) -> None:
        self._home = home
        self._erase = erase

    @property
    def days(self) -> int:
        """Days a document waits in the trash before the housekeeping purges it (``DOSSIER_TRASH_DAYS``)."""
        return max(0, self._home.settings.get_int("DOSSIER_TRASH_DAYS"))

    # -- moving to the trash -----------------------------------------------------------------

    def trash(self, doc_id: int, principal: Principal) -> dict[str, Any]:
        """Move a document with its attachments and archive members to the trash; ``{"trashed": [ids]}``."""
        home = self._home
        with home.sessions() as session:
            doc = readable_document(session, doc_id, principal)
            if not rights.may_delete(principal):
                raise Forbidden(msg("app.document.delete_forbidden"))
            check_writable(doc)
            family = [d for d in family_tree(doc) if d.trashed_at is None]
            ids = [d.id for d in family]
            holders = access.keep_deleted_parts(session, family)  # their originals still hold these
            now = utcnow()
            for member in family:
                member.trashed_at, member.trashed_by = now, principal.username
            entries = [*ids, *(-v.id for d in family for v in d.versions)]  # old versions' entries too
            home.backend.delete(entries, connection=session.connection())
            record_event(
                session,
                principal.username,
                "trash",
                target_type="document",
                target_id=doc.id,
                detail={
                    "title": doc.title,
                    "files": [{"filename": v.filename, "sha256": v.sha256} for v in doc.versions],
                    "documents": sorted(ids),
                },
            )
            session.flush()
            # The containers whose floor rose, and those whose text held its text, are indexed anew.
            index_documents(  # the trashed ones too: the comments on them leave the index with them
                session, home.backend, [*family, *(h for h in holders if h.status in INDEXED_STATUSES)]
            )
            session.commit()
        return {"trashed": sorted(ids), "purge_after_days": self.days}

    # -- the trash page ----------------------------------------------------------------------

    def entries(self, principal: Principal) -> list[dict[str, Any]]:
        """What waits in the trash that ``principal`` could read, newest first (one line per trashing)."""
        with self._home.sessions() as session:
            owned = owned_customer_ids(session, principal)
            docs = session.scalars(
                select(Document)
                .where(readable_clause(principal, owned, in_trash=True))
                .options(selectinload(Document.versions))
                .order_by(Document.trashed_at.desc(), Document.id.desc())
            ).all()
            lines = []
            for doc in docs:
                if not self._is_unit(session, doc) or not may_read(principal, doc, owned, in_trash=True):
                    continue
                lines.append(self._line(doc))
            return lines

    def _line(self, doc: Document) -> dict[str, Any]:
        assert doc.trashed_at is not None
        version = doc.current
        parts = [d.id for d in family_tree(doc)[1:] if d.trashed_at == doc.trashed_at]
        return {
            "id": doc.id,
            "title": doc.title,
            "filename": version.filename if version else "",
            "doc_type": doc.doc_type,
            "trashed_by": doc.trashed_by,
            "trashed_at": doc.trashed_at.isoformat(timespec="seconds"),
            "purge_at": (doc.trashed_at + timedelta(days=self.days)).isoformat(timespec="seconds"),
            "parts": parts,
            "legal_hold": bool(doc.legal_hold),
        }

    @staticmethod
    def _is_unit(session: Session, doc: Document) -> bool:
        """Whether ``doc`` was trashed itself (not together with the container it came out of)."""
        if doc.parent_id is None:
            return True
        parent = session.get(Document, doc.parent_id)
        return parent is None or parent.trashed_at != doc.trashed_at

    def _unit(self, session: Session, doc_id: int, principal: Principal) -> tuple[Document, list[Document]]:
        """The trashing ``doc_id`` belongs to: its first document and every document trashed with it."""
        doc = session.get(Document, doc_id)
        if doc is None or doc.trashed_at is None or not may_read(principal, doc, in_trash=True):
            raise NotFound(msg("app.trash.not_found", id=doc_id))
        while not self._is_unit(session, doc):
            parent = session.get(Document, doc.parent_id)
            assert parent is not None
            doc = parent
        return doc, [d for d in family_tree(doc) if d.trashed_at == doc.trashed_at]

    # -- restoring ---------------------------------------------------------------------------

    def restore(self, doc_id: int, principal: Principal) -> dict[str, Any]:
        """Take a document (and what was trashed with it) out of the trash and index it again; ``{"restored": [ids]}``."""
        if not rights.may_manage_trash(principal):
            raise Forbidden(msg("app.trash.restore_forbidden"))
        home = self._home
        with home.sessions() as session:
            root, unit = self._unit(session, doc_id, principal)
            container = family_root(session, root)
            if container.id != root.id and container.trashed_at is not None:
                raise DossierError(msg("app.trash.container_trashed", id=root.id, container=container.id))
            for doc in unit:
                doc.trashed_at, doc.trashed_by = None, None
            record_event(
                session,
                principal.username,
                "trash_restore",
                target_type="document",
                target_id=root.id,
                detail={"title": root.title, "documents": sorted(d.id for d in unit)},
            )
            index_documents(session, home.backend, [d for d in unit if d.status in INDEXED_STATUSES])
            session.commit()
        return {"restored": sorted(d.id for d in unit)}

    # -- purging -----------------------------------------------------------------------------

    def purge(
        self, principal: Principal, *, confirm: bool, ids: Iterable[int] | None = None
    ) -> dict[str, Any]:
        """Erase for good what waits in the trash (``ids``: those trashings only); needs ``confirm``.

        Returns ``{"purged": [ids], "held": [ids]}`` (documents under legal hold stay).
        """
        if not rights.may_manage_trash(principal):
            raise Forbidden(msg("app.trash.purge_forbidden"))
        if not confirm:
            raise PurgeNotConfirmed(msg("app.trash.confirm_purge"))
        with self._home.sessions() as session:
            if ids is None:
                wanted = list(session.scalars(select(Document.id).where(Document.trashed_at.is_not(None))))
            else:
                wanted = list(dict.fromkeys(ids))
            plan = _plan(session, [self._unit(session, i, principal) for i in wanted])
        return self._purge(principal.username, plan)

    def purge_expired(self, now: datetime | None = None) -> dict[str, Any]:
        """Erase what has waited in the trash longer than ``DOSSIER_TRASH_DAYS`` (the workers' daily housekeeping)."""
        cutoff = (now or utcnow()) - timedelta(days=self.days)
        system = Principal(username=SYSTEM, role="admin")
        with self._home.sessions() as session:
            due = session.scalars(select(Document.id).where(Document.trashed_at < cutoff)).all()
            plan = _plan(session, [self._unit(session, i, system) for i in due])
        return self._purge(SYSTEM, plan)

    def _purge(self, username: str, plan: _Plan) -> dict[str, Any]:
        ids, detail, held = plan
        if ids:
            self._erase(self._home, ids)
            with self._home.sessions() as session:
                record_event(
                    session, username, "trash_purge", target_type="document", target_id=None, detail=detail
                )
                session.commit()
        return {"purged": ids, "held": held}


#: (ids to erase, the audit detail, ids of trashings kept for a legal hold)
_Plan = tuple[list[int], dict[str, Any], list[int]]


def _plan(session: Session, units: Sequence[tuple[Document, list[Document]]]) -> _Plan:
    """What a purge of ``units`` erases and says in its audit event (read while the session is open)."""
    seen: set[int] = set()
    erase: list[Document] = []
    held: list[int] = []
    for root, unit in units:
        if root.id in seen:
            continue
        seen.add(root.id)
        if any(under_legal_hold(session, d) for d in unit):  # on it, a container of it, or a customer of it
            held.append(root.id)
            continue
        erase.extend(unit)
    detail = {
        "documents": [
            {
                "id": d.id,
                "title": d.title,
                "files": [{"filename": v.filename, "sha256": v.sha256} for v in d.versions],
            }
            for d in erase
        ],
        "held": sorted(held),
    }
    return sorted(d.id for d in erase), detail, sorted(held)
