"""The Document -> IndexDocument mapping, in one place, and indexing a document with its family.

:func:`index_entry` is what the search index gets for a stored document (the text of an
e-mail includes its attachments'; who may read it is its stored access, :mod:`pipeline.access`).
:func:`index_documents` first applies the container rule to the documents' families, so a
change to one document reindexes every document whose access or text moved with it.

A document's entries (:func:`index_entries`) are its current entry and one per superseded
version whose text was kept (:func:`keep_version_text`): id = minus the version row's id, found
only by ``version:all`` searches.  Whatever removes a document from the index removes
:func:`entry_ids` (every id it may hold there).

A document in the trash (``trashed_at`` set) is never indexed: :func:`index_documents` leaves
it out (and removes what the index may still hold of it), and a container's text leaves out
the text of its parts in the trash.  An archived document is indexed with lifecycle
``archived`` (search leaves it out unless asked), and so are its superseded versions' entries.

Activities and comments have entries of their own (:mod:`pipeline.activity_index`); indexing
a document re-indexes the comments on it (as strict as it is, gone while it is in the trash).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from index import IndexDocument, SearchBackend, file_format
from pipeline import access
from pipeline.activity_index import activity_entry, index_customer_activities, sync_comments
from pipeline.entry_customers import customer_fields
from pipeline.extraction import searchable_customers
from records import Document, DocumentPart, Version, VersionPage

__all__ = [
    "INDEXED_STATUSES",
    "activity_entry",
    "entry_ids",
    "index_customer_activities",
    "index_documents",
    "index_entries",
    "index_entry",
    "indexable",
    "is_scan",
    "keep_version_text",
    "version_text",
]


def index_entry(doc: Document) -> IndexDocument:
    """What the index gets for a stored document.

    An e-mail's text includes its attachments' text: its attachment children's, and that of
    attachments stored before as documents of their own (its ``included`` parts).  Who may
    read it is its stored access (:mod:`pipeline.access`), which the caller keeps current
    (:func:`index_documents`).
    """
    attached = [c for c in doc.children if c.relation == "attachment"]
    attached += [p.part for p in doc.included if p.relation == "attachment" and p.part is not None]
    texts = [p.text for p in doc.pages if p.text]
    texts += [
        "\n\n".join(p.text for p in c.pages if p.text)
        for c in attached
        if c.status != "failed" and c.trashed_at is None
    ]
    text = "\n\n".join(t for t in texts if t)
    readers = access.stored_access(doc)
    version = doc.current
    customers = searchable_customers(doc)
    entities = tuple(dict.fromkeys((e.kind, e.value) for e in doc.entities))
    extra = tuple(dict.fromkeys([*(e.text for e in doc.entities), *(value for _, value in entities)]))
    return IndexDocument(
        id=doc.id,
        title=doc.title,
        text=text,
        filename=version.filename if version else "",
        doc_type=doc.doc_type,
        **customer_fields(customers),
        tags=tuple(t.name for t in doc.tags),
        confidentiality=readers.level,
        access_customer_ids=tuple(sorted(readers.customers)),
        date=doc.doc_date,
        created_at=doc.created_at.isoformat() if doc.created_at else "",
        entities=entities,
        extra=extra,
        lifecycle="archived" if doc.lifecycle == "archived" else "active",
        file_format=file_format(version.mime, version.filename) if version else "other",
        scan=is_scan(doc),
    )


def is_scan(doc: Document) -> bool:
    """True when ``doc`` is a scan: an image file, or a PDF with pages whose text came (or is to come) from OCR."""
    version = doc.current
    kind = file_format(version.mime, version.filename) if version else "other"
    if kind == "image":
        return True
    return kind == "pdf" and any(p.ocr or p.needs_ocr for p in doc.pages)


def _version_is_scan(version: Version) -> bool:
    kind = file_format(version.mime, version.filename)
    return kind == "image" or (kind == "pdf" and any(p.ocr for p in version.pages))


def index_entries(doc: Document) -> list[IndexDocument]:
    """Every entry the index gets for a stored document: its current one, then one per superseded version with kept text.

    A superseded version's entry is the document's (same access, customers, type, tags,
    lifecycle) with that version's text and file name, id = minus the version row's id; its
    entities belong to the current text, so it carries none.
    """
    current = index_entry(doc)
    out = [current]
    latest = doc.current
    for version in doc.versions:
        if version is latest or not version.pages:
            continue
        out.append(
            dataclasses.replace(
                current,
                id=-version.id,
                version=version.number,
                document_id=doc.id,
                text=version_text(version),
                filename=version.filename,
                entities=(),
                extra=(),
                file_format=file_format(version.mime, version.filename),
                scan=_version_is_scan(version),
            )
        )
    return out


def entry_ids(doc: Document) -> list[int]:
    """Every id the index may hold for ``doc``: its own and its versions' (unknown ids are ignored by deletes)."""
    return [doc.id, *(-v.id for v in doc.versions)]


