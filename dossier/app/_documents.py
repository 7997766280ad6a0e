"""The documents of a data home (``Dossier.documents``): page images, edits, new versions, deletes.

Every method first reads the document as the caller (:func:`dossier.app.folder.readable_document`): one the
caller may not read is "not found" (404), exactly like one that does not exist.  A write the
caller may read but not make is "forbidden" (403), by the rules of :mod:`dossier.app.permissions`.
Each change is one transaction with its index entry and an audit event
(``metadata_change``, ``permission_change``, ``version_upload``, ``version_restore``; deleting moves a
document to the trash, :mod:`dossier.app._trash`, audited ``trash``; ``view`` and
``download`` are written by the entry points that show or send the document).
"""

from __future__ import annotations

import functools
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import func, select

import index
import ingest
import records
from dossier.app import permissions as rights
from dossier.app._archive import check_writable
from dossier.app.folder import readable_document
from foundation.errors import DossierError, Forbidden, NotFound
from foundation.messages import msg
from index import CONFIDENTIALITY_LEVELS, Principal
from ingest import DOC_TYPES
from pipeline import access, extraction
from pipeline.children import die_with_parent
from pipeline.indexing import index_documents, keep_version_text
from pipeline.intake import get_tag
from records import Customer, Document, DocumentCustomer, Version, record_event

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

#: Width of the page images the document page shows (pixels).
PAGE_IMAGE_WIDTH = 1200
#: Seconds a page may take to draw before its child process is killed, and its memory cap.
RENDER_TIMEOUT_S = 60
RENDER_MEMORY_BYTES = 2 * 1024**3
#: Formats whose pages can be shown as pictures.
PAGED_FORMATS = ("application/pdf", "image/")


def _limit_child(parent_pid: int) -> None:  # runs in the render child before exec
    die_with_parent(parent_pid, signal.SIGKILL)  # a killed web process leaves no render child behind
    resource.setrlimit(resource.RLIMIT_AS, (RENDER_MEMORY_BYTES, RENDER_MEMORY_BYTES))


class Uploader(Protocol):
    """Intake of one uploaded file (:meth:`dossier.app.services.Dossier.ingest_upload`), as a new version here."""

    def __call__(
        self, filename: str, data: bytes, *, principal: Principal, version_of: int | None = None
    ) -> dict[str, Any]: ...


