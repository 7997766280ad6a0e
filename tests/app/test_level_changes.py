"""Who may lower a confidentiality level (trust issue, item 2), through the web pages and a worker.

A level follows the document's type until a manager sets one.  Only managers and admins may
lower it — directly, or as a side effect of a new type or a new version; everyone else's edits
keep or raise it, and a later re-extraction does not undo that.  Every change of level is audited.
"""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from index import Principal, SearchRequest
from records import Customer, Document, User, hash_password
from tests.conftest import DEV, audit_events, login_client

CONTRACT = DEV / "contracts" / "产品购销合同_宏图集团_HT-2023-1004.pdf"
INVOICE = DEV / "invoices" / "发票_Contoso_00244890.pdf"
QUOTE = DEV / "quotes" / "报价单_中盈环保_20241001.html"
PASSWORD = "levels-Test-Passw0rd!"
ADMIN = Principal("admin", "admin")


@pytest.fixture
def home(dossier):
    """The contract (of 宏图集团, owned by sales1), the invoice, and users of each role; the web app."""
    from webui import create_app

    with dossier.sessions() as session:
        users = {
            name: User(username=name, role=role, password_hash=hash_password(PASSWORD))
            for name, role in (
                ("manager1", "manager"),
                ("sales1", "sales"),
                ("sales2", "sales"),
                ("finance1", "finance"),
            )
        }
        session.add_all(users.values())
        session.add(
            Customer(name="上海宏图集团有限公司", aliases=["宏图集团"], contacts=[], owner=users["sales1"])
        )
        session.commit()
    summary = dossier.ingest_paths([CONTRACT, INVOICE])
    assert summary["ingested"] == 2, summary
    ids = {doc["file"].rsplit("/", 1)[-1]: doc["id"] for doc in summary["documents"]}
    app = create_app(dossier.settings, {"TESTING": True})
    return dossier, app, ids[CONTRACT.name], ids[INVOICE.name]


def _client(app, username: str):  # type: ignore[no-untyped-def]
    return login_client(app, username, PASSWORD)


