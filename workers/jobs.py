"""The queue's job functions and the per-process context they run in.

Job functions are module-level and take ids only; everything else comes from the records.
Each is idempotent: it claims its work in the records first, so a job that runs twice (a
retry after its worker was killed, a reconcile that re-enqueued it) changes nothing the
second time, and a document ends indexed exactly once.

The risky work (parsing untrusted files, OCR) runs in the context's :class:`ParsePool`
child, so a hang or crash costs one file, never the worker.
"""

from __future__ import annotations

import contextlib
import os
import socket
from dataclasses import dataclass
from typing import Any

import redis
from rq import get_current_job
from sqlalchemy import exc as sa_exc
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

import ingest
from foundation.messages import msg, stored
from index import SearchBackend
from pipeline.intake import Intake, local_process_gone
from pipeline.ocr import PAGE_TIMEOUT_S, OcrTask, run_ocr, store_ocr
from pipeline.pool import ParsePool, run_task
from pipeline.queue import JobQueue
from records import BlobCorrupt, BlobMissing, BlobStore, Document, ExportJob, Page

#: Errors worth a retry: the database or the disk or Redis was briefly unavailable.
TRANSIENT = (sa_exc.OperationalError, sa_exc.InterfaceError, OSError, redis.RedisError)
#: Errors that no retry will fix: the stored original itself is bad.
PERMANENT = (BlobMissing, BlobCorrupt)


def run_any(task: Any, limits: ingest.Limits) -> Any:
    """Pool runner for both kinds of work: OCR tasks and parse tasks."""
    if isinstance(task, OcrTask):
        return run_ocr(task, limits)
    return run_task(task, limits)


@dataclass
class WorkerContext:
    """What a worker process holds between jobs: the open records, the queue, a warm parser child."""

    name: str
    sessions: sessionmaker[Session]
    blobs: BlobStore
    backend: SearchBackend
    limits: ingest.Limits
    intake: Intake
    queue: JobQueue | None
    pool: ParsePool
    engine: str
    reindex: Any  # Dossier.reindex
    reextract: Any  # Dossier.customers.reextract
    close_dossier: Any = None  # Dossier.close: sends index work still waiting, releases the database
    export: Any = None  # Dossier.exports.run_job
    purge_exports: Any = None  # Dossier.exports.purge_expired
    purge_trash: Any = None  # Dossier.trash.purge_expired (daily)
    retention: Any = None  # Dossier.retention.run (daily, one worker at a time)
    destructions: Any = None  # Dossier.retention (approved destructions are carried out each round)
    scheduled_backup: Any = None  # Dossier.backups.run_scheduled
    notifications: Any = None  # Dossier.notifications (run + send_pending, in a thread of the housekeeping)

    @classmethod
    def build(cls, settings: Any, queue: JobQueue | None, name: str | None = None) -> WorkerContext:
        """Open the data home of ``settings`` and start the parser child (models load there once)."""
        from dossier.app.services import Dossier

        dossier = Dossier.open(settings)
        pool = ParsePool(1, dossier.limits, runner=run_any)
        pool.__enter__()
        return cls(
            name=name or f"{socket.gethostname()}.{os.getpid()}",
            sessions=dossier.sessions,
            blobs=dossier.blobs,
            backend=dossier.backend,
            limits=dossier.limits,
            intake=Intake(
                dossier.sessions,
                dossier.blobs,
                dossier.backend,
                dossier.limits,
                1,
                split=settings.split_kinds,
            ),
            queue=queue,
            pool=pool,
            engine=settings.get("DOSSIER_OCR_ENGINE"),
            reindex=dossier.reindex,
            reextract=dossier.customers.reextract,
            close_dossier=dossier.close,
            export=dossier.exports.run_job,
            purge_exports=dossier.exports.purge_expired,
            purge_trash=dossier.trash.purge_expired,
            retention=dossier.retention.run,
            destructions=dossier.retention,
            scheduled_backup=dossier.backups.run_scheduled,
            notifications=dossier.notifications,
        )

    def close(self) -> None:
        """Stop the parser child and release the database."""
        self.pool.close()
        with contextlib.suppress(Exception):
            if self.close_dossier is not None:
                self.close_dossier()
            else:
                self.sessions.kw["bind"].dispose()

    def is_dead(self, claimant: str) -> bool:
        """True when the worker named ``claimant`` no longer runs (only knowable with a queue)."""
        if claimant.startswith("inline:"):
            return local_process_gone(claimant)
        return self.queue is not None and self.queue.is_dead(claimant)


