"""The permission matrix of autocomplete (issue 17, item 5): ``GET /api/suggest`` per role on each backend.

One document per confidentiality level and customer (A owned by ``sales1``, B by ``sales2``), each
with a tag of its own (``年度-<level>-<key>``); a tag only on a document in the trash; a suggested
and a rejected customer.  A user is offered exactly the tags of the documents they may read (the
reading rules stated in tests/e2e/test_permission_matrix.py, not the code's), every confirmed
customer (the customer list shows them all) and never a suggested or rejected one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import TANTIVY, backend_home, login_client
from tests.e2e.test_permission_matrix import CUSTOMERS, OWNERS, USERS, allowed

LEVELS = ("public", "internal", "confidential", "finance")
PASSWORD = "suggest-matrix-Passw0rd"
ALIASES = {"A": ["明远科技", "明远"], "B": ["澄明集团"]}
CUSTOMER_TAGS = {"A": ["年度重点客户"], "B": ["年度华东"]}
TRASHED_TAG = "年度-回收站"


def _tag(level: str, key: str) -> str:
    return f"年度-{level}-{key}"


def _build(home: Path, extra_env: dict[str, str]) -> dict:
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from records import Customer, Document, Page, Tag, User, Version, hash_password

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
            key: Customer(
                name=name,
                aliases=ALIASES[key],
                contacts=[],
                owner=users[OWNERS[key]],
                tags=CUSTOMER_TAGS[key],
            )
            for key, name in CUSTOMERS.items()
        }
        session.add_all(customers.values())
        session.add(
            Customer(
                name="明远年度新材料有限公司", aliases=["年度新材"], status="suggested", tags=["年度待定"]
            )
        )
        session.add(Customer(name="明远年度旧客户有限公司", aliases=[], status="rejected", tags=["年度拒绝"]))

        def document(title: str, level: str, key: str, tag: str) -> Document:
            data = title.encode()
            doc = Document(
                title=title,
                doc_type="contract",
                confidentiality=level,
                confidentiality_source="manual",
                status="indexed",
                customer=customers[key],
                versions=[
                    Version(
                        number=1,
                        sha256=d.blobs.put(data),
                        filename=f"{title}.txt",
                        mime="text/plain",
                        size=len(data),
                    )
                ],
                pages=[Page(number=1, text=title)],
            )
            doc.tags = [Tag(name=tag)]
            session.add(doc)
            return doc

        for key in CUSTOMERS:
            for level in LEVELS:
                document(f"年度合同_{level}_{key}", level, key, _tag(level, key))
        trashed = document("年度合同_trash", "public", "A", TRASHED_TAG)
        trashed.trashed_at = datetime.now(UTC).replace(tzinfo=None)
        trashed.trashed_by = "admin"
        session.commit()
        ids = list(session.scalars(select(Document.id)))
    d.reindex(ids)
    d.backend.settle()
    return {"settings": settings, "env": env, "dossier": d}


@pytest.fixture(
    scope="module", params=["sqlite", *TANTIVY, pytest.param("opensearch", marks=pytest.mark.opensearch)]
)
def home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    with backend_home(request.param, "suggest-matrix", tmp_path_factory, _build) as built:
        yield built


@pytest.fixture(scope="module")
def app(home):
    from webui import create_app

    return create_app(home["settings"], {"TESTING": True})


def _values(client, field: str, q: str) -> list[str]:
    response = client.get("/api/suggest", query_string={"field": field, "q": q, "limit": 20})
    assert response.status_code == 200, response.get_data(as_text=True)
    return [s["value"] for s in response.get_json()["suggestions"]]


@pytest.mark.parametrize("username", list(USERS))
def test_tags_come_only_from_documents_the_user_may_read(app, username):
    client = login_client(app, username, PASSWORD)
    want = {_tag(level, key) for key in CUSTOMERS for level in LEVELS if allowed(username, level, key)}
    assert set(_values(client, "tag", "年度")) == want
    # Typing a hidden tag in full reveals nothing either.
    for key in CUSTOMERS:
        for level in LEVELS:
            found = _values(client, "tag", _tag(level, key))
            assert found == ([_tag(level, key)] if allowed(username, level, key) else []), (level, key)
    assert _values(client, "tag", TRASHED_TAG) == []
    # The search box mixes both: its tags follow the same rule.
    both = client.get("/api/suggest", query_string={"field": "search", "q": "年度", "limit": 20}).get_json()
    assert {s["value"] for s in both["suggestions"] if s["kind"] == "tag"} == want


@pytest.mark.parametrize("username", list(USERS))
def test_customers_are_the_confirmed_ones_for_everyone(app, username):
    client = login_client(app, username, PASSWORD)
    assert set(_values(client, "customer", "明远")) == {CUSTOMERS["A"]}
    assert _values(client, "customer", "澄明集团") == [CUSTOMERS["B"]]
    assert _values(client, "customer", "年度") == []  # the suggested and rejected customers stay out
    assert set(_values(client, "ctag", "年度")) == {"年度重点客户", "年度华东"}


def test_anonymous_callers_get_401(app):
    response = app.test_client().get("/api/suggest", query_string={"field": "tag", "q": "年度"})
    assert response.status_code == 401
    assert "error" in response.get_json()