class DocumentService:
    """The documents of one data home, one at a time: what a reader may do, page images, edits, versions, deletes.

    ``ingest_upload`` takes a new version's file in (the intake's upload); ``reindex`` rebuilds
    the index entries of documents an upgrade step changed.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        backend: index.SearchBackend,
        blobs: records.BlobStore,
        *,
        ingest_upload: Uploader,
        reindex: Callable[[Sequence[int]], object],
        enqueue: Callable[[int], object] = lambda _doc_id: None,
        trash: Callable[[int, Principal], dict[str, Any]],
    ) -> None:
        self._sessions = sessions
        self._backend = backend
        self._blobs = blobs
        self._ingest_upload = ingest_upload
        self._reindex = reindex
        self._enqueue = enqueue
        self._trash = trash

    # -- what a reader may do ----------------------------------------------------------------

    def permissions(self, doc_id: int, principal: Principal) -> dict[str, bool]:
        """What ``principal`` may do with a document it may read: ``edit``, ``confidentiality``, ``delete``, ``archive``.

        An archived document (``archived``) is read-only: no edit, level change or delete until unarchived.
        """
        with self._sessions() as session:
            doc = readable_document(session, doc_id, principal)
            writable = doc.archived_at is None
            return {
                "edit": rights.may_edit(principal, doc) and writable,
                "confidentiality": rights.may_change_confidentiality(principal) and writable,
                "delete": rights.may_delete(principal) and writable,
                "archive": rights.may_archive(principal),
                "archived": not writable,
                "pages": _has_page_images(doc),
            }

    def apply_type_levels(self) -> int:
        """After the upgrade that made levels follow types: documents from before get their type's level.

        Runs once (their ``confidentiality_source`` is unset until then); the documents whose level
        changed are reindexed, so search filters them at once.  Returns how many changed.
        """
        with self._sessions() as session:
            changed = [
                doc
                for doc in session.scalars(select(Document).where(Document.confidentiality_source.is_(None)))
                if extraction.follow_type_level(doc)
            ]
            moved = {d.id for d in changed} | {d.id for d in access.refresh(session, changed)}
            session.commit()
        self._reindex_after_upgrade(moved)
        return len(changed)

    def apply_container_rule(self) -> int:
        """After the upgrade that brought the container rule: containers and their parts get their access.

        The migration gave every document its own level as its access; here every family with
        children is computed by :mod:`pipeline.access`, and the documents whose access changed
        are reindexed.  Returns how many changed.
        """
        with self._sessions() as session:
            parents = select(Document.parent_id).where(Document.parent_id.is_not(None))
            containers = session.scalars(select(Document).where(Document.id.in_(parents))).all()
            changed = [d.id for d in access.refresh(session, containers)]
            session.commit()
        self._reindex_after_upgrade(changed)
        return len(changed)

    def _reindex_after_upgrade(self, ids: Sequence[int] | set[int]) -> None:
        """Reindex what an upgrade step changed — unless the index is rebuilt anyway (it was made by an older
        version: its mapping may not even hold the new fields, and the rebuild that follows writes them all)."""
        if ids and not self._backend.needs_reindex():
            self._reindex(sorted(ids))

    # -- page images -------------------------------------------------------------------------

    def page_image(
        self, doc_id: int, number: int, principal: Principal, *, width: int = PAGE_IMAGE_WIDTH
    ) -> bytes:
        """Page ``number`` of a PDF or image document as a PNG (drawn once, then kept in the blob store's cache).

        The page is drawn in a child process under a time and memory limit (untrusted files);
        NotFound when the document, the page or a picture of it does not exist.
        """
        with self._sessions() as session:
            doc = readable_document(session, doc_id, principal)
            version = doc.current
            page = next((p for p in doc.pages if p.number == number), None)
            if version is None or page is None or not _has_page_images(doc):
                raise NotFound(msg("app.document.no_page_image", id=doc_id, page=number))
            sha, filename, rotation = version.sha256, version.filename, int(page.rotation or 0)
        name = f"page-{sha}-{number}-{width}-{rotation % 360}.png"
        cached = self._blobs.get_cached(name)
        if cached is not None:
            return cached
        data = self._blobs.get(sha)  # verified (and decrypted) original
        png = _render_in_child(data, filename, number, width, rotation)
        self._blobs.put_cached(name, png)
        return png

    # -- edits -------------------------------------------------------------------------------

    def update(
        self,
        doc_id: int,
        principal: Principal,
        *,
        title: str | None = None,
        doc_type: str | None = None,
        date: str | None = None,
        tags: Sequence[str] | None = None,
        confidentiality: str | None = None,
        customer_id: int | None = None,
        audit_detail: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Change a document's metadata; returns ``{"changed": {field: [before, after]}}``.

        ``customer_id`` makes a registry customer the document's primary customer (its other
        links stay); a sales rep may only name a customer they own.  ``audit_detail`` is added
        to the audit events' detail (a bulk edit marks its events so).

        Title, type, date and tags need edit rights; the confidentiality needs a manager (and
        from then on stays what they chose when the document is typed again).  A new type moves
        a level that follows the type along — down only when a manager or admin retypes it;
        anyone else's new type keeps or raises it (:func:`pipeline.extraction.follow_type_level`).
        Level changes are audited.  The index entry (and those of the document's containers and
        parts, by the container rule) changes in the same transaction.
        """
        with self._sessions() as session:
            doc = readable_document(session, doc_id, principal)
            check_writable(doc)
            changed: dict[str, list[Any]] = {}
            wants_edit = any(v is not None for v in (title, doc_type, date, tags, customer_id))
            if wants_edit and not rights.may_edit(principal, doc):
                raise Forbidden(msg("app.document.edit_forbidden"))
            if customer_id is not None and customer_id != doc.customer_id:
                changed["customer"] = set_primary_customer(session, doc, customer_id, principal)
            if confidentiality is not None and confidentiality != doc.confidentiality:
                if not rights.may_change_confidentiality(principal):
                    raise Forbidden(msg("app.document.confidentiality_forbidden"))
                if confidentiality not in CONFIDENTIALITY_LEVELS:
                    raise DossierError(
                        msg("app.document.unknown_confidentiality", value=repr(confidentiality))
                    )
            if title is not None and title.strip() and title.strip()[:500] != doc.title:
                changed["title"] = [doc.title, title.strip()[:500]]
                doc.title = title.strip()[:500]
            if doc_type is not None and doc_type != doc.doc_type:
                if doc_type not in DOC_TYPES:
                    raise DossierError(msg("app.document.unknown_type", value=repr(doc_type)))
                changed["doc_type"] = [doc.doc_type, doc_type]
                doc.doc_type = doc_type
                doc.doc_type_reason = extraction.GIVEN_BY_PERSON
            if date is not None and (date.strip() or None) != doc.doc_date:
                iso = ingest.parse_date(date) if date.strip() else None
                if date.strip() and not iso:
                    raise DossierError(msg("app.document.bad_date", value=repr(date)))
                changed["date"] = [doc.doc_date, iso]
                doc.doc_date = iso
            if tags is not None:
                wanted = list(dict.fromkeys(t.strip()[:64] for t in tags if t.strip()))
                current = [t.name for t in doc.tags]
                if wanted != current:
                    changed["tags"] = [current, wanted]
                    doc.tags = [get_tag(session, t) for t in wanted]
            level_before = doc.confidentiality
            if confidentiality is not None and confidentiality != doc.confidentiality:
                doc.confidentiality, doc.confidentiality_source = confidentiality, extraction.LEVEL_MANUAL
            elif "doc_type" in changed:
                # Only managers and admins lower a level, also as a side effect of a new type.
                may_lower = rights.may_change_confidentiality(principal)
                if not may_lower:
                    extraction.keep_level(doc)
                extraction.follow_type_level(doc, may_lower=may_lower)
            if doc.confidentiality != level_before:
                record_event(
                    session,
                    principal.username,
                    "permission_change",
                    target_type="document",
                    target_id=doc.id,
                    detail={
                        "before": level_before,
                        "after": doc.confidentiality,
                        "source": doc.confidentiality_source,
                        **(audit_detail or {}),
                    },
                )
            if changed:
                record_event(
                    session,
                    principal.username,
                    "metadata_change",
                    target_type="document",
                    target_id=doc.id,
                    detail={"changed": changed, **(audit_detail or {})},
                )
            if changed or doc.confidentiality != level_before:
                index_documents(session, self._backend, [doc])
            session.commit()
        if doc.confidentiality != level_before:
            changed["confidentiality"] = [level_before, doc.confidentiality]
        return {"id": doc_id, "changed": changed}

    # -- versions ----------------------------------------------------------------------------

    def add_version(self, doc_id: int, filename: str, data: bytes, principal: Principal) -> dict[str, Any]:
        """Store ``data`` as the document's newest version and have it processed (the upload's shape).

        The document keeps its id, type given by a person, tags and level; its text, entities and
        customer links come from the new file.  A file already stored (as any document's version)
        is reported as a duplicate.
        """
        with self._sessions() as session:
            doc = readable_document(session, doc_id, principal)
            if not rights.may_edit(principal, doc):
                raise Forbidden(msg("app.document.version_forbidden"))
            check_writable(doc)
            if not rights.may_change_confidentiality(principal):
                # What the new file is typed as may raise the level, never lower it (managers' may).
                extraction.keep_level(doc)
                session.commit()
        outcome = self._ingest_upload(filename, data, principal=principal, version_of=doc_id)
        if outcome.get("status") == "queued":
            with self._sessions() as session:
                number = session.scalar(select(func.max(Version.number)).where(Version.document_id == doc_id))
                record_event(
                    session,
                    principal.username,
                    "version_upload",
                    target_type="document",
                    target_id=doc_id,
                    detail={"filename": filename, "version": number, "size": len(data)},
                )
                session.commit()
        return outcome

    def restore_version(self, doc_id: int, number: int, principal: Principal) -> dict[str, Any]:
        """Make version ``number`` the current one again: a new version with its file, processed like an added one.

        Who may add a version may restore one; an archived or trashed document refuses (restore
        it to active first), and so does one still being processed.  The text of the version it
        replaces is kept (:func:`pipeline.indexing.keep_version_text`).  Audited as ``version_restore``.
        Returns ``{"id", "version", "restored_from", "status"}`` (``queued``: a worker processes it).
        """
        with self._sessions() as session:
            doc = readable_document(session, doc_id, principal)
            if not (rights.may_upload(principal) and rights.may_edit(principal, doc)):
                raise Forbidden(msg("app.document.version_forbidden"))
            if doc.lifecycle != "active":
                raise DossierError(msg("app.version.not_active", id=doc_id, state=doc.lifecycle))
            if doc.status in ("queued", "processing"):
                raise DossierError(msg("pipeline.version_of.busy", id=doc_id))
            source = next((v for v in doc.versions if v.number == number), None)
            if source is None:
                raise NotFound(msg("app.version.not_found", id=doc_id, n=number))
            if source is doc.current:
                raise DossierError(msg("app.version.already_current", id=doc_id, n=number))
            if not rights.may_change_confidentiality(principal):
                extraction.keep_level(
                    doc
                )  # as for an added version: the file's type may raise it, never lower
            keep_version_text(doc)
            restored = Version(
                number=doc.current.number + 1 if doc.current else 1,
                sha256=source.sha256,
                filename=source.filename,
                mime=source.mime,
                size=source.size,
                uploaded_by=principal.username,
                restored_from=source.number,
            )
            doc.versions.append(restored)
            doc.status, doc.error, doc.claimed_by = "queued", None, None
            session.flush()
            record_event(
                session,
                principal.username,
                "version_restore",
                target_type="document",
                target_id=doc_id,
                detail={"version": restored.number, "restored_from": number, "filename": source.filename},
            )
            session.commit()
            new_number = restored.number
        self._enqueue(doc_id)  # without Redis it stays queued: a worker's reconcile finds it
        return {"id": doc_id, "version": new_number, "restored_from": number, "status": "queued"}

    # -- deleting ----------------------------------------------------------------------------

    def delete(self, doc_id: int, principal: Principal) -> dict[str, Any]:
        """Move a document with its attachments and archive members to the trash (:mod:`dossier.app._trash`).

        Nothing is erased here: records and originals stay until the trash is purged; the
        document leaves the search index and every read at once.  ``{"deleted": ids, "trashed": ids}``.
        """
        result = dict(self._trash(doc_id, principal))
        result["deleted"] = result["trashed"]
        return result


def set_primary_customer(
    session: Session, doc: Document, customer_id: int, principal: Principal
) -> list[Any]:
    """Make registry customer ``customer_id`` ``doc``'s primary customer (a ``manual`` link, kept by re-extraction).

    The document's other links stay, after it.  A sales rep may only name a customer they own.
    Returns ``[name before, name after]`` for the audit trail.
    """
    customer = session.get(Customer, customer_id)
    if customer is None or customer.status not in ("confirmed",):
        raise NotFound(msg("app.document.customer_not_found", id=customer_id))
    if principal.role == "sales" and customer_id not in principal.owned_customer_ids:
        raise Forbidden(msg("app.document.customer_forbidden", name=customer.name))
    before = doc.customer.name if doc.customer is not None else None
    mine = next((link for link in doc.customer_links if link.customer_id == customer_id), None)
    if mine is None:
        mine = DocumentCustomer(customer_id=customer_id, score=1.0)
    mine.method, mine.evidence, mine.position = "manual", extraction.GIVEN_BY_PERSON, 0
    others = [link for link in doc.customer_links if link is not mine]
    for position, link in enumerate(others, start=1):
        link.position = position
    doc.customer_links = [mine, *others]
    doc.customer_id, doc.customer = customer_id, customer
    return [before, customer.name]


def _has_page_images(doc: Document) -> bool:
    version = doc.current
    return version is not None and version.mime.startswith(PAGED_FORMATS) and bool(doc.pages)


def _render_in_child(data: bytes, filename: str, number: int, width: int, rotation: int) -> bytes:
    """:func:`ingest.render_page_png` in a child process with a time and memory limit."""
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "ingest.formats._render",
                filename,
                str(number),
                str(width),
                str(rotation),
            ],
            input=data,
            capture_output=True,
            timeout=RENDER_TIMEOUT_S,
            check=False,
            preexec_fn=functools.partial(_limit_child, os.getpid()),
        )
    except subprocess.TimeoutExpired:
        raise DossierError(
            msg("app.document.render_timeout", page=number, seconds=RENDER_TIMEOUT_S)
        ) from None
    if done.returncode == 0 and done.stdout.startswith(b"\x89PNG"):
        return done.stdout
    reason = (done.stderr.decode("utf-8", "replace").strip().splitlines() or [f"exit {done.returncode}"])[-1]
    raise NotFound(msg("app.document.render_failed", page=number, reason=reason[:200]))
