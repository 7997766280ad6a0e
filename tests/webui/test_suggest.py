"""``GET /api/suggest``: ranking (exact > prefix > substring), aliases insert the full name, limits and bad input.

The permission matrix per role is tests/e2e/test_permission_matrix_suggest.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import login_client

PASSWORD = "suggest-Passw0rd"
FULL = "光华物流（武汉）有限公司"


def _build(home: Path) -> dict:
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from records import Customer, Document, Page, Tag, Version

    settings = load_settings(
        environ={"DOSSIER_HOME": str(home), "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0"},
        dotenv=home / "none",
    )
    Dossier.open(settings, require_init=False).init(admin_password=PASSWORD)
    d = Dossier.open(settings)
    with d.sessions() as session:
        session.add_all(
            [
                Customer(name=FULL, aliases=["光华物流", "光华"], contacts=[], tags=["重点"]),
                Customer(name="光华科技有限公司", aliases=[], contacts=[], tags=["重点客户"]),
                Customer(name="武汉光华电子有限公司", aliases=[], contacts=[], tags=["非重点"]),
                Customer(name="Pacific Rim Trading Ltd", aliases=["PRT"], contacts=[]),
                *[Customer(name=f"测试客户{i:02d}有限公司", aliases=[], contacts=[]) for i in range(25)],
            ]
        )
        for number, names in enumerate((["重点", "重点客户"], ["非重点", "a_b"], ["axb", "100%"])):
            data = f"doc {number}".encode()
            doc = Document(
                title=f"doc {number}",
                doc_type="contract",
                confidentiality="public",
                status="indexed",
                versions=[
                    Version(
                        number=1,
                        sha256=d.blobs.put(data),
                        filename="d.txt",
                        mime="text/plain",
                        size=len(data),
                    )
                ],
                pages=[Page(number=1, text="doc")],
            )
            doc.tags = [Tag(name=n) for n in names]
            session.add(doc)
        session.commit()
    return {"settings": settings, "dossier": d}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    from webui import create_app

    built = _build(tmp_path_factory.mktemp("suggest"))
    try:
        yield login_client(create_app(built["settings"], {"TESTING": True}), "admin", PASSWORD)
    finally:
        built["dossier"].close()


def _get(client, **params):  # type: ignore[no-untyped-def]
    return client.get("/api/suggest", query_string=params)


def test_exact_before_prefix_before_substring_and_aliases_insert_the_full_name(client):
    body = _get(client, field="customer", q="光华").get_json()
    found = [(s["value"], s["match"], s["kind"]) for s in body["suggestions"]]
    assert found == [
        (FULL, "光华", "alias"),
        ("光华科技有限公司", "光华科技有限公司", "name"),
        ("武汉光华电子有限公司", "武汉光华电子有限公司", "name"),
    ]
    assert body["suggestions"][0]["customer_id"] > 0
    assert body["suggestions"][0]["label"] == "简称" and body["status"].startswith("3 条建议")
    # Case and width do not matter; a short name in another case still inserts the full name.
    assert [s["value"] for s in _get(client, field="customer", q="ｐｒｔ").get_json()["suggestions"]] == [
        "Pacific Rim Trading Ltd"
    ]


def test_tags_and_customer_tags_rank_the_same_way(client):
    tags = [s["value"] for s in _get(client, field="tag", q="重点").get_json()["suggestions"]]
    assert tags == ["重点", "重点客户", "非重点"]
    ctags = [s["value"] for s in _get(client, field="ctag", q="重点").get_json()["suggestions"]]
    assert ctags == ["重点", "重点客户", "非重点"]


def test_the_search_box_gets_customers_and_tags_ranked_together(client):
    found = [
        (s["kind"], s["value"])
        for s in _get(client, field="search", q="重点", limit=5).get_json()["suggestions"]
    ]
    assert found == [("tag", "重点"), ("tag", "重点客户"), ("tag", "非重点")]
    found = [
        (s["kind"], s["value"]) for s in _get(client, field="search", q="光华").get_json()["suggestions"]
    ]
    assert found[0] == ("alias", FULL)


def test_like_wildcards_are_plain_characters(client):
    assert [s["value"] for s in _get(client, field="tag", q="_").get_json()["suggestions"]] == ["a_b"]
    assert [s["value"] for s in _get(client, field="tag", q="%").get_json()["suggestions"]] == ["100%"]


def test_limits(client):
    def count(**params):  # type: ignore[no-untyped-def]
        return len(_get(client, field="customer", q="测试客户", **params).get_json()["suggestions"])

    assert count() == 10
    assert count(limit=3) == 3
    assert count(limit=500) == 20
    assert count(limit=0) == 1
    assert count(limit="x") == 10
    assert _get(client, field="customer", q="   ").get_json()["suggestions"] == []


def test_bad_input_is_a_400_that_says_what_to_do(client):
    response = _get(client, field="password", q="a")
    assert response.status_code == 400
    assert "customer" in response.get_json()["error"]
    response = _get(client, field="customer", q="光" * 65)
    assert response.status_code == 400
    assert "64" in response.get_json()["error"]


def test_english_labels(client):
    body = _get(client, field="customer", q="光华", lang="en").get_json()
    assert body["suggestions"][0]["label"] == "short name"
    assert body["status"].startswith("3 suggestions")
    assert (
        _get(client, field="customer", q="无此客户", lang="en").get_json()["status"]
        == "no matching suggestions"
    )


def test_the_forms_carry_the_combobox_hooks_and_the_script(client):
    from records import Customer, Document
    from webui.core import get_dossier

    with client.application.app_context(), get_dossier().sessions() as session:
        doc_id = session.query(Document.id).order_by(Document.id).first()[0]
        customer_id = session.query(Customer.id).filter(Customer.name == FULL).one()[0]
    pages = {
        "/": ['id="q"', 'data-suggest="search"'],
        "/upload": ['data-suggest="customer"', 'data-suggest="tag" data-suggest-multi'],
        f"/documents/{doc_id}/edit": ['data-suggest="tag" data-suggest-multi'],
        f"/customers/{customer_id}/edit": ['data-suggest="ctag" data-suggest-multi'],
        f"/bulk?scope=selected&ids={doc_id}": ['id="bulk-customer" name="customer" data-suggest="customer"'],
    }
    for path, hooks in pages.items():
        html = client.get(path).get_data(as_text=True)
        for hook in [*hooks, "autocomplete.js", "autocomplete.css", 'data-suggest-url="/api/suggest"']:
            assert hook in html, (path, hook)
