"""``dossier watch DIR``: an inbox folder that scanners and people drop files into.

A file is taken once its size and modification time have stayed the same for
``settle_s`` seconds (a scanner still writing it is left alone).  Taking stores the
original and queues it, exactly like ``dossier ingest``, and records the inbox path on
the intake job.  When the file's work is over, the original is moved to ``DIR/.done/``
(stored and indexed, or a duplicate of a stored file) or ``DIR/.failed/`` with a
``<name>.reason.txt`` beside it, keeping its sub-folder path.

Sub-folders carry metadata::

    DIR/<客户 customer>/<类型 type>/<标签 tag>/<more tags…>/file

The first folder names the customer (``_`` for none); the second is a document type when
it names one (合同, 报价单, contract, quote …) and otherwise a tag; deeper folders are tags.

A restart loses and duplicates nothing: taking and recording the inbox path happen in one
transaction, a file already taken is recognised by its recorded path and content, and
files whose work ended while the watcher was down are moved on the next start.

Every sweep that takes files writes one ``upload`` audit event as the user ``inbox`` (the batch,
the files' inbox paths, how many were queued, duplicates or refused).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from sqlalchemy import select

from dossier.app.audit import upload_detail
from foundation.errors import DossierError
from foundation.messages import load_stored, msg
from pipeline.intake import Source, is_junk
from records import Document, IngestJob, Page

log = logging.getLogger("dossier.inbox")

DONE = ".done"
FAILED = ".failed"
#: Names of files still being written by common tools (browsers, rsync, scanners' temp files).
_PARTIAL_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".download", ".filepart")


@dataclass(frozen=True)
class InboxMetadata:
    """What a file's sub-folders say about it."""

    customer: str | None = None
    doc_type: str | None = None
    tags: tuple[str, ...] = ()


def metadata_for(relative: PurePath) -> InboxMetadata:
    """Map ``<customer>/<type or tag>/<tags…>/file`` to metadata (see the module docs)."""
    from dossier.app.search_request import doc_type_code

    folders = [part.strip() for part in relative.parts[:-1] if part.strip()]
    if not folders:
        return InboxMetadata()
    customer = None if folders[0] in ("_", "-") else folders[0]
    doc_type = None
    tags: list[str] = []
    for n, folder in enumerate(folders[1:]):
        if n == 0:
            try:
                doc_type = doc_type_code(folder)
                continue
            except DossierError:
                pass
        tags.append(folder)
    return InboxMetadata(customer, doc_type, tuple(dict.fromkeys(tags)))


