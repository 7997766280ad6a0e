"""Changing documents (issue 7): levels by type, edits, new versions, deletes, page images — with who may do each.

Real files of the dev corpus go through the real intake (inline, no Redis); the web tests use
the real Flask app with its login form and CSRF tokens.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from foundation.messages import load_stored
from index import Principal, SearchRequest
from records import Customer, Document, User, hash_password
from tests.conftest import DEV, audit_events

INVOICE = DEV / "invoices" / "发票_Contoso_00244890.pdf"
CONTRACT = DEV / "contracts" / "产品购销合同_宏图集团_HT-2023-1004.pdf"
QUOTE = DEV / "quotes" / "报价单_中盈环保_20241001.html"
DOCX = DEV / "contracts" / "产品购销合同_Fabrikam_XS2024080606.docx"
PASSWORD = "writes-test-Passw0rd"

ADMIN = Principal("admin", "admin")
MANAGER = Principal("manager1", "manager")
VIEWER = Principal("viewer1", "viewer")


@pytest.fixture
def home(dossier):
    """The conftest Dossier with the invoice, contract, quote and DOCX ingested, and users of each role."""
    summary = dossier.ingest_paths([INVOICE, CONTRACT, QUOTE, DOCX])
    assert summary["ingested"] == 4, summary
    ids = {doc["file"].rsplit("/", 1)[-1]: doc["id"] for doc in summary["documents"]}
    with dossier.sessions() as session:
        for name, role in (
            ("manager1", "manager"),
            ("sales1", "sales"),
            ("sales2", "sales"),
            ("viewer1", "viewer"),
            ("finance1", "finance"),
        ):
            session.add(User(username=name, role=role, password_hash=hash_password(PASSWORD)))
        session.commit()
    return dossier, ids


def test_levels_follow_the_document_type(home):
    """Invoices are finance documents, contracts confidential, everything else internal — as intake types them."""
    d, ids = home
    levels = {name: d.show(doc_id, ADMIN)["confidentiality"] for name, doc_id in ids.items()}
    assert levels[INVOICE.name] == "finance"
    assert levels[CONTRACT.name] == "confidential"
    assert levels[QUOTE.name] == "internal"
    sales = Principal("sales1", "sales")
    found = {h["id"] for h in d.search(SearchRequest(""), sales)["hits"]}
    assert ids[INVOICE.name] not in found and ids[CONTRACT.name] not in found and ids[QUOTE.name] in found


def test_a_manager_sets_the_level_and_retyping_keeps_it(home):
    """A level a manager chose survives re-extraction; the change is audited and searchable at once."""
    d, ids = home
    doc_id = ids[INVOICE.name]
    result = d.documents.update(doc_id, MANAGER, confidentiality="public")
    assert result["changed"] == {"confidentiality": ["finance", "public"]}
    d.customers.reextract([doc_id])
    assert d.show(doc_id, ADMIN)["confidentiality"] == "public"
    assert doc_id in {h["id"] for h in d.search(SearchRequest(""), VIEWER)["hits"]}
    event = audit_events(d, "permission_change")[-1]
    assert (event.username, event.target_id, event.detail["before"], event.detail["after"]) == (
        "manager1",
        doc_id,
        "finance",
        "public",
    )


def test_a_new_type_moves_a_level_that_follows_the_type(home):
    """Retyping a quote as an invoice (by hand) makes it a finance document; the type stays through re-extraction."""
    d, ids = home
    doc_id = ids[QUOTE.name]
    result = d.documents.update(
        doc_id, ADMIN, doc_type="invoice", title="改名后的发票", tags=["重点", "2024"]
    )
    assert result["changed"]["doc_type"] == ["quote", "invoice"]
    assert result["changed"]["confidentiality"] == ["internal", "finance"]
    d.customers.reextract([doc_id])
    shown = d.show(doc_id, ADMIN)
    assert (shown["doc_type"], shown["confidentiality"], shown["title"], sorted(shown["tags"])) == (
        "invoice",
        "finance",
        "改名后的发票",
        ["2024", "重点"],
    )
    assert [h["id"] for h in d.search(SearchRequest("改名后的发票"), ADMIN)["hits"]] == [doc_id]
    assert audit_events(d, "metadata_change")[-1].detail["changed"]["title"][1] == "改名后的发票"


def test_who_may_edit(home):
    """Sales edit their own customers' documents and what they uploaded; viewers nothing; unreadable is 404."""
    from foundation.errors import Forbidden, NotFound

    d, ids = home
    quote = ids[QUOTE.name]
    with d.sessions() as session:
        doc = session.get(Document, quote)
        owner = session.scalars(select(User).where(User.username == "sales1")).one()
        customer = Customer(name="中盈环保测试客户有限公司", aliases=[], contacts=[], owner=owner)
        doc.customer = customer
        session.commit()
        owned = frozenset({customer.id})
    sales1 = Principal("sales1", "sales", owned_customer_ids=owned)
    assert d.documents.update(quote, sales1, title="销售改的标题")["changed"]
    with pytest.raises(Forbidden):
        d.documents.update(quote, Principal("sales2", "sales"), title="别人的")
    with pytest.raises(Forbidden):
        d.documents.update(quote, sales1, confidentiality="public")  # levels are for managers
    with pytest.raises(Forbidden):
        d.documents.update(
            quote, Principal("finance1", "finance"), title="x"
        )  # finance edits finance documents only
    with pytest.raises(NotFound):
        d.documents.update(quote, VIEWER, title="x")  # an internal document: a viewer cannot even see it
    with pytest.raises(NotFound):
        d.documents.update(ids[INVOICE.name], sales1, title="看不见的")  # a finance document: not even there
    assert d.documents.update(ids[INVOICE.name], Principal("finance1", "finance"), title="财务改")["changed"]


