"""``documents.amount`` follows the entities: after intake, re-extraction, a version's restore and a customer merge.

One SQLite home, processed inline as a worker does (no Redis).  Each check compares the stored amount
with :func:`pipeline.amounts.document_amount` over the stored entities and with the figure expected.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from dossier.app import folder
from index import Principal
from pipeline import amounts
from pipeline.amounts import document_amount
from records import Customer, Document, EntityRow, Page
from tests._versions import build_home, process

ADMIN = Principal("admin", "admin")
MANAGER = Principal("manager1", "manager")
V1 = "采购合同\n甲方：南京青柠檬商贸有限公司\n定金：人民币30,000.00元\n合同总价：人民币120,000.00元\n违约金：500,000元".encode()
V2 = "报价单\n甲方：南京青柠檬商贸有限公司\n单价：¥1,500.00\n合计：¥9,000.00".encode()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory):
    built = build_home(tmp_path_factory.mktemp("amounts"), {})
    d = built["dossier"]
    doc_id = d.ingest_upload("青柠檬合同.txt", V1, principal=ADMIN)["id"]
    process(d, doc_id)
    try:
        yield d, doc_id
    finally:
        d.close()


def _stored(d, doc_id: int) -> tuple[Decimal | None, Decimal | None]:  # type: ignore[no-untyped-def]
    """(the stored amount, the rule over the stored entities)."""
    with d.sessions() as session:
        doc = session.get(Document, doc_id)
        rows = session.query(EntityRow).filter_by(document_id=doc_id).all()
        stored = None if doc.amount is None else Decimal(str(doc.amount)).quantize(Decimal("0.01"))
        return stored, document_amount(rows)


def test_the_rule():
    """A total (总, 合计, total) beats a larger amount; without one the largest; no number is no amount."""

    class E:
        def __init__(self, value: str, role: str | None = None, kind: str = "amount") -> None:
            self.kind, self.value, self.role = kind, value, role

    assert document_amount([E("10.00", "单价"), E("5.00", "合同总价"), E("7", "TOTAL")]) == Decimal("7.00")
    assert document_amount([E("10.00", "单价"), E("12.345", "运费")]) == Decimal("12.35")
    assert document_amount([E("x", "总价"), E("1e30", "合计"), E("HT-1", kind="contract_no")]) is None
    assert document_amount([]) is None
    assert amounts.TOTAL_ROLE_MARKS == folder.TOTAL_ROLE_MARKS  # the customer page's key amounts agree


def test_intake_stores_the_amount(home):
    d, doc_id = home
    assert _stored(d, doc_id) == (Decimal("120000.00"), Decimal("120000.00"))


def test_re_extraction_follows_the_text(home):
    """The page's text changes (as an OCR pass or a new extractor would change what is found): re-extraction
    stores the new total; the old text again brings the old one back."""
    d, doc_id = home
    with d.sessions() as session:
        page = session.query(Page).filter_by(document_id=doc_id, number=1).one()
        old, page.text = page.text, V2.decode()
        session.commit()
    d.customers.reextract([doc_id])
    assert _stored(d, doc_id) == (Decimal("9000.00"), Decimal("9000.00"))
    with d.sessions() as session:
        session.query(Page).filter_by(document_id=doc_id, number=1).one().text = old
        session.commit()
    d.customers.reextract([doc_id])
    assert _stored(d, doc_id) == (Decimal("120000.00"), Decimal("120000.00"))


def test_a_new_version_and_its_restore(home):
    """Version 2 (a quote, 合计 9,000) stores its total; restoring version 1 stores version 1's again."""
    d, doc_id = home
    d.documents.add_version(doc_id, "青柠檬报价.txt", V2, MANAGER)
    process(d, doc_id)
    assert _stored(d, doc_id) == (Decimal("9000.00"), Decimal("9000.00"))
    d.documents.restore_version(doc_id, 1, MANAGER)
    process(d, doc_id)
    assert _stored(d, doc_id) == (Decimal("120000.00"), Decimal("120000.00"))


def test_a_customer_merge_keeps_it(home):
    """Merging the suggested customer the contract names into a confirmed one re-extracts the document:
    its amount stays its total."""
    d, doc_id = home
    with d.sessions() as session:
        suggested = session.query(Customer).filter_by(name="南京青柠檬商贸有限公司").one()
        assert suggested.status == "suggested"
        target = Customer(name="青柠檬集团", status="confirmed")
        session.add(target)
        session.commit()
        target_id, suggested_id = target.id, suggested.id
    assert d.customers.merge(suggested_id, target_id, ADMIN)["reanalysed"] >= 1
    with d.sessions() as session:
        assert (
            session.get(Document, doc_id).customer_id == target_id
        )  # re-extracted: now filed under the target
    assert _stored(d, doc_id) == (Decimal("120000.00"), Decimal("120000.00"))