_context: WorkerContext | None = None


def set_context(context: WorkerContext | None) -> None:
    """Install the context the job functions of this process use (the worker does this at start)."""
    global _context
    _context = context


def context() -> WorkerContext:
    """This process's worker context, built from the environment's settings on first use."""
    global _context
    if _context is None:
        from foundation.config import load_settings

        settings = load_settings()
        _context = WorkerContext.build(settings, JobQueue.from_settings(settings))
    return _context


def _may_retry() -> bool:
    job = get_current_job()
    return bool(job is not None and job.retries_left)


# -- the jobs ---------------------------------------------------------------------------------


def ingest_document(doc_id: int) -> str:
    """Parse a taken document, store its pages and children, index it, queue OCR of its image pages.

    Returns what became of it (``indexed``, ``awaiting_ocr``, ``failed``) or ``skipped``
    when another live worker holds it or it is already done.
    """
    ctx = context()
    if not ctx.intake.claim(doc_id, ctx.name, ctx.is_dead):
        return "skipped"
    try:
        try:
            with ctx.intake.parse_task(
                doc_id
            ) as task:  # an encrypted original's plaintext lives only in this block
                if task is None:
                    ctx.intake.release(doc_id, ctx.name, msg("workers.no_original").dumps())
                    return "failed"
                outcome = next(iter(ctx.pool.imap([task])))
        except PERMANENT as exc:
            outcome = ctx.intake.unreadable(doc_id, exc)
        processed = ctx.intake.store_parsed(doc_id, outcome)
    except TRANSIENT as exc:
        if _may_retry():
            ctx.intake.unclaim(doc_id, ctx.name)
            raise
        ctx.intake.release(doc_id, ctx.name, msg("workers.retries_exhausted", detail=_one_line(exc)).dumps())
        return "failed"
    if ctx.queue is not None:
        for ocr_doc, pages in processed.ocr:
            ctx.queue.enqueue_ocr(ocr_doc, pages, PAGE_TIMEOUT_S)
    return processed.status


def ocr_document_pages(doc_id: int, pages: list[int]) -> str:
    """OCR some pages of a document, store their text and reindex it; idempotent per page.

    Returns ``done``, ``failed`` (every page failed; reasons stored per page) or ``skipped``.
    """
    ctx = context()
    with ctx.sessions() as session:
        doc = session.get(
            Document, doc_id, options=[selectinload(Document.pages), selectinload(Document.versions)]
        )
        if doc is None or doc.current is None or doc.status == "failed":
            return "skipped"
        wanted = tuple(
            p.number for p in doc.pages if p.number in set(pages) and p.needs_ocr and p.ocr_error is None
        )
        filename, digest = doc.current.filename, doc.current.sha256
    if not wanted:
        return "skipped"
    try:
        try:
            data = ctx.blobs.get(digest)
        except PERMANENT as exc:
            outcome: Any = _Failed(OcrTask(doc_id, filename, b"", wanted, ctx.engine, 0), stored(exc) or "")
        else:
            task = OcrTask(
                key=doc_id,
                filename=filename,
                data=data,
                pages=wanted,
                engine=ctx.engine,
                timeout_s=PAGE_TIMEOUT_S * len(wanted),
            )
            outcome = next(iter(ctx.pool.imap([task])))
        failures = store_ocr(ctx.sessions, ctx.backend, doc_id, wanted, outcome)
    except TRANSIENT as exc:
        if _may_retry():
            raise
        store_ocr(
            ctx.sessions,
            ctx.backend,
            doc_id,
            wanted,
            _Failed(None, msg("workers.retries_exhausted", detail=_one_line(exc)).dumps()),
        )
        return "failed"
    return "failed" if len(failures) == len(wanted) else "done"


