"""Taking files and claiming documents on SQLite and PostgreSQL, with real concurrent sessions.

A document's claim is one conditional ``UPDATE … WHERE claimed_by …``: under PostgreSQL's
READ COMMITTED a second claimant blocks on the row, re-reads it after the first commits, and
matches nothing — so exactly one wins, as under SQLite's single writer.  These tests need no
search index (taking and claiming never touch it), so they run without one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

import ingest
from records import BlobStore, Customer, Document, IngestBatch, Page, Tag, migrate
from workers.batches import batch_report, close_batch
from workers.intake import Intake, IntakeOptions, Source, _create_once

THREADS = 8


@pytest.fixture
def intake(records_engine, tmp_path) -> Intake:
    """An intake over a migrated records database of each kind and a blob store (no index: none is used)."""
    migrate(records_engine)
    return Intake(sessionmaker(records_engine, expire_on_commit=False), BlobStore(tmp_path / "blobs"),
                  None, ingest.Limits())  # type: ignore[arg-type]


def _all_at_once(count: int, work: Callable[[int], object]) -> list[object]:
    """Run ``work(i)`` in ``count`` threads released together; their results in order (exceptions re-raised)."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except BaseException as exc:  # handed to the test thread below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def _queued(intake: Intake, text: str = "报价单\n联系人：王芳") -> int:
    batch = intake.new_batch("cli", "admin")
    taken = intake.take(Source(label="a.txt", filename="a.txt", data=text.encode()), IntakeOptions(), batch)
    assert taken.status == "queued" and taken.document_id is not None
    return taken.document_id


def test_exactly_one_of_many_simultaneous_claims_wins(intake):
    """Eight workers claim one queued document at the same instant: one wins, the document names it."""
    doc_id = _queued(intake)
    won = _all_at_once(THREADS, lambda i: intake.claim(doc_id, f"worker-{i}"))
    assert won.count(True) == 1
    with intake.sessions() as session:
        doc = session.get(Document, doc_id)
        assert doc is not None and doc.status == "processing" and doc.claimed_by == f"worker-{won.index(True)}"


def test_a_dead_claimants_document_is_taken_over_by_exactly_one_worker(intake):
    """A document held by a dead worker is taken over once, however many live workers try at once."""
    doc_id = _queued(intake)
    assert intake.claim(doc_id, "dead-worker")
    assert not intake.claim(doc_id, "alive", is_dead=lambda holder: False)  # the holder lives: hands off
    won = _all_at_once(THREADS, lambda i: intake.claim(doc_id, f"heir-{i}", is_dead=lambda h: h == "dead-worker"))
    assert won.count(True) == 1
    heir = f"heir-{won.index(True)}"
    intake.unclaim(doc_id, "dead-worker")  # too late: the claim is no longer theirs
    with intake.sessions() as session:
        assert session.get(Document, doc_id).claimed_by == heir
    intake.unclaim(doc_id, heir)
    with intake.sessions() as session:
        doc = session.get(Document, doc_id)
        assert (doc.status, doc.claimed_by) == ("queued", None)


def test_simultaneous_uploads_naming_a_new_tag_and_customer_create_each_once(intake):
    """Eight files taken at once with the same new tag and customer: all are taken, one tag, one customer."""
    batch = intake.new_batch("upload", "admin")
    options = IntakeOptions(customer="杭州西溪数据有限公司", tags=("重点客户",))
    taken = _all_at_once(THREADS, lambda i: intake.take(
        Source(label=f"{i}.txt", filename=f"{i}.txt", data=f"第 {i} 份拜访记录".encode()), options, batch))
    assert [t.status for t in taken] == ["queued"] * THREADS
    with intake.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Tag)) == 1
        assert session.scalar(select(func.count()).select_from(Customer)) == 1
        docs = session.scalars(select(Document)).all()
        assert len(docs) == THREADS and {d.customer.name for d in docs} == {"杭州西溪数据有限公司"}


def test_a_row_inserted_meanwhile_is_used_instead_of_failing(intake):
    """When another intake inserted the same unique name first, the insert's error is absorbed and its row used."""
    with intake.sessions() as session:
        session.add(Tag(name="重点"))
        session.commit()
    with intake.sessions() as session:
        doc = Document(title="x")
        session.add(doc)
        tag = _create_once(session, Tag(name="重点"), select(Tag).where(Tag.name == "重点"))
        doc.tags = [tag]
        session.commit()  # the savepoint kept the document's insert alive
        assert session.scalar(select(func.count()).select_from(Tag)) == 1
        assert session.scalars(select(Document)).one().tags[0].name == "重点"


def test_batch_progress_counts_pages_by_ocr_state(intake):
    """A batch report counts done, failed and pending pages (a boolean sum portable to PostgreSQL)."""
    doc_id = _queued(intake)
    batch_id = 1
    with intake.sessions() as session:
        doc = session.get(Document, doc_id)
        doc.status = "awaiting_ocr"
        doc.pages = [
            Page(number=1, text="报价单"),
            Page(number=2, text="", needs_ocr=True),
            Page(number=3, text="", needs_ocr=True, ocr_error="识别超时 / OCR timed out"),
            Page(number=4, text="签字", ocr=True, confidence=0.9),
        ]
        session.commit()
    close_batch(intake.sessions, batch_id)
    with intake.sessions() as session:
        report = batch_report(session, session.get(IngestBatch, batch_id), details=True)
    assert report["pages"] == {"total": 4, "done": 2, "failed": 1, "pending": 1}
    assert [f["page"] for f in report["failures"]] == [3]
