"""Due dates found at extraction: stored with their sentences, and the document reminders that follow them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from foundation.config import SETTINGS
from foundation.errors import ConfigError
from index import Principal
from pipeline import extraction, reminders
from records import Document, DueDate, Reminder, User

ADMIN = Principal(username="admin", role="admin")
PASSWORD = "Reminder-pass-2024"

REGISTRY = {
    "seller": {"full_name": "杭州云帆信息技术有限公司", "short_name": "云帆信息"},
    "customers": [
        {
            "id": "K01",
            "full_name": "上海明远科技有限公司",
            "short_name": "明远科技",
            "customer_type": "现有客户",
            "sales_owner": "张晗",
        }
    ],
}

CONTRACT = """技术服务合同
合同编号：FW-2027-013
签订日期：2027年2月20日
甲方（委托方）：上海明远科技有限公司
乙方（服务方）：杭州云帆信息技术有限公司
第二条 服务期限
服务期限自2027年3月1日起至
2029年2月28日止。期满前30日内，双方可协商续约事宜。
第四条 费用及支付
甲方应于2020年5月31日前付清首期款项。
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def contract(dossier, tmp_path):
    """A confidential service contract of 明远科技, whose owner is the sales rep zhanghan."""
    registry = _write(tmp_path, "customers.json", json.dumps(REGISTRY, ensure_ascii=False))
    dossier.accounts.add_user("zhanghan", "sales", PASSWORD, display_name="张晗")
    dossier.customers.import_registry(registry)
    summary = dossier.ingest_paths([str(_write(tmp_path, "服务合同.txt", CONTRACT))], uploaded_by="admin")
    (doc,) = summary["documents"]
    return doc["id"]


def _reminders(dossier, doc_id: int) -> dict[str, Reminder]:
    with dossier.sessions() as session:
        rows = session.scalars(select(Reminder).where(Reminder.document_id == doc_id)).all()
        return {r.source_key: r for r in rows}


def _set_text(dossier, doc_id: int, text: str) -> None:
    with dossier.sessions() as session:
        doc = session.get(Document, doc_id)
        doc.pages[0].text = text
        session.commit()


def test_a_contract_keeps_its_due_dates_with_their_sentences(dossier, contract):
    shown = dossier.show(contract, ADMIN)
    assert shown["doc_type"] == "contract"
    dates = [(d["kind"], d["date"], d["sentence"], d["page"]) for d in shown["due_dates"]]
    assert dates == [
        ("contract_end", "2029-02-28", "服务期限自2027年3月1日起至2029年2月28日止。", 1),
        ("renewal", "2029-01-29", "期满前30日内，双方可协商续约事宜。", 1),
        ("payment_due", "2020-05-31", "甲方应于2020年5月31日前付清首期款项。", 1),
    ]
    text = shown["pages"][0]["text"]
    first = shown["due_dates"][0]
    assert text[first["start"] : first["end"]].replace("\n", "") == first["sentence"]


def test_each_coming_due_date_gets_an_open_reminder_for_the_customers_owner(dossier, contract):
    found = _reminders(dossier, contract)
    assert set(found) == {f"doc:{contract}:contract_end:2029-02-28", f"doc:{contract}:renewal:2029-01-29"}
    with dossier.sessions() as session:
        owner = session.scalars(select(User).where(User.username == "zhanghan")).one()
        rows = {d.kind: d for d in session.scalars(select(DueDate).where(DueDate.document_id == contract))}
    end = found[f"doc:{contract}:contract_end:2029-02-28"]
    assert end.source == "document" and end.status == "open" and end.kind == "contract_end"
    assert end.due_on == dt.date(2029, 2, 28)
    assert end.remind_on == dt.date(2029, 1, 29)  # 30 days ahead by default
    assert end.owner_id == owner.id
    with dossier.sessions() as session:
        primary = session.get(Document, contract).customer_id
    assert primary is not None and end.customer_id == primary
    assert end.confidentiality == "confidential"  # a contract's level: its readers only
    assert end.evidence == "服务期限自2027年3月1日起至2029年2月28日止。"
    assert end.title == "合同到期：技术服务合同"  # the title the text gives
    assert end.due_date_id == rows["contract_end"].id
    # a date long gone is kept, but nobody is reminded of it
    assert "payment_due" in rows and all("payment_due" not in key for key in found)


