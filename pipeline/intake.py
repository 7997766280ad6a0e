"""The intake chain: take (limits, dedupe, store the original, queue) -> parse (in a child process) -> store -> index.

Every file ends in exactly one of: a new document (``indexed`` or ``awaiting_ocr``), a
``duplicate`` of a stored one, or ``failed`` with a one-line reason.  Failed files that
could be read are still stored (their original kept, their document visible as failed);
only files refused before reading (empty, too large, unreadable) are not copied in.

Taking and processing are separate steps so that a queue can sit between them: once a
file is taken its original is safe in the blob store and a ``queued`` document row says
what is left to do, whatever happens to the process that took it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, TypeVar

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, selectinload, sessionmaker

import ingest
from foundation.messages import msg, stored
from index import SearchBackend
from pipeline.batches import close_batch
from pipeline.extraction import GIVEN_AT_INTAKE, KEPT_METHODS, SHARED, type_given
from pipeline.indexing import entry_ids, index_documents, keep_version_text
from pipeline.pool import ChildOutcome, ParsedTree, ParseOutcome, ParsePool, ParseTask
from records import (
    BlobCorrupt,
    BlobMissing,
    BlobStore,
    ContentClaim,
    Customer,
    Document,
    DocumentCustomer,
    DocumentPart,
    IngestBatch,
    IngestJob,
    Page,
    Tag,
    Version,
    sha256_bytes,
    utcnow,
)

_Named = TypeVar("_Named", Customer, Tag)

#: Attempts of one take: a take that lost the race for a file's claim starts over once and reports the duplicate.
_TAKE_ROUNDS = 3


@dataclass(frozen=True)
class Source:
    """One file offered for intake: ``label`` is how reports name it."""

    label: str
    filename: str
    path: Path | None = None
    data: bytes | None = None
    origin: str | None = None  # inbox files: the path to settle (move to .done/.failed) when processed


@dataclass(frozen=True)
class IntakeOptions:
    """Metadata every file of a batch receives."""

    customer: str | None = None
    doc_type: str | None = None
    tags: tuple[str, ...] = ()
    uploaded_by: str = "system"
    source: str = "cli"
    version_of: int | None = None  # the file is a new version of this document (its type and level stay)


#: File names that are operating-system or editor litter, never documents.
_JUNK_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini", ".localized"})


def is_junk(name: str) -> bool:
    """True for OS/editor litter: .DS_Store, Thumbs.db, AppleDouble ``._x``, Office lock ``~$x``."""
    lowered = name.lower()
    return lowered in _JUNK_NAMES or name.startswith(("._", "~$"))


def collect_files(paths: Iterable[str | os.PathLike[str]]) -> list[Source]:
    """Expand files and folders recursively into sources, sorted.

    Hidden folders (``.git``, the inbox's ``.done``) and OS litter are skipped; a hidden
    *file* is still a file someone may have meant (``..%2Fpasswd.txt`` is a legal name).
    """
    sources: list[Source] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and not is_junk(p.name)
                and not any(part.startswith(".") for part in p.relative_to(path).parts[:-1])
            )
            sources.extend(Source(label=str(p), filename=p.name, path=p) for p in found)
        else:
            sources.append(Source(label=str(path), filename=path.name, path=path))
    return sources


#: Why an empty file is refused (each one fails as empty: it is never stored, so never a duplicate).
EMPTY_FILE = msg("pipeline.empty_file").dumps()

#: Why a page has no text when intake was asked to leave OCR for later.
OCR_DEFERRED = msg("pipeline.ocr_deferred").dumps()


@dataclass(frozen=True)
class Taken:
    """What :meth:`Intake.take` made of a source: ``queued`` (stored, waiting to be parsed),
    ``duplicate`` (its content is already stored) or ``failed`` (refused before reading)."""

    label: str
    status: str
    document_id: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class Processed:
    """A parsed and stored document: its status and the pages (of it and its children) awaiting OCR."""

    document_id: int
    status: str
    error: str | None = None
    ocr: tuple[tuple[int, tuple[int, ...]], ...] = ()


class Intake:
    """The intake chain over records, blobs and the index: take (store + queue), then process (parse + store).

    :meth:`take` and :meth:`process` are what the queue's jobs call; :meth:`run` does a whole
    batch in this process (no queue), with a pool of parser processes and inline OCR.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        blobs: BlobStore,
        backend: SearchBackend,
        limits: ingest.Limits,
        workers: int = 1,
        split: tuple[str, ...] = (),
    ) -> None:
        self.sessions = sessions
        self.blobs = blobs
        self.backend = backend
        self.limits = limits
        self.workers = workers
        self.split = split

    # -- take: preflight, dedupe, store the original, queue -----------------------------------

    def _preflight(self, source: Source) -> tuple[str | None, str | None]:
        """Check the file is not empty nor over the size limit and hash it (streaming); return (sha256, error)."""
        try:
            if source.data is not None:
                size = len(source.data)
            else:
                assert source.path is not None
                size = source.path.stat().st_size
            if size == 0:
                # Nothing to keep or parse; never a "duplicate" of another empty file either.
                return None, EMPTY_FILE
            if size > self.limits.max_file_bytes:
                mb = self.limits.max_file_bytes // (1024 * 1024)
                return None, msg("pipeline.too_large", mb=mb).dumps()
            if source.data is not None:
                return sha256_bytes(source.data), None
            digest = hashlib.sha256()
            assert source.path is not None
            with source.path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
            return digest.hexdigest(), None
        except FileNotFoundError:
            return None, msg("pipeline.file_not_found").dumps()
        except PermissionError:
            return None, msg("pipeline.permission_denied").dumps()
        except OSError as exc:
            return None, msg("ingest.file.unreadable", detail=exc.strerror or exc).dumps()

    @staticmethod
    def _read(source: Source) -> bytes:
        """The file's bytes, read when it is stored (a batch never holds every file in memory)."""
        if source.data is not None:
            return source.data
        assert source.path is not None
        return source.path.read_bytes()

    def _existing(self, session: Session, digest: str) -> Document | None:
        """The document a stored file belongs to: the one its content claim names.

        A file stored without a claim (a child stored before children claimed their bytes)
        is found by the lowest document with a version of those bytes.
        """
        claimed = session.scalar(
            select(Document)
            .join(ContentClaim, ContentClaim.document_id == Document.id)
            .where(ContentClaim.sha256 == digest)
        )
        if claimed is not None:
            return claimed
        return session.scalars(
            select(Document).join(Version).where(Version.sha256 == digest).order_by(Document.id).limit(1)
        ).first()

    def new_batch(self, source: str, created_by: str, total: int = 0, origin: str | None = None) -> int:
        """Create an (open) intake batch and return its id."""
        with self.sessions() as session:
            batch = IngestBatch(source=source, created_by=created_by, total=total, origin=origin)
            session.add(batch)
            session.commit()
            return batch.id

    def take(self, source: Source, options: IntakeOptions, batch_id: int) -> Taken:
        """Store the original and a ``queued`` document for it (or report a duplicate/refusal).

        Never raises for a bad file.  A file whose earlier intake failed is queued again into
        the same document.  A source's ``origin`` marks an inbox file (settled once moved to .done/.failed).

        One file is one document however many intakes offer it at once: the document (or the
        new version) and the file's :class:`~records.ContentClaim` are inserted in one
        transaction, so of two simultaneous intakes of the same new bytes the second one's
        claim violates the primary key (PostgreSQL makes it wait for the first to commit;
        SQLite's single writer does the same, or reports the database busy).  It then starts
        over, finds the winner's claim and reports a duplicate of the winner's document.
        """
        digest, error = self._preflight(source)
        if digest is None:
            self._job(batch_id, source.label, "failed", None, error=error, origin=source.origin)
            return Taken(source.label, "failed", error=error)
        for attempt in range(_TAKE_ROUNDS):
            try:
                with self.sessions() as session:
                    return self._take(session, source, options, batch_id, digest)
            except (IntegrityError, OperationalError):  # SQLite may say "database is locked" for a lost race
                if attempt + 1 == _TAKE_ROUNDS or not self._claimed(digest):
                    raise  # not a lost race for the file's claim: a real error for the job boundary
        raise AssertionError("unreachable")  # pragma: no cover

    def _claimed(self, digest: str) -> bool:
        """True when a document has claimed the file ``digest`` (another intake took it meanwhile)."""
        with self.sessions() as session:
            return session.get(ContentClaim, digest) is not None

    def _take(
        self, session: Session, source: Source, options: IntakeOptions, batch_id: int, digest: str
    ) -> Taken:
        """One attempt of :meth:`take` in ``session``; raises IntegrityError when another intake claimed the file first."""
        origin = source.origin
        existing = self._existing(session, digest)
        if existing is not None and (existing.status != "failed" or options.version_of is not None):
            # A version must not take bytes another document holds, even a failed one: that one keeps them.
            self._job(
                batch_id,
                source.label,
                "duplicate",
                existing.id,
                digest=digest,
                origin=origin,
                session=session,
            )
            session.commit()
            return Taken(source.label, "duplicate", existing.id)
        try:
            data = self._read(source)
        except OSError as exc:
            vanished = msg("pipeline.file_vanished", detail=exc.strerror or exc).dumps()
            self._job(batch_id, source.label, "failed", None, error=vanished, origin=origin, session=session)
            session.commit()
            return Taken(source.label, "failed", error=vanished)
        doc = existing
        if options.version_of is not None:
            doc = session.get(Document, options.version_of)
            reason = None
            if doc is None:
                reason = msg("pipeline.version_of.gone", id=options.version_of).dumps()
            elif doc.status in ("queued", "processing"):
                reason = msg("pipeline.version_of.busy", id=doc.id).dumps()
            if reason is not None and (winner := self._existing(session, digest)) is not None:
                # Busy because another intake of these very bytes won the race a moment ago: a duplicate.
                self._job(
                    batch_id,
                    source.label,
                    "duplicate",
                    winner.id,
                    digest=digest,
                    origin=origin,
                    session=session,
                )
                session.commit()
                return Taken(source.label, "duplicate", winner.id)
            if doc is None or reason is not None:
                self._job(
                    batch_id, source.label, "failed", None, error=reason, origin=origin, session=session
                )
                session.commit()
                return Taken(source.label, "failed", error=reason)
        self.blobs.put(data)
        if doc is None or options.version_of is not None:
            if doc is None:
                doc = Document(title=PurePath(source.filename).stem[:500])
                session.add(doc)
            else:  # the pages about to be replaced are the current version's: its text stays findable
                keep_version_text(doc)
            doc.versions.append(
                Version(
                    number=max((v.number for v in doc.versions), default=0) + 1,
                    sha256=digest,
                    filename=source.filename,
                    mime=_sniff_mime(data, source.filename),
                    size=len(data),
                    uploaded_by=options.uploaded_by,
                )
            )
        session.flush()
        if (
            doc is not existing or session.get(ContentClaim, digest) is None
        ):  # a failed one re-taken keeps its claim
            session.add(ContentClaim(sha256=digest, document_id=doc.id))
            session.flush()  # the losing intake of a race fails here (IntegrityError)
        if doc is not existing or _uploaded_by(doc, options.uploaded_by):
            # A failed document someone else brought in is processed again, but keeps what they gave it:
            # bringing in the same bytes is no right to change another person's document.
            self._give(session, doc, options)
        doc.status, doc.error, doc.claimed_by = "queued", None, None
        session.flush()
        self._job(batch_id, source.label, "queued", doc.id, digest=digest, origin=origin, session=session)
        session.commit()
        return Taken(source.label, "queued", doc.id)

    @staticmethod
    def _give(session: Session, doc: Document, options: IntakeOptions) -> None:
        """The customer, tags and type the intake names, on a document it is bringing in."""
        customer = _customer(session, options.customer) if options.customer else None
        if customer is not None:
            doc.customer = customer
            doc.customer_links = [
                DocumentCustomer(
                    customer=customer, method="given", score=1.0, evidence=GIVEN_AT_INTAKE, position=0
                )
            ]
        if options.tags:
            doc.tags = [get_tag(session, t) for t in options.tags]
        if options.doc_type:
            doc.doc_type, doc.doc_type_reason = options.doc_type, GIVEN_AT_INTAKE

    def _job(
        self,
        batch_id: int,
        label: str,
        status: str,
        document_id: int | None,
        *,
        error: str | None = None,
        digest: str | None = None,
        origin: str | None = None,
        session: Session | None = None,
    ) -> None:
        job = IngestJob(
            batch_id=batch_id,
            filename=label,
            status=status,
            document_id=document_id,
            error=error,
            sha256=digest,
            origin=origin,
            settled=origin is None,
            finished_at=None if status == "queued" else utcnow(),
        )
        if session is not None:
            self._add_job(session, job)
            return
        with self.sessions() as own:
            self._add_job(own, job)
            own.commit()

    @staticmethod
    def _add_job(session: Session, job: IngestJob) -> None:
        """Add a file to its batch; a batch already reported done is open again until this file is."""
        session.add(job)
        batch = session.get(IngestBatch, job.batch_id)
        if batch is not None and batch.status == "done":
            batch.status, batch.finished_at = "taken", None

    # -- process: claim, parse, store ---------------------------------------------------------

    def claim(self, doc_id: int, claimant: str, is_dead: Callable[[str], bool] | None = None) -> bool:
        """Atomically mark a queued document as processed by ``claimant``.

        A document already ``processing`` is taken over only when ``is_dead`` says its
        claimant died (a killed worker).  False when someone else holds it or it is done.
        """
        with self.sessions() as session:
            row = session.execute(
                select(Document.status, Document.claimed_by).where(Document.id == doc_id)
            ).first()
            if row is None:
                return False
            status, holder = row
            if (
                status == "processing"
                and holder != claimant
                and not (holder is None or (is_dead and is_dead(holder)))
            ):
                return False
            if status not in ("queued", "processing"):
                return False
            won = session.execute(
                update(Document)
                .where(Document.id == doc_id, Document.status == status)
                .where(Document.claimed_by.is_(None) if holder is None else Document.claimed_by == holder)
                .values(status="processing", claimed_by=claimant)
            )
            session.commit()
            return bool(getattr(won, "rowcount", 0) == 1)

    @contextlib.contextmanager
    def parse_task(self, doc_id: int) -> Iterator[ParseTask | None]:
        """The parse task for a stored document's newest original (None when it has none), valid inside the block.

        Its path is the verified plaintext of the original (``BlobStore.plaintext_file``): the
        stored file itself, or — when it is encrypted — a private temporary copy that is removed
        when the block ends.  Raises ``BlobMissing`` / ``BlobCorrupt`` (``BlobUnreadable``) when
        the original cannot be read; :meth:`unreadable` turns that into the document's failure.
        """
        with self.sessions() as session:
            doc = session.get(Document, doc_id, options=[selectinload(Document.versions)])
            version = None if doc is None else doc.current
            filename, digest = (version.filename, version.sha256) if version is not None else ("", "")
        if not digest:
            yield None
            return
        with self.blobs.plaintext_file(digest) as plain:
            yield ParseTask(key=doc_id, filename=filename, path=str(plain), split=self.split)

    @staticmethod
    def unreadable(doc_id: int, exc: BlobMissing | BlobCorrupt) -> ParseOutcome:
        """The parse outcome of a document whose original cannot be read: failed, with the reason."""
        return ParseOutcome(ParseTask(key=doc_id, filename=""), error=stored(exc))

    def store_parsed(self, doc_id: int, outcome: ParseOutcome) -> Processed:
        """Store a parse outcome into its document, finish its intake jobs, index it: one transaction."""
        with self.sessions() as session:
            doc = session.get(
                Document,
                doc_id,
                options=[
                    selectinload(Document.pages),
                    selectinload(Document.versions),
                    selectinload(Document.tags),
                ],
            )
            if doc is None:
                return Processed(doc_id, "gone")
            version = doc.current
            assert version is not None
            self._store(session, doc, version.filename, version.sha256, None, outcome.tree, outcome.error)
            doc.claimed_by = None
            session.execute(
                update(IngestJob)
                .where(IngestJob.document_id == doc_id, IngestJob.status == "queued")
                .values(
                    status="failed" if outcome.error else "done", error=outcome.error, finished_at=utcnow()
                )
            )
            session.flush()
            ocr = tuple(
                (d.id, numbers)
                for d in (doc, *doc.children)
                if (numbers := tuple(p.number for p in d.pages if p.needs_ocr and p.ocr_error is None))
            )
            session.commit()
            return Processed(doc_id, doc.status, doc.error, ocr)

    def unclaim(self, doc_id: int, claimant: str) -> None:
        """Put a claimed document back in the queue's hands (before a retry)."""
        with self.sessions() as session:
            session.execute(
                update(Document)
                .where(
                    Document.id == doc_id, Document.claimed_by == claimant, Document.status == "processing"
                )
                .values(status="queued", claimed_by=None)
            )
            session.commit()

    def release(self, doc_id: int, claimant: str, error: str) -> None:
        """Give up on a claimed document for good: it fails with ``error`` (its original stays)."""
        with self.sessions() as session:
            doc = session.get(Document, doc_id)
            if doc is None or doc.claimed_by != claimant:
                return
            doc.status, doc.error, doc.claimed_by = "failed", error, None
            session.execute(
                update(IngestJob)
                .where(IngestJob.document_id == doc_id, IngestJob.status == "queued")
                .values(status="failed", error=error, finished_at=utcnow())
            )
            self.backend.delete(entry_ids(doc), connection=session.connection())
            session.commit()

    # -- a whole batch in this process --------------------------------------------------------

    def run(
        self,
        sources: Sequence[Source],
        options: IntakeOptions,
        *,
        batch_id: int | None = None,
        ocr_engine: str | None = "auto",
    ) -> int:
        """Take and process every source here, OCR included unless ``ocr_engine`` is None; returns the batch id.

        Never raises for a bad file: each ends stored, duplicate or failed with a reason.
        """
        if batch_id is None:
            batch_id = self.new_batch(options.source, options.uploaded_by, total=len(sources))
        taken = [self.take(source, options, batch_id) for source in sources]
        self.process_here(
            [t.document_id for t in taken if t.status == "queued" and t.document_id is not None], ocr_engine
        )
        close_batch(self.sessions, batch_id)
        return batch_id

    def process_here(self, doc_ids: Sequence[int], ocr_engine: str | None = "auto") -> None:
        """Parse, store and (unless ``ocr_engine`` is None) OCR queued documents in this process's pool.

        Documents left behind by an earlier run that was interrupted here (queued, or held by a
        process of this machine that is gone) are done too, so nothing waits for a queue forever.
        """
        claimant = inline_claimant()
        wanted = list(dict.fromkeys([*doc_ids, *self.stranded()]))
        claimed = [doc_id for doc_id in wanted if self.claim(doc_id, claimant, local_process_gone)]
        awaiting: list[int] = []
        # Encrypted originals are decrypted into temporary files for the parsers: a few at a
        # time, so a large batch never has all of its plaintexts on disk at once.
        window = max(4 * self.workers, 1) if self.blobs.keys.keys else max(len(claimed), 1)
        with contextlib.ExitStack() as pools:
            pool: ParsePool | None = None
            for start in range(0, len(claimed), window):
                with contextlib.ExitStack() as plaintexts:
                    tasks: list[ParseTask] = []
                    for doc_id in claimed[start : start + window]:
                        try:
                            task = plaintexts.enter_context(self.parse_task(doc_id))
                        except (BlobMissing, BlobCorrupt) as exc:
                            awaiting.extend(
                                d for d, _pages in self.store_parsed(doc_id, self.unreadable(doc_id, exc)).ocr
                            )
                            continue
                        if task is not None:
                            tasks.append(task)
                    if not tasks:
                        continue
                    if pool is None:
                        pool = pools.enter_context(ParsePool(min(self.workers, len(claimed)), self.limits))
                    for outcome in pool.imap(tasks):
                        processed = self.store_parsed(outcome.task.key, outcome)
                        awaiting.extend(doc_id for doc_id, _pages in processed.ocr)
        if awaiting and ocr_engine is None:
            self._defer_ocr(awaiting)
        elif awaiting and ocr_engine is not None:
            from pipeline.ocr import OcrRunner

            OcrRunner(self.sessions, self.blobs, self.backend, self.limits, ocr_engine, self.workers).run(
                awaiting
            )

    def stranded(self) -> list[int]:
        """Documents nobody will process: queued, or held by a process of this machine that is gone."""
        with self.sessions() as session:
            rows = session.execute(
                select(Document.id, Document.status, Document.claimed_by)
                .where(Document.status.in_(("queued", "processing")))
                .order_by(Document.id)
            ).all()
        return [
            doc_id
            for doc_id, status, holder in rows
            if status == "queued" or holder is None or local_process_gone(holder)
        ]

    def _defer_ocr(self, doc_ids: Sequence[int]) -> None:
        """Leave image pages for ``dossier ocr``: they say so, and no worker queues them meanwhile."""
        with self.sessions() as session:
            session.execute(
                update(Page)
                .where(
                    Page.document_id.in_(list(doc_ids)), Page.needs_ocr.is_(True), Page.ocr_error.is_(None)
                )
                .values(ocr_error=OCR_DEFERRED)
            )
            session.commit()

    # -- storing ------------------------------------------------------------------------------

    def _store(
        self,
        session: Session,
        doc: Document,
        filename: str,
        digest: str,
        data: bytes | None,
        tree: ParsedTree | None,
        error: str | None,
        parent: Document | None = None,
        relation: str | None = None,
    ) -> Document:
        """Fill a document from a parse outcome (pages, children, type), in the caller's transaction.

        ``data`` is given for children (their originals are stored here); a top-level
        document's original was stored when it was taken.  A top-level document is indexed
        here with its whole family (:func:`index_documents`: children and parts by the
        container rule); children are indexed with it.
        """
        if data is not None:
            self.blobs.put(data)
        parsed = tree.parsed if tree is not None else None
        if not doc.versions:
            doc.versions.append(
                Version(
                    number=1,
                    sha256=digest,
                    filename=filename,
                    mime=parsed.mime if parsed else _sniff_mime(data or b"", filename),
                    size=len(data or b""),
                    uploaded_by=parent.current.uploaded_by if parent and parent.current else "system",
                )
            )
        elif parsed is not None:
            doc.current.mime = parsed.mime  # type: ignore[union-attr]
        if parent is not None:
            doc.relation = relation
            given = {link.customer_id for link in doc.customer_links if link.method in KEPT_METHODS}
            doc.customer_links.extend(
                DocumentCustomer(
                    customer_id=link.customer_id, method=link.method, score=1.0, evidence=link.evidence
                )
                for link in parent.customer_links
                if link.method in KEPT_METHODS and link.customer_id not in given
            )
            doc.customer = parent.customer
            doc.tags = list(parent.tags)
        doc.pages.clear()
        session.flush()
        if parsed is None:
            doc.status = "failed"
            doc.error = error
            if not type_given(doc.doc_type_reason, by_person=False):
                doc.doc_type, doc.doc_type_reason = "other", None
            SHARED.clear(session, doc)
            session.flush()
            self.backend.delete(entry_ids(doc), connection=session.connection())
            if parent is None:  # not searchable itself; its containers still count its level
                index_documents(session, self.backend, [doc])
            return doc
        doc.title = (parsed.title or PurePath(filename).stem)[:500]
        doc.error = None
        doc.language = parsed.language
        doc.warnings = list(parsed.warnings)
        doc.pages = [Page(number=p.number, text=p.text, needs_ocr=p.needs_ocr) for p in parsed.pages]
        doc.status = "awaiting_ocr" if parsed.needs_ocr else "indexed"
        session.flush()
        SHARED.apply_safely(session, doc, fmt=parsed.format)

        attachments = False
        for child in tree.children if tree is not None else ():
            self._store_child(session, doc, child)
            attachments = attachments or (child.tree is not None and child.file.relation == "attachment")
        if attachments:
            SHARED.link_attachments(session, doc)
        if parent is None:
            index_documents(session, self.backend, _tree(doc))
        return doc

    def _store_child(self, session: Session, parent: Document, child: ChildOutcome) -> Document | None:
        """Store one file found inside ``parent``: a new child, or (stored before) a part it includes.

        A file already stored as a document of its own is not stored again; the container
        records that it holds it (:class:`records.DocumentPart`), so the container rule and
        the e-mail's search text still count it.
        """
        digest = sha256_bytes(child.file.data)
        existing = self._existing(session, digest)
        doc = existing
        if existing is None:
            doc, made = self._claim_child(session, parent, digest, child.file.filename)
            existing = None if made else doc
        if existing is not None and existing.status != "failed":
            held = {c.id for c in parent.children} | {p.part_id for p in parent.included}
            if existing.id != parent.id and existing.id not in held:
                parent.included.append(DocumentPart(part_id=existing.id, relation=child.file.relation))
                session.flush()
            return None
        assert doc is not None
        if doc not in parent.children:
            parent.children.append(doc)
        return self._store(
            session,
            doc,
            child.file.filename,
            digest,
            child.file.data,
            child.tree,
            child.error,
            parent=parent,
            relation=child.file.relation,
        )

    @staticmethod
    def _claim_child(session: Session, parent: Document, digest: str, filename: str) -> tuple[Document, bool]:
        """(a new child of ``parent`` holding the file ``digest``, with its claim, True): one file, one document.

        When another intake claimed the same bytes at this very moment (two e-mails with one
        attachment, on two workers), (that document, False) instead: this one is not made.
        """
        try:
            with session.begin_nested():
                doc = Document(title=PurePath(filename).stem[:500], parent_id=parent.id)
                session.add(doc)
                session.flush()
                session.add(ContentClaim(sha256=digest, document_id=doc.id))
                session.flush()
        except IntegrityError:
            claim = session.get(ContentClaim, digest)
            winner = session.get(Document, claim.document_id) if claim is not None else None
            if winner is None:
                raise
            return winner, False
        return doc, True


