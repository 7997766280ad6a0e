"""The permission matrix of issue 17's search fields: file-format and scan facets and filters, field-query
snippets and display titles, for every role on each backend (web API, search page parameters, CLI).

Per customer (A owned by ``sales1``, B by ``sales2``) and confidentiality level: a scanned PDF contract with
a generic title (采购合同), a contract number, a phone number and a date; and a Word file with a title of its
own.  What each user may see is computed here from the reading rules, independently of the code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import TANTIVY, backend_home, login_client
from tests.e2e.test_permission_matrix import CUSTOMERS, OWNERS, USERS, allowed

LEVELS = ("public", "internal", "confidential", "finance")
PASSWORD = "formats-matrix-Passw0rd"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _phone(level: str, key: str) -> str:
    return f"1380000{LEVELS.index(level)}{'AB'.index(key)}00"


def _build(home: Path, extra_env: dict[str, str]) -> dict:
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from records import Customer, Document, DocumentCustomer, EntityRow, Page, User, Version, hash_password

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
            key: Customer(name=name, aliases=[], contacts=[], owner=users[OWNERS[key]])
            for key, name in CUSTOMERS.items()
        }
        session.add_all(customers.values())
        rows = []
        for key in CUSTOMERS:
            for level in LEVELS:
                phone = _phone(level, key)
                shown = f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
                scan_text = (
                    "甲方声明。" * 30 + f"联系电话：{shown}。合同编号：HT-{level}-{key}。" + "违约金。" * 30
                )
                for kind, title, mime, filename, text, ocr in (
                    ("pdf", "采购合同", PDF, f"scan-{level}-{key}.pdf", scan_text, True),
                    (
                        "word",
                        f"{CUSTOMERS[key]}年度服务方案_{level}",
                        DOCX,
                        f"plan-{level}-{key}.docx",
                        "年度服务方案 年度合同",
                        False,
                    ),
                ):
                    data = f"{kind}{level}{key}".encode()
                    doc = Document(
                        title=title,
                        doc_type="contract" if kind == "pdf" else "proposal",
                        confidentiality=level,
                        confidentiality_source="manual",
                        status="indexed",
                        doc_date="2024-05-06" if kind == "pdf" else None,
                        customer=customers[key],
                        versions=[
                            Version(
                                number=1,
                                sha256=d.blobs.put(data),
                                filename=filename,
                                mime=mime,
                                size=len(data),
                            )
                        ],
                        pages=[Page(number=1, text=text + " 年度合同", ocr=ocr)],
                        entities=[
                            EntityRow(kind="phone", value=phone, text=shown, page=1, start=0, end=1),
                            EntityRow(
                                kind="contract_no",
                                value=f"HT-{level}-{key}".upper(),
                                text="x",
                                page=1,
                                start=0,
                                end=1,
                            ),
                        ]
                        if kind == "pdf"
                        else [],
                    )
                    doc.customer_links = [
                        DocumentCustomer(customer=customers[key], method="given", position=0, score=1.0)
                    ]
                    session.add(doc)
                    rows.append((doc, kind, level, key))
        session.commit()
        docs = {doc.id: (kind, level, key) for doc, kind, level, key in rows}
    d.reindex(list(docs))
    d.backend.settle()
    return {"settings": settings, "env": env, "dossier": d, "docs": docs}


@pytest.fixture(
    scope="module", params=["sqlite", *TANTIVY, pytest.param("opensearch", marks=pytest.mark.opensearch)]
)
def home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    with backend_home(request.param, "formats-matrix", tmp_path_factory, _build) as built:
        yield built


@pytest.fixture(scope="module")
def app(home):
    from webui import create_app

    return create_app(home["settings"], {"TESTING": True})


def _readable(home: dict, username: str, kind: str | None = None) -> set[int]:
    return {
        i
        for i, (k, level, key) in home["docs"].items()
        if allowed(username, level, key) and (kind is None or k == kind)
    }


@pytest.mark.parametrize("username", list(USERS))
def test_format_and_scan_facets_count_only_readable_documents(home, app, username):
    client = login_client(app, username, PASSWORD)
    body = client.get("/api/search", query_string={"q": "年度合同", "limit": 100}).get_json()
    pdfs, words = _readable(home, username, "pdf"), _readable(home, username, "word")
    assert body["total"] == len(pdfs) + len(words)
    formats = {f["value"]: f["count"] for f in body["facets"].get("format", [])}
    scans = {f["value"]: f["count"] for f in body["facets"].get("scan", [])}
    assert formats == {k: n for k, n in (("pdf", len(pdfs)), ("word", len(words))) if n}
    assert scans == ({"scan": len(pdfs)} if pdfs else {})


@pytest.mark.parametrize("username", list(USERS))
def test_format_and_scan_filters_never_reach_past_the_permissions(home, app, username):
    client = login_client(app, username, PASSWORD)
    pdfs, words = _readable(home, username, "pdf"), _readable(home, username, "word")
    for params, want in (
        ({"file_format": "pdf"}, pdfs),
        ({"file_format": ["pdf", "word"]}, pdfs | words),
        ({"scan": "1"}, pdfs),
        ({"q": "format:word"}, words),
        ({"q": "is:scan"}, pdfs),
        ({"q": "年度合同 -is:scan"}, words),
        ({"q": "格式:docx", "scan": "1"}, set()),
    ):
        body = client.get("/api/search", query_string={"limit": 100, **params}).get_json()
        assert {h["id"] for h in body["hits"]} == want, (username, params)


def test_an_unknown_format_parameter_is_a_400(home, app):
    client = login_client(app, "admin", PASSWORD)
    answer = client.get("/api/search", query_string={"file_format": "xyz"})
    assert answer.status_code == 400
    assert "xyz" in answer.get_data(as_text=True)


@pytest.mark.parametrize("username", ["sales1", "viewer1", "manager1"])
def test_a_phone_search_shows_the_passage_of_the_number_to_those_who_read_it(home, app, username):
    client = login_client(app, username, PASSWORD)
    for doc_id, (kind, level, key) in home["docs"].items():
        if kind != "pdf" or key != "A":
            continue
        phone = _phone(level, key)
        body = client.get("/api/search", query_string={"q": f"phone:{phone}"}).get_json()
        if not allowed(username, level, key):
            assert body["hits"] == [] and body["total"] == 0
            continue
        (hit,) = body["hits"]
        assert hit["id"] == doc_id
        assert f"<mark>{phone[:3]}-{phone[3:7]}-{phone[7:]}</mark>" in hit["snippet"]
        assert not hit["snippet"].startswith("甲方声明")


def test_generic_titles_are_shown_as_type_customer_number_date(home, app):
    client = login_client(app, "admin", PASSWORD)
    for lang, label in (("zh", "合同"), ("en", "Contract")):
        body = client.get(
            "/api/search", query_string={"q": "年度合同", "limit": 100, "lang": lang}
        ).get_json()
        for hit in body["hits"]:
            kind, level, key = home["docs"][hit["id"]]
            if kind == "pdf":
                assert hit["title"] == "采购合同"  # the stored title stays
                assert hit["title_parts"] == {
                    "type": "contract",
                    "customer": CUSTOMERS[key],
                    "number": f"HT-{level}-{key}".upper(),
                    "date": "2024-05-06",
                }
                number = f"HT-{level}-{key}".upper()
                assert hit["display_title"] == f"{label} · {CUSTOMERS[key]} · {number} · 2024-05-06"
            else:
                assert hit["display_title"] == hit["title"] and hit["title_parts"] == {}


@pytest.mark.parametrize("username", ["sales1", "viewer1", "finance1"])
def test_the_cli_search_by_format_and_scans_as_a_user(home, username):
    from dossier.cli import cli

    runner = CliRunner(env=home["env"])
    found = runner.invoke(
        cli, ["search", "年度合同", "--file-format", "pdf", "--scans", "--as", username, "--json"]
    )
    assert found.exit_code == 0, found.output
    result = json.loads(found.output)
    assert {h["id"] for h in result["hits"]} == _readable(home, username, "pdf")
    assert all(h["display_title"].startswith("合同 · ") for h in result["hits"])
    shown = runner.invoke(cli, ["search", "年度合同", "--file-format", "word", "--as", username])
    assert shown.exit_code == 0, shown.output
    assert all("采购合同" not in line for line in shown.output.splitlines()[1:] if line.startswith("["))
