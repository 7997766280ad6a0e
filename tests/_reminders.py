"""A small data home for the reminder tests: the five roles, a disabled user, three customers, a
document per confidentiality level for two of them, and one document in the trash.

``sales1`` owns customer A (现有客户), ``sales2`` customer B (潜在客户); C (流失客户) has no owner.
Documents are titled ``合同_<level>_<key>`` (the trashed one ``废弃合同_A``) so a test can look for
titles that must not leak.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

PASSWORD = "reminder-test-Passw0rd"
#: username -> role (``gone`` is disabled).
USERS = {
    "admin": "admin",
    "manager1": "manager",
    "finance1": "finance",
    "sales1": "sales",
    "sales2": "sales",
    "viewer1": "viewer",
}
LEVELS = ("public", "internal", "confidential", "finance")
CUSTOMERS = {
    "A": ("杭州明远科技有限公司", "sales1", "现有客户"),
    "B": ("上海澄明集团股份有限公司", "sales2", "潜在客户"),
}
UNOWNED = "苏州远航贸易有限公司"


def build(home: Path, extra_env: dict[str, str], *, stale_days: str = "30") -> dict[str, Any]:
    """Make the home; ``{"settings", "env", "dossier", "docs": {id: (level, key)}, "trashed", "customers"}``."""
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from records import Customer, Document, DocumentCustomer, Page, User, hash_password, utcnow

    env = {
        "DOSSIER_HOME": str(home),
        "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0",
        "DOSSIER_STALE_DAYS": stale_days,
        **extra_env,
    }
    settings = load_settings(environ=env, dotenv=home / "none")
    first = Dossier.open(settings, require_init=False)
    first.init(admin_password=PASSWORD)
    first.close()
    d = Dossier.open(settings)
    with d.sessions() as session:
        users = {}
        for name, role in USERS.items():
            if name == "admin":
                continue
            users[name] = User(username=name, role=role, password_hash=hash_password(PASSWORD))
        users["gone"] = User(
            username="gone", role="sales", password_hash=hash_password(PASSWORD), active=False
        )
        session.add_all(users.values())
        customers = {
            key: Customer(name=name, aliases=[], contacts=[], owner=users[owner], customer_type=ctype)
            for key, (name, owner, ctype) in CUSTOMERS.items()
        }
        customers["C"] = Customer(name=UNOWNED, aliases=["远航"], contacts=[], customer_type="流失客户")
        session.add_all(customers.values())
        rows = []
        for key in CUSTOMERS:
            for level in LEVELS:
                doc = Document(
                    title=f"合同_{level}_{key}",
                    doc_type="contract",
                    confidentiality=level,
                    confidentiality_source="manual",
                    status="indexed",
                    customer=customers[key],
                    pages=[Page(number=1, text=f"合同 {level} {key}", ocr=False, confidence=1.0)],
                )
                doc.customer_links = [
                    DocumentCustomer(customer=customers[key], method="given", position=0, score=1.0)
                ]
                session.add(doc)
                rows.append((doc, level, key))
        trashed = Document(
            title="废弃合同_A",
            doc_type="contract",
            confidentiality="internal",
            confidentiality_source="manual",
            status="indexed",
            customer=customers["A"],
            trashed_at=utcnow(),
            trashed_by="admin",
            pages=[Page(number=1, text="废弃", ocr=False, confidence=1.0)],
        )
        session.add(trashed)
        session.commit()
        docs = {doc.id: (level, key) for doc, level, key in rows}
        ids = {key: c.id for key, c in customers.items()}
        trashed_id = trashed.id
    d.reindex(list(docs))  # sets each document's access (its level and customers), as intake does
    d.backend.settle()
    return {
        "settings": settings,
        "env": env,
        "dossier": d,
        "docs": docs,
        "trashed": trashed_id,
        "customers": ids,
    }


def doc_id(home: dict[str, Any], level: str, key: str) -> int:
    """The id of customer ``key``'s document at ``level``."""
    return next(i for i, (lv, k) in home["docs"].items() if (lv, k) == (level, key))


def principal(home: dict[str, Any], username: str) -> Any:
    """The principal of a user of the home."""
    return home["dossier"].accounts.principal_for(username)