def test_a_new_version_replaces_the_text_and_keeps_the_history(home, redis_url, request):
    """A new version is stored, processed by a worker and becomes what is searched; the old one stays listed."""
    from dossier.app.services import Dossier
    from workers import run_worker

    d, ids = home
    d = Dossier.open(d.settings.with_overrides(DOSSIER_REDIS_URL=redis_url))  # the same home, with a queue
    request.addfinalizer(d.close)
    doc_id = ids[DOCX.name]
    new_text = "新版本合同正文：珊瑚项目补充协议，金额 ¥66,000.00。".encode()
    outcome = d.documents.add_version(doc_id, "补充协议_v2.txt", new_text, MANAGER)
    assert outcome["status"] == "queued" and outcome["id"] == doc_id
    again = d.documents.add_version(doc_id, "again.txt", b"x" * 10, MANAGER)
    assert again["status"] == "failed" and "正在处理" in _said(again["error"])  # one version at a time
    run_worker(d.settings, burst=True)
    shown = d.show(doc_id, ADMIN)
    assert [v["n"] for v in shown["versions"]] == [1, 2]
    assert shown["filename"] == "补充协议_v2.txt" and "珊瑚项目" in shown["text"]
    assert [h["id"] for h in d.search(SearchRequest("珊瑚项目"), ADMIN)["hits"]] == [doc_id]
    assert audit_events(d, "version_upload")[-1].detail["version"] == 2
    dup = d.documents.add_version(doc_id, "same.txt", new_text, MANAGER)
    assert dup["status"] == "duplicate"


def test_delete_moves_to_the_trash_and_keeps_records_and_originals(home):
    """Deleting takes the document out of search and every read at once; records and original wait in the trash."""
    from foundation.errors import Forbidden, NotFound

    d, ids = home
    doc_id = ids[CONTRACT.name]
    sha = d.show(doc_id, ADMIN)["sha256"]
    with pytest.raises(Forbidden):
        d.documents.delete(ids[QUOTE.name], Principal("sales1", "sales"))  # only managers and admins delete
    result = d.documents.delete(doc_id, MANAGER)
    assert result["deleted"] == result["trashed"] == [doc_id]
    with d.sessions() as session:
        assert session.get(Document, doc_id).trashed_by == "manager1"
    assert doc_id not in {h["id"] for h in d.search(SearchRequest(""), ADMIN)["hits"]}
    with pytest.raises(NotFound):
        d.documents.page_image(doc_id, 1, ADMIN)
    assert d.blobs.exists(sha)  # erased only when the trash is purged
    event = audit_events(d, "trash")[-1]
    assert event.target_id == doc_id and event.detail["files"][0]["sha256"] == sha


def test_page_images_of_pdfs_and_scans_only(home):
    """A PDF page is drawn once (then cached); an office file has no page images (404)."""
    from foundation.errors import NotFound

    d, ids = home
    png = d.documents.page_image(ids[INVOICE.name], 1, ADMIN)
    assert png.startswith(b"\x89PNG")
    assert any(name.startswith("page-") for name, _ in d.blobs.cached())
    assert d.documents.page_image(ids[INVOICE.name], 1, ADMIN) == png
    with pytest.raises(NotFound):
        d.documents.page_image(ids[DOCX.name], 1, ADMIN)
    with pytest.raises(NotFound):
        d.documents.page_image(ids[INVOICE.name], 99, ADMIN)
    with pytest.raises(NotFound):
        d.documents.page_image(ids[INVOICE.name], 1, VIEWER)