def _tree(doc: Document) -> list[Document]:
    """``doc`` and its children, recursively."""
    out, todo = [], [doc]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(current.children)
    return out


def _uploaded_by(doc: Document, username: str) -> bool:
    """Whether ``username`` brought in ``doc``'s newest file."""
    version = doc.current
    return version is not None and version.uploaded_by == username


def inline_claimant() -> str:
    """How a process that works without a queue names itself in a document's claim."""
    return f"inline:{socket.gethostname()}:{os.getpid()}"


def local_process_gone(claimant: str) -> bool:
    """True when ``claimant`` is an in-process intake (``inline:HOST:PID``) of this machine that no longer runs."""
    kind, _, rest = claimant.partition(":")
    host, _, pid = rest.rpartition(":")
    if kind != "inline" or host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _sniff_mime(data: bytes, filename: str) -> str:
    """Best-effort MIME type of a file that failed to parse (never raises)."""
    try:
        return ingest.detect(data, filename).mime
    except ingest.IngestError:
        return "application/octet-stream"


def _customer(session: Session, name: str) -> Customer | None:
    """The customer named at intake, resolved against the registry (see ``Extraction.named_customer``).

    A registered name, short name or alias is that customer; an unknown name is a pending
    suggestion (never a confirmed customer); a rejected name, our own company or an
    ambiguous name give None: the file is filed without a customer.
    """
    return SHARED.named_customer(session, name).customer


def get_tag(session: Session, name: str) -> Tag:
    """The tag named ``name`` (made once, also when two intakes name a new one at the same moment)."""
    name = name.strip()
    query = select(Tag).where(Tag.name == name)
    return session.scalars(query).first() or _create_once(session, Tag(name=name), query)


def _create_once(session: Session, row: _Named, existing: Select[Any]) -> _Named:
    """Insert ``row`` (unique by name), or return the one another intake inserted at the same moment.

    Two uploads naming a new tag or customer at once both find none; the second insert then
    violates the unique name.  A savepoint keeps the rest of the transaction (PostgreSQL
    aborts a whole transaction on an error otherwise) and the winner's row is used.
    """
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        found: _Named = session.scalars(existing).one()
        return found
    return row
