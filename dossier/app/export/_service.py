"""The exports of a data home (``Dossier.exports``): plan, stream, background jobs, clean-up, audit.

An export is planned first (:meth:`ExportService.plan`): the number of hits the
caller may read and every configured limit, so a page can show them before anything starts
and a refusal comes before the first byte.  It is then either streamed
(:meth:`ExportService.stream`, for the CLI, the API and small web exports) or run as a
background job by a worker (:meth:`ExportService.start_job`), whose file lands in
``DOSSIER_HOME/exports`` and can be downloaded by its owner until it expires.  Each export
writes one audit event when it ends, complete or not.

Rights are checked again when a background export's file is handed out.  Its rows were
filtered by the rights its owner had when the worker wrote it, so the job records a
fingerprint of those rights (:func:`rights_of`: the role and, for a sales rep, the customers
they own) and the file goes only to a principal with the same fingerprint.  Once the owner's
role or owned customers change, or the owner is disabled (no session or token of theirs works
then), the export is ``revoked``: its file is deleted and the download answers 403 — a new
export, made under the new rights, is the way to get the data again.  Changing a role or
disabling a user revokes their finished exports at once (:meth:`ExportService.revoke_user`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import secrets
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from redis import RedisError
from sqlalchemy import select, update

from dossier.app.export._rows import iter_rows
from dossier.app.export._tabular import csv_chunks, jsonl_chunks, xlsx_chunks
from dossier.app.export._zip import zip_chunks
from foundation.errors import DossierError, NotFound
from foundation.messages import Message, msg
from index import Principal, SearchRequest
from pipeline.queue import EXPORT_TIMEOUT_S, QueueUnavailable
from records import ExportJob, Version, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dossier.app.resources import HomeResources
    from foundation.config import Settings
    from pipeline.queue import JobQueue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportFormat:
    """One export format: its extension, MIME type and name."""

    name: str
    mime: str
    label: str


FORMATS: dict[str, ExportFormat] = {
    "csv": ExportFormat("csv", "text/csv; charset=utf-8", "CSV"),
    "xlsx": ExportFormat(
        "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel (XLSX)"
    ),
    "jsonl": ExportFormat("jsonl", "application/x-ndjson; charset=utf-8", "JSON Lines"),
    "zip": ExportFormat("zip", "application/zip", "ZIP"),
}

#: Which snippets each format carries: JSON Lines the search page's (highlighted), the tables
#: plain ones (fast, see dossier.app.export._snippets), the ZIP's manifests none.
SNIPPETS: dict[str, str | None] = {"csv": "plain", "xlsx": "plain", "jsonl": "index", "zip": None}

#: Seconds a worker may spend on one background export (the queue's, so re-queued exports get the same).
JOB_TIMEOUT_S = EXPORT_TIMEOUT_S
#: The SearchRequest fields an export keeps (paging and facets do not apply).
_REQUEST_FIELDS = (
    "query",
    "customers",
    "doc_types",
    "tags",
    "date_from",
    "date_to",
    "customer_ids",
    "customer_types",
    "industries",
    "regions",
    "years",
    "stages",
    "importance",
    "customer_tags",
    "formats",
    "scans_only",
    "entities",
    "sort",
)


class ExportFormatError(DossierError):
    """An export format Dossier does not write."""

    status = 400


class ExportRefused(DossierError):
    """The export would break a configured limit (said before it starts)."""

    status = 422


class ExportGone(DossierError):
    """A background export's file has expired (and was deleted)."""

    status = 410


class ExportNotReady(DossierError):
    """A background export's file is not written yet (or the export failed)."""

    status = 409


class ExportRevoked(DossierError):
    """A background export whose owner's rights changed since it was written: its file is gone for good."""

    status = 403


#: What a revoked export says (its ``error``, and the download's 403).
REVOKED_MESSAGE = msg("app.export.revoked")


def rights_of(principal: Principal) -> str:
    """A fingerprint of what ``principal`` may read: the role and (a sales rep's) owned customers."""
    owned = ",".join(str(i) for i in sorted(principal.owned_customer_ids))
    return hashlib.sha256(f"{principal.role}|{owned}".encode()).hexdigest()[:32]


