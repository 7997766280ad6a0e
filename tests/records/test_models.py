"""Every model round-trips alike on SQLite and PostgreSQL: JSON, booleans, timestamps, Chinese text, cascades."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from records import (
    AuditEvent,
    Customer,
    Document,
    DocumentCustomer,
    EntityRow,
    IngestBatch,
    IngestJob,
    Page,
    Tag,
    User,
    Version,
    hash_password,
    is_migrated,
    migrate,
)

CONTACTS = [
    {
        "name": "王芳",
        "title": "采购经理",
        "mobile": "13700001111",
        "landline": "021-62345678",
        "email": "wf@mingyuan.cn",
    },
    {"name": "Li Lei", "title": None, "mobile": None, "landline": None, "email": None},
]


@pytest.fixture
def engine(records_engine):
    """A records database of each kind, migrated to the newest revision."""
    migrate(records_engine)
    return records_engine


def test_a_migrated_database_reports_itself_migrated(records_engine):
    """From empty to head: `is_migrated` is False before and True after; migrating again changes nothing."""
    assert not is_migrated(records_engine)
    migrate(records_engine)
    assert is_migrated(records_engine)
    migrate(records_engine)
    assert is_migrated(records_engine)


def test_users_customers_and_links_round_trip(engine):
    """A user, a customer with Chinese aliases and contacts (JSON), and its owner come back as stored."""
    with Session(engine) as session:
        owner = User(username="zhang", password_hash=hash_password("x" * 12), role="sales")
        customer = Customer(
            name="上海明远科技有限公司",
            aliases=["明远", "明远科技"],
            credit_code="91310000MA1K000001",
            customer_type="现有客户",
            industry="软件",
            region="上海市",
            city="上海市",
            importance="A",
            contacts=CONTACTS,
            notes="第一行\n第二行",
            owner=owner,
            owner_name="zhang",
            status="confirmed",
        )
        session.add(customer)
        session.commit()
        cid, uid = customer.id, owner.id
    with Session(engine) as session:
        back = session.get(Customer, cid, options=[selectinload(Customer.owner)])
        assert back is not None and back.names == ["上海明远科技有限公司", "明远", "明远科技"]
        assert back.contacts == CONTACTS and back.notes == "第一行\n第二行"
        assert back.owner is not None and back.owner.id == uid and back.owner.active is True
        assert isinstance(back.created_at, datetime) and back.created_at.tzinfo is None
        assert back.updated_at >= back.created_at
        back.aliases = [*back.aliases, "MY"]  # a new list: the JSON column is rewritten
        session.commit()
    with Session(engine) as session:
        assert session.get(Customer, cid).aliases == ["明远", "明远科技", "MY"]
        session.add(Customer(name="上海明远科技有限公司", aliases=[], contacts=[]))
        with pytest.raises(IntegrityError):
            session.commit()


def test_documents_with_versions_pages_tags_entities_and_customers_round_trip(engine):
    """A document's whole tree is stored and loaded, booleans and floats intact; deleting it removes the tree."""
    with Session(engine) as session:
        customer = Customer(name="北京星河动力科技有限公司", aliases=["星河动力"], contacts=[])
        doc = Document(
            title="采购合同 HT-2024-0315",
            doc_type="contract",
            doc_type_reason="甲方/乙方与签字栏",
            status="awaiting_ocr",
            language="zh",
            doc_date="2024-03-15",
            warnings=["第 2 页等待识别"],
            customer=customer,
            confidentiality="confidential",
        )
        doc.versions.append(Version(sha256="a" * 64, filename="合同.pdf", mime="application/pdf", size=12345))
        doc.pages.append(Page(number=1, text="甲方：北京星河动力科技有限公司\n合同金额：¥120,000.00"))
        doc.pages.append(Page(number=2, text="", needs_ocr=True, ocr_error=None))
        doc.pages.append(
            Page(number=3, text="签字", ocr=True, confidence=0.987, engine="rapidocr", rotation=90)
        )
        doc.tags = [Tag(name="重点"), Tag(name="2024")]
        doc.entities.append(
            EntityRow(
                kind="amount",
                value="120000.00",
                text="¥120,000.00",
                page=1,
                start=20,
                end=31,
                valid=True,
                role=None,
            )
        )
        doc.entities.append(
            EntityRow(kind="uscc", value="91310000MA1K000002", text="91310000MA1K000002", valid=False)
        )
        doc.customer_links.append(
            DocumentCustomer(customer=customer, method="name", score=0.92, evidence="甲方", position=0)
        )
        child = Document(title="附件", relation="attachment")
        doc.children.append(child)
        session.add(doc)
        session.commit()
        doc_id, child_id = doc.id, child.id
    with Session(engine) as session:
        doc = session.get(Document, doc_id)
        assert doc is not None and doc.current is not None and doc.current.filename == "合同.pdf"
        assert [p.number for p in doc.pages] == [1, 2, 3]
        assert [(p.needs_ocr, p.ocr) for p in doc.pages] == [(False, False), (True, False), (False, True)]
        assert doc.pages[2].confidence == pytest.approx(0.987) and doc.pages[2].rotation == 90
        assert [t.name for t in doc.tags] == sorted(["重点", "2024"])
        assert [(e.kind, e.valid) for e in doc.entities] == [("amount", True), ("uscc", False)]
        assert doc.linked_customers[0].name == "北京星河动力科技有限公司"
        assert doc.customer_links[0].score == pytest.approx(0.92)
        assert doc.warnings == ["第 2 页等待识别"] and [c.id for c in doc.children] == [child_id]
        assert session.scalar(select(func.count()).select_from(Page).where(Page.needs_ocr.is_(True))) == 1
        session.delete(doc)
        session.commit()
    with Session(engine) as session:
        for model in (Page, Version, EntityRow, DocumentCustomer):
            assert session.scalar(select(func.count()).select_from(model)) == 0, model
        assert session.scalar(select(func.count()).select_from(Customer)) == 1  # the customer stays


