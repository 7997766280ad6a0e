"""Reading: searches joined with what the records say, one document whole, its original file, its versions.

Every read takes the caller's :class:`~index.Principal` and answers ``NotFound`` for documents
the caller may not read, exactly as for documents that do not exist; hits the index holds but
the records no longer allow are left out.  Every version of a document is read with the
document's rights: its text (the current one's pages, a superseded one's kept text), its
original file, a diff of two.
"""

from __future__ import annotations

import difflib
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

import ingest
from dossier.app import did_you_mean, folder
from dossier.app._activities import activity_hits
from dossier.app.resources import HomeResources
from foundation.errors import NotFound
from foundation.messages import msg
from index import Principal, SearchRequest, display_title
from pipeline import extraction
from pipeline.indexing import version_text
from records import Document, DocumentCustomer, DueDate, Version

__all__ = ["ReadingService"]


class ReadingService:
    """Search, show and download over one open home's resources."""

    def __init__(self, home: HomeResources) -> None:
        self.resources = home
        self.sessions = home.sessions
        self.blobs = home.blobs
        self.backend = home.backend

    def search(self, request: SearchRequest, principal: Principal, *, lang: str = "zh") -> dict[str, Any]:
        """Run a search and join the hits with display data (the ``search --json`` shape).

        Each hit has ``display_title`` (its type label in ``lang``, ``zh`` or ``en``) and ``title_parts``.
        ``suggestions`` lists "did you mean" corrections (:func:`dossier.app.did_you_mean.suggestions`;
        empty unless the query found at most two hits).
        """
        started = time.perf_counter()
        self.resources.prepare_search()  # registry words of other processes; this process's writes searchable
        result = self.backend.search(request, principal)
        ids = [h.document for h in result.hits if not h.activity]
        with self.sessions() as session:
            remarks = activity_hits(session, principal, [h.activity for h in result.hits if h.activity])
            docs = {
                d.id: d
                for d in session.scalars(
                    select(Document)
                    .where(Document.id.in_(ids))
                    .options(
                        selectinload(Document.versions),
                        selectinload(Document.customer),
                        selectinload(Document.customer_links).selectinload(DocumentCustomer.customer),
                        selectinload(Document.access_customers),
                    )
                )
            }
            owned = folder.owned_customer_ids(session, principal)
            hits = []
            for hit in result.hits:
                if hit.activity:  # an activity or comment: shown when the records hold it and allow it
                    shown = remarks.get(hit.activity)
                    if shown is not None:
                        hits.append(
                            {
                                **shown,
                                "score": round(hit.score, 4),
                                "snippet": hit.snippet,
                                "title_html": hit.title_html,
                                "display_title": shown.get("title") or "",
                                "title_parts": {},
                            }
                        )
                    continue
                doc = docs.get(hit.document)
                # The index behind the records (a write still on its way): never show what records do not
                # hold, nor what they say the caller may not read now.
                if doc is None or not folder.may_read(principal, doc, owned):
                    continue
                version = doc.current
                if hit.version:  # a superseded version's text matched: that version is the hit
                    version = next((v for v in doc.versions if v.number == hit.version), version)
                parts = dict(hit.title_parts)
                hits.append(
                    {
                        "id": doc.id,
                        "title": doc.title,
                        # The title to show (the stored one, or "type · customer · number · date" when it is
                        # generic); ``title_parts`` lets a page build it in its own language (index.display_title).
                        "display_title": display_title(doc.title, parts, lang),
                        "title_parts": parts,
                        "filename": version.filename if version else "",
                        "customer": doc.customer.name if doc.customer else None,
                        "customers": [c.name for c in extraction.searchable_customers(doc)],
                        "doc_type": doc.doc_type,
                        "date": doc.doc_date,
                        "score": round(hit.score, 4),
                        "snippet": hit.snippet,
                        "title_html": hit.title_html,
                        "status": doc.status,
                        "version": hit.version,  # 0: the current text; n: superseded version n matched
                        "activity": 0,  # a document; an activity's or comment's hit has its id here
                    }
                )
        facets = {
            name: [{"value": value, "count": count} for value, count in values]
            for name, values in result.facets.items()
        }
        # A query finding (almost) nothing: corrected queries that find more for this user (did_you_mean).
        suggestions = did_you_mean.suggestions(self.resources, request, principal, result.total)
        return {
            "total": result.total,
            "took_ms": round((time.perf_counter() - started) * 1000, 1),
            "hits": hits,
            "facets": facets,
            "suggestions": suggestions,
        }

    def show(self, doc_id: int, principal: Principal) -> dict[str, Any]:
        """Everything about one document (the ``show --json`` shape)."""
        with self.sessions() as session:
            doc = folder.readable_document(session, doc_id, principal)
            version = doc.current
            children = [
                {"id": c.id, "filename": c.current.filename if c.current else c.title, "status": c.status}
                for c in doc.children
                if folder.may_read(principal, c)
            ]
            included = [  # files inside its original that were documents of their own before (the container rule)
                {
                    "id": p.part.id,
                    "filename": p.part.current.filename if p.part.current else p.part.title,
                    "relation": p.relation,
                }
                for p in doc.included
                if p.part is not None and folder.may_read(principal, p.part)
            ]
            parent = session.get(Document, doc.parent_id) if doc.parent_id is not None else None
            # The container (an e-mail that also carries a hidden attachment) only when it may be opened too.
            parent_id = parent.id if parent is not None and folder.may_read(principal, parent) else None
            return {
                "id": doc.id,
                "title": doc.title,
                "filename": version.filename if version else "",
                "doc_type": doc.doc_type,
                "doc_type_reason": doc.doc_type_reason,
                "status": doc.status,
                "error": doc.error,
                "customers": [c.name for c in extraction.searchable_customers(doc)],
                "customer": doc.customer.name if doc.customer else None,
                "customer_links": [
                    {
                        "id": link.customer_id,
                        "name": link.customer.name,
                        "status": link.customer.status,
                        "method": link.method,
                        "evidence": link.evidence,
                        "primary": link.customer_id == doc.customer_id,
                    }
                    for link in doc.customer_links
                    if link.customer is not None
                ],
                "tags": [t.name for t in doc.tags],
                "confidentiality": doc.confidentiality,
                "legal_hold": doc.legal_hold,
                "legal_hold_reason": doc.legal_hold_reason,
                "mime": version.mime if version else "",
                "size": version.size if version else 0,
                "sha256": version.sha256 if version else "",
                "created_at": doc.created_at.isoformat(timespec="seconds"),
                "date": doc.doc_date,
                "language": doc.language,
                "warnings": list(doc.warnings or []),
                "parent_id": parent_id,
                "parent_name": (  # the container by its file name (its title without one), never "#id"
                    (parent.current.filename if parent.current else "") or parent.title
                    if parent is not None and parent_id is not None
                    else None
                ),
                "relation": doc.relation,
                "children": children,
                "included": included,
                "entities": ingest.entity_values(doc.entities),
                "due_dates": _due_dates(session, doc.id),
                "entity_mentions": [
                    {
                        "kind": e.kind,
                        "value": e.value,
                        "text": e.text,
                        "page": e.page,
                        "start": e.start,
                        "end": e.end,
                        "valid": e.valid,
                        "role": e.role,
                    }
                    for e in doc.entities
                ],
                "pages": [
                    {
                        "n": p.number,
                        "text": p.text,
                        "ocr": p.ocr,
                        "needs_ocr": p.needs_ocr,
                        "confidence": p.confidence,
                    }
                    for p in doc.pages
                ],
                "text": "\n\n".join(p.text for p in doc.pages if p.text),
                "versions": [
                    {
                        "n": v.number,
                        "sha256": v.sha256,
                        "filename": v.filename,
                        "mime": v.mime,
                        "size": v.size,
                        "uploaded_by": v.uploaded_by,
                        "uploaded_at": v.uploaded_at.isoformat(timespec="seconds"),
                        "restored_from": v.restored_from,
                        "current": v is version,
                    }
                    for v in doc.versions
                ],
            }

    def open_original(self, doc_id: int, principal: Principal) -> tuple[str, str, bytes]:
        """The newest original file of a document: (filename, mime, bytes), checksum verified."""
        with self.sessions() as session:
            doc = folder.readable_document(session, doc_id, principal)
            version = doc.current
            if version is None:
                raise NotFound(msg("app.document.no_file", id=doc_id))
            return version.filename, version.mime, self.blobs.get(version.sha256)

    # -- versions ------------------------------------------------------------------------------

    def versions(self, doc_id: int, principal: Principal) -> list[dict[str, Any]]:
        """Every version of a document, oldest first (the ``documents versions --json`` shape)."""
        with self.sessions() as session:
            doc = folder.readable_document(session, doc_id, principal)
            return [_version_view(v, current=v is doc.current) for v in doc.versions]

    def version(self, doc_id: int, number: int, principal: Principal) -> dict[str, Any]:
        """Version ``number`` of a document with its text: the current one's pages, a superseded one's kept text.

        ``text_kept`` is False for a superseded version whose text was not kept (replaced before
        versions kept their text): its original can still be downloaded.
        """
        with self.sessions() as session:
            doc = folder.readable_document(session, doc_id, principal)
            v = _version(doc, number)
            current = v is doc.current
            pages = (
                [{"n": p.number, "text": p.text, "ocr": p.ocr} for p in doc.pages]
                if current
                else [{"n": p.number, "text": p.text, "ocr": p.ocr} for p in v.pages]
            )
            return {
                "id": doc.id,
                "title": doc.title,
                **_version_view(v, current=current),
                "pages": pages,
                "text": "\n\n".join(p.text for p in doc.pages if p.text) if current else version_text(v),
            }

    def open_version(self, doc_id: int, number: int, principal: Principal) -> tuple[str, str, bytes]:
        """The original file of version ``number``: (filename, mime, bytes), checksum verified."""
        with self.sessions() as session:
            doc = folder.readable_document(session, doc_id, principal)
            v = _version(doc, number)
            return v.filename, v.mime, self.blobs.get(v.sha256)

    def version_diff(self, doc_id: int, old: int, new: int, principal: Principal) -> dict[str, Any]:
        """A line diff of the texts of versions ``old`` and ``new``: ``{"old", "new", "lines": [{"op", "text"}]}``.

        ``op`` is ``" "`` (both), ``"-"`` (only in ``old``), ``"+"`` (only in ``new``) or ``"@"``
        (a hunk header); unchanged runs are cut to three lines of context.  A version without
        kept text cannot be compared (``comparable`` False).
        """
        a, b = self.version(doc_id, old, principal), self.version(doc_id, new, principal)
        comparable = a["text_kept"] and b["text_kept"]
        lines: list[dict[str, str]] = []
        if comparable:
            diff = difflib.unified_diff(a["text"].splitlines(), b["text"].splitlines(), lineterm="", n=3)
            for line in list(diff)[2:]:  # past the ---/+++ file header
                op = line[:1] if line[:1] in "+-@" else " "
                lines.append({"op": op, "text": line if op == "@" else line[1:]})
        return {
            "id": doc_id,
            "old": {k: a[k] for k in ("n", "filename", "current", "text_kept")},
            "new": {k: b[k] for k in ("n", "filename", "current", "text_kept")},
            "comparable": comparable,
            "same": comparable and not lines,
            "lines": lines,
        }