class Inbox:
    """One inbox folder watched for one data home."""

    def __init__(self, dossier: Any, root: str | os.PathLike[str], *, settle_s: float = 2.0) -> None:
        self.dossier = dossier
        self.root = Path(root).expanduser().resolve()
        if not self.root.is_dir():
            raise DossierError(msg("workers.inbox.missing", folder=self.root))
        self.settle_s = settle_s
        self._seen: dict[Path, tuple[int, int, float]] = {}
        self._batch: int | None = None
        #: Called with each new batch's id (the CLI shows its progress bar).
        self.on_batch: Callable[[int], Any] | None = None

    # -- finding files ------------------------------------------------------------------------

    def files(self) -> list[Path]:
        """Candidate files: not hidden (so not in .done/.failed), not OS litter, not half-downloaded."""
        found = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith(".") or is_junk(name) or name.lower().endswith(_PARTIAL_SUFFIXES):
                    continue
                path = Path(dirpath) / name
                if path.is_file() and not path.is_symlink():
                    found.append(path)
        return found

    def stable_files(self) -> list[Path]:
        """Files whose size and mtime have not changed for ``settle_s`` seconds (tracked across calls)."""
        now = time.monotonic()
        stable = []
        present = set()
        for path in self.files():
            try:
                st = path.stat()
            except OSError:
                continue
            present.add(path)
            key = (st.st_size, st.st_mtime_ns)
            before = self._seen.get(path)
            if before is None or before[:2] != key:
                self._seen[path] = (*key, now)
                if self.settle_s > 0:
                    continue
            if now - self._seen[path][2] >= self.settle_s:
                stable.append(path)
        for gone in set(self._seen) - present:
            del self._seen[gone]
        return stable

    # -- taking -------------------------------------------------------------------------------

    def _unsettled(self) -> dict[str, IngestJob]:
        prefix = str(self.root) + os.sep
        with self.dossier.sessions() as session:
            return {
                job.origin: job
                for job in session.scalars(
                    select(IngestJob).where(
                        IngestJob.settled.is_(False), IngestJob.origin.startswith(prefix, autoescape=True)
                    )
                )
                # SQLite's LIKE ignores ASCII case (PostgreSQL's does not): `/srv/INBOX/` files are not ours.
                if job.origin and job.origin.startswith(prefix)
            }

    def take(self, paths: list[Path]) -> int:
        """Take files not taken yet: store, record their inbox path, queue (or process here without Redis).

        Returns how many files were taken.
        """
        already = self._unsettled()
        fresh = [p for p in paths if str(p) not in already]
        if not fresh:
            return 0
        intake = self.dossier.intake.make_intake()
        if self._batch is None or self._batch_closed():
            self._batch = intake.new_batch("inbox", "inbox", origin=str(self.root))
            if self.on_batch is not None:
                self.on_batch(self._batch)
        queue = self.dossier.queue()
        queued: list[int] = []
        outcome = {"queued": 0, "duplicate": 0, "failed": 0}
        told: set[str] = set()
        for path in fresh:
            relative = path.relative_to(self.root)
            meta = metadata_for(relative)
            if (
                meta.customer and meta.customer not in told
            ):  # a folder naming no registered customer: say what it became
                told.add(meta.customer)
                named = self.dossier.customers.intake_customer(meta.customer)
                if named is not None and named["message"]:
                    log.warning("%s: %s", relative.parts[0], _readable(named["message"]))
            options = self.dossier.intake.options(meta.customer, meta.doc_type, meta.tags, "inbox", "inbox")
            source = Source(label=str(relative), filename=path.name, path=path, origin=str(path))
            taken = intake.take(source, options, self._batch)
            outcome[taken.status if taken.status in outcome else "queued"] += 1
            if taken.status == "queued" and taken.document_id is not None:
                if queue is not None:
                    queue.enqueue_ingest(taken.document_id, self.dossier.intake.job_timeout_s())
                else:
                    queued.append(taken.document_id)
            log.info("收取 / took %s: %s", relative, taken.status)
        # One audit event per sweep that took files (a batch still open when new files arrive gets another).
        detail = upload_detail(
            "inbox", self._batch, [str(p.relative_to(self.root)) for p in fresh], outcome=outcome
        )
        self.dossier.audit.record(
            "inbox",
            "upload",
            target_type="batch",
            target_id=self._batch,
            detail={**detail, "inbox": str(self.root)},
        )
        if queued:  # no Redis: do the work here, now
            intake.process_here(queued, self.dossier.settings.get("DOSSIER_OCR_ENGINE"))
        from pipeline.batches import close_batch

        close_batch(self.dossier.sessions, self._batch)
        return len(fresh)

    def _batch_closed(self) -> bool:
        """True once the current batch's files are all done (a new sweep then opens a new batch)."""
        assert self._batch is not None
        return bool(self.dossier.batch_report(self._batch)["state"] == "done")

    # -- settling -----------------------------------------------------------------------------

    def settle(self) -> dict[str, int]:
        """Move every taken file whose work is over to .done/ or .failed/ (with its reason); return counts."""
        counts = {"done": 0, "failed": 0}
        for origin, job in self._unsettled().items():
            outcome = self._outcome(job)
            if outcome is None:
                continue
            folder, reason = outcome
            self._move(Path(origin), folder, reason)
            with self.dossier.sessions() as session:
                stored = session.get(IngestJob, job.id)
                if stored is not None:
                    stored.settled = True
                    session.commit()
            counts["failed" if folder == FAILED else "done"] += 1
        return counts

    def _outcome(self, job: IngestJob) -> tuple[str, str | None] | None:
        """(.done or .failed, reason) once the file's work is over; None while it goes on."""
        if job.status == "duplicate":
            return DONE, None
        if job.status == "failed":
            return FAILED, job.error or msg("workers.inbox.intake_failed").dumps()
        if job.document_id is None:
            return None
        with self.dossier.sessions() as session:
            doc = session.get(Document, job.document_id)
            if doc is None:
                return FAILED, msg("workers.inbox.deleted").dumps()
            if doc.status in ("queued", "processing"):
                return None
            if doc.status == "failed":
                return FAILED, doc.error or job.error or msg("workers.inbox.intake_failed").dumps()
            family = [doc.id, *session.scalars(select(Document.id).where(Document.parent_id == doc.id))]
            pending = session.scalar(
                select(Page.id)
                .where(Page.document_id.in_(family), Page.needs_ocr.is_(True), Page.ocr_error.is_(None))
                .limit(1)
            )
            if pending is not None:
                return None
        return DONE, None

    def _move(self, origin: Path, folder: str, reason: str | None) -> None:
        relative: PurePath
        try:
            relative = origin.relative_to(self.root)
        except ValueError:
            relative = PurePath(origin.name)
        target = _free_name(self.root / folder / relative)
        if origin.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(origin), target)
        if reason is not None:
            target.with_name(target.name + ".reason.txt").write_text(
                _readable(reason).strip() + "\n", encoding="utf-8"
            )

    # -- loops --------------------------------------------------------------------------------

    def run_once(self, *, timeout_s: float = 24 * 3600) -> dict[str, Any]:
        """Take every file now in the inbox (once stable), wait until all are processed, settle them.

        Returns ``{"taken": n, "done": n, "failed": n, "batch": id}``.
        """
        self.settle()  # what a previous run left behind
        deadline = time.monotonic() + timeout_s
        taken = 0
        while True:
            unsettled = self._unsettled()
            candidates = [p for p in self.files() if str(p) not in unsettled]
            if not candidates:
                break
            stable = self.stable_files()
            taken += self.take(stable)
            if time.monotonic() > deadline:
                raise DossierError(msg("workers.inbox.unsettled"))
            time.sleep(min(0.5, max(0.05, self.settle_s / 4)))
        counts = {"done": 0, "failed": 0}
        if self._batch is not None and self.dossier.queue() is not None:
            self.dossier.wait_for_batch(self._batch)
        while self._unsettled():
            found = self.settle()
            counts = {k: counts[k] + found[k] for k in counts}
            if self._unsettled():
                if time.monotonic() > deadline:
                    raise DossierError(msg("workers.inbox.timeout"))
                time.sleep(0.5)
        return {"taken": taken, **counts, "batch": self._batch}

    def run_forever(self, interval_s: float = 2.0, *, log: Callable[[str], Any] | None = None) -> None:
        """Scan, take, settle every ``interval_s`` seconds until interrupted."""
        while True:
            try:
                self.take(self.stable_files())
                found = self.settle()
                if log is not None and any(found.values()):
                    log(str(msg("workers.inbox.round", done=found["done"], failed=found["failed"])))
            except DossierError:
                raise
            except Exception as exc:  # a busy database or a vanished file: try again next round
                if log is not None:
                    log(str(msg("workers.inbox.round_failed", detail=exc)))
            time.sleep(interval_s)


def _free_name(target: Path) -> Path:
    """``target``, or ``name (2).ext`` … when a file of that name is already there."""
    if not target.exists():
        return target
    for n in range(2, 10_000):
        candidate = target.with_name(f"{target.stem} ({n}){target.suffix}")
        if not candidate.exists():
            return candidate
    raise DossierError(msg("workers.inbox.name_taken", name=target.name))


def _readable(text: str) -> str:
    """A stored reason as the logs and the ``.reason.txt`` files say it: bilingual (plain text as written)."""
    return str(load_stored(text) or text)