def version_text(version: Version) -> str:
    """The kept text of a superseded version, pages joined."""
    return "\n\n".join(p.text for p in version.pages if p.text)


def keep_version_text(doc: Document) -> Version | None:
    """Copy the document's pages into its current version's kept text, before a newer version replaces them.

    Called when a new version is taken in (or an old one restored), while the pages are still
    the current version's.  A version that already has kept text keeps it (taking in again, or
    restoring twice, never duplicates nor overwrites it); a document without pages keeps
    nothing.  Returns the version whose text was kept, else None.
    """
    version = doc.current
    if version is None or version.pages or not doc.pages:
        return None
    version.pages = [VersionPage(number=p.number, text=p.text or "", ocr=bool(p.ocr)) for p in doc.pages]
    return version


#: Statuses whose documents the search index holds.
INDEXED_STATUSES = ("indexed", "awaiting_ocr")


def indexable(doc: Document) -> bool:
    """Whether the search index should hold ``doc``: not failed and not in the trash."""
    return doc.status != "failed" and doc.trashed_at is None


def index_documents(session: Session, backend: SearchBackend, docs: Sequence[Document]) -> list[Document]:
    """Index ``docs`` after the container rule has been applied to their families, in the caller's transaction.

    Every other document whose access changed with them (a container of a part that became
    an invoice, the parts of a container a manager marked confidential) is reindexed too, if
    the index holds it.  Documents in the trash are left out, and removed from the index if it
    still holds them (a worker finishing one that was trashed meanwhile).  Returns every
    document indexed.
    """
    session.flush()
    changed = access.refresh(session, docs)
    trashed = [i for d in docs if d.trashed_at is not None for i in entry_ids(d)]
    wanted = {d.id: d for d in docs if indexable(d)}
    wanted.update(
        (d.id, d) for d in changed if d.status in INDEXED_STATUSES and indexable(d) and d.id not in wanted
    )
    # A container's text holds its attachments' text: it follows them (also when one went to the trash).
    for doc in [*wanted.values(), *(d for d in docs if d.trashed_at is not None)]:
        for container in _text_containers(session, doc):
            if container.status in INDEXED_STATUSES and indexable(container):
                wanted.setdefault(container.id, container)
    if trashed:
        backend.delete(trashed, connection=session.connection())
    if wanted:
        backend.index([e for d in wanted.values() for e in index_entries(d)], connection=session.connection())
    # Comments follow their documents: as strict as they are, out of the index while they are in the trash.
    sync_comments(session, backend, [*wanted.values(), *(d for d in docs if d.trashed_at is not None)])
    return list(wanted.values())


def _text_containers(session: Session, doc: Document) -> list[Document]:
    """The e-mails whose search text includes ``doc`` as an attachment."""
    out: list[Document] = []
    if doc.relation == "attachment" and doc.parent_id is not None:
        parent = session.get(Document, doc.parent_id)
        if parent is not None:
            out.append(parent)
    out += session.scalars(
        select(Document)
        .join(DocumentPart, DocumentPart.container_id == Document.id)
        .where(DocumentPart.part_id == doc.id, DocumentPart.relation == "attachment")
    ).all()
    return out
