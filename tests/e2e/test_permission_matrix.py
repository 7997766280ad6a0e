"""The permission matrix (issue 7): every role × every confidentiality level × every entry point, on each backend.

A data home holds one scanned page (PNG) per confidentiality level and per owner — a customer
that ``sales1`` owns and one that ``sales2`` owns — all mentioning 季度报告.  For every user the
test computes what the rules in the issue allow, *independently of the code*, and checks each
entry point: search hits, totals and facet counts (API and CLI), the document page, its page
image, the download, a CSV export (API and CLI), the document API and ``dossier show --as``.
A document one may not read answers 404 everywhere, exactly like an id that does not exist.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw

from tests.conftest import TANTIVY, backend_home, login_client

LEVELS = ("public", "internal", "confidential", "finance")
PASSWORD = "matrix-test-Passw0rd"
#: username -> role; sales1 owns customer A, sales2 owns customer B.
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


def allowed(username: str, level: str, customer: str) -> bool:
    """The reading rules as issue 7 states them (written here, not imported from the code under test)."""
    role = USERS[username]
    if role in ("admin", "manager"):
        return True
    if role == "finance":
        return level in ("public", "internal", "finance")
    if role == "sales":
        return level in ("public", "internal") or (level == "confidential" and OWNERS[customer] == username)
    return level == "public"


def _png(text: str) -> bytes:
    img = Image.new("L", (640, 200), 255)
    ImageDraw.Draw(img).text((20, 80), text, fill=0)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def _build(home: Path, extra_env: dict[str, str]) -> dict:
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from records import Customer, Document, DocumentCustomer, Page, User, Version, hash_password

    env = {"DOSSIER_HOME": str(home), "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0", **extra_env}
    settings = load_settings(environ=env, dotenv=home / "none")
    Dossier.open(settings, require_init=False).init(admin_password=PASSWORD)
    d = Dossier.open(settings)
    docs: dict[int, tuple[str, str]] = {}
    with d.sessions() as session:
        users = {}
        for name, role in USERS.items():
            if name == "admin":
                continue
            users[name] = User(username=name, role=role, password_hash=hash_password(PASSWORD))
            session.add(users[name])
        customers = {
            key: Customer(name=name, aliases=[], contacts=[], owner=users[OWNERS[key]])
            for key, name in CUSTOMERS.items()
        }
        session.add_all(customers.values())
        rows = []
        for key in CUSTOMERS:
            for level in LEVELS:
                text = f"季度报告 {level} {key} 扫描件"
                data = _png(f"report {level} {key}")
                doc = Document(
                    title=f"季度报告_{level}_{key}",
                    doc_type="other",
                    confidentiality=level,
                    confidentiality_source="manual",
                    status="indexed",
                    customer=customers[key],
                    versions=[
                        Version(
                            number=1,
                            sha256=d.blobs.put(data),
                            filename=f"report-{level}-{key}.png",
                            mime="image/png",
                            size=len(data),
                        )
                    ],
                    pages=[Page(number=1, text=text, ocr=True, confidence=0.99)],
                )
                doc.customer_links = [
                    DocumentCustomer(customer=customers[key], method="given", position=0, score=1.0)
                ]
                session.add(doc)
                rows.append((doc, level, key))
        session.commit()
        docs = {doc.id: (level, key) for doc, level, key in rows}
    d.reindex(list(docs))
    d.backend.settle()
    return {"settings": settings, "env": env, "dossier": d, "docs": docs}


@pytest.fixture(
    scope="module", params=["sqlite", *TANTIVY, pytest.param("opensearch", marks=pytest.mark.opensearch)]
)
def home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The matrix's data home on each backend."""
    with backend_home(request.param, "matrix", tmp_path_factory, _build) as built:
        yield built


@pytest.fixture(scope="module")
def app(home):
    from webui import create_app

    return create_app(home["settings"], {"TESTING": True})


def _client(app, username: str):  # type: ignore[no-untyped-def]
    return login_client(app, username, PASSWORD)


def _expected(home: dict, username: str) -> set[int]:
    return {doc_id for doc_id, (level, key) in home["docs"].items() if allowed(username, level, key)}


