"""The permission matrix for activities and comments (issue 16, item 5), on each backend.

A data home holds, for a customer ``sales1`` owns (A) and one ``sales2`` owns (B), a call logged
at each of the levels internal, confidential and finance, and a comment at each of those levels
on an internal document of that customer — all mentioning 回访.  For every user the test computes
what the rules allow, *independently of the code* (a rep reads what is internal or lower plus the
confidential ones of the customers they own; finance internal and finance; managers and admins
everything; viewers only public), and checks every entry point: search hits, totals and facet
counts (API, CLI), the API list, the customer timeline (API and page), the CLI list and exports
(API CSV, CLI JSON Lines).  Then who may log: each role against each customer.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import TANTIVY, backend_home, login_client

# The reading rules as the issue states them, written once apart from the code under test.
from tests.e2e.test_permission_matrix import CUSTOMERS, OWNERS, USERS, allowed

LEVELS = ("internal", "confidential", "finance")
PASSWORD = "matrix-act-Passw0rd"


def _build(home: Path, extra_env: dict[str, str]) -> dict:
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from index import Principal
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
            key: Customer(name=name, aliases=[], contacts=[{"name": "张三"}], owner=users[OWNERS[key]])
            for key, name in CUSTOMERS.items()
        }
        session.add_all(customers.values())
        docs = {}
        for key, customer in customers.items():
            data = f"合同草稿 {key}".encode()
            doc = Document(
                title=f"合同草稿_{key}",
                doc_type="other",
                confidentiality="internal",
                confidentiality_source="manual",
                status="indexed",
                customer=customer,
                versions=[
                    Version(
                        number=1,
                        sha256=d.blobs.put(data),
                        filename=f"draft-{key}.txt",
                        mime="text/plain",
                        size=len(data),
                    )
                ],
                pages=[Page(number=1, text=f"合同草稿 {key}")],
            )
            doc.customer_links = [DocumentCustomer(customer=customer, method="given", position=0, score=1.0)]
            session.add(doc)
            docs[key] = doc
        session.commit()
        doc_ids = {key: doc.id for key, doc in docs.items()}
        customer_ids = {key: c.id for key, c in customers.items()}
    d.reindex(list(doc_ids.values()))
    operator = Principal.system()
    entries: dict[int, tuple[str, str, str]] = {}  # activity id -> (level, customer key, kind)
    for key in CUSTOMERS:
        for level in LEVELS:
            call = d.activities.add(
                operator,
                kind="call",
                customer=customer_ids[key],
                body=f"回访纪要 {level} {key}",
                contacts=["张三"],
                confidentiality=level,
            )
            entries[call["id"]] = (level, key, "call")
            remark = d.activities.comment(
                operator, doc_ids[key], f"回访评论 {level} {key}", confidentiality=level
            )
            assert remark["confidentiality"] == level
            entries[remark["id"]] = (level, key, "comment")
    d.backend.settle()
    return {
        "settings": settings,
        "env": env,
        "dossier": d,
        "entries": entries,
        "docs": doc_ids,
        "customers": customer_ids,
    }


@pytest.fixture(
    scope="module", params=["sqlite", *TANTIVY, pytest.param("opensearch", marks=pytest.mark.opensearch)]
)
def home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The matrix's data home on each backend."""
    with backend_home(request.param, "matrix-act", tmp_path_factory, _build) as built:
        yield built


@pytest.fixture(scope="module")
def app(home):
    from webui import create_app

    return create_app(home["settings"], {"TESTING": True})


def _expected(home: dict, username: str, customer: str | None = None) -> set[int]:
    return {
        aid
        for aid, (level, key, _kind) in home["entries"].items()
        if allowed(username, level, key) and (customer is None or key == customer)
    }


@pytest.mark.parametrize("username", list(USERS))
def test_search_hits_totals_and_facets(home, app, username):
    """Search (API): the activity hits, the total and the doc_type facet counts are the readable ones only."""
    client = login_client(app, username, PASSWORD)
    want = _expected(home, username)
    body = client.get("/api/search", query_string={"q": "回访", "limit": 100}).get_json()
    assert {h["activity"] for h in body["hits"]} == want
    assert all(h["id"] == 0 and h["doc_type"] in ("activity", "comment") for h in body["hits"])
    assert body["total"] == len(want)
    facets = {f["value"]: f["count"] for f in body["facets"].get("doc_type", [])}
    calls = sum(1 for i in want if home["entries"][i][2] == "call")
    assert facets.get("activity", 0) == calls
    assert facets.get("comment", 0) == len(want) - calls
    by_customer = {f["value"]: f["count"] for f in body["facets"].get("customer", [])}
    for key, name in CUSTOMERS.items():
        assert by_customer.get(name, 0) == len(_expected(home, username, key))
    only = client.get("/api/search", query_string={"q": "", "activities": "only", "limit": 100}).get_json()
    assert {h["activity"] for h in only["hits"]} == want and only["total"] == len(want)
    docs = client.get("/api/search", query_string={"q": "回访 OR 草稿", "activities": "exclude"}).get_json()
    assert all(not h.get("activity") for h in docs["hits"])


@pytest.mark.parametrize("username", list(USERS))
def test_api_list_and_single_reads(home, app, username):
    """GET /api/activities lists the readable ones; one not readable answers 404 like one that does not exist."""
    client = login_client(app, username, PASSWORD)
    want = _expected(home, username)
    body = client.get("/api/activities", query_string={"per_page": 200}).get_json()
    assert {a["id"] for a in body["items"]} == want and body["total"] == len(want)
    for key in CUSTOMERS:
        mine = client.get("/api/activities", query_string={"customer": home["customers"][key]}).get_json()
        assert {a["id"] for a in mine["items"]} == _expected(home, username, key)
    for aid in home["entries"]:
        response = client.get(f"/api/activities/{aid}")
        assert response.status_code == (200 if aid in want else 404), aid
    assert client.get("/api/activities/999999").status_code == 404


