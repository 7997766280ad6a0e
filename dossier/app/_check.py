"""The integrity check of a data home (``dossier check``; ``Dossier.integrity``).

:meth:`IntegrityService.check` compares what is stored with what the records say, and reports
each difference as a :class:`Finding`:

* every original in the blob store reads back, decrypts and hashes to its name (``blob_corrupt``;
  ``blob_unreadable`` when it is sealed under a key that is not configured);
* every version of every document has its original (``original_missing``);
* the search index holds exactly the entries the records call for (``index_missing``,
  ``index_extra``): each document whose status is in :data:`pipeline.indexing.INDEXED_STATUSES`
  and that is not in the trash (entry id = its id), and each superseded version with saved
  text of such a document (entry id = minus the version row's id).  Documents still on their
  way (queued, processing) are neither expected nor extra.  Queued index work is sent first
  (an external engine's outbox); the index's ids are read in one stream, never per document;
* nothing is left that no record refers to: originals no version names (``orphan_blob``),
  cached page images of such originals (``orphan_page_image``), export files no finished
  export names (``orphan_export``), temporary files of interrupted writes (``leftover_file``);
* the audit trail's append-only triggers are in place (``audit_trigger``).

With ``repair`` what the records can restore is restored: missing entries are indexed from
the records, extra ones deleted, leftovers removed, the triggers created again with the
migration's statements; every repair is checked again before it counts.  A damaged or missing
original cannot be repaired from the records: the finding says to restore it from a backup.

**Files younger than** :data:`ORPHAN_GRACE_S` **are never orphans.**  An intake stores the
original before the row naming it commits, an export writes its file before the job is marked
done, and an atomic write has its temporary file until the rename: a young file may be one of
those, so it is left for a later check.  (Storing an original that is already there makes it
young again, see :meth:`records.BlobStore.put`.)
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

import records
from dossier.app.resources import HomeResources
from foundation.errors import DossierError
from foundation.messages import Message, msg
from index import activity_entry_id, entry_activity
from pipeline.activity_index import index_activities
from pipeline.indexing import INDEXED_STATUSES
from records import Activity, Document, ExportJob, Version, VersionPage

__all__ = ["KINDS", "ORPHAN_GRACE_S", "CheckReport", "Finding", "IntegrityService"]

#: Seconds a file must be old before it can be an orphan or a leftover (see the module docstring).
ORPHAN_GRACE_S = 3600.0
#: Kinds of finding, in the order the check reports them.
KINDS = (
    "blob_corrupt",
    "blob_unreadable",
    "original_missing",
    "index_unavailable",
    "index_missing",
    "index_extra",
    "orphan_blob",
    "orphan_page_image",
    "orphan_export",
    "leftover_file",
    "audit_trigger",
)
#: Seconds the check waits for queued index work to reach the search engine.
SETTLE_S = 60.0
_DIGEST_IN_NAME = re.compile(r"[0-9a-f]{64}")
_VERIFY_WINDOW = 256  # blobs verified at a time (bounded memory, whatever the store's size)


@dataclass(frozen=True)
class _NoKey:
    """An original sealed under a key this home does not have (``why`` says which)."""

    why: Any


#: ``progress(stage, done, total)``: ``stage`` is a message id (``check.stage.…``).
Progress = Callable[[str, int, int], None]


@dataclass
class Finding:
    """One thing wrong: its kind (:data:`KINDS`), what it is about, what to say, and whether it is (or was) repaired."""

    kind: str
    subject: str
    message: Message
    repairable: bool
    repaired: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The finding as ``--json`` prints it."""
        return {
            "kind": self.kind,
            "subject": self.subject,
            "message": self.message,
            "repairable": self.repairable,
            "repaired": self.repaired,
        }


