"""OCR of stored pages that await it: read the original, recognise those pages, store, reindex.

Runs in the parser process pool (OCR engines are C/ONNX code on untrusted images: a hang or
crash costs one document's pages, which stay ``needs_ocr`` with the reason as a warning).
A page that fails keeps waiting; the document is ``indexed`` once no page waits.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

import ingest
from foundation.messages import load_stored, msg, stored
from index import SearchBackend
from pipeline.extraction import SHARED
from pipeline.indexing import index_documents
from pipeline.pool import ParsePool
from records import BlobCorrupt, BlobMissing, BlobStore, Document, Page, utcnow

#: Seconds one page may take before it fails (the whole task gets this per page).
PAGE_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class OcrTask:
    """OCR these pages of one document's original."""

    key: int  # document id
    filename: str
    data: bytes
    pages: tuple[int, ...]
    engine: str
    timeout_s: float
    timeout_message: str = "pipeline.ocr.timeout"


@dataclass(frozen=True)
class OcrOutcome:
    """What the OCR child sends back."""

    task: OcrTask
    pages: tuple[ingest.OcrPage, ...] = ()
    error: str | None = None
    seconds: float = 0.0


def run_ocr(task: OcrTask, limits: ingest.Limits) -> OcrOutcome:
    """Child-process entry: OCR one document's pages; never raises."""
    started = time.monotonic()
    try:
        pages = ingest.ocr_pages(
            task.data,
            task.filename,
            pages=task.pages,
            engine=task.engine,
            limits=limits,
            page_timeout_s=task.timeout_s / max(1, len(task.pages)),
        )
        return OcrOutcome(task, tuple(pages), seconds=time.monotonic() - started)
    except ingest.IngestError as exc:
        return OcrOutcome(task, error=stored(exc), seconds=time.monotonic() - started)
    except Exception as exc:  # job boundary: an engine bug costs this document, not the run
        failed = msg("pipeline.ocr.failed", kind=type(exc).__name__).dumps()
        return OcrOutcome(task, error=failed, seconds=time.monotonic() - started)


def _warm_up_ocr(engine: str) -> None:
    ingest.resolve_engine(engine)  # load the models before the first deadline starts


@dataclass
class OcrSummary:
    """What an OCR run did; :meth:`as_json` is ``dossier ocr --json``."""

    documents: int = 0
    pages: int = 0
    failed: list[dict[str, object]] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> dict[str, object]:
        """Counts, failures with reasons, pages per second."""
        return {
            "documents": self.documents,
            "pages": self.pages,
            "failed": self.failed,
            "seconds": round(self.seconds, 1),
            "pages_per_s": round(self.pages / self.seconds, 2) if self.seconds else 0.0,
        }


class OcrRunner:
    """OCRs every page awaiting OCR (or those of given documents) with a pool of processes."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        blobs: BlobStore,
        backend: SearchBackend,
        limits: ingest.Limits,
        engine: str = "auto",
        workers: int = 1,
    ) -> None:
        self.sessions = sessions
        self.blobs = blobs
        self.backend = backend
        self.limits = limits
        self.engine = engine
        self.workers = workers

    def pending(self, ids: Sequence[int] | None = None, limit: int | None = None) -> list[int]:
        """Ids of documents with pages awaiting OCR, oldest first."""
        with self.sessions() as session:
            query = (
                select(Document.id)
                .join(Page)
                .where(Page.needs_ocr.is_(True), Document.status != "failed")
                .group_by(Document.id)
                .order_by(Document.id)
            )
            if ids is not None:
                query = query.where(Document.id.in_(list(ids)))
            if limit is not None:
                query = query.limit(limit)
            return list(session.scalars(query))

    def _task(self, doc_id: int) -> OcrTask | OcrOutcome | None:
        """The OCR task of a document's waiting pages; a failed outcome when its original cannot be read."""
        with self.sessions() as session:
            doc = session.get(Document, doc_id, options=[selectinload(Document.pages)])
            if doc is None or doc.current is None:
                return None
            numbers = tuple(p.number for p in doc.pages if p.needs_ocr)
            version = doc.current
            digest = version.sha256
            task = OcrTask(
                key=doc_id,
                filename=version.filename,
                data=b"",
                pages=numbers,
                engine=self.engine,
                timeout_s=PAGE_TIMEOUT_S * max(1, len(numbers)),
            )
        if not numbers:
            return task
        try:
            data = self.blobs.get(digest)  # decrypted and verified: nothing unverified reaches OCR
        except (BlobMissing, BlobCorrupt) as exc:
            return OcrOutcome(task, error=stored(exc))
        return dataclasses.replace(task, data=data)

    def run(self, ids: Sequence[int] | None = None, limit: int | None = None) -> OcrSummary:
        """OCR the pending pages; store each document's pages and reindex it in one transaction."""
        ingest.resolve_engine(self.engine)  # fail fast, with the engine's message, before forking
        started = time.monotonic()
        summary = OcrSummary()
        tasks: list[OcrTask] = []
        for doc_id in self.pending(ids, limit):
            task = self._task(doc_id)
            if isinstance(task, OcrOutcome):  # the original cannot be read: its pages fail with the reason
                self._store(task, summary)
            elif task is not None and task.pages:
                tasks.append(task)
        if tasks:
            engine = self.engine
            with ParsePool(
                min(self.workers, len(tasks)),
                self.limits,
                runner=run_ocr,
                warm_up=lambda: _warm_up_ocr(engine),
            ) as pool:
                for outcome in pool.imap(tasks):
                    self._store(outcome, summary)
        summary.seconds = time.monotonic() - started
        return summary

    def _store(self, outcome: OcrOutcome | Any, summary: OcrSummary) -> None:
        failures = store_ocr(self.sessions, self.backend, outcome.task.key, outcome.task.pages, outcome)
        summary.failed.extend(failures)
        summary.pages += len(getattr(outcome, "pages", ())) - sum(
            1 for f in failures if f["page"] is not None
        )
        summary.documents += 1


