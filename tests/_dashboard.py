"""A small data home for the start page (工作台): customers of every type, documents of every level.

:func:`fill` writes it through the records models (and reindexes); :data:`TODAY` is the day the
charts are computed for, so that the 12 months of the month chart are 2023-07 … 2024-06.
"""

from __future__ import annotations

from datetime import date, datetime

from pipeline.amounts import document_amount
from records import (
    Customer,
    Document,
    DocumentCustomer,
    EntityRow,
    IngestBatch,
    IngestJob,
    Page,
    User,
    Version,
    hash_password,
)

PASSWORD = "dashboard-Passw0rd"
TODAY = date(2024, 6, 30)
#: (username, role)
USERS = (
    ("manager1", "manager"),
    ("sales1", "sales"),
    ("sales2", "sales"),
    ("viewer1", "viewer"),
    ("fin1", "finance"),
)
#: key -> Customer fields (``owner``: a user of USERS)
CUSTOMERS = {
    "a": dict(
        name="杭州明远科技有限公司", customer_type="现有客户", stage="已签约", region="浙江省", owner="sales1"
    ),
    "b": dict(
        name="上海澄明集团股份有限公司",
        customer_type="潜在客户",
        stage="初步接触",
        region="上海市",
        owner="sales2",
    ),
    "c": dict(name="苏州恒达贸易有限公司", customer_type="流失客户", region="江苏省", owner_name="老李"),
    "s": dict(name="宁波蓝海电子有限公司", status="suggested", region="浙江省"),
    # the same type, stage, region and owner as "a": d1 is filed under both and counts once per value
    "d": dict(
        name="杭州明远智能设备有限公司",
        customer_type="现有客户",
        stage="已签约",
        region="浙江省",
        owner="sales1",
    ),
}
#: key -> (title, type, date, level, [(customer, link method)], [(amount, role)], state)
#: state: "" (indexed), "archived", "trashed", "failed", "ocr" (awaiting OCR: one page waiting, one failed).
DOCS = {
    "d1": (
        "购销合同_明远",
        "contract",
        "2024-03-15",
        "internal",
        [("a", "credit_code"), ("c", "name"), ("d", "name")],
        [("120000.00", "合同总价"), ("5000.00", "预付")],
        "",
    ),
    "d2": (
        "报价单_明远",
        "quote",
        "2023-11-02",
        "public",
        [("a", "alias")],
        [("88000.00", "报价总额"), ("1200.00", "单价")],
        "",
    ),
    "d3": (
        "框架合同_明远_保密",
        "contract",
        "2024-05-20",
        "confidential",
        [("a", "name")],
        [("300000.00", "合同金额")],
        "",
    ),
    "d4": ("会议纪要_明远", "meeting", None, "public", [("a", "given")], [], ""),
    "d5": (
        "发票_明远",
        "invoice",
        "2024-06-01",
        "finance",
        [("a", "credit_code")],
        [("120000.00", "价税合计")],
        "",
    ),
    "d6": (
        "报价单_澄明_保密",
        "quote",
        "2024-01-03",
        "confidential",
        [("b", "name")],
        [("560000.00", "报价总额")],
        "",
    ),
    "d7": ("拜访记录_澄明", "visit", "2024-02-02", "internal", [("b", "alias")], [], ""),
    "d8": (
        "销售合同_恒达",
        "contract",
        "2022-07-08",
        "internal",
        [("c", "name")],
        [("45000.00", "合同总价")],
        "",
    ),
    "d9": ("邮件_蓝海", "email", "2024-04-04", "internal", [("s", "fuzzy")], [], ""),
    "d10": (
        "合同_归档",
        "contract",
        "2024-05-05",
        "internal",
        [("a", "name")],
        [("7.00", "合同总价")],
        "archived",
    ),
    "d11": (
        "合同_回收站",
        "contract",
        "2024-04-10",
        "internal",
        [("a", "name")],
        [("7.00", "合同总价")],
        "trashed",
    ),
    "d12": (
        "合同_失败",
        "contract",
        "2024-04-11",
        "internal",
        [("a", "name")],
        [("7.00", "合同总价")],
        "failed",
    ),
    "d13": ("合同_扫描件", "contract", "2024-04-12", "public", [("a", "name")], [], "ocr"),
}


def fill(dossier) -> dict:
    """Write USERS, CUSTOMERS, DOCS and two intake batches into ``dossier``'s home; ids by key."""
    with dossier.sessions() as session:
        users = {}
        for username, role in USERS:
            users[username] = User(username=username, role=role, password_hash=hash_password(PASSWORD))
            session.add(users[username])
        customers = {}
        for key, fields in CUSTOMERS.items():
            fields = dict(fields)
            owner = fields.pop("owner", None)
            customers[key] = Customer(**fields, owner=users[owner] if owner else None)
            session.add(customers[key])
        docs = {}
        for key, (title, doc_type, day, level, links, amounts, state) in DOCS.items():
            text = f"{title}\n关于服务器采购的{title}正文。\n"
            data = text.encode("utf-8")
            doc = Document(
                title=title,
                doc_type=doc_type,
                doc_date=day,
                confidentiality=level,
                status={"failed": "failed", "ocr": "awaiting_ocr"}.get(state, "indexed"),
                language="zh",
                customer=customers[links[0][0]] if links[0][0] != "s" else None,
                versions=[
                    Version(
                        number=1,
                        sha256=dossier.blobs.put(data),
                        filename=f"{title}.txt",
                        mime="text/plain",
                        size=len(data),
                    )
                ],
                pages=[Page(number=1, text=text)],
                archived_at=datetime(2024, 6, 1) if state == "archived" else None,
                trashed_at=datetime(2024, 6, 1) if state == "trashed" else None,
            )
            if state == "ocr":
                doc.pages += [
                    Page(number=2, text="", needs_ocr=True),
                    Page(number=3, text="", needs_ocr=True, ocr_error="引擎出错"),
                ]
            doc.customer_links = [
                DocumentCustomer(customer=customers[c], method=m, position=i, score=1.0)
                for i, (c, m) in enumerate(links)
            ]
            doc.entities = [
                EntityRow(kind="amount", value=v, text=v, page=1, start=0, end=0, role=r) for v, r in amounts
            ]
            doc.amount = document_amount(doc.entities)  # as the extraction step stores it with the entities
            session.add(doc)
            docs[key] = doc
        for creator, statuses in (("sales1", ("queued", "failed", "done")), ("admin", ("failed",))):
            batch = IngestBatch(source="upload", created_by=creator)
            batch.jobs = [IngestJob(filename=f"{creator}-{i}.pdf", status=s) for i, s in enumerate(statuses)]
            session.add(batch)
        session.commit()
        ids = {
            "customers": {k: c.id for k, c in customers.items()},
            "docs": {k: d.id for k, d in docs.items()},
        }
    dossier.reindex(ids["docs"].values())
    dossier.backend.settle()  # OpenSearch: searchable now
    return ids