def test_re_extraction_is_idempotent_and_follows_the_new_text(dossier, contract):
    before = {key: r.id for key, r in _reminders(dossier, contract).items()}
    dossier.customers.reextract([contract])
    dossier.customers.reextract([contract])
    assert {key: r.id for key, r in _reminders(dossier, contract).items()} == before
    with dossier.sessions() as session:
        assert len(session.scalars(select(DueDate).where(DueDate.document_id == contract)).all()) == 3

    renewal_key = f"doc:{contract}:renewal:2029-01-29"
    with dossier.sessions() as session:  # someone dealt with the renewal
        done = session.scalars(select(Reminder).where(Reminder.source_key == renewal_key)).one()
        done.status, done.done_by = "done", "zhanghan"
        session.commit()
    # the contract is extended: a new end and a new renewal date; the old end's reminder is cancelled
    _set_text(dossier, contract, CONTRACT.replace("2029年2月28日", "2030年2月28日"))
    dossier.customers.reextract([contract])
    found = _reminders(dossier, contract)
    assert found[f"doc:{contract}:contract_end:2029-02-28"].status == "cancelled"
    assert found[f"doc:{contract}:contract_end:2030-02-28"].status == "open"
    assert found[f"doc:{contract}:renewal:2030-01-29"].status == "open"
    assert found[renewal_key].status == "done"  # done stays done, never cancelled or reopened

    # the old end comes back: its reminder is open again, the same row
    old_id = found[f"doc:{contract}:contract_end:2029-02-28"].id
    _set_text(dossier, contract, CONTRACT)
    dossier.customers.reextract([contract])
    found = _reminders(dossier, contract)
    assert found[f"doc:{contract}:contract_end:2029-02-28"].status == "open"
    assert found[f"doc:{contract}:contract_end:2029-02-28"].id == old_id
    assert found[renewal_key].status == "done"
    assert found[f"doc:{contract}:contract_end:2030-02-28"].status == "cancelled"


def test_clearing_extraction_removes_the_dates_and_cancels_the_open_reminders(dossier, contract):
    with dossier.sessions() as session:
        doc = session.get(Document, contract)
        extraction.SHARED.clear(session, doc)
        session.commit()
        assert session.scalars(select(DueDate).where(DueDate.document_id == contract)).all() == []
    assert {r.status for r in _reminders(dossier, contract).values()} == {"cancelled"}
    assert dossier.show(contract, ADMIN)["due_dates"] == []


def test_without_a_customer_the_uploader_owns_the_reminder(dossier, tmp_path):
    dossier.accounts.add_user("quoter", "sales", PASSWORD)
    text = "报价单\n报价日期：2028年10月10日\n本报价有效期30天。\n"
    summary = dossier.ingest_paths([str(_write(tmp_path, "报价.txt", text))], uploaded_by="quoter")
    doc_id = summary["documents"][0]["id"]
    (reminder,) = _reminders(dossier, doc_id).values()
    with dossier.sessions() as session:
        quoter = session.scalars(select(User).where(User.username == "quoter")).one()
    assert (reminder.kind, reminder.due_on) == ("quote_valid", dt.date(2028, 11, 9))
    assert reminder.remind_on == dt.date(2028, 11, 6)
    assert reminder.owner_id == quoter.id and reminder.customer_id is None
    assert reminder.title == "报价有效期截止：报价单"


def test_the_lead_days_come_from_the_setting(settings, tmp_path):
    from dossier.app.services import Dossier

    d = Dossier.open(settings.with_overrides(DOSSIER_REMINDER_LEAD_DAYS="quote_valid=10"), require_init=False)
    try:
        d.init(admin_password="测试-admin-pass")
        text = "报价单\n报价日期：2028年10月10日\n本报价有效期30天。\n"
        summary = d.ingest_paths([str(_write(tmp_path, "报价.txt", text))])
        (reminder,) = _reminders(d, summary["documents"][0]["id"]).values()
        assert reminder.remind_on == dt.date(2028, 10, 30)
        assert reminder.owner_id is None  # uploaded by "system": nobody's
    finally:
        d.engine.dispose()
        extraction.SHARED.lead_days = dict(reminders.DEFAULT_LEAD_DAYS)


