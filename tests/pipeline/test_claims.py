"""Taking files and claiming documents on SQLite and PostgreSQL, with real concurrent sessions.

A document's claim is one conditional ``UPDATE … WHERE claimed_by …``: under PostgreSQL's
READ COMMITTED a second claimant blocks on the row, re-reads it after the first commits, and
matches nothing — so exactly one wins, as under SQLite's single writer.  These tests need no
search index (taking and claiming never touch it), so they run without one.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

import ingest
from foundation.messages import load_stored
from pipeline.batches import batch_report, close_batch
from pipeline.intake import Intake, IntakeOptions, Source, _create_once
from records import BlobStore, ContentClaim, Customer, Document, IngestBatch, Page, Tag, migrate, sha256_bytes
from tests.conftest import all_at_once

THREADS = 8


@pytest.fixture
def intake(records_engine, tmp_path) -> Intake:
    """An intake over a migrated records database of each kind and a blob store (no index: none is used)."""
    migrate(records_engine)
    return Intake(
        sessionmaker(records_engine, expire_on_commit=False),
        BlobStore(tmp_path / "blobs"),
        None,
        ingest.Limits(),
    )  # type: ignore[arg-type]


def _queued(intake: Intake, text: str = "报价单\n联系人：王芳") -> int:
    batch = intake.new_batch("cli", "admin")
    taken = intake.take(Source(label="a.txt", filename="a.txt", data=text.encode()), IntakeOptions(), batch)
    assert taken.status == "queued" and taken.document_id is not None
    return taken.document_id


def test_exactly_one_of_many_simultaneous_claims_wins(intake):
    """Eight workers claim one queued document at the same instant: one wins, the document names it."""
    doc_id = _queued(intake)
    won = all_at_once(THREADS, lambda i: intake.claim(doc_id, f"worker-{i}"))
    assert won.count(True) == 1
    with intake.sessions() as session:
        doc = session.get(Document, doc_id)
        assert (
            doc is not None and doc.status == "processing" and doc.claimed_by == f"worker-{won.index(True)}"
        )


def test_a_dead_claimants_document_is_taken_over_by_exactly_one_worker(intake):
    """A document held by a dead worker is taken over once, however many live workers try at once."""
    doc_id = _queued(intake)
    assert intake.claim(doc_id, "dead-worker")
    assert not intake.claim(doc_id, "alive", is_dead=lambda holder: False)  # the holder lives: hands off
    won = all_at_once(
        THREADS, lambda i: intake.claim(doc_id, f"heir-{i}", is_dead=lambda h: h == "dead-worker")
    )
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
    taken = all_at_once(
        THREADS,
        lambda i: intake.take(
            Source(label=f"{i}.txt", filename=f"{i}.txt", data=f"第 {i} 份拜访记录".encode()), options, batch
        ),
    )
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
    assert report["pages"] == {"total": 4, "done": 2, "failed": 1, "pending": 1, "ocr": 1}
    assert [f["page"] for f in report["failures"]] == [3]


# -- one file, one document (content claims) -----------------------------------------------------


def _documents_and_claims(intake: Intake) -> tuple[int, list[tuple[str, int]]]:
    with intake.sessions() as session:
        docs = session.scalar(select(func.count()).select_from(Document)) or 0
        claims = [(c.sha256, c.document_id) for c in session.scalars(select(ContentClaim))]
    return docs, claims


def test_simultaneous_takes_of_one_new_file_make_one_document(intake):
    """Eight intakes of the same new bytes at the same instant: one document, the other seven its duplicates."""
    batch = intake.new_batch("upload", "admin")
    data = "同一份新合同：琥珀项目，金额 ¥12,000.00。".encode()
    taken = all_at_once(
        THREADS,
        lambda i: intake.take(
            Source(label=f"copy-{i}.txt", filename=f"copy-{i}.txt", data=data), IntakeOptions(), batch
        ),
    )
    statuses = [t.status for t in taken]
    assert statuses.count("queued") == 1 and statuses.count("duplicate") == THREADS - 1
    winner = taken[statuses.index("queued")].document_id
    assert {t.document_id for t in taken} == {winner}
    docs, claims = _documents_and_claims(intake)
    assert docs == 1 and claims == [(sha256_bytes(data), winner)]
    close_batch(intake.sessions, batch)
    with intake.sessions() as session:
        files = batch_report(session, session.get(IngestBatch, batch))["files"]
    assert (files["total"], files["queued"], files["duplicate"]) == (THREADS, 1, THREADS - 1)


def test_a_new_version_and_a_new_upload_of_the_same_bytes_at_once_make_one_holder(intake):
    """The bytes of a new version claim its document: an upload of them racing the version is a duplicate, or wins."""
    target = _queued(intake, "旧版本合同")
    with intake.sessions() as session:
        session.get(Document, target).status = "indexed"
        session.commit()
    data = "新版本合同：翡翠项目补充协议。".encode()
    batch = intake.new_batch("upload", "admin")
    taken = all_at_once(
        THREADS,
        lambda i: intake.take(
            Source(label=f"{i}.txt", filename=f"{i}.txt", data=data),
            IntakeOptions(version_of=target if i % 2 else None),
            batch,
        ),
    )
    assert [t.status for t in taken].count("queued") == 1
    holder = next(t.document_id for t in taken if t.status == "queued")
    assert all(t.document_id == holder for t in taken)
    docs, claims = _documents_and_claims(intake)
    assert (sha256_bytes(data), holder) in claims
    assert docs == (1 if holder == target else 2)


def test_a_failed_document_taken_again_keeps_its_claim_and_deleting_it_drops_the_claim(intake):
    """A failed file offered again goes back into its own document (one claim); deleting the document frees the bytes."""
    data = "解析失败的文件".encode()
    first = _queued(intake, "解析失败的文件")
    with intake.sessions() as session:
        session.get(Document, first).status = "failed"
        session.commit()
    batch = intake.new_batch("cli", "admin")
    again = intake.take(Source(label="again.txt", filename="again.txt", data=data), IntakeOptions(), batch)
    assert (again.status, again.document_id) == ("queued", first)
    assert _documents_and_claims(intake) == (1, [(sha256_bytes(data), first)])
    with intake.sessions() as session:
        session.delete(session.get(Document, first))
        session.commit()
    assert _documents_and_claims(intake) == (0, [])  # ON DELETE CASCADE (SQLite: foreign_keys=ON)
    fresh = intake.take(Source(label="fresh.txt", filename="fresh.txt", data=data), IntakeOptions(), batch)
    assert fresh.status == "queued"
    assert _documents_and_claims(intake) == (1, [(sha256_bytes(data), fresh.document_id)])


def test_a_version_never_takes_bytes_another_document_holds(intake):
    """Bytes a (failed) document holds are reported as that document's duplicate when offered as a new version."""
    holder = _queued(intake, "别的文档")
    target = _queued(intake, "目标文档")
    with intake.sessions() as session:
        session.get(Document, holder).status = "failed"
        session.get(Document, target).status = "indexed"
        session.commit()
    batch = intake.new_batch("upload", "admin")
    taken = intake.take(
        Source(label="v2.txt", filename="v2.txt", data="别的文档".encode()),
        IntakeOptions(version_of=target),
        batch,
    )
    assert (taken.status, taken.document_id) == ("duplicate", holder)