def test_an_older_home_gets_levels_from_types_once(home):
    """Documents from before levels followed types (no source) get their type's level on upgrade, reindexed."""
    d, ids = home
    with d.sessions() as session:
        for doc in session.scalars(
            select(Document)
        ):  # as migration 0009 leaves such a home: access = own level
            doc.confidentiality, doc.confidentiality_source, doc.access_level = "internal", None, "internal"
        session.commit()
    d.reindex()
    sales = Principal("sales1", "sales")
    assert ids[INVOICE.name] in {h["id"] for h in d.search(SearchRequest(""), sales)["hits"]}
    assert d.documents.apply_type_levels() == 3  # the invoice and the two contracts (PDF and DOCX) changed
    assert ids[INVOICE.name] not in {h["id"] for h in d.search(SearchRequest(""), sales)["hits"]}
    assert d.documents.apply_type_levels() == 0  # once


# -- the web pages --------------------------------------------------------------------------------------


def _login(client, username: str, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert (
        client.post(
            "/auth/login", data={"username": username, "password": password, "csrf_token": token}
        ).status_code
        == 302
    )


def _token(client, path: str) -> str:  # type: ignore[no-untyped-def]
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)  # type: ignore[union-attr]


def test_web_edit_version_and_delete(home):
    """A manager edits, uploads a version and deletes through the pages; a viewer sees no buttons and gets 403."""
    import io

    from webui import create_app

    d, ids = home
    app = create_app(d.settings, {"TESTING": True})
    manager = app.test_client()
    _login(manager, "manager1")
    doc_id = ids[QUOTE.name]
    page = manager.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert f"/documents/{doc_id}/edit" in page and f"/documents/{doc_id}/delete" in page
    token = _token(manager, f"/documents/{doc_id}/edit")
    assert (
        manager.post(f"/documents/{doc_id}/edit", data={"title": "网页改的标题"}).status_code == 400
    )  # no CSRF token
    saved = manager.post(
        f"/documents/{doc_id}/edit",
        data={
            "csrf_token": token,
            "title": "网页改的标题",
            "doc_type": "quote",
            "date": "2024年10月1日",
            "tags": "重点，待跟进",
            "confidentiality": "public",
        },
    )
    assert saved.status_code == 302
    shown = d.show(doc_id, ADMIN)
    assert (shown["title"], shown["date"], shown["confidentiality"]) == (
        "网页改的标题",
        "2024-10-01",
        "public",
    )
    bad = manager.post(
        f"/documents/{doc_id}/edit",
        data={
            "csrf_token": token,
            "title": "t",
            "doc_type": "quote",
            "date": "不是日期",
            "tags": "",
            "confidentiality": "public",
        },
    )
    assert bad.status_code == 400 and "不是日期" in bad.get_data(as_text=True)
    upload = manager.post(
        f"/documents/{doc_id}/version",
        data={"csrf_token": token, "file": (io.BytesIO("新版本的报价".encode()), "报价_v2.txt")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302
    viewer = app.test_client()
    _login(viewer, "viewer1")
    assert (
        "edit"
        not in viewer.get(f"/documents/{doc_id}")
        .get_data(as_text=True)
        .split("doc-actions")[1]
        .split("</p>")[0]
    )
    assert viewer.get(f"/documents/{doc_id}/edit").status_code == 403
    assert viewer.get(f"/documents/{doc_id}/delete").status_code == 403
    assert viewer.get(f"/documents/{ids[INVOICE.name]}/edit").status_code == 404  # finance: not even there
    confirm = manager.get(f"/documents/{doc_id}/delete")
    assert confirm.status_code == 200 and "确认移到回收站" in confirm.get_data(as_text=True)
    gone = manager.post(f"/documents/{doc_id}/delete", data={"csrf_token": token})
    assert gone.status_code == 302
    assert manager.get(f"/documents/{doc_id}").status_code == 404
    image = manager.get(f"/documents/{ids[INVOICE.name]}/pages/1.png")
    assert image.status_code == 200 and image.mimetype == "image/png"


def _said(text: str | None) -> str:
    """A stored reason as the CLI says it (both languages); plain text as written."""
    return str(load_stored(text) or text or "")
