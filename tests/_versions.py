"""A data home with one document in two versions (and a confidential one), for the versions tests (issue 15).

Documents are processed inline, as a worker does (no Redis).  Users: admin, manager1, sales1 (owns
no customer), finance1, viewer1, all with :data:`PASSWORD`.
"""

from __future__ import annotations

from pathlib import Path

from index import Principal
from records import User, hash_password

PASSWORD = "versions-test-Passw0rd"
ADMIN = Principal("admin", "admin")
MANAGER = Principal("manager1", "manager")
SALES = Principal("sales1", "sales")  # reads internal documents, owns none
FINANCE = Principal("finance1", "finance")
VIEWER = Principal("viewer1", "viewer")  # reads public documents only

V1 = "翡翠湖项目供货合同\n第一版原始条款：交货期三十天。\n付款方式：月结。".encode()
V2 = "翡翠湖项目供货合同\n第二版：珊瑚港补充协议，交货期四十五天。\n付款方式：月结。\n备注：<b>加粗</b>".encode()
SECRET = "保密文件：玳瑁湾收购计划第一稿。".encode()
SECRET2 = "保密文件：第二稿已删去敏感内容。".encode()


def process(d, doc_id: int) -> None:  # type: ignore[no-untyped-def]
    """What a worker does with a queued document, here in the test's process."""
    d.intake.make_intake(1).process_here([doc_id], None)
    d.backend.settle()


def build_home(root: Path, extra: dict[str, str]) -> dict:
    """The home under ``root`` (``extra``: settings such as OpenSearch's); its ids under ``doc`` and ``secret``."""
    from dossier.app.services import Dossier
    from foundation.config import load_settings

    env = {
        "DOSSIER_HOME": str(root / "home"),
        "DOSSIER_WORKERS": "1",
        "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0",
    }
    env.update(extra)
    settings = load_settings(environ=env, dotenv=root / "no.env")
    d = Dossier.open(settings, require_init=False)
    d.init(admin_password=PASSWORD)
    with d.sessions() as session:
        for name, role in (
            ("manager1", "manager"),
            ("sales1", "sales"),
            ("finance1", "finance"),
            ("viewer1", "viewer"),
        ):
            session.add(User(username=name, role=role, password_hash=hash_password(PASSWORD)))
        session.commit()
    doc_id = d.ingest_upload("合同_v1.txt", V1, principal=ADMIN)["id"]
    secret_id = d.ingest_upload("收购计划.txt", SECRET, principal=ADMIN)["id"]
    process(d, doc_id)
    process(d, secret_id)
    d.documents.update(doc_id, ADMIN, confidentiality="internal", doc_type="contract")
    d.documents.update(secret_id, ADMIN, confidentiality="confidential")
    assert d.documents.add_version(doc_id, "合同_v2.txt", V2, MANAGER)["status"] == "queued"
    process(d, doc_id)
    assert d.documents.add_version(secret_id, "收购计划_v2.txt", SECRET2, ADMIN)["status"] == "queued"
    process(d, secret_id)
    return {"dossier": d, "settings": settings, "doc": doc_id, "secret": secret_id}