@dataclass
class CheckReport:
    """What one check found (``findings``), how much it looked at (``checked``) and how long it took."""

    repair: bool = False
    findings: list[Finding] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def problems(self) -> list[Finding]:
        """The findings that are still wrong (not repaired)."""
        return [f for f in self.findings if not f.repaired]

    @property
    def ok(self) -> bool:
        """True when nothing is wrong any more (clean, or every finding repaired)."""
        return not self.problems

    def counts(self) -> dict[str, int]:
        """Findings per kind (kinds with none left out)."""
        out: dict[str, int] = {}
        for finding in self.findings:
            out[finding.kind] = out.get(finding.kind, 0) + 1
        return out

    def as_dict(self) -> dict[str, Any]:
        """The report as ``--json`` prints it."""
        return {
            "ok": self.ok,
            "repair": self.repair,
            "seconds": round(self.seconds, 3),
            "checked": self.checked,
            "counts": self.counts(),
            "problems": len(self.problems),
            "repaired": sum(1 for f in self.findings if f.repaired),
            "findings": [f.as_dict() for f in self.findings],
        }

    def add(self, kind: str, subject: str, message: Message, *, repairable: bool) -> Finding:
        """Record one finding and return it."""
        finding = Finding(kind, subject, message, repairable)
        self.findings.append(finding)
        return finding


