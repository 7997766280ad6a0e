"""Benchmark the safety net: backup MB/s, restore time, an incremental backup, `dossier check` per 10,000 documents.

Builds the bench data home of ``bench/export.py`` (``--docs`` documents, default 100,000, written
straight into the records and the embedded index from varied dev-corpus texts), then gives every
document an original in the blob store (the first 1,000 are dev-corpus files, the rest their own
text as a ``.txt``), so a backup has one original per document.  Then it measures:

* a full backup (``dossier.backups.backup``) into a fresh folder: seconds, MB written, MB/s;
* ``--verify`` of that backup: seconds;
* a restore into a new home (checks, copy, then the index rebuilt): seconds, documents/s;
* 1,000 new documents added, then a second backup: seconds, originals copied (only the new ones);
* ``dossier check`` on the home: seconds, and per 10,000 documents;
* the destruction of one document, proposed and approved (carried out at once): seconds — the
  erasure merges the FTS5 index and VACUUMs the database, so it grows with the home's size;
  then of 10 documents approved together (one erasure for all of them).

Nothing here asserts on timing.

    .venv/bin/python bench/lifecycle.py                  # 100,000 documents
    .venv/bin/python bench/lifecycle.py --docs 10000     # quicker
    .venv/bin/python bench/lifecycle.py --home /tmp/bench-home --keep   # build once, measure again
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NEW_DOCS = 1000


def _export_bench():
    """bench/export.py as a module (it builds the data home)."""
    spec = importlib.util.spec_from_file_location("bench_export", ROOT / "bench" / "export.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if os.environ.get("DOSSIER_CORPUS"):  # the corpus when it is not beside the repository
        module.CORPUS = Path(os.environ["DOSSIER_CORPUS"]) / "dev"
    return module


def give_originals(home: Path, settings) -> int:  # type: ignore[no-untyped-def]
    """Store an original (the document's text) for every version whose blob is not stored; returns how many."""
    import sqlalchemy as sa

    from dossier.app.services import Dossier
    from records import Page, Version

    d = Dossier.open(settings)
    done = 0
    try:
        with d.engine.connect() as conn:
            rows = conn.execute(
                sa.select(Version.id, Version.sha256, Page.text)
                .join(Page, Page.document_id == Version.document_id)
                .where(Page.number == 1)
                .order_by(Version.id)
            ).all()
        updates = []
        for version_id, sha, body in rows:
            if d.blobs.exists(sha):
                continue
            data = body.encode("utf-8")
            updates.append({"vid": version_id, "sha": d.blobs.put(data), "size": len(data)})
            if len(updates) >= 5000:
                done += _update(d.engine, updates)
        done += _update(d.engine, updates)
    finally:
        d.close()
    return done


def _update(engine, updates: list[dict]) -> int:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    from records import Version

    if not updates:
        return 0
    n = len(updates)
    with engine.begin() as conn:
        conn.execute(
            sa.update(Version.__table__)
            .where(Version.__table__.c.id == sa.bindparam("vid"))
            .values(sha256=sa.bindparam("sha"), size=sa.bindparam("size")),
            updates,
        )
    updates.clear()
    return n


def add_documents(settings, count: int) -> None:  # type: ignore[no-untyped-def]
    """``count`` new documents, each with a version, a page and an original of its own, indexed."""
    import sqlalchemy as sa

    from dossier.app.services import Dossier
    from records import Document, Page, Version

    d = Dossier.open(settings)
    now = datetime.now(UTC).replace(tzinfo=None)
    try:
        with d.engine.connect() as conn:
            start = int(conn.execute(sa.select(sa.func.max(Document.id))).scalar() or 0) + 1
        docs, versions, pages = [], [], []
        for doc_id in range(start, start + count):
            body = f"新增文档 {doc_id} 备份基准 服务器 报价 {now.isoformat()}"
            data = body.encode("utf-8")
            docs.append(
                dict(
                    id=doc_id,
                    title=f"新增 {doc_id}",
                    doc_type="other",
                    confidentiality="internal",
                    status="indexed",
                    language="zh",
                    warnings=[],
                    created_at=now,
                    updated_at=now,
                )
            )
            versions.append(
                dict(
                    document_id=doc_id,
                    number=1,
                    sha256=d.blobs.put(data),
                    filename=f"新增_{doc_id}.txt",
                    mime="text/plain",
                    size=len(data),
                    uploaded_by="bench",
                    uploaded_at=now,
                )
            )
            pages.append(dict(document_id=doc_id, number=1, text=body, needs_ocr=False, ocr=False))
        with d.engine.begin() as conn:
            for table, rows in ((Document, docs), (Version, versions), (Page, pages)):
                conn.execute(sa.insert(table.__table__), rows)
        d.reindex(range(start, start + count))
    finally:
        d.close()


def destroy(settings, ids: list[int]) -> float:  # type: ignore[no-untyped-def]
    """Propose ``ids`` for destruction (one manager), approve them all (another), carry them out; seconds.

    One document: approved and carried out at once (the CLI's way).  Several: approved as the web
    page does while workers run (left for them), then carried out as their round does — together.
    """
    from sqlalchemy import update

    from dossier.app.services import Dossier
    from index import Principal
    from records import Destruction

    proposer, approver = Principal("bench-proposer", "manager"), Principal("bench-approver", "manager")
    d = Dossier.open(settings)
    try:
        rows = [d.retention.propose(doc_id, proposer) for doc_id in ids]
        started = time.perf_counter()
        if len(rows) == 1:
            d.retention.approve(rows[0]["id"], approver, now=True)
        else:
            with d.sessions() as session:  # what approvals leave for the workers (no queue here)
                session.execute(
                    update(Destruction)
                    .where(Destruction.id.in_([r["id"] for r in rows]))
                    .values(status="approved", decided_by=approver.username)
                )
                session.commit()
            d.retention.finish_pending()
        return time.perf_counter() - started
    finally:
        d.close()


def main(argv: list[str] | None = None) -> None:
    """Build (or reuse) the bench home, then measure backup, verify, restore, incremental backup and check."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--home", type=Path, help="Build the data home here (default: a temporary folder).")
    parser.add_argument("--keep", action="store_true", help="Keep the home and the backup afterwards.")
    args = parser.parse_args(argv)

    export = _export_bench()
    work = Path(tempfile.mkdtemp(prefix="bench-lifecycle-"))
    home = args.home or work / "home"
    settings = export._settings(home)
    from dossier.app.backup import verify
    from dossier.app.restore import restore_home
    from dossier.app.services import Dossier

    print(f"Dossier lifecycle benchmark: {args.docs:,} documents, {os.cpu_count()} cores")
    try:
        if not (home / "dossier.db").exists():
            export.build(home, args.docs, min(args.docs, 1000))
            started = time.perf_counter()
            n = give_originals(home, settings)
            print(f"  {n:,} originals stored in {time.perf_counter() - started:.0f} s", flush=True)
        d = Dossier.open(settings)
        dest = work / "backup"
        try:
            report = d.backups.backup(dest)
        finally:
            d.close()
        mb = report.size / 1e6
        print(
            f"backup (full):        {report.seconds:8.1f} s  {mb:9.1f} MB  {mb / report.seconds:7.1f} MB/s"
            f"  ({report.blobs:,} originals, records {report.path.joinpath('records.sqlite').stat().st_size / 1e6:.0f} MB)"
        )
        started = time.perf_counter()
        problems = verify(dest)[2]
        seconds = time.perf_counter() - started
        print(f"backup --verify:      {seconds:8.1f} s  {mb / seconds:9.1f} MB/s  problems: {len(problems)}")

        target = export._settings(work / "restored")
        started = time.perf_counter()
        restored = restore_home(target, dest)
        seconds = time.perf_counter() - started
        print(
            f"restore:              {seconds:8.1f} s  ({restored.counts['documents']:,} documents,"
            f" {restored.indexed:,} indexed, {restored.counts['documents'] / seconds:,.0f} documents/s)"
        )
        shutil.rmtree(work / "restored", ignore_errors=True)

        add_documents(settings, NEW_DOCS)
        d = Dossier.open(settings)
        try:
            again = d.backups.backup(dest)
        finally:
            d.close()
        print(
            f"backup (incremental after {NEW_DOCS:,} new documents): {again.seconds:6.1f} s"
            f"  {again.new_blobs:,} originals copied, {again.size / 1e6:.1f} MB written"
        )

        env = {**os.environ, **settings.environ(), "PYTHONPATH": str(ROOT)}
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "dossier", "check"], env=env, capture_output=True, text=True, check=False
        )
        seconds = time.perf_counter() - started
        total = args.docs + NEW_DOCS
        print(
            f"dossier check:        {seconds:8.1f} s  ({seconds / total * 10_000:.1f} s per 10,000 documents,"
            f" exit {done.returncode})"
        )

        seconds = destroy(settings, [total])
        print(f"destruction (1 document):   {seconds:6.1f} s  (erasure: FTS5 merge, VACUUM, WAL truncated)")
        seconds = destroy(settings, list(range(total - 10, total)))
        print(
            f"destruction (10 documents): {seconds:6.1f} s  (approved, then carried out together, as the workers do)"
        )
    finally:
        if args.keep:
            print(f"  kept: {home} and {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
            if args.home is None:
                shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