@pytest.mark.parametrize("username", list(USERS))
def test_search_hits_totals_and_facets_show_exactly_what_the_role_may_read(home, app, username):
    """Search (API): the hits, the total and every facet count are those of the readable documents only."""
    client = _client(app, username)
    want = _expected(home, username)
    body = client.get("/api/search", query_string={"q": "季度报告", "limit": 100}).get_json()
    assert {h["id"] for h in body["hits"]} == want
    assert body["total"] == len(want)
    facets = body["facets"]
    if want:
        assert sum(f["count"] for f in facets["doc_type"]) == len(want)
        by_customer = {f["value"]: f["count"] for f in facets["customer"]}
        for key, name in CUSTOMERS.items():
            count = sum(1 for i in want if home["docs"][i][1] == key)
            assert by_customer.get(name, 0) == count
    else:
        assert all(not values for values in facets.values())
    empty = client.get("/api/search", query_string={"q": "", "limit": 100}).get_json()  # a filter-only search
    assert {h["id"] for h in empty["hits"]} == want and empty["total"] == len(want)


@pytest.mark.parametrize("username", list(USERS))
def test_document_page_image_download_and_api_follow_the_rules(home, app, username):
    """Each document: page, page image, download and API answer 200 when readable, else 404 (never 403)."""
    client = _client(app, username)
    want = _expected(home, username)
    for doc_id in home["docs"]:
        expected = 200 if doc_id in want else 404
        page = client.get(f"/documents/{doc_id}")
        image = client.get(f"/documents/{doc_id}/pages/1.png")
        download = client.get(f"/documents/{doc_id}/download")
        api = client.get(f"/api/documents/{doc_id}")
        assert (page.status_code, image.status_code, download.status_code, api.status_code) == (
            expected,
        ) * 4, doc_id
        if expected == 200:
            assert image.mimetype == "image/png" and image.data.startswith(b"\x89PNG")
            assert download.headers["Content-Disposition"].startswith("attachment")
        else:
            assert "季度报告" not in page.get_data(as_text=True)  # not even the title leaks


def test_guessing_ids_finds_nothing_hidden(home, app):
    """IDOR: a viewer walking every id (and some past the end) gets 404 for all but the public documents."""
    client = _client(app, "viewer1")
    public = _expected(home, "viewer1")
    top = max(home["docs"]) + 5
    for doc_id in range(1, top):
        for path in (
            f"/documents/{doc_id}",
            f"/documents/{doc_id}/download",
            f"/api/documents/{doc_id}",
            f"/documents/{doc_id}/pages/1.png",
        ):
            assert client.get(path).status_code == (200 if doc_id in public else 404), path


@pytest.mark.parametrize("username", list(USERS))
def test_exports_hold_exactly_what_the_role_may_read(home, app, username):
    """A CSV export (API) of the whole result has one row per readable document, nothing else."""
    client = _client(app, username)
    response = client.get("/api/export", query_string={"q": "季度报告", "format": "csv"})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    ids = {int(row["编号 id"]) for row in rows}  # the header is "中文 english"
    assert ids == _expected(home, username)


@pytest.mark.parametrize("username", [u for u in USERS if u != "admin"])
def test_the_cli_as_a_user_follows_the_same_rules(home, username, tmp_path):
    """`dossier search/show/export --as USER` answer exactly as the web does for that user."""
    from dossier.cli import cli

    runner = CliRunner(env=home["env"])
    want = _expected(home, username)
    found = runner.invoke(
        cli, ["search", "季度报告", "--as", username, "--json", "--limit", "100"], catch_exceptions=False
    )
    assert found.exit_code == 0, found.output
    body = json.loads(found.output)
    assert {h["id"] for h in body["hits"]} == want and body["total"] == len(want)
    for doc_id in home["docs"]:
        shown = runner.invoke(cli, ["show", str(doc_id), "--as", username, "--json"], catch_exceptions=False)
        assert (shown.exit_code == 0) == (doc_id in want), (doc_id, shown.output)
        if doc_id not in want:
            assert "季度报告" not in shown.output
    out = tmp_path / f"{username}.csv"
    exported = runner.invoke(
        cli,
        ["export", "季度报告", "--as", username, "--format", "csv", "-o", str(out)],
        catch_exceptions=False,
    )
    assert exported.exit_code == 0, exported.output
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(want)
