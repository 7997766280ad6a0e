"""What one open data home is made of, shared by :class:`~dossier.app.services.Dossier` and its services.

:class:`HomeResources` holds the settings, the records (engine, sessions), the blob store, the
search backend, the intake limits, the link to the job queue and, with an external search
engine, the index flusher.  It is made once per open home (:meth:`HomeResources.connect`) and
handed to the services that need it; none of them reaches back to the ``Dossier``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

import index
import ingest
import records
from dossier.app._index_flusher import IndexFlusher
from foundation.config import Settings
from foundation.messages import load_stored
from pipeline import extraction, reminders
from pipeline.queue import JobQueue, QueueUnavailable
from records import Document

__all__ = ["QUEUE_RETRY_S", "HomeResources", "QueueLink"]

#: Seconds before a Redis that could not be reached is tried again.
QUEUE_RETRY_S = 10.0


class QueueLink:
    """The job queue of ``settings``, connected on first use; None while Redis cannot be reached.

    Calling the link returns the queue (or None, trying again after :data:`QUEUE_RETRY_S`);
    :meth:`forget` drops a connection that failed, so the next call connects anew.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._queue: JobQueue | None = None
        self._retry_at = 0.0

    def __call__(self) -> JobQueue | None:
        now = time.monotonic()
        if self._queue is not None:
            return self._queue
        if now < self._retry_at:
            return None
        try:
            self._queue = JobQueue.from_settings(self._settings)
        except QueueUnavailable:
            self._retry_at = now + QUEUE_RETRY_S
            return None
        return self._queue

    def forget(self, *, retry_in_s: float = 0.0) -> None:
        """Drop the connection (Redis failed); the next call connects again, not before ``retry_in_s`` seconds."""
        self._queue = None
        if retry_in_s:
            self._retry_at = time.monotonic() + retry_in_s


@dataclass(frozen=True)
class HomeResources:
    """The shared resources of one open data home (see the module docstring)."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    blobs: records.BlobStore
    backend: index.SearchBackend
    limits: ingest.Limits
    queue: QueueLink
    #: Sends queued index work after each commit (an external search engine only).
    flusher: IndexFlusher | None

    @classmethod
    def connect(cls, settings: Settings) -> HomeResources:
        """Make the resources of ``settings``' data home (nothing is created or migrated here)."""
        keys = records.KeyRing.from_settings(  # a bad key fails here, before anything is opened
            settings.get("DOSSIER_BLOB_KEY"),
            settings.get("DOSSIER_BLOB_KEY_FILE"),
            settings.get("DOSSIER_BLOB_KEY_OLD"),
        )
        engine = records.make_engine(settings.database_url)
        sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)
        blobs = records.BlobStore(settings.blob_dir, keys)
        backend = index.open_backend(
            engine, settings.get("DOSSIER_OPENSEARCH_URL"), **_backend_options(settings)
        )
        limits = ingest.Limits.from_settings(settings)
        extraction.SHARED.lead_days = reminders.parse_lead_days(settings.get("DOSSIER_REMINDER_LEAD_DAYS"))
        flusher = None
        if backend.queued_writes:
            # Index work commits with the records and is sent after the commit (see dossier.app._index_flusher).
            flusher = IndexFlusher(backend, functools.partial(_mark_index_rejected, sessions))
            event.listen(sessions, "after_commit", flusher.poke)
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            blobs=blobs,
            backend=backend,
            limits=limits,
            queue=QueueLink(settings),
            flusher=flusher,
        )

    def prepare_search(self) -> None:
        """What comes before a search: registry names another process added segment as words here too, and
        what this process just wrote is searchable (read your writes)."""
        with self.sessions() as session:
            extraction.SHARED.registry(session)
        if self.flusher is not None:
            self.flusher.wait()

    def close(self) -> None:
        """Send what waits to be indexed and release the database."""
        if self.flusher is not None:
            self.flusher.close()
        self.engine.dispose()


def _mark_index_rejected(sessions: sessionmaker[Session], rejected: Sequence[tuple[int, str]]) -> None:
    """Documents the search engine refused for good fail, with its reason (their originals stay)."""
    with sessions() as session:
        for doc_id, reason in rejected:
            doc = session.get(Document, doc_id)
            if doc is not None and doc.status != "failed":
                doc.status = "failed"
                doc.error = reason if load_stored(reason) is not None else reason[:500]
        session.commit()


def _backend_options(settings: Settings) -> dict[str, Any]:
    """The OpenSearch settings, or the Tantivy index's place (the embedded SQLite backend takes none)."""
    choice = settings.get("DOSSIER_OPENSEARCH_URL").strip()
    if choice.lower() == "tantivy":
        return {"home": str(settings.home)}  # beside a SQLite records file, else <home>/tantivy
    if not choice:
        return {}
    return {
        "index_name": settings.get("DOSSIER_OPENSEARCH_INDEX").strip() or "dossier",
        "shards": settings.get_int("DOSSIER_OPENSEARCH_SHARDS"),
        "replicas": settings.get_int("DOSSIER_OPENSEARCH_REPLICAS"),
    }
