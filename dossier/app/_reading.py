"""Reading: searches joined with what the records say, one document whole, its original file.

Every read takes the caller's :class:`~index.Principal` and answers ``NotFound`` for documents
the caller may not read, exactly as for documents that do not exist; hits the index holds but
the records no longer allow are left out.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

import ingest
from dossier.app import folder
from dossier.app.resources import HomeResources
from foundation.errors import NotFound
from foundation.messages import msg
from index import Principal, SearchRequest
from pipeline import extraction
from records import Document, DocumentCustomer

__all__ = ["ReadingService"]


class ReadingService:
    """Search, show and download over one open home's resources."""

    def __init__(self, home: HomeResources) -> None:
        self.resources = home
        self.sessions = home.sessions
        self.blobs = home.blobs
        self.backend = home.backend

    def search(self, request: SearchRequest, principal: Principal) -> dict[str, Any]:
        """Run a search and join the hits with display data (the ``search --json`` shape)."""
        started = time.perf_counter()
        self.resources.prepare_search()  # registry words of other processes; this process's writes searchable
        result = self.backend.search(request, principal)
        ids = [h.id for h in result.hits]
        with self.sessions() as session:
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
                doc = docs.get(hit.id)
                # The index behind the records (a write still on its way): never show what records do not
                # hold, nor what they say the caller may not read now.
                if doc is None or not folder.may_read(principal, doc, owned):
                    continue
                version = doc.current
                hits.append(
                    {
                        "id": doc.id,
                        "title": doc.title,
                        "filename": version.filename if version else "",
                        "customer": doc.customer.name if doc.customer else None,
                        "customers": [c.name for c in extraction.searchable_customers(doc)],
                        "doc_type": doc.doc_type,
                        "date": doc.doc_date,
                        "score": round(hit.score, 4),
                        "snippet": hit.snippet,
                        "title_html": hit.title_html,
                        "status": doc.status,
                    }
                )
        facets = {
            name: [{"value": value, "count": count} for value, count in values]
            for name, values in result.facets.items()
        }
        return {
            "total": result.total,
            "took_ms": round((time.perf_counter() - started) * 1000, 1),
            "hits": hits,
            "facets": facets,
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
                "relation": doc.relation,
                "children": children,
                "included": included,
                "entities": ingest.entity_values(doc.entities),
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