def check_format(fmt: str | None) -> str:
    """The format code, or ExportFormatError naming the formats there are."""
    code = (fmt or "").strip().lower()
    if code not in FORMATS:
        raise ExportFormatError(msg("app.export.unknown_format", value=repr(fmt)))
    return code


def request_to_json(request: SearchRequest, limit: int | None = None) -> dict[str, Any]:
    """The search part of a request (no paging) as JSON, plus an explicit hit ``limit`` when one was asked for."""
    out: dict[str, Any] = {}
    for name in _REQUEST_FIELDS:
        value = getattr(request, name)
        out[name] = (
            [list(v) for v in value]
            if name == "entities"
            else list(value)
            if isinstance(value, tuple)
            else value
        )
    out["limit"] = limit
    return out


def request_from_json(data: Mapping[str, Any]) -> tuple[SearchRequest, int | None]:
    """The inverse of :func:`request_to_json`: (request, limit)."""
    fields: dict[str, Any] = {}
    for name in _REQUEST_FIELDS:
        if name not in data or data[name] is None:
            continue
        value = data[name]
        if name == "entities":
            value = tuple(tuple(pair) for pair in value)
        elif isinstance(value, list):
            value = tuple(value)
        fields[name] = value
    limit = data.get("limit")
    return SearchRequest(**fields), int(limit) if limit is not None else None


def filters_of(request: SearchRequest) -> dict[str, Any]:
    """The filters a request carries beside its query (for the audit trail and the pages)."""
    out: dict[str, Any] = {}
    for name in _REQUEST_FIELDS:
        if name in ("query", "sort"):
            continue
        value = getattr(request, name)
        if value:
            out[name] = (
                [list(v) for v in value]
                if name == "entities"
                else list(value)
                if isinstance(value, tuple)
                else value
            )
    return out


def export_filename(fmt: str, when: datetime | None = None) -> str:
    """The file name an export is offered under: ``dossier-export-20240315-093000.csv``."""
    stamp = (when or utcnow()).strftime("%Y%m%d-%H%M%S")
    return f"dossier-export-{stamp}.{FORMATS[fmt].name}"


def default_base_url(settings: Settings) -> str:
    """Where document links in exports point unless a checked web address says otherwise: DOSSIER_PUBLIC_URL, else
    the address Dossier listens on (DOSSIER_HOST:DOSSIER_PORT; a wildcard bind address gives 127.0.0.1)."""
    if settings.public_url:
        return settings.public_url
    host = settings.get("DOSSIER_HOST").strip()
    host = "127.0.0.1" if host in ("", "0.0.0.0", "::", "[::]") else host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address
    return f"http://{host}:{settings.get('DOSSIER_PORT').strip() or '8000'}"


@dataclass(frozen=True)
class ExportLimits:
    """The export settings (0 in a maximum means none)."""

    max_hits: int
    stream_max: int
    zip_max_files: int
    zip_max_mb: int
    ttl_hours: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ExportLimits:
        """Read the DOSSIER_EXPORT_* settings."""
        return cls(
            max_hits=max(0, settings.get_int("DOSSIER_EXPORT_MAX_HITS")),
            stream_max=max(0, settings.get_int("DOSSIER_EXPORT_STREAM_MAX")),
            zip_max_files=max(0, settings.get_int("DOSSIER_EXPORT_ZIP_MAX_FILES")),
            zip_max_mb=max(0, settings.get_int("DOSSIER_EXPORT_ZIP_MAX_MB")),
            ttl_hours=max(1, settings.get_int("DOSSIER_EXPORT_TTL_HOURS")),
        )


@dataclass(frozen=True)
class ExportPlan:
    """What an export will hold before it starts: ``count`` of ``total`` readable hits, and the limits.

    ``reason`` (Chinese / English) says why it may not run; ``zip_bytes`` is the originals'
    total size (ZIP only).
    """

    format: str
    total: int
    count: int
    limit: int | None
    limits: ExportLimits
    reason: Message | None = None
    zip_bytes: int | None = None

    @property
    def allowed(self) -> bool:
        """Whether the export may run."""
        return self.reason is None

    @property
    def background(self) -> bool:
        """Whether the web page runs it as a background job (more hits than DOSSIER_EXPORT_STREAM_MAX)."""
        return self.count > self.limits.stream_max

    def check(self) -> None:
        """Raise :class:`ExportRefused` when the export may not run."""
        if self.reason is not None:
            raise ExportRefused(self.reason)

    def as_json(self) -> dict[str, Any]:
        """The plan as the API shows it."""
        return {
            "format": self.format,
            "total": self.total,
            "count": self.count,
            "limit": self.limit,
            "allowed": self.allowed,
            "reason": self.reason.dumps()
            if self.reason is not None
            else None,  # stored form: the web renders it
            "background": self.background,
            "zip_bytes": self.zip_bytes,
            **dataclasses.asdict(self.limits),
        }


