"""The intake chain: preflight (limits, dedupe) -> parse (in a child process) -> store -> index.

Every file ends in exactly one of: a new document (``indexed`` or ``awaiting_ocr``), a
``duplicate`` of a stored one, or ``failed`` with a one-line reason.  Failed files that
could be read are still stored (their original kept, their document visible as failed);
only files refused before reading (too large, unreadable) are not copied in.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import ingest
from index import IndexDocument, SearchBackend
from records import (
    BlobStore,
    Customer,
    Document,
    IngestBatch,
    IngestJob,
    Page,
    Tag,
    Version,
    sha256_bytes,
    utcnow,
)
from workers._pool import ChildOutcome, ParsedTree, ParseOutcome, ParsePool, ParseTask


@dataclass(frozen=True)
class Source:
    """One file offered for intake: ``label`` is how reports name it."""

    label: str
    filename: str
    path: Path | None = None
    data: bytes | None = None


@dataclass(frozen=True)
class IntakeOptions:
    """Metadata every file of a batch receives."""

    customer: str | None = None
    doc_type: str | None = None
    tags: tuple[str, ...] = ()
    uploaded_by: str = "system"
    source: str = "cli"


@dataclass
class IntakeSummary:
    """What became of a batch; :meth:`as_json` is the `dossier ingest --json` contract."""

    batch_id: int = 0
    ingested: int = 0
    duplicates: int = 0
    awaiting_ocr: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    documents: list[dict[str, object]] = field(default_factory=list)
    duplicate_of: list[dict[str, object]] = field(default_factory=list)
    pages: int = 0

    def as_json(self) -> dict[str, object]:
        """The stable JSON shape of BRIEF §3 plus a few extra keys."""
        return {
            "ingested": self.ingested,
            "duplicates": self.duplicates,
            "failed": self.failed,
            "documents": self.documents,
            "awaiting_ocr": self.awaiting_ocr,
            "batch": self.batch_id,
            "duplicate_of": self.duplicate_of,
        }


ProgressFn = Callable[[str, "IntakeSummary"], None]


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


class Intake:
    """Runs the intake chain for a batch of sources, storing into records and the index."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        blobs: BlobStore,
        backend: SearchBackend,
        limits: ingest.Limits,
        workers: int = 1,
    ) -> None:
        self.sessions = sessions
        self.blobs = blobs
        self.backend = backend
        self.limits = limits
        self.workers = workers

    # -- preflight ---------------------------------------------------------------------------

    def _preflight(self, source: Source) -> tuple[str | None, str | None]:
        """Check the size limit and hash the file (streaming); return (sha256, error)."""
        try:
            if source.data is not None:
                size = len(source.data)
            else:
                assert source.path is not None
                size = source.path.stat().st_size
            if size > self.limits.max_file_bytes:
                mb = self.limits.max_file_bytes // (1024 * 1024)
                return None, f"文件超过 {mb} MB 上限 / file larger than the {mb} MB limit"
            if source.data is not None:
                return sha256_bytes(source.data), None
            digest = hashlib.sha256()
            with source.path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
            return digest.hexdigest(), None
        except FileNotFoundError:
            return None, "文件不存在 / file not found"
        except PermissionError:
            return None, "没有读取权限 / permission denied"
        except OSError as exc:
            return None, f"无法读取文件 / cannot read file: {exc.strerror or exc}"

    @staticmethod
    def _read(source: Source) -> bytes:
        """The file's bytes, read when it is stored (a batch never holds every file in memory)."""
        if source.data is not None:
            return source.data
        assert source.path is not None
        return source.path.read_bytes()

    def _existing(self, session: Session, digest: str) -> Document | None:
        return session.scalars(
            select(Document).join(Version).where(Version.sha256 == digest).order_by(Document.id).limit(1)
        ).first()

    # -- the batch ---------------------------------------------------------------------------

    def run(
        self,
        sources: Sequence[Source],
        options: IntakeOptions,
        progress: ProgressFn | None = None,
    ) -> IntakeSummary:
        """Take every source through the chain; never raises for a bad file."""
        summary = IntakeSummary()
        with self.sessions() as session:
            batch = IngestBatch(source=options.source, created_by=options.uploaded_by, total=len(sources))
            session.add(batch)
            session.commit()
            summary.batch_id = batch.id

        tasks: list[ParseTask] = []
        payloads: dict[int, tuple[Source, int | None]] = {}
        seen: dict[str, str] = {}
        for n, source in enumerate(sources):
            digest, error = self._preflight(source)
            if digest is None:
                self._record_failure(summary, batch.id, source, error or "")
                self._tick(progress, source, summary)
                continue
            with self.sessions() as session:
                existing = self._existing(session, digest)
                if digest in seen or (existing is not None and existing.status != "failed"):
                    self._record_duplicate(session, summary, batch.id, source, existing, seen.get(digest))
                    session.commit()
                    self._tick(progress, source, summary)
                    continue
                retry_id = existing.id if existing is not None else None
            seen[digest] = source.label
            payloads[n] = (source, retry_id)
            tasks.append(
                ParseTask(
                    key=n,
                    filename=source.filename,
                    path=str(source.path) if source.data is None else None,
                    data=source.data,
                )
            )

        for outcome in self._parse(tasks):
            source, retry_id = payloads.pop(outcome.task.key)
            try:
                data = self._read(source)
            except OSError as exc:
                self._record_failure(summary, batch.id, source, f"文件在导入过程中消失或无法读取 / file vanished: {exc}")
                self._tick(progress, source, summary)
                continue
            self._store_outcome(outcome, source, data, retry_id, options, summary, batch.id)
            self._tick(progress, source, summary)

        with self.sessions() as session:
            stored = session.get(IngestBatch, batch.id)
            assert stored is not None
            stored.status = "done"
            stored.finished_at = utcnow()
            session.commit()
        return summary

    def _parse(self, tasks: list[ParseTask]) -> Iterator[ParseOutcome]:
        if not tasks:
            return
        with ParsePool(min(self.workers, len(tasks)), self.limits) as pool:
            yield from pool.imap(tasks)

    @staticmethod
    def _tick(progress: ProgressFn | None, source: Source, summary: IntakeSummary) -> None:
        if progress is not None:
            progress(source.label, summary)

    # -- outcomes ----------------------------------------------------------------------------

    def _record_failure(self, summary: IntakeSummary, batch_id: int, source: Source, error: str) -> None:
        summary.failed.append({"file": source.label, "error": error})
        with self.sessions() as session:
            session.add(
                IngestJob(batch_id=batch_id, filename=source.label, status="failed", error=error, finished_at=utcnow())
            )
            session.commit()

    def _record_duplicate(
        self,
        session: Session,
        summary: IntakeSummary,
        batch_id: int,
        source: Source,
        existing: Document | None,
        same_batch_label: str | None,
    ) -> None:
        summary.duplicates += 1
        entry: dict[str, object] = {"file": source.label}
        if existing is not None:
            entry["id"] = existing.id
        if same_batch_label is not None:
            entry["same_as"] = same_batch_label
        summary.duplicate_of.append(entry)
        session.add(
            IngestJob(
                batch_id=batch_id,
                filename=source.label,
                status="duplicate",
                document_id=existing.id if existing is not None else None,
                finished_at=utcnow(),
            )
        )

    def _store_outcome(
        self,
        outcome: ParseOutcome,
        source: Source,
        data: bytes,
        retry_id: int | None,
        options: IntakeOptions,
        summary: IntakeSummary,
        batch_id: int,
    ) -> None:
        with self.sessions() as session:
            doc = session.get(Document, retry_id) if retry_id is not None else None
            doc = self._store(session, doc, source.filename, data, outcome.tree, outcome.error, options)
            session.add(
                IngestJob(
                    batch_id=batch_id,
                    filename=source.label,
                    status="failed" if outcome.error else "done",
                    document_id=doc.id,
                    error=outcome.error,
                    finished_at=utcnow(),
                )
            )
            session.commit()
            if outcome.error:
                summary.failed.append({"file": source.label, "error": outcome.error})
                return
            summary.ingested += 1
            summary.documents.append({"id": doc.id, "file": source.label, "status": doc.status})
            for child in doc.children:
                summary.documents.append(
                    {"id": child.id, "file": f"{source.label}/{child.current.filename if child.current else ''}",
                     "status": child.status, "parent": doc.id}
                )
            if doc.status == "awaiting_ocr":
                summary.awaiting_ocr += 1
            summary.pages += len(doc.pages)

    def _store(
        self,
        session: Session,
        doc: Document | None,
        filename: str,
        data: bytes,
        tree: ParsedTree | None,
        error: str | None,
        options: IntakeOptions,
        parent: Document | None = None,
        relation: str | None = None,
    ) -> Document:
        """Store the original, the document row, its pages and its children; index it in the same transaction."""
        digest = self.blobs.put(data)
        if doc is None:
            doc = Document()
            session.add(doc)
        else:
            doc.pages.clear()
            doc.versions.clear()
            session.flush()
        parsed = tree.parsed if tree is not None else None
        doc.title = (parsed.title if parsed and parsed.title else PurePath(filename).stem)[:500]
        if parent is not None:
            parent.children.append(doc)
        doc.relation = relation
        doc.customer = _customer(session, options.customer) if options.customer else (parent.customer if parent else None)
        doc.tags = [_tag(session, t) for t in options.tags] if options.tags else (list(parent.tags) if parent else [])
        doc.versions.append(
            Version(
                number=1,
                sha256=digest,
                filename=filename,
                mime=parsed.mime if parsed else _sniff_mime(data, filename),
                size=len(data),
                uploaded_by=options.uploaded_by,
            )
        )
        if parsed is None:
            doc.status = "failed"
            doc.error = error
            doc.doc_type = options.doc_type or "other"
            doc.doc_type_reason = "导入时指定 / given at intake" if options.doc_type else None
            session.flush()
            self.backend.delete([doc.id], connection=session.connection())
            return doc
        doc.error = None
        doc.language = parsed.language
        doc.warnings = list(parsed.warnings)
        if options.doc_type:
            doc.doc_type, doc.doc_type_reason = options.doc_type, "导入时指定 / given at intake"
        else:
            guess = ingest.guess_doc_type(parsed, filename)
            doc.doc_type, doc.doc_type_reason = guess.code, guess.reason
        doc.pages = [Page(number=p.number, text=p.text, needs_ocr=p.needs_ocr) for p in parsed.pages]
        doc.status = "awaiting_ocr" if parsed.needs_ocr else "indexed"
        session.flush()

        attachment_texts: list[str] = []
        for child in tree.children if tree is not None else ():
            stored = self._store_child(session, doc, child, options)
            if stored is not None and child.tree is not None and child.file.relation == "attachment":
                attachment_texts.append(child.tree.parsed.text)
        self.backend.index([self.index_document(doc, attachment_texts)], connection=session.connection())
        return doc

    def _store_child(
        self, session: Session, parent: Document, child: ChildOutcome, options: IntakeOptions
    ) -> Document | None:
        digest = sha256_bytes(child.file.data)
        existing = self._existing(session, digest)
        if existing is not None and existing.status != "failed":
            return None  # already stored on its own; the parent's text still covers it
        child_options = IntakeOptions(
            customer=options.customer, doc_type=None, tags=options.tags,
            uploaded_by=options.uploaded_by, source=options.source,
        )
        return self._store(
            session, existing, child.file.filename, child.file.data, child.tree, child.error,
            child_options, parent=parent, relation=child.file.relation,
        )

    @staticmethod
    def index_document(doc: Document, extra_texts: Sequence[str] | None = None) -> IndexDocument:
        """What the index gets for a stored document.

        An e-mail's text includes its attachments' text (by default the texts of its stored
        attachment children; intake passes the parsed texts, which also cover attachments
        that were already stored on their own and so did not become children).
        """
        text = "\n\n".join(p.text for p in doc.pages if p.text)
        if extra_texts is None:
            extra_texts = [
                "\n\n".join(p.text for p in c.pages if p.text)
                for c in doc.children
                if c.relation == "attachment" and c.status != "failed"
            ]
        if extra_texts:
            text = "\n\n".join([text, *extra_texts])
        version = doc.current
        return IndexDocument(
            id=doc.id,
            title=doc.title,
            text=text,
            filename=version.filename if version else "",
            doc_type=doc.doc_type,
            customers=(doc.customer.name,) if doc.customer else (),
            customer_ids=(doc.customer.id,) if doc.customer else (),
            tags=tuple(t.name for t in doc.tags),
            confidentiality=doc.confidentiality,
            date=doc.doc_date,
            created_at=doc.created_at.isoformat() if doc.created_at else "",
        )


def _sniff_mime(data: bytes, filename: str) -> str:
    """Best-effort MIME type of a file that failed to parse (never raises)."""
    try:
        return ingest.detect(data, filename).mime
    except ingest.IngestError:
        return "application/octet-stream"


def _customer(session: Session, name: str) -> Customer:
    name = name.strip()
    found = session.scalars(select(Customer).where(Customer.name == name)).first()
    if found is None:
        found = Customer(name=name, aliases=[])
        session.add(found)
        session.flush()
    return found


def _tag(session: Session, name: str) -> Tag:
    name = name.strip()
    found = session.scalars(select(Tag).where(Tag.name == name)).first()
    if found is None:
        found = Tag(name=name)
        session.add(found)
        session.flush()
    return found
