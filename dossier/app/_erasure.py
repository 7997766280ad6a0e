"""Erasure: documents removed for good, with every byte derived from them (destruction, trash purge).

:func:`erase_documents` takes documents (and, recursively, their attachments and archive
members) out of everything Dossier keeps:

1. the search index: the documents' entries and those of their superseded versions
   (``-Version.id``), in the records transaction;
2. the records: the document rows and what cascades from them (versions and their old text,
   pages, entities, customer links, tags, content claims, parts), and the *suggested* customers
   (names read from their text, never confirmed) no other document links, written with SQLite's
   ``secure_delete`` on, so the freed space is zeroed;
3. originals in the blob store that no remaining document's version uses, with their cached
   page images (an original another document still uses stays, and so do its images);
4. background exports (whenever there was something to erase): every finished export file still
   on disk is voided (status ``revoked``) and every half-written one (``*.part``) removed.  An export job records a search, not the
   ids it wrote, so any finished file may hold the document: all of them go (their owners
   export again); a write under way loses its file and fails;
5. what the engines keep of deleted data: the search engine expunges deleted entries
   (:meth:`index.SearchBackend.expunge`: FTS5 segments merged, or OpenSearch's queued entries
   dropped and segments force-merged), then SQLite is vacuumed (a new file without free
   pages) and its WAL checkpointed and truncated to zero bytes.  PostgreSQL gets a plain
   ``VACUUM`` of the touched tables: dead rows become free space, but their bytes stay on
   disk until PostgreSQL reuses the space (no byte-level promise; backups and WAL archives
   keep what they kept).

Ids that are already gone are skipped, and every step can run again, so an erasure that was
interrupted completes when it is asked again.  Nothing here checks rights or legal holds:
the callers (retention, trash purge) do, and :func:`held` says whether a hold applies.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, inspect, select, update

from dossier.app._archive import family_tree
from foundation.messages import msg
from index import activity_entry_id
from pipeline import access
from pipeline.indexing import INDEXED_STATUSES, index_documents
from records import Activity, Customer, Document, DocumentCustomer, ExportJob, Version

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from dossier.app.resources import HomeResources

__all__ = ["ErasureReport", "erase_documents", "held"]

log = logging.getLogger(__name__)

#: Tables an erasure deletes from, vacuumed afterwards on PostgreSQL.
_TOUCHED_TABLES = (
    "documents",
    "versions",
    "version_pages",
    "pages",
    "entities",
    "document_customers",
    "document_tags",
    "document_access",
    "document_parts",
    "content_claims",
    "search_outbox",
)
#: Tries (one second apart) to truncate SQLite's WAL while another connection still reads from it.
WAL_TRIES = 10


@dataclass(frozen=True)
class ErasureReport:
    """What one erasure did.

    ``documents``: the ids erased now (the documents asked for and their parts); ``missing``: ids
    asked for that were already gone; ``blobs``: originals removed from the blob store;
    ``kept_blobs``: originals kept because a remaining document uses them; ``exports``: export
    files voided; ``index_expunged``: the search engine dropped the deleted entries for good;
    ``compacted``: the database holds no freed page with old bytes (SQLite: vacuumed and WAL
    truncated; PostgreSQL: VACUUM ran, see the module docstring).
    """

    documents: tuple[int, ...]
    missing: tuple[int, ...]
    blobs: tuple[str, ...]
    kept_blobs: tuple[str, ...]
    exports: int
    index_expunged: bool
    compacted: bool


def held(session: Session, doc: Document) -> bool:
    """True when a legal hold applies to ``doc``: on it, on a container of it, or on a customer it is linked to."""
    current: Document | None = doc
    seen: set[int] = set()
    while current is not None and current.id not in seen:
        seen.add(current.id)
        if current.legal_hold or any(c.legal_hold for c in current.linked_customers):
            return True
        current = session.get(Document, current.parent_id) if current.parent_id is not None else None
    return False


def family_ids(session: Session, doc_ids: Sequence[int]) -> list[int]:
    """``doc_ids`` that exist and, recursively, their attachments and archive members."""
    docs = session.scalars(select(Document).where(Document.id.in_(list(doc_ids)))).all()
    return sorted({member.id for doc in docs for member in family_tree(doc)})


def erase_documents(
    resources: HomeResources, doc_ids: Sequence[int], *, digests: Collection[str] = ()
) -> ErasureReport:
    """Remove ``doc_ids`` and their parts from the index, the records, the blob store and exports, for good.

    See the module docstring for every step and what each database guarantees.  Safe to call
    again with the same ids (what is gone is skipped; the compaction runs again).  ``digests``
    are originals the caller knows belonged to them (a destruction's files): a run interrupted
    after the records went no longer finds those in the records, so a rerun removes them too,
    unless a remaining document uses them.
    """
    sqlite = resources.engine.dialect.name == "sqlite"
    with resources.sessions() as session:
        if sqlite:  # zero what the deletes free (the vacuum below removes what earlier writes left)
            session.connection().exec_driver_sql("PRAGMA secure_delete=ON")
        ids = family_ids(session, doc_ids)
        docs = session.scalars(select(Document).where(Document.id.in_(ids))).all() if ids else []
        digests = set(digests) | {v.sha256 for d in docs for v in d.versions}
        # The ids asked for also when their rows are gone: a stale entry of an interrupted erasure goes too.
        entries = sorted(set(ids) | {int(i) for i in doc_ids}) + [-v.id for d in docs for v in d.versions]
        # Activities and comments on them go with them (index entries and rows).
        remarks = list(session.scalars(select(Activity).where(Activity.document_id.in_(ids)))) if ids else []
        entries += [activity_entry_id(a.id) for a in remarks]
        holders = access.keep_deleted_parts(session, docs)  # containers that stay keep their parts' level
        suggested = {c.id for d in docs for c in d.linked_customers if c.status == "suggested"}
        if entries:
            resources.backend.delete(entries, connection=session.connection())
        for remark in remarks:
            session.delete(remark)
        for row in sorted(docs, key=lambda d: -d.id):  # children before parents
            session.delete(row)
        session.flush()
        _drop_orphan_suggestions(session, suggested)
        index_documents(session, resources.backend, [h for h in holders if h.status in INDEXED_STATUSES])
        session.commit()
        if sqlite:
            session.connection().exec_driver_sql("PRAGMA secure_delete=OFF")
    removed, kept = _remove_blobs(resources, digests)
    exports = _void_exports(resources) if ids or digests else 0
    try:
        expunged = resources.backend.expunge(entries)
    except Exception as exc:  # the records are erased; what the engine keeps is retried by the next erasure
        log.warning("erasure: the search engine could not expunge: %s", exc)
        expunged = False
    compacted = _compact(resources.engine)
    wanted = {int(i) for i in doc_ids}
    return ErasureReport(
        documents=tuple(ids),
        missing=tuple(sorted(wanted - set(ids))),
        blobs=tuple(sorted(removed)),
        kept_blobs=tuple(sorted(kept)),
        exports=exports,
        index_expunged=expunged,
        compacted=compacted,
    )


def _drop_orphan_suggestions(session: Session, customer_ids: Collection[int]) -> None:
    """Delete suggested customers (names read from the erased text, never confirmed) no document links any more."""
    for customer_id in customer_ids:
        linked = session.scalar(
            select(func.count())
            .select_from(DocumentCustomer)
            .where(DocumentCustomer.customer_id == customer_id)
        ) or session.scalar(select(func.count(Document.id)).where(Document.customer_id == customer_id))
        customer = session.get(Customer, customer_id)
        if not linked and customer is not None and customer.status == "suggested":
            session.delete(customer)
    session.flush()


def _remove_blobs(resources: HomeResources, digests: set[str]) -> tuple[set[str], set[str]]:
    """Delete the originals (and their cached page images) of ``digests`` no remaining version uses."""
    if not digests:
        return set(), set()
    with resources.sessions() as session:
        still_used = set(session.scalars(select(Version.sha256).where(Version.sha256.in_(sorted(digests)))))
    removed = set()
    for digest in sorted(digests - still_used):
        resources.blobs.delete(digest)  # removes the cached entries named with the digest too
        removed.add(digest)
    return removed, still_used


def _void_exports(resources: HomeResources) -> int:
    """Void every finished export file and remove half-written ones (any of them may hold erased text)."""
    home = resources.settings.home
    voided = 0
    with resources.sessions() as session:
        for job in session.scalars(select(ExportJob).where(ExportJob.status == "done")):
            if job.path:
                (home / job.path).unlink(missing_ok=True)
            voided += 1
        if voided:
            session.execute(
                update(ExportJob)
                .where(ExportJob.status == "done")
                .values(status="revoked", path=None, error=msg("app.erasure.export_voided").dumps())
            )
        session.commit()
    folder = home / "exports"
    if folder.is_dir():
        for part in folder.glob("*.part"):
            part.unlink(missing_ok=True)
            voided += 1
    return voided


def _compact(engine: Engine) -> bool:
    """Leave no freed page holding erased bytes: SQLite vacuumed and its WAL truncated; PostgreSQL vacuumed."""
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if engine.dialect.name != "sqlite":
                present = inspect(conn)
                for table in _TOUCHED_TABLES:
                    if present.has_table(table):
                        conn.exec_driver_sql(f"VACUUM {table}")
                return True
            conn.exec_driver_sql("VACUUM")
            for _ in range(WAL_TRIES):
                busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()[0]
                if not busy:
                    return True
                time.sleep(1.0)  # a reader still uses older frames: the checkpoint waits for it
    except Exception as exc:  # the records are erased; the next erasure compacts again
        log.warning("erasure: the database could not be compacted: %s", exc)
    return False