def _one_line(exc: BaseException) -> str:
    text = (exc.message if isinstance(exc, DossierError) else str(exc)).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def _stored_error(exc: BaseException) -> str:
    """A job's error as the records keep it: the error's message (shown in the reader's language), else one line."""
    if isinstance(exc, DossierError) and exc.msg is not None:
        return exc.msg.dumps()
    return _one_line(exc)


class AuditRecorder(Protocol):
    """Writes one audit event (:meth:`dossier.app.audit.AuditService.record`)."""

    def __call__(
        self,
        username: str,
        action: str,
        *,
        target_type: str | None = None,
        target_id: int | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> int: ...


class ExportService:
    """The exports of one data home: planning, streaming, background jobs and their files.

    ``record`` writes the ``export`` audit event each export ends with; ``principal_for`` gives
    a background export's owner's principal as it is when the worker runs it (NotFound once
    the owner is disabled).
    """

    def __init__(
        self, home: HomeResources, *, record: AuditRecorder, principal_for: Callable[[str], Principal]
    ) -> None:
        self._home = home
        self._record = record
        self._principal_for = principal_for

    # -- planning ----------------------------------------------------------------------------

    @property
    def limits(self) -> ExportLimits:
        """The configured export limits."""
        return ExportLimits.from_settings(self._home.settings)

    @property
    def directory(self) -> Path:
        """Where background exports write their files."""
        return self._home.settings.home / "exports"

    def plan(
        self, request: SearchRequest, principal: Principal, fmt: str, *, limit: int | None = None
    ) -> ExportPlan:
        """Count what an export of ``request`` would hold for ``principal`` and check it against the limits."""
        fmt = check_format(fmt)
        self._home.prepare_search()
        limits = self.limits
        counted = dataclasses.replace(request, offset=0, limit=1, facets=False)
        total = self._home.backend.search(counted, principal).total
        count = total if limit is None else min(total, max(0, limit))
        reason = None
        zip_bytes = None
        if limits.max_hits and count > limits.max_hits:
            reason = msg("app.export.too_many_hits", count=count, max=limits.max_hits)
        elif fmt == "zip" and limits.zip_max_files and count > limits.zip_max_files:
            reason = msg("app.export.zip_too_many_files", count=count, max=limits.zip_max_files)
        elif fmt == "zip":
            zip_bytes = self._originals_size(request, principal, count)
            if limits.zip_max_mb and zip_bytes > limits.zip_max_mb * 1024 * 1024:
                mb = -(-zip_bytes // (1024 * 1024))
                reason = msg("app.export.zip_too_large", mb=mb, max=limits.zip_max_mb)
        return ExportPlan(fmt, total, count, limit, limits, reason, zip_bytes)

    def _originals_size(self, request: SearchRequest, principal: Principal, count: int) -> int:
        """Total bytes of the newest originals of the first ``count`` hits."""
        total = 0
        ids = islice(self._home.backend.iter_ids(request, principal, batch=1000), count)
        while chunk := list(islice(ids, 1000)):
            newest: dict[int, tuple[int, int]] = {}
            with self._home.sessions() as session:
                for doc_id, number, size in session.execute(
                    select(Version.document_id, Version.number, Version.size).where(
                        Version.document_id.in_(chunk)
                    )
                ):
                    if doc_id not in newest or number > newest[doc_id][0]:
                        newest[doc_id] = (number, int(size))
            total += sum(size for _n, size in newest.values())
        return total

    # -- streaming ---------------------------------------------------------------------------

    def stream(
        self,
        request: SearchRequest,
        principal: Principal,
        fmt: str,
        *,
        base_url: str | None = None,
        limit: int | None = None,
        via: str = "cli",
        progress: Callable[[int, int], None] | None = None,
        plan: ExportPlan | None = None,
        job_id: int | None = None,
    ) -> tuple[ExportPlan, Generator[bytes, None, None]]:
        """Plan (or take ``plan``), refuse if a limit is broken, and return the plan and the file's bytes.

        The bytes are produced as they are read, in constant memory; ``progress(done, count)``
        hears about each row.  When the iterator ends — or is closed early, or fails — one
        audit event records who, the query, filters, format and how many hits were written.
        """
        plan = plan if plan is not None else self.plan(request, principal, fmt, limit=limit)
        plan.check()
        url = (base_url or default_base_url(self._home.settings)).rstrip("/")
        return plan, self._chunks(plan, request, principal, url, via, progress, job_id)

    def _chunks(
        self,
        plan: ExportPlan,
        request: SearchRequest,
        principal: Principal,
        base_url: str,
        via: str,
        progress: Callable[[int, int], None] | None,
        job_id: int | None,
    ) -> Generator[bytes, None, None]:
        written = 0
        rows = iter_rows(
            self._home.sessions,
            self._home.backend,
            request,
            principal,
            base_url=base_url,
            entities=plan.format == "jsonl",
            snippets=SNIPPETS[plan.format],
            limit=plan.limit,
            times=plan.format == "zip",
        )

        def counted() -> Iterator[Any]:
            nonlocal written
            for row in rows:
                written += 1
                if progress is not None:
                    progress(written, plan.count)
                yield row

        complete, error, size = False, None, 0
        try:
            if plan.format == "csv":
                chunks = csv_chunks(counted())
            elif plan.format == "jsonl":
                chunks = jsonl_chunks(counted())
            elif plan.format == "xlsx":
                chunks = xlsx_chunks(counted())
            else:
                meta = {
                    "exported_at": utcnow().isoformat(timespec="seconds") + "Z",
                    "exported_by": principal.username,
                    "query": request.query,
                    "filters": filters_of(request),
                    "sort": request.sort,
                }
                chunks = zip_chunks(counted(), self._home.blobs, meta=meta)
            for chunk in chunks:
                size += len(chunk)
                yield chunk
            complete = True
        except Exception as exc:
            error = _one_line(exc)
            raise
        finally:
            rows.close()
            self._record(
                principal.username,
                "export",
                target_type="export_job" if job_id is not None else "search",
                target_id=job_id,
                detail={
                    "format": plan.format,
                    "query": request.query,
                    "filters": filters_of(request),
                    "sort": request.sort,
                    "hits": written,
                    "total": plan.total,
                    "limit": plan.limit,
                    "complete": complete,
                    "bytes": size,
                    "via": via,
                    "error": error,
                },
            )

    # -- background jobs ---------------------------------------------------------------------

    def worker_queue(self) -> JobQueue | None:
        """The job queue when a live worker serves it (a background export needs one), else None."""
        queue = self._home.queue()
        if queue is None:
            return None
        try:
            return queue if queue.live_workers() > 0 else None
        except RedisError:
            return None

    def start_job(
        self,
        request: SearchRequest,
        principal: Principal,
        fmt: str,
        *,
        base_url: str | None = None,
        limit: int | None = None,
        plan: ExportPlan | None = None,
    ) -> dict[str, Any]:
        """Record and queue a background export; returns its :meth:`job` view.

        Refused (ExportRefused) like a streamed export; QueueUnavailable when no worker serves
        the queue (the caller streams instead).
        """
        plan = plan if plan is not None else self.plan(request, principal, fmt, limit=limit)
        plan.check()
        queue = self.worker_queue()
        if queue is None:
            raise QueueUnavailable(msg("app.export.no_workers"))
        self.purge_expired()
        with self._home.sessions() as session:
            job = ExportJob(
                username=principal.username,
                format=plan.format,
                request=request_to_json(request, limit),
                base_url=(base_url or default_base_url(self._home.settings)).rstrip("/"),
                total=plan.count,
                status="queued",
                done=0,
                size=0,
                rights=rights_of(principal),
            )
            session.add(job)
            session.commit()
            job_id = job.id
        try:
            queue.enqueue_export(job_id, JOB_TIMEOUT_S)
        except RedisError as exc:
            self._update_job(
                job_id,
                status="failed",
                error=msg("app.export.not_queued", reason=exc).dumps(),
                finished_at=utcnow(),
            )
            raise QueueUnavailable(msg("app.export.queue_unavailable")) from None
        return self.job(job_id, principal)

    def _update_job(self, job_id: int, **values: Any) -> None:
        with self._home.sessions() as session:
            job = session.get(ExportJob, job_id)
            if job is not None:
                for key, value in values.items():
                    setattr(job, key, value)
                session.commit()

    def run_job(self, job_id: int, worker: str, *, transient: tuple[type[BaseException], ...] = ()) -> str:
        """Write a queued export's file (the worker's job); returns ``done``, ``failed`` or ``skipped``.

        The file is written under a random name with ``.part`` and renamed when complete, so
        a download never sees half a file.  Errors of a ``transient`` kind put the job back in
        the queue and re-raise (the queue retries it); any other failure ends it ``failed``
        with a one-line reason.  A job that is not queued (done, failed, expired, revoked, or
        taken by another worker) is skipped.
        """
        with self._home.sessions() as session:
            # One conditional UPDATE claims the job: a second copy of it (re-queued after Redis lost its
            # data) finds it taken and does nothing.
            won = session.execute(
                update(ExportJob)
                .where(ExportJob.id == job_id, ExportJob.status == "queued")
                .values(status="running", claimed_by=worker, started_at=utcnow(), done=0, error=None)
            )
            session.commit()
            job = session.get(ExportJob, job_id)
            if job is None or getattr(won, "rowcount", 0) != 1:
                return "skipped"
            fmt, username, stored, base_url = job.format, job.username, dict(job.request), job.base_url
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        final = self.directory / f"{job_id}-{secrets.token_hex(8)}.{FORMATS[fmt].name}"
        part = final.with_name(final.name + ".part")
        seen, last = 0, 0.0

        def progress(done: int, _total: int) -> None:
            nonlocal seen, last
            seen = done
            now = time.monotonic()
            if now - last >= 1.0:
                last = now
                self._update_job(job_id, done=done)

        try:
            principal = self._principal_for(username)  # NotFound (the job fails) once the owner is disabled
            request, limit = request_from_json(stored)
            plan, chunks = self.stream(
                request,
                principal,
                fmt,
                base_url=base_url,
                limit=limit,
                via="job",
                progress=progress,
                job_id=job_id,
            )
            # The rows are filtered by the owner's rights as they are now: the file goes to those rights only.
            self._update_job(job_id, total=plan.count, rights=rights_of(principal))
            with os.fdopen(
                os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb"
            ) as fh:  # private
                for chunk in chunks:
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(part, final)
        except Exception as exc:
            part.unlink(missing_ok=True)
            if transient and isinstance(exc, transient):
                self._update_job(job_id, status="queued", claimed_by=None)
                raise
            log.warning("export %s failed: %s", job_id, exc)
            self._update_job(job_id, status="failed", error=_stored_error(exc), finished_at=utcnow())
            return "failed"
        finished = utcnow()
        self._update_job(
            job_id,
            status="done",
            done=seen,
            size=final.stat().st_size,
            path=str(final.relative_to(self._home.settings.home)),
            finished_at=finished,
            expires_at=finished + timedelta(hours=self.limits.ttl_hours),
        )
        self.purge_expired()
        return "done"

    def _job_view(self, job: ExportJob) -> dict[str, Any]:
        request, limit = request_from_json(job.request or {})

        def iso(value: datetime | None) -> str | None:
            return value.isoformat(timespec="seconds") if value is not None else None

        total = max(job.total, job.done)
        return {
            "id": job.id,
            "format": job.format,
            "status": job.status,
            "total": total,
            "done": job.done,
            "percent": 100 if job.status == "done" else (int(job.done * 100 / total) if total else 0),
            "size": job.size,
            "error": job.error,
            "query": request.query,
            "filters": filters_of(request),
            "sort": request.sort,
            "limit": limit,
            "created_at": iso(job.created_at),
            "started_at": iso(job.started_at),
            "finished_at": iso(job.finished_at),
            "expires_at": iso(job.expires_at),
            "file_name": export_filename(job.format, job.created_at),
            "ready": job.status == "done",
        }

    def _visible_job(self, session: Session, job_id: int, principal: Principal) -> ExportJob:
        job = session.get(ExportJob, job_id)
        if job is None or job.username != principal.username:
            raise NotFound(msg("app.export.not_found", id=job_id))
        return job

    def job(self, job_id: int, principal: Principal) -> dict[str, Any]:
        """One background export of the caller: state, progress, expiry; NotFound for anyone else's.

        A running export whose worker has died is failed here (its file can never be finished),
        and an expired one says so.
        """
        with self._home.sessions() as session:
            job = self._visible_job(session, job_id, principal)
            now = utcnow()
            if job.status == "running" and job.claimed_by and self._worker_gone(job.claimed_by):
                job.status, job.finished_at = "failed", now
                job.error = msg("app.export.worker_stopped").dumps()
                session.commit()
            if job.status == "done" and job.expires_at is not None and job.expires_at <= now:
                job.status = "expired"
            if job.status == "done" and job.rights != rights_of(principal):
                self._revoke(session, job)
            view = self._job_view(job)
        if view["status"] == "queued" and self.worker_queue() is None:
            view["note"] = msg("app.export.no_worker_running").dumps()
        return view

    def _worker_gone(self, worker: str) -> bool:
        queue = self._home.queue()
        if queue is None:
            return False  # cannot tell without Redis
        try:
            return queue.is_dead(worker)
        except RedisError:
            return False

    def jobs(self, principal: Principal, limit: int = 20) -> list[dict[str, Any]]:
        """The caller's newest background exports."""
        with self._home.sessions() as session:
            ids = list(
                session.scalars(
                    select(ExportJob.id)
                    .where(ExportJob.username == principal.username)
                    .order_by(ExportJob.id.desc())
                    .limit(limit)
                )
            )
        return [self.job(i, principal) for i in ids]

    def job_file(self, job_id: int, principal: Principal) -> tuple[Path, str, str]:
        """(path, download name, MIME type) of the caller's finished export; ExportGone once it expired."""
        with self._home.sessions() as session:
            job = self._visible_job(session, job_id, principal)
            now = utcnow()
            gone = ExportGone(msg("app.export.expired", id=job_id))
            if job.status == "expired" or (job.expires_at is not None and job.expires_at <= now):
                raise gone
            if job.status == "done" and job.rights != rights_of(principal):
                self._revoke(session, job)
            if job.status == "revoked":
                raise ExportRevoked(REVOKED_MESSAGE)
            if job.status != "done" or not job.path:
                raise ExportNotReady(msg("app.export.not_ready", id=job_id, status=job.status))
            path = self._home.settings.home / job.path
            if not path.is_file():
                raise gone
            return path, export_filename(job.format, job.created_at), FORMATS[job.format].mime

    def _revoke(self, session: Session, job: ExportJob) -> None:
        """Void a finished export in ``session`` (committed here): its file is deleted, it says why."""
        if job.path:
            (self._home.settings.home / job.path).unlink(missing_ok=True)
        job.status, job.path, job.error = "revoked", None, REVOKED_MESSAGE.dumps()
        session.commit()

    def revoke_user(self, username: str) -> int:
        """Void every finished export of ``username`` (their role or rights changed, or they were disabled).

        Returns how many.  Queued ones run later under the rights the owner has then (or fail
        if the owner is disabled); one being written now is refused at download.
        """
        with self._home.sessions() as session:
            jobs = session.scalars(
                select(ExportJob).where(ExportJob.username == username, ExportJob.status == "done")
            ).all()
            for job in jobs:
                self._revoke(session, job)
            return len(jobs)

    def purge_expired(self, now: datetime | None = None) -> int:
        """Delete the files of expired exports (and ``.part`` leftovers older than the expiry); returns how many."""
        now = now or utcnow()
        removed = 0
        with self._home.sessions() as session:
            for job in session.scalars(
                select(ExportJob).where(ExportJob.status == "done", ExportJob.expires_at <= now)
            ):
                if job.path:
                    (self._home.settings.home / job.path).unlink(missing_ok=True)
                job.status, job.path = "expired", None
                removed += 1
            session.commit()
        cutoff = time.time() - self.limits.ttl_hours * 3600
        if self.directory.is_dir():
            for leftover in self.directory.glob("*.part"):
                try:
                    if leftover.stat().st_mtime < cutoff:
                        leftover.unlink()
                        removed += 1
                except FileNotFoundError:
                    continue
        return removed