def store_ocr(
    sessions: sessionmaker[Session],
    backend: SearchBackend,
    doc_id: int,
    numbers: Sequence[int],
    outcome: OcrOutcome | Any,
) -> list[dict[str, object]]:
    """Store OCR results for some pages of a document and reindex it, in one transaction.

    A page that failed keeps ``needs_ocr`` with its reason in ``ocr_error`` (and a warning);
    a whole-task failure (crash, timeout: the pool answers with a ParseOutcome) fails every
    page of the task.  The document is ``indexed`` once no page waits.  Returns the failures.
    """

    failures: list[dict[str, object]] = []
    with sessions() as session:
        # Write first: on SQLite this takes the write lock before reading, so two jobs
        # finishing pages of one document never both miss each other's pages.
        session.execute(update(Document).where(Document.id == doc_id).values(updated_at=utcnow()))
        doc = session.get(Document, doc_id, options=[selectinload(Document.pages)], populate_existing=True)
        if doc is None:
            session.rollback()
            return failures
        by_number = {p.number: p for p in doc.pages}
        results = {r.number: r for r in getattr(outcome, "pages", ())}
        task_error = getattr(outcome, "error", None)
        for number in numbers:
            page = by_number.get(number)
            if page is None or not page.needs_ocr:
                continue
            result = results.get(number)
            error = task_error if result is None else result.error
            if result is None and error is None:
                error = msg("pipeline.ocr.nothing").dumps()
            if error is not None:
                page.ocr_error = error
                failures.append({"id": doc_id, "page": number, "error": error})
                continue
            assert result is not None
            page.text = result.text
            page.needs_ocr = False
            page.ocr = True
            page.ocr_error = None
            page.confidence = result.confidence
            page.engine = result.engine
            page.rotation = result.rotation
        warnings = [w for w in (doc.warnings or []) if not _about_ocr(w)]  # re-stated below
        failed = [p for p in doc.pages if p.needs_ocr and p.ocr_error]
        waiting = [p for p in doc.pages if p.needs_ocr and not p.ocr_error]
        warnings.extend(
            msg("pipeline.ocr.page_failed", page=p.number, error=p.ocr_error).dumps() for p in failed
        )
        if waiting:
            warnings.append(msg("pipeline.ocr.waiting", pages=len(waiting)).dumps())
        doc.warnings = warnings
        if doc.status != "failed":
            doc.status = "awaiting_ocr" if failed or waiting else "indexed"
        if any(p.ocr for p in doc.pages):  # entities, date, type and customers from the new text
            SHARED.apply_safely(session, doc, ocr_text=True)
        session.flush()
        if doc.relation == "attachment" and doc.parent_id is not None:
            parent = session.get(Document, doc.parent_id)
            if (
                parent is not None
            ):  # an e-mail is about its attachments' customers (its text follows them too)
                SHARED.link_attachments(session, parent)
        index_documents(session, backend, [doc])  # and its containers and parts, by the container rule
        session.commit()
    return failures


def _about_ocr(warning: str) -> bool:
    """Whether a document's warning is about OCR (a page waiting or failed): those are re-stated."""
    message = load_stored(warning)
    if message is not None:
        return message.id.startswith(("ingest.ocr.", "pipeline.ocr."))
    return "OCR" in warning  # a warning stored before warnings had ids