def test_an_empty_file_fails_as_empty_every_time(intake):
    """Empty files are refused as empty (never stored), so a second one is never a 'duplicate' of the first."""
    batch = intake.new_batch("upload", "admin")
    taken = [
        intake.take(Source(label=f"{i}.txt", filename=f"{i}.txt", data=b""), IntakeOptions(), batch)
        for i in range(2)
    ]
    assert [(t.status, _said(t.error)) for t in taken] == [("failed", "文件为空 / empty file")] * 2
    assert _documents_and_claims(intake) == (0, [])


def test_a_failed_document_someone_else_brings_in_again_keeps_what_its_uploader_gave_it(intake):
    """GIVEN a failed file sales1 brought in with a customer, a type and a tag, WHEN sales2 offers the same bytes
    with others THEN it is processed again but keeps sales1's customer, type and tags (no write by a stranger);
    sales1 offering it again may give new ones."""
    data = "坏文件：某客户的报价".encode()
    batch = intake.new_batch("upload", "sales1")
    first = intake.take(
        Source(label="a.txt", filename="a.txt", data=data),
        IntakeOptions(customer="甲客户", doc_type="quote", tags=("原标签",), uploaded_by="sales1"),
        batch,
    )
    with intake.sessions() as session:
        session.get(Document, first.document_id).status = "failed"
        session.commit()
    again = intake.take(
        Source(label="b.txt", filename="b.txt", data=data),
        IntakeOptions(customer="乙客户", doc_type="invoice", tags=("别人的",), uploaded_by="sales2"),
        intake.new_batch("upload", "sales2"),
    )
    assert (again.status, again.document_id) == ("queued", first.document_id)
    with intake.sessions() as session:
        doc = session.get(Document, first.document_id)
        assert (doc.customer.name if doc.customer else None, doc.doc_type, [t.name for t in doc.tags]) == (
            "甲客户",
            "quote",
            ["原标签"],
        )
        doc.status = "failed"
        session.commit()
    own = intake.take(
        Source(label="c.txt", filename="c.txt", data=data),
        IntakeOptions(doc_type="invoice", uploaded_by="sales1"),
        intake.new_batch("upload", "sales1"),
    )
    assert own.status == "queued"
    with intake.sessions() as session:
        assert session.get(Document, first.document_id).doc_type == "invoice"


def _said(text: str | None) -> str:
    """A stored reason as the CLI says it (both languages); plain text as written."""
    return str(load_stored(text) or text or "")