def test_audit_events_batches_and_jobs_round_trip(engine):
    """Audit details (JSON with Chinese), a batch and its jobs with their server-default `settled` flag."""
    with Session(engine) as session:
        session.add(
            AuditEvent(
                username="admin",
                action="customer.merge",
                target_type="customer",
                target_id=7,
                detail={"from": "大连星海港务有限公司", "into": 3, "names": ["星海"]},
            )
        )
        batch = IngestBatch(source="inbox", created_by="admin", total=2, origin="/srv/inbox")
        batch.jobs.append(
            IngestJob(
                filename="宸宇集团/合同/HT.pdf",
                status="queued",
                origin="/srv/inbox/宸宇集团/合同/HT.pdf",
                settled=False,
                sha256="b" * 64,
            )
        )
        batch.jobs.append(
            IngestJob(filename="bad.pdf", status="failed", error="PDF 需要密码 / password-protected PDF")
        )
        session.add(batch)
        session.commit()
        batch_id = batch.id
        # A row written without the column gets the migration's server default (true).
        session.execute(
            text(
                "INSERT INTO ingest_jobs (batch_id, filename, status, created_at)"
                " VALUES (:b, 'raw.txt', 'done', :at)"
            ),
            {"b": batch_id, "at": datetime(2024, 1, 1)},
        )
        session.commit()
    with Session(engine) as session:
        event = session.scalars(select(AuditEvent)).one()
        assert event.detail == {"from": "大连星海港务有限公司", "into": 3, "names": ["星海"]}
        batch = session.get(IngestBatch, batch_id)
        assert batch is not None and batch.finished_at is None
        assert [(j.filename, j.settled) for j in batch.jobs] == [
            ("宸宇集团/合同/HT.pdf", False),
            ("bad.pdf", True),
            ("raw.txt", True),
        ]
        unsettled = session.scalars(
            select(IngestJob).where(
                IngestJob.settled.is_(False), IngestJob.origin.startswith("/srv/inbox/", autoescape=True)
            )
        ).all()
        assert [j.filename for j in unsettled] == ["宸宇集团/合同/HT.pdf"]


def test_overlong_values_from_files_are_cut_to_the_column_length(engine):
    """A tag, file name or title longer than its column is cut, not refused (PostgreSQL enforces lengths)."""
    long_tag, long_name = "标" * 100, "文" * 2000 + ".pdf"
    with Session(engine) as session:
        doc = Document(title="题" * 600, tags=[Tag(name=long_tag)])
        doc.versions.append(Version(sha256="c" * 64, filename=long_name, mime="x/" + "y" * 200, size=1))
        session.add(doc)
        session.commit()
    with Session(engine) as session:
        doc = session.scalars(select(Document)).one()
        assert doc.title == "题" * 500 and doc.current.filename == long_name[:1024]
        assert len(doc.current.mime) == 128 and doc.tags[0].name == "标" * 64
        # The same cut applies to comparisons, so the long name still finds its tag.
        assert session.scalars(select(Tag).where(Tag.name == long_tag)).one().name == "标" * 64


def test_rows_written_at_an_older_revision_survive_the_upgrade(records_engine):
    """GIVEN a database at 0003 with a customer, a linked document and a page, WHEN migrated to head,
    THEN the rows are kept, the primary customer became a link, and new rows get fresh ids."""
    from alembic import command

    from records._db import _alembic_config

    command.upgrade(_alembic_config(records_engine), "0003")
    with records_engine.begin() as conn:
        conn.execute(
            text("INSERT INTO customers (name, aliases, created_at) VALUES ('旧客户有限公司', '[]', :at)"),
            {"at": datetime(2024, 1, 1)},
        )
        conn.execute(
            text(
                "INSERT INTO documents (title, doc_type, customer_id, confidentiality, status, language, warnings,"
                " created_at, updated_at) VALUES ('旧文档', 'other', 1, 'internal', 'indexed', '', '[]', :at, :at)"
            ),
            {"at": datetime(2024, 1, 1)},
        )
        conn.execute(
            text(
                "INSERT INTO pages (document_id, number, text, needs_ocr, ocr) VALUES (1, 1, '联系人：王芳', :f, :f)"
            ),
            {"f": False},
        )
    assert not is_migrated(records_engine)
    migrate(records_engine)
    assert is_migrated(records_engine)
    with Session(records_engine) as session:
        link = session.scalars(select(DocumentCustomer)).one()
        assert (link.document_id, link.customer_id, link.method, link.position) == (1, 1, "given", 0)
        customer = session.get(Customer, 1)
        assert customer is not None and customer.status == "confirmed" and customer.contacts is None
        assert session.scalars(select(Page)).one().text == "联系人：王芳"
        fresh = Customer(name="新客户有限公司", aliases=[], contacts=[])
        session.add(fresh)
        session.commit()
        assert fresh.id == 2
