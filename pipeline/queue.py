"""The job queue: RQ on Redis.  Jobs carry ids only; the records say what is left to do.

One queue per records database (its name is derived from the database URL), so several
data homes can share a Redis.  Job ids are deterministic (``ingest-<doc>``,
``ocr-<doc>-<first>-<last>``), which lets :meth:`JobQueue.reconcile` compare the records
with the queue and enqueue whatever has no job: work stored while Redis was down, or
work whose worker was killed.  Workers announce that they are alive, and the job they run,
with short-lived keys; a job whose worker stopped announcing is taken over.

Redis may come back empty (restarted without persistence): every job, registry, liveness key
and lock is gone while the workers still run.  An *epoch* key tells that apart: it is created
once per Redis data set, so a new epoch means "Redis lost its data".  For LIVENESS_TTL_S after
a new epoch, workers may not have announced themselves again yet, so nothing they might hold is
taken over (:meth:`JobQueue.settling_s`).
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import socket
from collections.abc import Iterable, Sequence
from typing import Any

import redis
from rq import Queue, Retry
from rq.registry import ScheduledJobRegistry
from sqlalchemy.engine import URL

import records
from foundation.errors import DossierError
from foundation.messages import msg

#: Seconds a worker's liveness key lives; it is refreshed three times as often.
LIVENESS_TTL_S = 15
#: Pages one OCR job reads: small enough to spread a long scan over every worker.
OCR_PAGES_PER_JOB = 2
#: Seconds a background export job may run (a whole result set as XLSX or a ZIP of originals).
EXPORT_TIMEOUT_S = 6 * 3600
#: Waits between retries of a job that failed for a transient reason (database busy, disk hiccup).
RETRY_INTERVALS_S = (10, 60, 300)


class QueueUnavailable(DossierError):
    """Redis cannot be reached."""


def queue_name(database_url: str) -> str:
    """The queue of one records database.

    A server URL (PostgreSQL) is named without its password and with one spelling of its
    driver (``postgres://`` = ``postgresql://`` = ``postgresql+psycopg://``), so machines that
    reach the same host and database share one queue even when their URLs are written apart.
    SQLite URLs are used as written (queue names of existing data homes stay as they were).
    """
    key = database_url
    if not database_url.startswith("sqlite"):
        # A malformed URL keeps its text here: it fails with its own message when the records open.
        with contextlib.suppress(DossierError):
            url = records.database_url(database_url)
            bare = URL.create(url.drivername, url.username, None, url.host, url.port, url.database, url.query)
            key = bare.render_as_string(hide_password=False)
    return "dossier-" + hashlib.sha256(key.encode()).hexdigest()[:12]


def connect(url: str, timeout_s: float = 2.0, *, check: bool = True) -> redis.Redis:
    """A checked connection to Redis; QueueUnavailable (with what to do) when it cannot be reached.

    ``check=False`` returns the client without trying it (a worker that waits for Redis).
    """
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=max(timeout_s, 30))
    if not check:
        return client
    try:
        client.ping()
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        client.close()
        raise QueueUnavailable(msg("pipeline.queue.unreachable", url=url, detail=exc)) from None
    return client


def page_ranges(pages: Sequence[int], size: int = OCR_PAGES_PER_JOB) -> list[tuple[int, ...]]:
    """Split page numbers into runs of at most ``size`` pages (one OCR job each)."""
    ordered = sorted(set(pages))
    return [tuple(ordered[i : i + size]) for i in range(0, len(ordered), size)]


class JobQueue:
    """Enqueue the product's jobs and tell which work already has a job."""

    def __init__(self, connection: redis.Redis, name: str) -> None:
        self.redis = connection
        self.name = name
        self.queue = Queue(name, connection=connection)

    @classmethod
    def from_settings(cls, settings: Any, *, check: bool = True) -> JobQueue:
        """The queue of these settings' records database (QueueUnavailable when Redis is down, unless not ``check``)."""
        return cls(connect(settings.get("DOSSIER_REDIS_URL"), check=check), queue_name(settings.database_url))

    # -- enqueueing ---------------------------------------------------------------------------

    def _enqueue(
        self, func: str, args: tuple[Any, ...], job_id: str, timeout_s: float, *, at_front: bool = False
    ) -> str:
        self.queue.enqueue(
            func,
            args=args,
            job_id=job_id,
            job_timeout=int(timeout_s),
            result_ttl=3600,
            failure_ttl=7 * 86400,
            retry=Retry(max=len(RETRY_INTERVALS_S), interval=list(RETRY_INTERVALS_S)),
            at_front=at_front,
        )
        return job_id

    def enqueue_ingest(self, doc_id: int, timeout_s: float) -> str:
        """Queue the parsing of a taken document."""
        return self._enqueue("workers.jobs.ingest_document", (doc_id,), f"ingest-{doc_id}", timeout_s)

    def enqueue_ocr(self, doc_id: int, pages: Sequence[int], page_timeout_s: float) -> list[str]:
        """Queue OCR of a document's pages, a few pages per job (ahead of new files: a scan finishes first).

        Pushed to the front last range first, so workers take the pages in reading order.
        """
        ids = [
            self._enqueue(
                "workers.jobs.ocr_document_pages",
                (doc_id, list(run)),
                f"ocr-{doc_id}-{run[0]}-{run[-1]}",
                page_timeout_s * len(run) + 60,
                at_front=True,
            )
            for run in reversed(page_ranges(pages))
        ]
        return ids[::-1]

    def enqueue_reindex(self, doc_ids: Sequence[int] | None, timeout_s: float = 3600) -> str:
        """Queue a reindex of some documents (None: all)."""
        key = "all" if doc_ids is None else hashlib.sha256(repr(sorted(doc_ids)).encode()).hexdigest()[:12]
        return self._enqueue(
            "workers.jobs.reindex_documents",
            (None if doc_ids is None else list(doc_ids),),
            f"reindex-{key}",
            timeout_s,
        )

    def enqueue_reextract(self, doc_ids: Sequence[int], timeout_s: float = 3600) -> str:
        """Queue the extraction step again for some documents (after a registry change)."""
        key = hashlib.sha256(",".join(map(str, doc_ids)).encode()).hexdigest()[:16]
        return self._enqueue(
            "workers.jobs.reextract_documents", (list(doc_ids),), f"reextract-{key}", timeout_s
        )

    def enqueue_export(self, job_id: int, timeout_s: float) -> str:
        """Queue a background export (its parameters are in the records' ``export_jobs`` row)."""
        return self._enqueue("workers.jobs.export_results", (job_id,), f"export-{job_id}", timeout_s)

    # -- liveness ---------------------------------------------------------------------------

    def _alive_key(self, worker: str) -> str:
        return f"dossier:alive:{self.name}:{worker}"

    def _running_key(self, worker: str) -> str:
        return f"dossier:running:{self.name}:{worker}"

    def mark_alive(self, worker: str) -> None:
        """Say (for LIVENESS_TTL_S seconds) that ``worker`` runs."""
        self.redis.set(self._alive_key(worker), socket.gethostname(), ex=LIVENESS_TTL_S)

    def mark_running(self, worker: str, job_id: str | None) -> None:
        """Say (for LIVENESS_TTL_S seconds) which job ``worker`` runs now (None: none)."""
        if job_id is None:
            self.redis.delete(self._running_key(worker))
        else:
            self.redis.set(self._running_key(worker), job_id, ex=LIVENESS_TTL_S)

    def mark_gone(self, worker: str) -> None:
        """Say that ``worker`` stopped."""
        self.redis.delete(self._alive_key(worker), self._running_key(worker))

    def is_alive(self, worker: str) -> bool:
        """True while ``worker`` has said lately that it is alive."""
        return bool(self.redis.exists(self._alive_key(worker)))

    def is_dead(self, worker: str) -> bool:
        """True when ``worker`` has not said it is alive lately (it was killed, or stopped)."""
        return not self.is_alive(worker)

    def live_workers(self) -> int:
        """How many workers serve this queue now."""
        return sum(1 for _ in self.redis.scan_iter(match=self._alive_key("*"), count=1000))

    def running_jobs(self) -> set[str]:
        """Ids of the jobs that workers say they run now."""
        keys = list(self.redis.scan_iter(match=self._running_key("*"), count=1000))
        return (
            {v.decode() if isinstance(v, bytes) else str(v) for v in self.redis.mget(keys) if v}
            if keys
            else set()
        )

    # -- the epoch: has Redis lost its data? -------------------------------------------------

    def _epoch_key(self) -> str:
        return f"dossier:epoch:{self.name}"

    def epoch(self) -> tuple[str, float]:
        """This Redis data set's epoch: a token (new after Redis lost its data) and its age in seconds."""
        seconds, micros = self.redis.time()
        now = seconds + micros / 1e6
        self.redis.set(self._epoch_key(), f"{secrets.token_hex(8)}:{now:.3f}", nx=True)
        raw = self.redis.get(self._epoch_key())
        value = raw.decode() if isinstance(raw, bytes) else str(raw or "")
        token, _, created = value.partition(":")
        try:
            return token, max(0.0, now - float(created))
        except ValueError:  # written by hand: treat as old
            return token, float(LIVENESS_TTL_S)

    def settling_s(self) -> float:
        """Seconds until every live worker has surely announced itself again in this epoch (0: now)."""
        return max(0.0, LIVENESS_TTL_S - self.epoch()[1])

    # -- what has a job -----------------------------------------------------------------------

    def _pending_job_ids(self) -> set[str]:
        """Ids of jobs that are queued, scheduled for a retry, or running on a live worker.

        Running jobs are the ones workers announce (:meth:`mark_running`), not RQ's started
        registry: that one is lost with Redis's data, and a stale entry in it (its worker's
        bookkeeping failed during an outage) would hide waiting work for good.
        """
        ids = set(self.queue.get_job_ids())
        ids |= set(ScheduledJobRegistry(queue=self.queue).get_job_ids())  # type: ignore[no-untyped-call]
        ids |= self.running_jobs()
        return ids

    def reconcile(
        self,
        queued_docs: Iterable[int],
        ocr_pending: Iterable[tuple[int, Sequence[int]]],
        *,
        parse_timeout_s: float,
        page_timeout_s: float,
        exports: Iterable[int] = (),
    ) -> dict[str, int]:
        """Enqueue the documents, pages and background exports that wait in the records without a live job; counts."""
        pending = self._pending_job_ids()
        requeued = {"ingest": 0, "ocr": 0, "export": 0}
        for export_id in exports:  # the job claims its export row, so a second copy skips it
            if f"export-{export_id}" not in pending:
                self.enqueue_export(export_id, EXPORT_TIMEOUT_S)
                requeued["export"] += 1
        for doc_id in queued_docs:
            if f"ingest-{doc_id}" not in pending:
                self.enqueue_ingest(doc_id, parse_timeout_s)
                requeued["ingest"] += 1
        covered: dict[int, set[int]] = {}
        for job_id in pending:
            if job_id.startswith("ocr-"):
                _, doc, first, last = job_id.split("-")
                covered.setdefault(int(doc), set()).update(range(int(first), int(last) + 1))
        for doc_id, pages in ocr_pending:
            missing = [p for p in pages if p not in covered.get(doc_id, set())]
            if missing:
                self.enqueue_ocr(doc_id, missing, page_timeout_s)
                requeued["ocr"] += len(missing)
        return requeued