def _version_view(v: Version, *, current: bool) -> dict[str, Any]:
    """What a version list shows of one version (``text_kept``: its text can be read and compared)."""
    return {
        "n": v.number,
        "filename": v.filename,
        "mime": v.mime,
        "size": v.size,
        "sha256": v.sha256,
        "uploaded_by": v.uploaded_by,
        "uploaded_at": v.uploaded_at.isoformat(timespec="seconds"),
        "restored_from": v.restored_from,
        "current": current,
        "text_kept": current or bool(v.pages),
    }


def _version(doc: Document, number: int) -> Version:
    """Version ``number`` of ``doc``; NotFound naming both when it has none."""
    found = next((v for v in doc.versions if v.number == number), None)
    if found is None:
        raise NotFound(msg("app.version.not_found", id=doc.id, n=number))
    return found


def _due_dates(session: Session, doc_id: int) -> list[dict[str, Any]]:
    """The dates the document's text sets (contract end, renewal, quote validity, payment), with their sentences."""
    rows = session.scalars(
        select(DueDate).where(DueDate.document_id == doc_id).order_by(DueDate.page, DueDate.start, DueDate.id)
    )
    return [
        {
            "kind": d.kind,
            "date": d.due_on.isoformat(),
            "sentence": d.sentence,
            "page": d.page,
            "start": d.start,
            "end": d.end,
            "basis": d.basis,
        }
        for d in rows
    ]