def test_parse_lead_days():
    default = next(s.default for s in SETTINGS if s.name == "DOSSIER_REMINDER_LEAD_DAYS")
    assert reminders.parse_lead_days(default) == reminders.DEFAULT_LEAD_DAYS
    assert reminders.parse_lead_days("") == reminders.DEFAULT_LEAD_DAYS
    assert reminders.parse_lead_days(" renewal = 60 ")["renewal"] == 60
    assert set(reminders.parse_lead_days("7").values()) == {7}
    for bad in ("contract=30", "renewal=-1", "renewal=soon", "renewal=99999"):
        with pytest.raises(ConfigError) as err:
            reminders.parse_lead_days(bad)
        assert "DOSSIER_REMINDER_LEAD_DAYS" in str(err.value)


def test_the_reminders_are_read_like_their_document(dossier, contract):
    """Only who may read the document sees its due dates; its reminders follow its level when it changes."""
    from foundation.errors import DossierError

    with pytest.raises(DossierError):
        dossier.show(contract, Principal(username="someone", role="viewer"))
    dossier.documents.update(contract, ADMIN, confidentiality="finance")
    assert {r.confidentiality for r in _reminders(dossier, contract).values()} == {"finance"}


def test_storing_and_syncing_on_both_record_databases(records_engine):
    """The same rows and reminders on SQLite and PostgreSQL; a second run changes nothing; what is gone is cancelled."""
    from sqlalchemy.orm import Session

    import ingest
    from records import Customer, Page, Version, migrate

    migrate(records_engine)
    with Session(records_engine) as session:
        owner = User(username="rep", role="sales", password_hash="x")
        customer = Customer(
            name="上海明远科技有限公司", aliases=[], contacts=[], status="confirmed", owner=owner
        )
        doc = Document(
            title="服务合同",
            doc_type="contract",
            confidentiality="confidential",
            status="indexed",
            customer=customer,
            versions=[Version(number=1, sha256="0" * 64, filename="a.txt", mime="text/plain", size=1)],
            pages=[Page(number=1, text=CONTRACT)],
        )
        session.add_all([owner, customer, doc])
        session.flush()
        pages = [CONTRACT]
        for _ in range(2):
            rows = reminders.store_due_dates(
                session, doc, ingest.extract_due_dates(pages, doc_type="contract")
            )
            counts = reminders.sync_reminders(session, doc, rows, today=dt.date(2028, 6, 1))
        assert counts == {"created": 0, "updated": 2, "cancelled": 0}
        session.commit()
        found = {r.source_key: r for r in session.scalars(select(Reminder))}
        assert set(found) == {f"doc:{doc.id}:contract_end:2029-02-28", f"doc:{doc.id}:renewal:2029-01-29"}
        assert {r.owner_id for r in found.values()} == {owner.id}
        assert {r.confidentiality for r in found.values()} == {"confidential"}

        rows = reminders.store_due_dates(session, doc, [])
        assert reminders.sync_reminders(session, doc, rows) == {"created": 0, "updated": 0, "cancelled": 2}
        session.commit()
        assert session.scalars(select(DueDate)).all() == []
        assert {r.status for r in session.scalars(select(Reminder))} == {"cancelled"}


def test_a_reminder_never_goes_to_an_owner_who_may_not_read_its_document(dossier, contract, tmp_path):
    """GIVEN a finance-level invoice of a customer a sales rep owns WHEN its payment date is found
    THEN its reminder is not the rep's (they may not read the invoice): the uploader, who may, owns it,
    and the rep's reminder list does not show it."""
    text = (
        "增值税专用发票\n开票日期：2028年3月1日\n购买方：上海明远科技有限公司\n"
        "价税合计：¥11,300.00\n请于2028年3月31日前付款。\n"
    )
    summary = dossier.ingest_paths([str(_write(tmp_path, "发票.txt", text))], uploaded_by="admin")
    doc_id = summary["documents"][0]["id"]
    (reminder,) = _reminders(dossier, doc_id).values()
    with dossier.sessions() as session:
        rep = session.scalars(select(User).where(User.username == "zhanghan")).one()
        admin = session.scalars(select(User).where(User.username == "admin")).one()
        invoice = session.get(Document, doc_id)
        assert (invoice.doc_type, invoice.confidentiality) == ("invoice", "finance")
        assert invoice.customer_id is not None
    assert reminder.confidentiality == "finance"
    assert reminder.owner_id == admin.id != rep.id
    as_rep = dossier.accounts.principal_for("zhanghan")
    assert reminder.id not in {item["id"] for item in dossier.reminders.list(as_rep)}