def reindex_documents(doc_ids: list[int] | None) -> int:
    """Rebuild the index entries of some documents (None: all); returns how many were indexed."""
    return int(context().reindex(doc_ids))


def reextract_documents(doc_ids: list[int]) -> int:
    """Run the extraction step again on some documents' stored text; returns how many."""
    return int(context().reextract(doc_ids)["documents"])


def export_results(job_id: int) -> str:
    """Write a background export's file (``done``, ``failed`` or ``skipped``); transient errors are retried."""
    ctx = context()
    return str(ctx.export(job_id, ctx.name, transient=TRANSIENT if _may_retry() else ()))


@dataclass(frozen=True)
class _Failed:
    """A whole-task OCR failure in the shape :func:`store_ocr` reads."""

    task: Any
    error: str
    pages: tuple[Any, ...] = ()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


# -- reconciling the records with the queue ---------------------------------------------------


def waiting_work(ctx: WorkerContext, *, held: bool = True) -> tuple[list[int], list[tuple[int, list[int]]]]:
    """Documents that wait for parsing (queued, or held by a dead worker) and pages that wait for OCR.

    ``held=False`` leaves out what a live worker may be working on: documents ``processing``
    and pages awaiting OCR (only ``queued`` documents, which nobody holds, are returned).
    """
    with ctx.sessions() as session:
        queued = []
        for doc_id, status, holder in session.execute(
            select(Document.id, Document.status, Document.claimed_by)
            .where(Document.status.in_(("queued", "processing") if held else ("queued",)))
            .order_by(Document.id)
        ):
            if status == "queued" or holder is None or ctx.is_dead(holder):
                queued.append(doc_id)
        pages: dict[int, list[int]] = {}
        if not held:
            return queued, []
        for doc_id, number in session.execute(
            select(Page.document_id, Page.number)
            .join(Document, Document.id == Page.document_id)
            .where(Page.needs_ocr.is_(True), Page.ocr_error.is_(None), Document.status == "awaiting_ocr")
            .order_by(Page.document_id, Page.number)
        ):
            pages.setdefault(doc_id, []).append(number)
    return queued, list(pages.items())


def reconcile(ctx: WorkerContext, *, eager: bool = False) -> dict[str, int]:
    """Enqueue every piece of waiting work that has no live job (after a crash, or a Redis outage).

    Right after Redis lost its data the workers that still run have not all announced
    themselves and their jobs again (:meth:`JobQueue.settling_s`): until then only queued
    documents are enqueued — nobody holds them, and their jobs claim them, so each runs once —
    while documents held by workers and pages awaiting OCR wait for a later round.  ``eager``
    does not wait (a burst worker, run by hand to drain what waits now).
    """
    if ctx.queue is None:
        return {"ingest": 0, "ocr": 0, "export": 0}
    settled = eager or ctx.queue.settling_s() == 0
    queued, pages = waiting_work(ctx, held=settled)
    return ctx.queue.reconcile(
        queued,
        pages,
        parse_timeout_s=ctx.limits.parse_timeout_s + 120,
        page_timeout_s=PAGE_TIMEOUT_S,
        exports=waiting_exports(ctx),
    )


def waiting_exports(ctx: WorkerContext) -> list[int]:
    """Background exports still queued in the records (their job may have been lost with Redis's data)."""
    with ctx.sessions() as session:
        return list(
            session.scalars(select(ExportJob.id).where(ExportJob.status == "queued").order_by(ExportJob.id))
        )


__all__ = [
    "WorkerContext",
    "context",
    "export_results",
    "ingest_document",
    "ocr_document_pages",
    "reconcile",
    "reindex_documents",
    "run_any",
    "set_context",
    "waiting_exports",
    "waiting_work",
]