class IntegrityService:
    """The integrity check of one data home (see the module docstring)."""

    def __init__(
        self,
        home: HomeResources,
        *,
        reindex: Callable[[Iterable[int]], int],
        grace_s: float = ORPHAN_GRACE_S,
        threads: int | None = None,
    ) -> None:
        self._home = home
        self._reindex = reindex
        self.grace_s = grace_s
        self._threads = threads or min(8, max(2, os.cpu_count() or 2))

    def check(self, repair: bool = False, progress: Progress | None = None) -> CheckReport:
        """Check everything (and, with ``repair``, repair what the records allow); see the module docstring."""
        started = time.perf_counter()
        report = CheckReport(repair=repair)
        referenced = self._referenced()
        on_disk = dict(self._home.blobs.originals())
        self._check_blobs(report, on_disk, referenced, progress)
        self._check_originals(report, on_disk)
        self._check_index(report, repair, progress)
        self._check_orphans(report, on_disk, referenced, repair)
        self._check_audit(report, repair)
        if repair and any(f.repaired for f in report.findings):
            self._record_repair(report)
        report.seconds = time.perf_counter() - started
        return report

    # -- blobs and originals ---------------------------------------------------------------------

    def _referenced(self) -> set[str]:
        """Every digest a version names."""
        with self._home.sessions() as session:
            return set(session.scalars(select(Version.sha256).distinct()))

    def _check_blobs(
        self, report: CheckReport, on_disk: dict[str, Path], referenced: set[str], progress: Progress | None
    ) -> None:
        """Verify every referenced original (decrypted, hashed) in a few threads: reading and hashing release the GIL."""
        digests = sorted(d for d in on_disk if d in referenced)
        report.checked["blobs"] = len(digests)
        bad: dict[str, Any] = {}
        with ThreadPoolExecutor(self._threads) as pool:
            for start in range(0, len(digests), _VERIFY_WINDOW):
                window = digests[start : start + _VERIFY_WINDOW]
                for digest, error in zip(window, pool.map(self._verify, window), strict=True):
                    if error is not None:
                        bad[digest] = error
                if progress is not None:
                    progress("check.stage.blobs", start + len(window), len(digests))
        if not bad:
            return
        users = self._versions_of(bad)
        for digest, error in bad.items():
            if error == "missing":  # removed while the check ran: the originals' check says so
                on_disk.pop(digest, None)
                continue
            documents = _named(users.get(digest, []))
            if isinstance(error, _NoKey):  # not damaged: the key it was sealed with is not configured
                report.add(
                    "blob_unreadable",
                    digest,
                    msg("check.blob.no_key", blob=digest[:12], documents=documents, error=error.why),
                    repairable=False,
                )
                continue
            report.add(
                "blob_corrupt",
                digest,
                msg("check.blob.corrupt", blob=digest[:12], documents=documents, error=error),
                repairable=False,
            )

    def _verify(self, digest: str) -> Any:
        """None when the original reads back whole; else why not (a message, :class:`_NoKey`), or ``"missing"``."""
        try:
            self._home.blobs.verify(digest)
        except records.BlobMissing:
            return "missing"
        except records.BlobUnreadable as exc:
            why = exc.msg or exc.message
            return _NoKey(why) if exc.reason in ("no_key", "unknown_key") else why
        except records.BlobCorrupt as exc:
            return exc.msg or exc.message
        except OSError as exc:
            return msg("records.blob.cannot_read", detail=exc.strerror or exc)
        return None

    def _versions_of(self, digests: Iterable[str]) -> dict[str, list[tuple[int, str]]]:
        """(document id, file name) of the versions naming each digest."""
        out: dict[str, list[tuple[int, str]]] = {}
        wanted = list(digests)
        with self._home.sessions() as session:
            for chunk in _chunks(wanted, 500):
                rows = session.execute(
                    select(Version.sha256, Version.document_id, Version.filename)
                    .where(Version.sha256.in_(chunk))
                    .order_by(Version.document_id, Version.number)
                )
                for digest, doc_id, filename in rows:
                    out.setdefault(digest, []).append((doc_id, filename))
        return out

    def _check_originals(self, report: CheckReport, on_disk: dict[str, Path]) -> None:
        """Every version of every document has its original in the store."""
        versions = 0
        query = select(Version.document_id, Version.number, Version.filename, Version.sha256).order_by(
            Version.document_id, Version.number
        )
        with self._home.sessions() as session:
            for doc_id, number, filename, digest in session.execute(query.execution_options(yield_per=5000)):
                versions += 1
                if digest in on_disk:
                    continue
                report.add(
                    "original_missing",
                    f"document {doc_id} v{number}",
                    msg(
                        "check.original.missing",
                        document=doc_id,
                        version=number,
                        filename=filename,
                        blob=digest[:12],
                    ),
                    repairable=False,
                )
        report.checked["versions"] = versions

    # -- the search index ------------------------------------------------------------------------

    def _check_index(self, report: CheckReport, repair: bool, progress: Progress | None) -> None:
        """The index holds exactly the entries the records call for (both backends)."""
        backend = self._home.backend
        if progress is not None:
            progress("check.stage.index", 0, 1)
        differences = self._index_differences(report)
        if differences is None:
            return
        missing, extra, version_docs = differences
        found: dict[int, Finding] = {}
        for entry in missing:
            found[entry] = report.add(
                "index_missing",
                _entry_name(entry, version_docs),
                msg("check.index.missing", entry=_entry_name(entry, version_docs)),
                repairable=True,
            )
        for entry in extra:
            found[entry] = report.add(
                "index_extra",
                _entry_name(entry, version_docs),
                msg("check.index.extra", entry=_entry_name(entry, version_docs)),
                repairable=True,
            )
        if progress is not None:
            progress("check.stage.index", 1, 1)
        if not repair or not found:
            return
        documents = sorted({version_docs.get(e, e) for e in missing if not entry_activity(e)})
        if documents:
            self._reindex(documents)
        activities = [entry_activity(e) for e in missing if entry_activity(e)]
        if activities:
            with self._home.sessions() as session:
                rows = list(session.scalars(select(Activity).where(Activity.id.in_(activities))))
                index_activities(session, backend, rows)
                session.commit()
        if extra:
            backend.delete(extra)
        again = self._index_differences(CheckReport())
        if again is None:
            return
        still = {*again[0], *again[1]}
        for entry, finding in found.items():
            finding.repaired = entry not in still

    def _index_differences(self, report: CheckReport) -> tuple[list[int], list[int], dict[int, int]] | None:
        """(entries missing, entries extra, version entry -> its document), or None when the index cannot be read."""
        backend = self._home.backend
        try:
            settled = backend.settle(SETTLE_S)
            actual = set(backend.entry_ids())
        except DossierError as exc:
            report.add(
                "index_unavailable",
                backend.name,
                msg("check.index.unavailable", backend=backend.name, error=exc.msg or exc.message),
                repairable=False,
            )
            return None
        if not settled:
            report.add(
                "index_unavailable",
                backend.name,
                msg("check.index.unsettled", backend=backend.name),
                repairable=False,
            )
            return None
        report.checked["index_entries"] = len(actual)
        missing: list[int] = []
        version_docs: dict[int, int] = {}
        expected = 0
        with self._home.sessions() as session:
            for (doc_id,) in session.execute(_expected_documents().execution_options(yield_per=10000)):
                expected += 1
                if doc_id in actual:
                    actual.discard(doc_id)
                else:
                    missing.append(doc_id)
            for version_id, doc_id in session.execute(
                _superseded_versions(INDEXED_STATUSES).execution_options(yield_per=10000)
            ):
                expected += 1
                entry = -version_id
                if entry in actual:
                    actual.discard(entry)
                else:
                    missing.append(entry)
                    version_docs[entry] = doc_id
            for (activity_id,) in session.execute(_expected_activities().execution_options(yield_per=10000)):
                expected += 1
                entry = activity_entry_id(activity_id)
                if entry in actual:
                    actual.discard(entry)
                else:
                    missing.append(entry)
            if actual:  # documents on their way (queued, processing) are not extra
                on_the_way = session.scalars(
                    select(Document.id).where(Document.status.not_in((*INDEXED_STATUSES, "failed")))
                )
                actual.difference_update(on_the_way)
                actual.difference_update(
                    -v for v, _ in session.execute(_superseded_versions(("queued", "processing")))
                )
        report.checked["documents_indexed"] = expected
        extra = sorted(actual)
        for entry in extra:
            if entry < 0 and not entry_activity(entry):
                version_docs[entry] = 0
        return missing, extra, version_docs

    # -- orphans and leftovers -------------------------------------------------------------------

    def _old(self, path: Path) -> bool:
        """True when ``path`` is older than the grace period (False when it is gone)."""
        try:
            return time.time() - path.stat().st_mtime > self.grace_s
        except FileNotFoundError:
            return False

    def _check_orphans(
        self, report: CheckReport, on_disk: dict[str, Path], referenced: set[str], repair: bool
    ) -> None:
        blobs = self._home.blobs
        for digest, path in on_disk.items():
            if digest in referenced or not self._old(path):
                continue
            finding = report.add(
                "orphan_blob",
                digest,
                msg("check.orphan.blob", blob=digest[:12], size=_size(path)),
                repairable=True,
            )
            if repair:
                finding.repaired = self._remove_orphan_blob(digest, path)
        cached = 0
        for name, path in blobs.cached():
            cached += 1
            named = _DIGEST_IN_NAME.search(name)
            if named is None or named.group(0) in referenced or not self._old(path):
                continue  # only entries named with their original's digest are judged (see BlobStore.delete)
            finding = report.add(
                "orphan_page_image", name, msg("check.orphan.page_image", name=name), repairable=True
            )
            if repair:
                blobs.delete_cached(name)
                finding.repaired = not path.exists()
        report.checked["cached"] = cached
        self._check_exports(report, repair)
        for path in blobs.leftovers():
            if self._old(path):
                self._orphan_file(report, "leftover_file", path, msg("check.leftover", path=path), repair)

    def _remove_orphan_blob(self, digest: str, path: Path) -> bool:
        """Remove an original no version names, checking again first (an intake may have named it meanwhile)."""
        with self._home.sessions() as session:
            named = session.scalar(select(Version.id).where(Version.sha256 == digest).limit(1))
        if named is not None or not self._old(path):
            return False
        path.unlink(missing_ok=True)
        return True

    def _check_exports(self, report: CheckReport, repair: bool) -> None:
        """Files under ``DOSSIER_HOME/exports`` that no finished export names (and parts no running one writes)."""
        home = self._home.settings.home
        folder = home / "exports"
        if not folder.is_dir():
            report.checked["export_files"] = 0
            return
        with self._home.sessions() as session:
            kept = {
                (home / p).resolve()
                for p in session.scalars(
                    select(ExportJob.path).where(ExportJob.status == "done", ExportJob.path.is_not(None))
                )
                if p
            }
            writing = set(
                session.scalars(select(ExportJob.id).where(ExportJob.status.in_(("queued", "running"))))
            )
        files = 0
        for path in sorted(folder.iterdir()):
            if not path.is_file():
                continue
            files += 1
            if path.name.endswith(".part"):
                head = path.name.split("-", 1)[0]
                if head.isdigit() and int(head) in writing:
                    continue
            elif path.resolve() in kept:
                continue
            if self._old(path):
                self._orphan_file(
                    report, "orphan_export", path, msg("check.orphan.export", path=path), repair
                )
        report.checked["export_files"] = files

    def _orphan_file(
        self, report: CheckReport, kind: str, path: Path, message: Message, repair: bool
    ) -> None:
        finding = report.add(kind, str(path), message, repairable=True)
        if repair:
            path.unlink(missing_ok=True)
            finding.repaired = not path.exists()

    # -- the audit trail --------------------------------------------------------------------------

    def _check_audit(self, report: CheckReport, repair: bool) -> None:
        """The audit trail's append-only triggers exist (and, on PostgreSQL, are enabled)."""
        with self._home.engine.connect() as conn:
            missing = records.append_only_problems(conn)
        found = [
            report.add("audit_trigger", name, msg("check.audit.trigger", name=name), repairable=True)
            for name in missing
        ]
        if not repair or not found:
            return
        with self._home.engine.begin() as conn:
            records.restore_append_only(conn)
        with self._home.engine.connect() as conn:
            still = set(records.append_only_problems(conn))
        for finding in found:
            finding.repaired = finding.subject not in still

    def _record_repair(self, report: CheckReport) -> None:
        """One audit event for a repair: what was repaired, by kind."""
        repaired: dict[str, int] = {}
        for finding in report.findings:
            if finding.repaired:
                repaired[finding.kind] = repaired.get(finding.kind, 0) + 1
        with self._home.sessions() as session:
            records.record_event(
                session,
                "system",
                "integrity_repair",
                detail={"repaired": repaired, "left": len(report.problems)},
            )
            session.commit()