def _token(client, path: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def _retype(client, doc_id: int, doc_type: str):  # type: ignore[no-untyped-def]
    token = _token(client, f"/documents/{doc_id}/edit")
    return client.post(f"/documents/{doc_id}/edit", data={"csrf_token": token, "doc_type": doc_type})


def _level(d, doc_id: int) -> str:  # type: ignore[no-untyped-def]
    return str(d.show(doc_id, ADMIN)["confidentiality"])


def test_a_sales_rep_retyping_a_contract_keeps_it_confidential(home):
    """The owner's rep posts doc_type=other: the type changes, the level stays; another rep still sees nothing."""
    d, app, contract, _invoice = home
    assert _level(d, contract) == "confidential"
    owner = _client(app, "sales1")
    assert _retype(owner, contract, "other").status_code == 302
    shown = d.show(contract, ADMIN)
    assert (shown["doc_type"], shown["confidentiality"]) == ("other", "confidential")
    other = _client(app, "sales2")
    assert other.get(f"/documents/{contract}").status_code == 404
    assert contract not in {
        h["id"] for h in other.get("/api/search", query_string={"q": "HT-2023-1004"}).get_json()["hits"]
    }
    d.customers.reextract(
        [contract]
    )  # a later re-extraction (registry change, upgrade) does not lower it either
    assert _level(d, contract) == "confidential"
    change = audit_events(d, "metadata_change")[-1]
    assert (change.username, change.target_id, change.detail["changed"]["doc_type"]) == (
        "sales1",
        contract,
        ["contract", "other"],
    )


def test_a_finance_user_retyping_an_invoice_keeps_it_finance(home):
    """A finance user retypes an invoice as a quote (web): it stays a finance document."""
    d, app, _contract, invoice = home
    finance = _client(app, "finance1")
    assert _retype(finance, invoice, "quote").status_code == 302
    assert (d.show(invoice, ADMIN)["doc_type"], _level(d, invoice)) == ("quote", "finance")
    assert invoice not in {h["id"] for h in d.search(SearchRequest(""), Principal("sales2", "sales"))["hits"]}


def test_a_type_that_raises_the_level_applies_and_is_audited(home):
    """Anyone's edit may raise a level: a rep retypes the quote she uploaded as a contract — now confidential."""
    d, app, _contract, _invoice = home
    summary = d.ingest_paths([QUOTE], uploaded_by="sales2")
    quote = summary["documents"][0]["id"]
    assert _level(d, quote) == "internal"
    assert _retype(_client(app, "sales2"), quote, "contract").status_code == 302
    assert _level(d, quote) == "confidential"
    event = audit_events(d, "permission_change")[-1]
    assert (event.username, event.target_id, event.detail["before"], event.detail["after"]) == (
        "sales2",
        quote,
        "internal",
        "confidential",
    )


def test_a_level_never_moves_sideways_by_a_new_type(home):
    """Confidential and finance are not above one another: a finance user retyping an invoice as a contract
    keeps it finance (a contract level would open it to the customer's rep and close it to finance)."""
    d, app, _contract, invoice = home
    assert _retype(_client(app, "finance1"), invoice, "contract").status_code == 302
    assert (d.show(invoice, ADMIN)["doc_type"], _level(d, invoice)) == ("contract", "finance")


def test_a_manager_may_lower_a_level_by_retyping_and_it_is_audited(home):
    """A manager's new type lowers the level (a side effect they may cause); the trail says so."""
    d, app, contract, _invoice = home
    assert _retype(_client(app, "sales1"), contract, "other").status_code == 302  # kept confidential
    assert _retype(_client(app, "manager1"), contract, "quote").status_code == 302
    assert _level(d, contract) == "internal"
    event = audit_events(d, "permission_change")[-1]
    assert (event.username, event.detail["before"], event.detail["after"]) == (
        "manager1",
        "confidential",
        "internal",
    )
    assert contract in {h["id"] for h in d.search(SearchRequest(""), Principal("sales2", "sales"))["hits"]}


def test_a_new_version_by_a_sales_rep_does_not_lower_the_level(home, redis_url):
    """The owner's rep uploads a quote as a new version of the contract (web); the worker types it a quote,
    and the document stays confidential.  The same upload by a manager lowers it, audited."""
    from workers import run_worker

    d, app, contract, _invoice = home
    settings = d.settings.with_overrides(
        DOSSIER_REDIS_URL=redis_url
    )  # the same home, with a queue and a worker
    app = __import__("webui").create_app(settings, {"TESTING": True})
    owner = _client(app, "sales1")
    token = _token(owner, f"/documents/{contract}")
    upload = owner.post(
        f"/documents/{contract}/version",
        content_type="multipart/form-data",
        data={"csrf_token": token, "file": (io.BytesIO(QUOTE.read_bytes()), QUOTE.name)},
    )
    assert upload.status_code == 302
    run_worker(settings, burst=True)
    shown = d.show(contract, ADMIN)
    assert (shown["status"], shown["doc_type"], shown["confidentiality"]) == (
        "indexed",
        "quote",
        "confidential",
    )
    assert contract not in {
        h["id"] for h in d.search(SearchRequest("中盈环保"), Principal("sales2", "sales"))["hits"]
    }
    # A manager's new version may lower it (the type it gets now decides), and that is audited.
    with d.sessions() as session:
        doc = session.get(Document, contract)
        doc.confidentiality_source = "type"  # as if the rep had never touched it
        session.commit()
    manager = _client(app, "manager1")
    token = _token(manager, f"/documents/{contract}")
    text = "报价单\n客户：上海宏图集团有限公司\n报价编号：BJ-2031-0077\n有效期三十天".encode()
    assert (
        manager.post(
            f"/documents/{contract}/version",
            content_type="multipart/form-data",
            data={"csrf_token": token, "file": (io.BytesIO(text), "报价单_v3.txt")},
        ).status_code
        == 302
    )
    run_worker(settings, burst=True)
    assert (d.show(contract, ADMIN)["doc_type"], _level(d, contract)) == ("quote", "internal")
    with d.sessions() as session:
        assert (
            session.scalars(select(Document.confidentiality_source).where(Document.id == contract)).one()
            == "type"
        )
    event = audit_events(d, "permission_change")[-1]
    assert (event.target_id, event.detail["before"], event.detail["after"]) == (
        contract,
        "confidential",
        "internal",
    )


def test_a_sales_rep_cannot_lower_a_level_directly(home):
    """Posting a lower confidentiality is refused (403) for anyone but managers and admins."""
    d, app, contract, _invoice = home
    owner = _client(app, "sales1")
    token = _token(owner, f"/documents/{contract}/edit")
    response = owner.post(
        f"/documents/{contract}/edit", data={"csrf_token": token, "confidentiality": "internal"}
    )
    assert response.status_code == 403
    assert _level(d, contract) == "confidential"
