"""Batch progress and summaries, computed from the records (the queue holds no state of its own).

A batch is the files of one intake call (CLI run, upload form, inbox sweep).  Its progress
counts files by what became of them and pages by OCR state, for the batch's documents and
their children (e-mail attachments, archive members, parts of a split scan).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from foundation.messages import msg
from pipeline.eta import EtaTracker
from pipeline.failures import is_retryable
from records import Document, IngestBatch, IngestJob, Page, utcnow

#: What a duplicate is reported as: its content is stored already (which document holds it is
#: named only to those who may read every document; see ``Dossier.batch_status``).
ALREADY_STORED = msg("pipeline.already_stored").dumps()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def batch_documents(session: Session, batch_id: int) -> list[int]:
    """Ids of the documents a batch created or re-queued, children included."""
    top = list(
        session.scalars(
            select(IngestJob.document_id).where(
                IngestJob.batch_id == batch_id,
                IngestJob.document_id.is_not(None),
                IngestJob.status != "duplicate",
            )
        )
    )
    ids = {i for i in top if i is not None}
    frontier = set(ids)
    while frontier:
        children = set(session.scalars(select(Document.id).where(Document.parent_id.in_(frontier)))) - ids
        ids |= children
        frontier = children
    return sorted(ids)


def _file_counts(session: Session, batch_id: int) -> dict[str, int]:
    rows = dict(
        session.execute(
            select(IngestJob.status, func.count())
            .where(IngestJob.batch_id == batch_id)
            .group_by(IngestJob.status)
        ).all()
    )
    counts = {
        "total": sum(rows.values()),
        "queued": 0,
        "processing": 0,
        "done": 0,
        "duplicate": 0,
        "failed": 0,
    }
    for status in ("done", "duplicate", "failed"):
        counts[status] = rows.get(status, 0)
    queued = rows.get("queued", 0)
    if queued:
        doc = aliased(Document)
        processing = session.scalar(
            select(func.count())
            .select_from(IngestJob)
            .join(doc, doc.id == IngestJob.document_id)
            .where(IngestJob.batch_id == batch_id, IngestJob.status == "queued", doc.status == "processing")
        )
        counts["processing"] = processing or 0
        counts["queued"] = queued - counts["processing"]
    return counts


def _page_counts(session: Session, doc_ids: list[int]) -> dict[str, int]:
    if not doc_ids:
        return {"total": 0, "done": 0, "failed": 0, "pending": 0, "ocr": 0}
    total = failed = pending = ocr = 0
    for start in range(0, len(doc_ids), 500):
        chunk = doc_ids[start : start + 500]
        row = session.execute(
            select(
                func.count(),
                # CASE, not sum(boolean): PostgreSQL has no sum over booleans.
                func.sum(case((Page.needs_ocr & Page.ocr_error.is_not(None), 1), else_=0)),
                func.sum(case((Page.needs_ocr & Page.ocr_error.is_(None), 1), else_=0)),
                func.sum(case((Page.ocr & ~Page.needs_ocr, 1), else_=0)),
            ).where(Page.document_id.in_(chunk))
        ).one()
        total += row[0] or 0
        failed += int(row[1] or 0)
        pending += int(row[2] or 0)
        ocr += int(row[3] or 0)
    # ``ocr``: the done pages whose text came from OCR (an honest ETA tells them from text pages).
    return {
        "total": total,
        "done": total - failed - pending,
        "failed": failed,
        "pending": pending,
        "ocr": ocr,
    }


def file_name_parts(label: str | None) -> dict[str, str]:
    """``{"name": "empty.pdf", "folder": "../shared/corpus/dev/bad"}`` from a file as the intake named it
    (a command-line path, an upload's name, ``archive.zip/member.pdf``): pages show the name, the folder muted."""
    text = (label or "").replace("\\", "/").rstrip("/")
    folder, _sep, name = text.rpartition("/")
    return {"name": name or text, "folder": folder}


def batch_report(session: Session, batch: IngestBatch, *, details: bool = False) -> dict[str, Any]:
    """Progress of one batch: file and page counts, state, pages/s and ETA (and failures when ``details``).

    The first report that finds a closed batch complete records it as ``done`` (commit after).
    """
    files = _file_counts(session, batch.id)
    doc_ids = batch_documents(session, batch.id)
    pages = _page_counts(session, doc_ids)
    unfinished_files = files["queued"] + files["processing"]
    if batch.status in ("taken", "done") and not unfinished_files and not pages["pending"]:
        state = "done"
        if batch.status != "done" or batch.finished_at is None:  # first seen complete: record when
            batch.status, batch.finished_at = "done", utcnow()
    elif unfinished_files == files["total"] and files["processing"] == 0:
        state = "queued"
    else:
        state = "running"
    end = batch.finished_at if state == "done" and batch.finished_at else utcnow()
    elapsed = max(0.0, (end - batch.created_at).total_seconds())
    rate = pages["done"] / elapsed if elapsed > 0 else 0.0
    report: dict[str, Any] = {
        "id": batch.id,
        "source": batch.source,
        "origin": batch.origin,
        "created_by": batch.created_by,
        "created_at": _iso(batch.created_at),
        "finished_at": _iso(batch.finished_at) if state == "done" else None,
        "state": state,
        "files": files,
        "pages": pages,
        "pages_per_s": round(rate, 2),
        "eta_s": None,
        "elapsed_s": round(elapsed, 1),
    }
    # From this one look (files and OCR pages at their own costs; None: "estimating"); a caller that keeps
    # looking (a progress bar, the jobs page) gets a better one from the batch's timeline (pipeline.eta.EtaBook).
    report["eta_s"] = EtaTracker().update(report)
    if details:
        report["items"] = [
            {
                "file": j.filename,
                **file_name_parts(j.filename),
                "document_id": j.document_id,
                "status": j.status,
                "error": j.error or (ALREADY_STORED if j.status == "duplicate" else None),
                "retryable": j.status == "failed" and j.document_id is not None and is_retryable(j.error),
            }
            for j in session.scalars(
                select(IngestJob).where(IngestJob.batch_id == batch.id).order_by(IngestJob.id)
            )
        ]
        failures = [
            {
                "file": i["file"],
                "name": i["name"],
                "folder": i["folder"],
                "document_id": i["document_id"],
                "error": i["error"],
                "page": None,
                "retryable": i["retryable"],
            }
            for i in report["items"]
            if i["status"] == "failed"
        ]
        if doc_ids:
            for doc_id, title, number, error in session.execute(
                select(Document.id, Document.title, Page.number, Page.ocr_error)
                .join(Page, Page.document_id == Document.id)
                .where(Document.id.in_(doc_ids), Page.needs_ocr.is_(True), Page.ocr_error.is_not(None))
                .order_by(Document.id, Page.number)
            ):
                failures.append(
                    {
                        "file": title,
                        "name": title,
                        "folder": "",
                        "document_id": doc_id,
                        "error": error,
                        "page": number,
                        "retryable": is_retryable(error),
                    }
                )
        report["failures"] = failures
    return report


def close_batch(sessions: sessionmaker[Session], batch_id: int) -> None:
    """Mark a batch as closed: every file is taken (queued, duplicate or refused); work may still run."""
    with sessions() as session:
        batch = session.get(IngestBatch, batch_id)
        if batch is not None and batch.status == "running":
            batch.status = "taken"
            session.commit()


def batch_summary(sessions: sessionmaker[Session], batch_id: int) -> dict[str, Any]:
    """The ``dossier ingest --json`` summary of a batch (BRIEF §3 plus a few extra keys)."""
    with sessions() as session:
        jobs = list(
            session.scalars(select(IngestJob).where(IngestJob.batch_id == batch_id).order_by(IngestJob.id))
        )
        doc_ids = [j.document_id for j in jobs if j.document_id is not None]
        docs = (
            {d.id: d for d in session.scalars(select(Document).where(Document.id.in_(doc_ids)))}
            if doc_ids
            else {}
        )
        summary: dict[str, Any] = {
            "ingested": 0,
            "duplicates": 0,
            "failed": [],
            "documents": [],
            "awaiting_ocr": 0,
            "queued": 0,
            "batch": batch_id,
            "duplicate_of": [],
        }
        for job in jobs:
            if job.status == "duplicate":
                summary["duplicates"] += 1
                summary["duplicate_of"].append({"file": job.filename, "id": job.document_id})
            elif job.status == "failed":
                summary["failed"].append({"file": job.filename, "error": job.error or ""})
            elif job.status == "queued":
                summary["queued"] += 1
                summary["documents"].append({"id": job.document_id, "file": job.filename, "status": "queued"})
            else:
                doc = docs.get(job.document_id or 0)
                if doc is None:
                    continue
                summary["ingested"] += 1
                summary["documents"].append({"id": doc.id, "file": job.filename, "status": doc.status})
                if doc.status == "awaiting_ocr":
                    summary["awaiting_ocr"] += 1
                for child in _children(session, doc.id):
                    name = child.current.filename if child.current else child.title
                    summary["documents"].append(
                        {
                            "id": child.id,
                            "file": f"{job.filename}/{name}",
                            "status": child.status,
                            "parent": doc.id,
                        }
                    )
        return summary


def _children(session: Session, doc_id: int) -> list[Document]:
    return list(session.scalars(select(Document).where(Document.parent_id == doc_id).order_by(Document.id)))
