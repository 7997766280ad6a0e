"""Pinyin in search and autocomplete, per role, on each backend (issue 18, item 5 and "Bad input").

The data home of the permission matrix (customers A 杭州明远科技有限公司 owned by ``sales1``, B
上海澄明集团股份有限公司 owned by ``sales2``, rules stated in tests/e2e/test_permission_matrix.py,
not the code's) with one document per confidentiality level and customer, titled
``季度报告<level word>`` so each title has pinyin of its own, a suggested and a rejected customer
with pinyin names of their own.  A pinyin query finds exactly the documents the user may read
(totals and facets included) and every hit has a snippet; the autocomplete by pinyin offers the
confirmed customers (the customer list shows them to everyone) and never a suggested or
rejected one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import TANTIVY, backend_home, login_client
from tests.e2e.test_permission_matrix import CUSTOMERS, OWNERS, USERS, allowed

LEVELS = ("public", "internal", "confidential", "finance")
PASSWORD = "pinyin-matrix-Passw0rd"
#: A Chinese word per level in the titles, and its full pinyin.
LEVEL_WORDS = {"public": ("公开", "gongkai"), "internal": ("内部", "neibu"), "confidential": ("机密", "jimi"),
               "finance": ("财务", "caiwu")}  # fmt: skip
ALIASES = {"A": ["明远科技"], "B": ["澄明集团"]}


def _build(home: Path, extra_env: dict[str, str]) -> dict:
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from records import Customer, Document, Page, User, Version, hash_password

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
            key: Customer(name=name, aliases=ALIASES[key], contacts=[], owner=users[OWNERS[key]])
            for key, name in CUSTOMERS.items()
        }
        session.add_all(customers.values())
        session.add(Customer(name="明远光华新材料有限公司", aliases=["光华新材"], status="suggested"))
        session.add(Customer(name="明远旧客户有限公司", aliases=["旧客户"], status="rejected"))
        for key in CUSTOMERS:
            for level in LEVELS:
                title = f"季度报告{LEVEL_WORDS[level][0]}{key}"
                data = title.encode()
                session.add(
                    Document(
                        title=title,
                        doc_type="report",
                        confidentiality=level,
                        confidentiality_source="manual",
                        status="indexed",
                        customer=customers[key],
                        versions=[
                            Version(
                                number=1,
                                sha256=d.blobs.put(data),
                                filename=f"{level}-{key}.txt",
                                mime="text/plain",
                                size=len(data),
                            )
                        ],
                        pages=[Page(number=1, text="本季度经营情况说明。")],
                    )
                )
        session.commit()
        ids = list(session.scalars(select(Document.id)))
    d.reindex(ids)
    d.backend.settle()
    return {"settings": settings, "env": env, "dossier": d}


@pytest.fixture(
    scope="module", params=["sqlite", *TANTIVY, pytest.param("opensearch", marks=pytest.mark.opensearch)]
)
def home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    with backend_home(request.param, "pinyin-matrix", tmp_path_factory, _build) as built:
        yield built


@pytest.fixture(scope="module")
def app(home):
    from webui import create_app

    return create_app(home["settings"], {"TESTING": True})


def _search(client, query: str) -> dict:
    response = client.get("/api/search", query_string={"q": query, "limit": 100})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _titles(body: dict) -> set[str]:
    return {h["title"] for h in body["hits"]}


@pytest.mark.parametrize("username", list(USERS))
def test_pinyin_search_finds_only_what_the_user_may_read(app, username):
    client = login_client(app, username, PASSWORD)
    readable = {
        f"季度报告{LEVEL_WORDS[level][0]}{key}"
        for key in CUSTOMERS
        for level in LEVELS
        if allowed(username, level, key)
    }
    for query in ("jidubaogao", "jdbg"):  # the titles' full pinyin and initials
        body = _search(client, query)
        assert _titles(body) == readable, query
        assert body["total"] == len(readable)
        assert all(h["snippet"] for h in body["hits"])
    # Each customer by its names' pinyin: only the readable documents, never a hidden title in a snippet.
    for key, query in (("A", "mingyuankeji"), ("A", "hzmykjyxgs"), ("B", "chengmingjituan"), ("B", "cmjt")):
        body = _search(client, query)
        want = {f"季度报告{LEVEL_WORDS[level][0]}{key}" for level in LEVELS if allowed(username, level, key)}
        assert _titles(body) == want, query
        hidden = [LEVEL_WORDS[level][0] for level in LEVELS if not allowed(username, level, key)]
        assert not any(word in h["snippet"] for h in body["hits"] for word in hidden)
    # One level's title word: found exactly where that level is readable.
    for level, (_, pinyin) in LEVEL_WORDS.items():
        want = {f"季度报告{LEVEL_WORDS[level][0]}{key}" for key in CUSTOMERS if allowed(username, level, key)}
        assert _titles(_search(client, pinyin)) == want, pinyin


def _suggested(client, field: str, q: str) -> list[dict]:
    response = client.get("/api/suggest", query_string={"field": field, "q": q, "limit": 20})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["suggestions"]


@pytest.mark.parametrize("username", list(USERS))
def test_pinyin_autocomplete_offers_confirmed_customers_only(app, username):
    client = login_client(app, username, PASSWORD)
    for field in ("customer", "search"):
        assert [s["value"] for s in _suggested(client, field, "mingyuan")] == [CUSTOMERS["A"]]
        assert [s["value"] for s in _suggested(client, field, "cmjt")] == [CUSTOMERS["B"]]
        assert [s["value"] for s in _suggested(client, field, "chengm")] == [CUSTOMERS["B"]]
        # The suggested (明远光华新材料, 光华新材) and rejected (明远旧客户) customers are never offered.
        assert _suggested(client, field, "guanghua") == []
        assert _suggested(client, field, "ghxc") == []
        assert _suggested(client, field, "jiukehu") == []
        assert _suggested(client, field, "myjkh") == []
    # No document title is offered by pinyin either (suggestions are customers and readable tags).
    assert _suggested(client, "search", "jidubaogao") == []
