"""A small data home for saved views and bulk edit: users of every role, two owned customers, text documents.

``build(root, extra_env)`` fits :func:`tests.conftest.backend_home`.  Documents (all mention 季度报告):
for each customer A (owned by ``sales1``) and B (owned by ``sales2``) one per level; plus one
``internal`` document without a customer that ``sales2`` uploaded.  Returns the settings, the open
Dossier, ``docs`` (id -> (level, customer key or None, uploader)) and ``customers`` (key -> id).
"""

from __future__ import annotations

from pathlib import Path

PASSWORD = "views-test-Passw0rd"
LEVELS = ("public", "internal", "confidential", "finance")
USERS = {
    "admin": "admin",
    "manager1": "manager",
    "finance1": "finance",
    "sales1": "sales",
    "sales2": "sales",
    "viewer1": "viewer",
}
OWNERS = {"A": "sales1", "B": "sales2"}
CUSTOMERS = {"A": "杭州明远科技有限公司", "B": "上海澄明集团股份有限公司"}


def build(home: Path, extra_env: dict[str, str]) -> dict:
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from records import Customer, Document, DocumentCustomer, Page, User, Version, hash_password

    env = {"DOSSIER_HOME": str(home), "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0", **extra_env}
    settings = load_settings(environ=env, dotenv=home / "none")
    Dossier.open(settings, require_init=False).init(admin_password=PASSWORD)
    d = Dossier.open(settings)
    docs: dict[int, tuple[str, str | None, str]] = {}
    with d.sessions() as session:
        users = {}
        for name, role in USERS.items():
            if name != "admin":
                users[name] = User(username=name, role=role, password_hash=hash_password(PASSWORD))
                session.add(users[name])
        customers = {
            key: Customer(name=name, aliases=[], contacts=[], owner=users[OWNERS[key]])
            for key, name in CUSTOMERS.items()
        }
        session.add_all(customers.values())
        rows = []
        specs = [(level, key, "system") for key in CUSTOMERS for level in LEVELS] + [
            ("internal", None, "sales2")
        ]
        for n, (level, key, uploader) in enumerate(specs):
            data = f"季度报告 {level} {key} 第{n}份".encode()
            doc = Document(
                title=f"季度报告_{level}_{key or '无客户'}",
                doc_type="other",
                confidentiality=level,
                confidentiality_source="manual",
                status="indexed",
                customer=customers[key] if key else None,
                versions=[
                    Version(
                        number=1,
                        sha256=d.blobs.put(data),
                        filename=f"report-{level}-{key}-{n}.txt",
                        mime="text/plain",
                        size=len(data),
                        uploaded_by=uploader,
                    )
                ],
                pages=[Page(number=1, text=data.decode())],
            )
            if key:
                doc.customer_links = [
                    DocumentCustomer(customer=customers[key], method="given", position=0, score=1.0)
                ]
            session.add(doc)
            rows.append((doc, level, key, uploader))
        session.commit()
        docs = {doc.id: (level, key, uploader) for doc, level, key, uploader in rows}
        customer_ids = {key: c.id for key, c in customers.items()}
    d.reindex(list(docs))
    d.backend.settle()
    return {"settings": settings, "env": env, "dossier": d, "docs": docs, "customers": customer_ids}


def find(built: dict, level: str, key: str | None) -> int:
    """The id of the document at ``level`` of customer ``key`` (None: the one without a customer)."""
    return next(i for i, (lv, k, _u) in built["docs"].items() if lv == level and k == key)


def principal(built: dict, username: str):  # type: ignore[no-untyped-def]
    """The principal of ``username`` (admin: the initial admin account)."""
    return built["dossier"].accounts.principal_for(username)
