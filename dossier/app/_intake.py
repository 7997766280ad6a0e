"""Bringing documents in and working on them: intake, batches, retries, OCR and reindexing.

:class:`IntakeService` takes files (paths, sources, one upload) into the records through
:class:`~pipeline.intake.Intake`, queues them for the workers (or processes them here when
Redis is away), reports batches to whoever may see them, retries failures, runs OCR on pages
left for later and reindexes from the stored text.  :class:`~dossier.app.services.Dossier`
holds one and offers its methods as its own.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from redis import RedisError as QueueError
from sqlalchemy import select
from sqlalchemy.orm import Session

import index
from dossier.app import folder, permissions
from dossier.app._customers import document_batches
from dossier.app.audit import AuditService, upload_detail
from dossier.app.resources import QUEUE_RETRY_S, HomeResources
from dossier.app.search_request import doc_type_code
from dossier.app.worker_processes import WorkerProcesses
from foundation.errors import DossierError, Forbidden, NotFound
from foundation.messages import msg
from index import Principal, Rebuild
from ingest import DOC_TYPES
from pipeline import access
from pipeline.activity_index import activity_entries, index_activities
from pipeline.batches import ALREADY_STORED, batch_report, batch_summary, close_batch
from pipeline.batches import batch_documents as _batch_document_ids
from pipeline.eta import EtaBook
from pipeline.failures import is_retryable
from pipeline.indexing import index_entries
from pipeline.intake import Intake, IntakeOptions, Source, collect_files
from pipeline.ocr import PAGE_TIMEOUT_S
from pipeline.queue import JobQueue, QueueUnavailable
from records import Activity, Document, IngestBatch, IngestJob, Page

__all__ = ["IntakeService"]

#: Roles that read every document regardless of confidentiality.
_READ_ALL_ROLES = folder.READ_ALL_ROLES


class RetryRefused(DossierError):
    """A retry named a failure that running the same file again cannot fix (400)."""

    status = 400


class IntakeService:
    """Intake, batches, retries, OCR and reindexing over one open home's resources.

    ``audit`` records one ``upload`` event per batch.
    """

    def __init__(self, home: HomeResources, audit: AuditService) -> None:
        self.resources = home
        self.audit = audit
        self.settings = home.settings
        self.sessions = home.sessions
        self.blobs = home.blobs
        self.backend = home.backend
        self.limits = home.limits
        self._eta = EtaBook()  # the ETA of the batches reported here, from their timelines (pipeline.eta)

    def make_intake(self, workers: int | None = None) -> Intake:
        """The intake chain over this home's records, blobs and index, with ``workers`` parser processes."""
        return Intake(
            self.sessions,
            self.blobs,
            self.backend,
            self.limits,
            workers or self.settings.workers,
            split=self.settings.split_kinds,
        )

    def queue(self) -> JobQueue | None:
        """The job queue, or None while Redis cannot be reached (checked again after a few seconds)."""
        return self.resources.queue()

    def options(
        self, customer: str | None, doc_type: str | None, tags: Sequence[str], uploaded_by: str, source: str
    ) -> IntakeOptions:
        """What a batch brings along (customer, type, tags, who, from where); a type name becomes its code."""
        if doc_type is not None and doc_type not in DOC_TYPES:
            doc_type = doc_type_code(doc_type)
        if customer:
            index.add_user_words([customer])
        return IntakeOptions(
            customer=customer, doc_type=doc_type, tags=tuple(tags), uploaded_by=uploaded_by, source=source
        )

    def ingest_paths(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        customer: str | None = None,
        doc_type: str | None = None,
        tags: Sequence[str] = (),
        uploaded_by: str = "system",
        workers: int | None = None,
        wait: bool = True,
        ocr: bool = True,
        on_batch: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        """Ingest files and folders (recursively); returns the ``--json`` summary."""
        return self.ingest_sources(
            collect_files(paths),
            customer=customer,
            doc_type=doc_type,
            tags=tags,
            uploaded_by=uploaded_by,
            workers=workers,
            wait=wait,
            ocr=ocr,
            on_batch=on_batch,
        )

    def ingest_sources(
        self,
        sources: Sequence[Source],
        *,
        customer: str | None = None,
        doc_type: str | None = None,
        tags: Sequence[str] = (),
        uploaded_by: str = "system",
        workers: int | None = None,
        source: str = "cli",
        wait: bool = True,
        ocr: bool = True,
        on_batch: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        """Take every source into the records and have it processed.

        With Redis, each file becomes a queued job for the workers; ``wait`` then blocks
        until the batch is done (starting temporary workers when none runs).  Without Redis
        the batch is processed here, in a pool of ``workers`` processes (``ocr`` False
        leaves image pages awaiting OCR).  ``on_batch`` learns the batch id as soon as it
        exists (a progress bar polls the batch from there).
        """
        options = self.options(customer, doc_type, tags, uploaded_by, source)
        intake = self.make_intake(workers)
        batch_id = intake.new_batch(source, uploaded_by, total=len(sources))
        self.audit.record(  # one event per batch, when it starts: what was brought in, by whom (outcomes: the batch)
            uploaded_by,
            "upload",
            target_type="batch",
            target_id=batch_id,
            detail=upload_detail(
                source,
                batch_id,
                [s.label for s in sources],
                customer=options.customer,
                doc_type=options.doc_type,
                tags=options.tags,
            ),
        )
        if on_batch is not None:
            on_batch(batch_id)
        engine = self.settings.get("DOSSIER_OCR_ENGINE") if ocr else None
        queue = self.queue()
        if queue is None:
            intake.run(sources, options, batch_id=batch_id, ocr_engine=engine)
        else:
            unqueued: list[int] = []
            for src in sources:
                taken = intake.take(src, options, batch_id)
                doc_id = taken.document_id
                if (
                    taken.status == "queued"
                    and doc_id is not None
                    and (unqueued or not self._enqueue_ingest(queue, doc_id))
                ):
                    unqueued.append(doc_id)
            close_batch(self.sessions, batch_id)
            if unqueued:  # Redis went away mid-batch: do the rest here rather than leave it waiting
                queue = None
                intake.process_here(unqueued, engine)
            elif wait:
                self.wait_for_batch(batch_id, workers=workers)
        if (wait or queue is None) and not self.backend.settle():
            logging.getLogger(__name__).warning(
                "搜索索引暂不可用：文档已保存，索引稍后自动补上 / the search index is unavailable: the documents"
                " are stored and will be indexed automatically once it answers"
            )
        summary = batch_summary(self.sessions, batch_id)
        summary["mode"] = "inline" if queue is None else "queue"
        return summary

    def enqueue(self, doc_id: int) -> bool:
        """Queue a document the records hold as ``queued`` (a restored version); False while Redis is away."""
        queue = self.queue()
        return queue is not None and self._enqueue_ingest(queue, doc_id)

    def _enqueue_ingest(self, queue: JobQueue, doc_id: int) -> bool:
        """Queue a taken document; False (and forget the connection) when Redis fails — it stays queued in the records."""
        try:
            queue.enqueue_ingest(doc_id, self.job_timeout_s())
            return True
        except QueueError:
            self.resources.queue.forget(retry_in_s=QUEUE_RETRY_S)
            return False

    def job_timeout_s(self) -> float:
        """How long one ingest job may run on a worker (the parse limit and some room)."""
        return self.limits.parse_timeout_s + 120

    def wait_for_batch(
        self,
        batch_id: int,
        *,
        workers: int | None = None,
        poll_s: float = 1.0,
    ) -> dict[str, Any]:
        """Block until a batch is done; start ``workers`` temporary workers when none serves the queue."""
        queue = self.queue()
        if queue is None:
            raise QueueUnavailable(msg("app.queue.cannot_wait"))
        helpers = None
        if queue.live_workers() == 0:
            helpers = WorkerProcesses(self.settings, workers or self.settings.workers)
        try:
            while True:
                report = self.batch_report(batch_id)
                if report["state"] == "done":
                    return report
                if helpers is not None and helpers.alive() == 0:
                    raise DossierError(msg("app.queue.workers_exited"))
                time.sleep(poll_s)
        finally:
            if helpers is not None:
                helpers.stop()

    def ingest_upload(
        self,
        filename: str,
        data: bytes,
        *,
        principal: Principal,
        customer: str | None = None,
        doc_type: str | None = None,
        tags: Sequence[str] = (),
        batch_id: int | None = None,
        version_of: int | None = None,
    ) -> dict[str, Any]:
        """Store one uploaded file and queue it; returns at once with ``{"id", "duplicate", "error", "batch", "status"}``.

        Without Redis the file stays queued in the records; a worker picks it up when it starts.
        Given a ``batch_id`` (several files of one form), the caller closes it with :meth:`close_batch`.
        ``version_of`` makes the file the newest version of that document (see :meth:`add_version`,
        which checks the caller may edit it).  Viewers may not upload.
        """
        if not permissions.may_upload(principal):
            raise Forbidden(msg("app.upload.forbidden"))
        safe_name = Path(filename.replace("\\", "/")).name or "upload"
        options = dataclasses.replace(
            self.options(customer, doc_type, tags, principal.username, "upload"), version_of=version_of
        )
        intake = self.make_intake(1)
        own_batch = batch_id is None
        if batch_id is None:
            batch_id = intake.new_batch("upload", principal.username)
        taken = intake.take(Source(label=safe_name, filename=safe_name, data=data), options, batch_id)
        if own_batch:
            close_batch(self.sessions, batch_id)
        if taken.status == "queued" and taken.document_id is not None:
            queue = self.queue()
            if queue is not None:
                self._enqueue_ingest(
                    queue, taken.document_id
                )  # if Redis fails, a worker's reconcile finds it
        duplicate = taken.status == "duplicate"
        return {
            "id": self._named_document(taken.document_id, principal, duplicate=duplicate),
            "duplicate": duplicate,
            "error": taken.error,
            "message": ALREADY_STORED if duplicate else None,  # kept as a message: the web and CLI render it
            "batch": batch_id,
            "status": taken.status,
        }

    @staticmethod
    def _names_duplicates(principal: Principal) -> bool:
        """Whether a duplicate's document is named to ``principal``: only to one who may read every document.

        Naming it only when the uploader may read it would tell them, by its absence, that the
        bytes they hold are a document hidden from them.  So everyone else learns the one thing
        they may know — the file is stored already ("已存在，已由系统保存 / already stored") —
        the same way whether or not they could open it.
        """
        return principal.role in _READ_ALL_ROLES

    def _named_document(self, doc_id: int | None, principal: Principal, *, duplicate: bool) -> int | None:
        """``doc_id`` as an intake result may name it to ``principal`` (None: a duplicate, or a document they may not read)."""
        if doc_id is None or self._names_duplicates(principal):
            return doc_id
        if duplicate:
            return None
        with self.sessions() as session:
            doc = session.get(Document, doc_id)
            return doc_id if doc is not None and folder.may_read(principal, doc) else None

    def new_batch(self, source: str, created_by: str) -> int:
        """An empty intake batch (one upload form submission, one inbox sweep); close it with :meth:`close_batch`."""
        return self.make_intake(1).new_batch(source, created_by)

    def close_batch(self, batch_id: int) -> None:
        """Say every file of a batch has been taken: it is ``done`` once their work is."""
        close_batch(self.sessions, batch_id)

    # -- batches -----------------------------------------------------------------------------

    def _visible_batches(self, principal: Principal | None) -> Any:
        query = select(IngestBatch)
        if principal is not None and principal.role not in _READ_ALL_ROLES:
            query = query.where(IngestBatch.created_by == principal.username)
        return query

    def batches(self, principal: Principal | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """The newest batches with their progress; admins and managers see all, others their own."""
        with self.sessions() as session:
            found = session.scalars(
                self._visible_batches(principal).order_by(IngestBatch.id.desc()).limit(limit)
            ).all()
            reports = [self.with_eta(batch_report(session, b)) for b in found]
            session.commit()
            return reports

    def with_eta(self, report: dict[str, Any]) -> dict[str, Any]:
        """``report`` with the ETA its batch's timeline gives (files and OCR pages at their own costs): each
        report of a batch made here is a sample of it (:class:`pipeline.eta.EtaBook`)."""
        report["eta_s"] = self._eta.estimate(report)
        return report

    def batch_status(self, batch_id: int, principal: Principal | None = None) -> dict[str, Any]:
        """One batch's progress, failures with reasons and items; NotFound when unknown or not the caller's."""
        with self.sessions() as session:
            batch = session.scalars(
                self._visible_batches(principal).where(IngestBatch.id == batch_id)
            ).first()
            if batch is None:
                raise NotFound(msg("app.batch.not_found", id=batch_id))
            report = self.with_eta(batch_report(session, batch, details=True))
            if principal is not None and not self._names_duplicates(principal):
                self._redact_batch(session, report, principal)
            session.commit()
            return report

    def _redact_batch(self, session: Session, report: dict[str, Any], principal: Principal) -> None:
        """Leave out of a batch report what ``principal`` may not know: which document a duplicate is, and the
        ids and titles of the batch's documents they may not read (a failed file re-taken, a level raised)."""
        ids = {
            i["document_id"] for i in (*report["items"], *report["failures"]) if i["document_id"] is not None
        }
        docs = {d.id: d for d in session.scalars(select(Document).where(Document.id.in_(ids)))} if ids else {}
        hidden = {doc_id for doc_id, doc in docs.items() if not folder.may_read(principal, doc)}
        for item in report["items"]:
            if item["status"] == "duplicate" or item["document_id"] in hidden:
                item["document_id"] = None
        for failure in report["failures"]:
            doc_id = failure["document_id"]
            if doc_id in hidden:
                failure["document_id"] = None
                if (
                    failure["page"] is not None
                ):  # such entries are named by the document's title: use its file name
                    version = docs[doc_id].current
                    failure["file"] = failure["name"] = version.filename if version is not None else ""

    def batch_report(self, batch_id: int) -> dict[str, Any]:
        """A batch's progress without the item lists (for progress bars)."""
        with self.sessions() as session:
            batch = session.get(IngestBatch, batch_id)
            if batch is None:
                raise NotFound(msg("app.batch.not_found", id=batch_id))
            report = self.with_eta(batch_report(session, batch))
            session.commit()
            return report

    def retry(
        self, batch_id: int, principal: Principal | None = None, document_ids: Sequence[int] | None = None
    ) -> int:
        """Queue the failed files and failed OCR pages of a batch again (or only of ``document_ids``).

        Files refused before they were stored (too large, unreadable) have no original to
        retry; they must be offered again.  Only failures a retry can fix are queued
        (:mod:`pipeline.failures`): an empty file or an encrypted PDF fails the same way again.
        Naming such a document raises :class:`RetryRefused`.  Returns how many files and pages were queued.
        """
        report = self.batch_status(batch_id, principal)  # NotFound for a batch the caller may not see
        wanted = None if document_ids is None else set(document_ids)
        if wanted is not None:
            fixable = {f["document_id"] for f in report["failures"] if f["retryable"]}
            refused = [f for f in report["failures"] if f["document_id"] in wanted - fixable]
            if refused:
                raise RetryRefused(
                    msg("app.batch.not_retryable", file=refused[0]["file"], reason=refused[0]["error"] or "")
                )
        queue = self.queue()
        again_docs: list[int] = []
        again_pages: list[tuple[int, list[int]]] = []
        with self.sessions() as session:
            batch = session.get(IngestBatch, batch_id)
            assert batch is not None
            for job in session.scalars(
                select(IngestJob).where(IngestJob.batch_id == batch_id, IngestJob.status == "failed")
            ):
                if job.document_id is None or (wanted is not None and job.document_id not in wanted):
                    continue
                doc = session.get(Document, job.document_id)
                if doc is None or doc.status != "failed" or not is_retryable(job.error):
                    continue
                doc.status, doc.error, doc.claimed_by = "queued", None, None
                job.status, job.error, job.finished_at = "queued", None, None
                again_docs.append(doc.id)
            doc_ids = [i for i in _batch_document_ids(session, batch_id) if wanted is None or i in wanted]
            for doc_id in doc_ids:
                pages = session.scalars(
                    select(Page).where(
                        Page.document_id == doc_id, Page.needs_ocr.is_(True), Page.ocr_error.is_not(None)
                    )
                ).all()
                pages = [p for p in pages if is_retryable(p.ocr_error)]
                if pages:
                    for page in pages:
                        page.ocr_error = None
                    again_pages.append((doc_id, [p.number for p in pages]))
            if again_docs or again_pages:
                batch.status, batch.finished_at = "taken", None
            session.commit()
        if queue is not None:
            for doc_id in again_docs:
                queue.enqueue_ingest(doc_id, self.job_timeout_s())
            for doc_id, numbers in again_pages:
                queue.enqueue_ocr(doc_id, numbers, PAGE_TIMEOUT_S)
        return len(again_docs) + sum(len(n) for _d, n in again_pages)

    def ocr(
        self,
        ids: Iterable[int] | None = None,
        *,
        limit: int | None = None,
        engine: str | None = None,
        workers: int | None = None,
    ) -> dict[str, Any]:
        """OCR pages awaiting OCR (all, or of the given documents); returns the ``ocr --json`` summary."""
        from pipeline.ocr import OcrRunner

        runner = OcrRunner(
            self.sessions,
            self.blobs,
            self.backend,
            self.limits,
            engine=engine or self.settings.get("DOSSIER_OCR_ENGINE"),
            workers=workers or self.settings.workers,
        )
        return runner.run(None if ids is None else list(ids), limit).as_json()

    def reindex(
        self,
        ids: Iterable[int] | None = None,
        *,
        batch: int = 200,
        restart: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Rebuild index entries from the records: the given documents, or (None) the whole index.

        The index is derived data, so this is always safe; failed documents are left out.
        A whole rebuild goes through :meth:`index.SearchBackend.start_rebuild`: with OpenSearch
        a new index is filled and the alias swapped to it at the end (search goes on meanwhile),
        and a run that crashed is resumed unless ``restart``.  ``progress(done, total)`` is
        called after each batch.  Returns the number of documents indexed by this call.
        """
        wanted = None if ids is None else sorted(set(ids))
        changed = self._refresh_access(wanted)
        if wanted is not None:
            wanted = sorted(set(wanted) | changed)
        rebuild = self.backend.start_rebuild(restart=restart) if wanted is None else None
        with self.sessions() as session:
            query = (
                select(Document.id)
                .where(Document.status != "failed", Document.trashed_at.is_(None))  # the trash is not indexed
                .order_by(Document.id)
            )
            if wanted is not None:
                query = query.where(Document.id.in_(wanted))
            elif rebuild is not None and rebuild.resume_after:
                query = query.where(Document.id > rebuild.resume_after)
            all_ids = list(session.scalars(query))
        done = 0
        for session, docs in document_batches(self.sessions, all_ids, batch):
            entries = [e for d in docs for e in index_entries(d)]  # with superseded versions' entries
            if rebuild is not None:
                rebuild.add(entries, connection=session.connection())
            else:
                self.backend.index(entries, connection=session.connection())
            session.commit()
            done += len(docs)
            if progress is not None:
                progress(done, len(all_ids))
        if wanted is None:  # the whole index: the activities' and comments' entries too
            self._reindex_activities(rebuild, batch)
        if rebuild is not None:
            rebuild.finish()
        return done

    def _reindex_activities(self, rebuild: Rebuild | None, batch: int) -> None:
        """Write the entries of every activity and comment (after the documents, in ``rebuild`` when given)."""
        after = 0
        while True:
            with self.sessions() as session:
                rows = list(
                    session.scalars(
                        select(Activity).where(Activity.id > after).order_by(Activity.id).limit(batch)
                    )
                )
                if not rows:
                    return
                after = rows[-1].id
                if rebuild is None:
                    index_activities(session, self.backend, rows)
                else:
                    entries = activity_entries(session, rows)
                    if entries:
                        rebuild.add(entries, connection=session.connection())
                session.commit()

    def _refresh_access(self, ids: Sequence[int] | None, batch: int = 500) -> set[int]:
        """Recompute the container rule's access of ``ids`` (None: every document); the ids whose access changed.

        Done before a reindex writes anything, so every entry it writes carries the access of
        the whole family, whatever order the documents come in.
        """
        with self.sessions() as session:
            query = select(Document.id).order_by(Document.id)
            if ids is not None:
                query = query.where(Document.id.in_(ids))
            all_ids = list(session.scalars(query))
        changed: set[int] = set()
        for session, docs in document_batches(self.sessions, all_ids, batch):
            changed.update(d.id for d in access.refresh(session, docs))
            session.commit()
        return changed