def _expected_documents() -> Select[int]:
    """Ids of the documents the index must hold: searchable status, not in the trash."""
    return (
        select(Document.id)
        .where(Document.status.in_(INDEXED_STATUSES), Document.trashed_at.is_(None))
        .order_by(Document.id)
    )


def _expected_activities() -> Select[int]:
    """Ids of the activities and comments the index must hold: all but the comments on documents in the trash."""
    return (
        select(Activity.id)
        .outerjoin(Document, Document.id == Activity.document_id)
        .where(Document.trashed_at.is_(None))
        .order_by(Activity.id)
    )


def _superseded_versions(statuses: Sequence[str]) -> Select[int, int]:
    """(version id, document id) of superseded versions with saved text, of documents in ``statuses`` not in the trash."""
    newer = aliased(Version)
    return (
        select(Version.id, Version.document_id)
        .join(Document, Document.id == Version.document_id)
        .where(
            Document.status.in_(statuses),
            Document.trashed_at.is_(None),
            select(VersionPage.version_id).where(VersionPage.version_id == Version.id).exists(),
            Version.number
            < select(func.max(newer.number))
            .where(newer.document_id == Version.document_id)
            .scalar_subquery(),
        )
        .order_by(Version.id)
    )


def _entry_name(entry: int, version_docs: dict[int, int]) -> str:
    """``document 12``, ``version entry -40 (document 12)`` or ``activity 7``."""
    if entry_activity(entry):
        return f"activity {entry_activity(entry)}"
    if entry >= 0:
        return f"document {entry}"
    doc = version_docs.get(entry)
    return f"version entry {entry}" + (f" (document {doc})" if doc else "")


def _named(users: Sequence[tuple[int, str]]) -> str:
    """``12 (合同.pdf), 15 (…)``: the documents an original belongs to (at most five named)."""
    shown = ", ".join(f"{doc} ({filename})" for doc, filename in users[:5])
    return shown + (f" … +{len(users) - 5}" if len(users) > 5 else "") if users else "-"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