@pytest.mark.parametrize("username", list(USERS))
def test_timeline_shows_the_readable_ones(home, app, username):
    """The customer timeline (API and page) holds exactly the readable activities and comments, and the document."""
    client = login_client(app, username, PASSWORD)
    for key, customer_id in home["customers"].items():
        want = _expected(home, username, key)
        body = client.get(f"/api/customers/{customer_id}/timeline", query_string={"per_page": 200}).get_json()
        got = {i["id"] for i in body["items"] if i["kind"] in ("activity", "comment")}
        assert got == want
        documents = {i["id"] for i in body["items"] if i["kind"] == "document"}
        assert documents == ({home["docs"][key]} if USERS[username] != "viewer" else set())
        assert body["total"] == len(want) + len(documents)
        only = client.get(
            f"/api/customers/{customer_id}/timeline", query_string={"kind": "comment"}
        ).get_json()
        assert {i["id"] for i in only["items"]} == {i for i in want if home["entries"][i][2] == "comment"}
        page = client.get(f"/customers/{customer_id}").get_data(as_text=True)
        for aid, (level, k, kind) in home["entries"].items():
            if k != key:
                continue
            text = f"回访{'纪要' if kind == 'call' else '评论'} {level} {key}"
            assert (text in page) == (aid in want), (text, username)


@pytest.mark.parametrize("username", list(USERS))
def test_exports_hold_exactly_the_readable_ones(home, app, username):
    """A CSV export (API) has one row per readable activity or comment, with its kind."""
    client = login_client(app, username, PASSWORD)
    response = client.get("/api/export", query_string={"q": "回访", "format": "csv"})
    want = _expected(home, username)
    if not want:
        assert response.status_code in (200, 400)
        if response.status_code == 200:
            assert not list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
        return
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert {int(row["编号 id"]) for row in rows} == want
    kinds = {int(row["编号 id"]): row["记录类型 kind"] for row in rows}
    for aid in want:
        assert kinds[aid] == ("电话" if home["entries"][aid][2] == "call" else "评论")


@pytest.mark.parametrize("username", [u for u in USERS if u != "admin"])
def test_the_cli_as_a_user_follows_the_same_rules(home, username, tmp_path):
    """`dossier activities list`, `dossier search --json` and `dossier export` as USER answer as the web does."""
    from dossier.cli import cli

    runner = CliRunner(env=home["env"])
    want = _expected(home, username)
    listed = runner.invoke(
        cli, ["activities", "list", "--as", username, "--json", "--limit", "200"], catch_exceptions=False
    )
    assert listed.exit_code == 0, listed.output
    assert {a["id"] for a in json.loads(listed.output)["items"]} == want
    found = runner.invoke(
        cli, ["search", "回访", "--as", username, "--json", "--limit", "100"], catch_exceptions=False
    )
    assert found.exit_code == 0, found.output
    body = json.loads(found.output)
    assert {h["activity"] for h in body["hits"]} == want and body["total"] == len(want)
    out = tmp_path / f"{username}.jsonl"
    exported = runner.invoke(
        cli, ["export", "回访", "--as", username, "--format", "jsonl", "-o", str(out)], catch_exceptions=False
    )
    if want:
        assert exported.exit_code == 0, exported.output
        lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line]
        assert {r["activity"] for r in lines} == want
        assert all(r["kind"] in ("call", "comment") and r["id"] == 0 for r in lines)


@pytest.mark.parametrize("username", list(USERS))
def test_who_may_log_and_delete(home, app, username):
    """POST /api/activities: admins, managers and finance on any customer, a rep on their own, viewers never (403)."""
    client = login_client(app, username, PASSWORD)
    token = client.get("/api/status").headers.get("X-CSRF-Token")
    page = client.get(f"/customers/{home['customers']['A']}").get_data(as_text=True)
    import re

    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    token = match.group(1) if match else token
    headers = {"X-CSRF-Token": token} if token else {}
    role = USERS[username]
    for key, customer_id in home["customers"].items():
        may = role in ("admin", "manager", "finance") or (role == "sales" and OWNERS[key] == username)
        response = client.post(
            "/api/activities",
            json={"kind": "visit", "customer": customer_id, "body": "权限写入测试", "contacts": ["张三"]},
            headers=headers,
        )
        assert response.status_code == (201 if may else 403), (key, response.get_data(as_text=True)[:300])
        body = response.get_json()
        if may:
            assert body["author"] == username and body["customer"]["id"] == customer_id
            gone = client.delete(f"/api/activities/{body['id']}", headers=headers)
            assert gone.status_code == 200
        else:
            assert body["error"]
    # Comments: anyone who reads the document but viewers.
    response = client.post(
        "/api/activities",
        json={"kind": "comment", "document": home["docs"]["A"], "body": "权限评论测试"},
        headers=headers,
    )
    if role == "viewer":
        assert response.status_code in (403, 404)
    else:
        assert response.status_code == 201, response.get_data(as_text=True)[:300]
        assert (
            client.delete(f"/api/activities/{response.get_json()['id']}", headers=headers).status_code == 200
        )


def test_a_full_reindex_keeps_every_activity(home, app):
    """`dossier reindex` (a whole rebuild, through the engine's rebuild) writes the activities' entries again."""
    d = home["dossier"]
    d.reindex()
    d.backend.settle()
    client = login_client(app, "admin", PASSWORD)
    body = client.get("/api/search", query_string={"q": "回访", "limit": 100}).get_json()
    assert {h["activity"] for h in body["hits"]} == set(home["entries"])
    assert d.integrity.check().ok
