"""A small data home for "did you mean": registry customers with short names, documents at every level.

``build(root, extra_env)`` fits :func:`tests.conftest.backend_home`.  Customers (confirmed unless said):
G 上海光华物流有限公司 (alias 光华物流) and P Pacific Rim Logistics Ltd. (alias Pacific Rim), owned by
``sales1``; C 上海澄明集团股份有限公司 (alias 澄明集团), owned by ``sales2``; S 杭州未确认贸易有限公司 (alias
未确认贸易), only ``suggested``.  Documents (:data:`DOCS`): key -> (level, customer key or None, text).
"""

from __future__ import annotations

from pathlib import Path

PASSWORD = "typos-test-Passw0rd"
USERS = {
    "admin": "admin",
    "manager1": "manager",
    "finance1": "finance",
    "sales1": "sales",
    "sales2": "sales",
    "viewer1": "viewer",
}
#: key -> (full name, aliases, owner, status)
CUSTOMERS = {
    "G": ("上海光华物流有限公司", ["光华物流"], "sales1", "confirmed"),
    "P": ("Pacific Rim Logistics Ltd.", ["Pacific Rim"], "sales1", "confirmed"),
    "C": ("上海澄明集团股份有限公司", ["澄明集团"], "sales2", "confirmed"),
    "S": ("杭州未确认贸易有限公司", ["未确认贸易"], "sales2", "suggested"),
}
#: key -> (confidentiality, customer key, page text)
DOCS = {
    "g-quote": ("internal", "G", "光华物流 报价单 运输服务 冷链运输"),
    "g-contract": ("public", "G", "光华物流 运输合同 冷链运输"),
    "p-invoice": ("public", "P", "Pacific Rim Logistics invoice shipment 冷链运输"),
    "c-secret": ("confidential", "C", "澄明集团 审计报告 Zephyrine project"),
    "s-order": ("public", "S", "未确认贸易 采购订单"),
    "finance": ("finance", None, "年度预算 Quarterly budget"),
}


def may_read(username: str, level: str, customer: str | None) -> bool:
    """The reading rules, written here (not imported from the code under test)."""
    role = USERS[username]
    if role in ("admin", "manager"):
        return True
    if role == "finance":
        return level in ("public", "internal", "finance")
    if role == "sales":
        owner = CUSTOMERS[customer][2] if customer else None
        return level in ("public", "internal") or (level == "confidential" and owner == username)
    return level == "public"


def build(home: Path, extra_env: dict[str, str]) -> dict:
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from records import Customer, Document, DocumentCustomer, Page, User, Version, hash_password

    env = {"DOSSIER_HOME": str(home), "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0", **extra_env}
    settings = load_settings(environ=env, dotenv=home / "none")
    Dossier.open(settings, require_init=False).init(admin_password=PASSWORD)
    d = Dossier.open(settings)
    with d.sessions() as session:
        users = {}
        for name, role in USERS.items():
            if name != "admin":
                users[name] = User(username=name, role=role, password_hash=hash_password(PASSWORD))
                session.add(users[name])
        customers = {
            key: Customer(name=name, aliases=aliases, contacts=[], owner=users[owner], status=status)
            for key, (name, aliases, owner, status) in CUSTOMERS.items()
        }
        session.add_all(customers.values())
        rows = []
        for n, (key, (level, customer, text)) in enumerate(DOCS.items()):
            data = text.encode()
            doc = Document(
                title=f"文档{n}",
                doc_type="other",
                confidentiality=level,
                confidentiality_source="manual",
                status="indexed",
                customer=customers[customer] if customer else None,
                versions=[
                    Version(
                        number=1,
                        sha256=d.blobs.put(data),
                        filename=f"doc-{n}.txt",
                        mime="text/plain",
                        size=len(data),
                    )
                ],
                pages=[Page(number=1, text=text)],
            )
            if customer:
                doc.customer_links = [
                    DocumentCustomer(customer=customers[customer], method="given", position=0, score=1.0)
                ]
            session.add(doc)
            rows.append((key, doc))
        session.commit()
        docs = {key: doc.id for key, doc in rows}
        customer_ids = {key: c.id for key, c in customers.items()}
    d.reindex(list(docs.values()))
    d.backend.settle()
    return {"settings": settings, "env": env, "dossier": d, "docs": docs, "customers": customer_ids}


def principal(built: dict, username: str):  # type: ignore[no-untyped-def]
    """The principal of ``username``."""
    return built["dossier"].accounts.principal_for(username)
