"""Erasure (issue 15): a destroyed document leaves no byte behind — records, index, blobs, page images, exports.

A text file carrying a unique canary goes through the real intake; after the erasure no file
under DOSSIER_HOME (the database, its WAL and shared memory, blobs, cache, exports) holds the
canary, nor does OpenSearch when ``DOSSIER_OPENSEARCH_URL`` is set.
"""

from __future__ import annotations

import secrets
import string
import time
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from dossier.app._erasure import erase_documents, held
from foundation.config import load_settings
from index import Principal, SearchRequest
from records import Customer, Document, ExportJob, Page, Version
from tests.conftest import ADMIN_PASSWORD, DEV

ADMIN = Principal("admin", "admin")
INVOICE = DEV / "invoices" / "发票_Contoso_00244890.pdf"


def canary() -> str:
    """A lowercase ASCII word nobody else writes (so it is one token in every index, and greppable)."""
    return "canary" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(16))


def write_note(folder: Path, word: str, name: str = "meeting-notes.txt") -> Path:
    """A text file with ``word`` in its body (not in its first line or name: the title keeps those)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(
        f"客户拜访纪要 {uuid.uuid4().hex}\n\n本次会议讨论了年度采购计划。\n秘密代号 {word} 请勿外传。\n",
        encoding="utf-8",
    )
    return path


def files_holding(home: Path, word: str) -> list[str]:
    """Every file under ``home`` whose bytes contain ``word``'s random tail (UTF-8, any case).

    The tail, not the whole word: FTS5 stores a term after the prefix it shares with the term
    before it on its page, so ``canary…`` may be kept as ``…ary…`` — its random letters stay whole.
    """
    needle = word[-12:].lower().encode()
    found = []
    for path in sorted(home.rglob("*")):
        if path.is_file() and needle in path.read_bytes().lower():
            found.append(str(path.relative_to(home)))
    return found


def open_home(tmp_path: Path, extra: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    from dossier.app.services import Dossier

    settings = load_settings(
        environ={
            "DOSSIER_HOME": str(tmp_path / "home"),
            "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0",
            **(extra or {}),
        },
        dotenv=tmp_path / "no.env",
    )
    d = Dossier.open(settings, require_init=False)
    d.init(admin_password=ADMIN_PASSWORD)
    return d


def _erase_and_check(d, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    word = canary()
    summary = d.ingest_paths([write_note(tmp_path / "in", word)])
    doc_id = summary["documents"][0]["id"]
    d.resources.prepare_search()
    hits = d.search(SearchRequest(word), ADMIN)["hits"]
    assert [h["id"] for h in hits] == [doc_id]
    home = d.settings.home
    before = files_holding(home, word)
    assert before, "the canary must be found before the erasure (the check works)"
    if d.engine.dialect.name == "sqlite":
        assert any(name.startswith("dossier.db") for name in before), before

    report = erase_documents(d.resources, [doc_id])

    assert report.documents == (doc_id,) and report.missing == ()
    assert report.compacted and report.index_expunged
    assert len(report.blobs) == 1 and not d.blobs.exists(report.blobs[0])
    assert files_holding(home, word) == []
    with d.sessions() as session:
        assert session.get(Document, doc_id) is None
        assert session.scalar(select(func.count()).select_from(Page).where(Page.document_id == doc_id)) == 0
    d.resources.prepare_search()
    assert d.search(SearchRequest(word), ADMIN)["hits"] == []
    return word


def test_erased_document_leaves_no_byte_under_the_home(tmp_path):
    """GIVEN a text file with a unique canary, ingested and searchable, WHEN it is erased,
    THEN no file under DOSSIER_HOME (database, -wal, -shm, blobs, cache, exports) holds the canary."""
    d = open_home(tmp_path)
    try:
        _erase_and_check(d, tmp_path)
    finally:
        d.close()


def test_an_erased_document_id_is_never_given_again(tmp_path):
    """GIVEN the document with the highest id erased, WHEN a new file is ingested, THEN it gets a new id: the
    certificate and the audit trail go on naming the erased document alone (SQLite would reuse the id)."""
    d = open_home(tmp_path)
    try:
        erased = d.ingest_paths([write_note(tmp_path / "a", canary())])["documents"][0]["id"]
        erase_documents(d.resources, [erased])
        fresh = d.ingest_paths([write_note(tmp_path / "b", canary())])["documents"][0]["id"]
        assert fresh > erased
    finally:
        d.close()


def test_a_suggested_customer_read_from_the_erased_text_goes_with_it(tmp_path):
    """A customer name the registry only *suggested* from the erased document's text is erased too; one another
    remaining document also names stays (a confirmed customer always stays)."""
    d = open_home(tmp_path)
    try:
        folder = tmp_path / "in"
        folder.mkdir()
        only, shared = "杭州蓝鹊翎科技有限公司", "宁波青梧桐贸易有限公司"
        (folder / "a.txt").write_text(
            f"报价单\n客户：{only}\n供应商：{shared}\n金额：12,000元\n", encoding="utf-8"
        )
        (folder / "b.txt").write_text(f"会议纪要\n参会单位：{shared}\n", encoding="utf-8")
        ids = {Path(doc["file"]).name: doc["id"] for doc in d.ingest_paths([folder])["documents"]}
        with d.sessions() as session:
            before = {c.name: c.status for c in session.scalars(select(Customer))}
        assert before.get(only) == "suggested" and before.get(shared) == "suggested", before
        erase_documents(d.resources, [ids["a.txt"]])
        with d.sessions() as session:
            after = {c.name for c in session.scalars(select(Customer))}
        assert only not in after and shared in after
    finally:
        d.close()


@pytest.mark.opensearch
def test_erased_document_leaves_nothing_in_opensearch(tmp_path):
    """With OpenSearch, the erased document is neither in the index nor in the outbox, and the raw index has no canary."""
    from tests import _opensearch

    url = _opensearch.cluster_url()
    alias = f"dossier-erasure-{uuid.uuid4().hex[:8]}"
    d = open_home(tmp_path, {"DOSSIER_OPENSEARCH_URL": url, "DOSSIER_OPENSEARCH_INDEX": alias})
    try:
        word = _erase_and_check(d, tmp_path)
        raw = requests.post(
            f"{url}/{alias}/_search", json={"query": {"query_string": {"query": word}}}, timeout=30
        ).json()
        assert raw["hits"]["total"]["value"] == 0
        every = requests.post(f"{url}/{alias}/_search", json={"size": 1000}, timeout=30).json()
        assert word not in str(every).lower()
    finally:
        d.close()
        _opensearch.drop(url, alias)


def test_a_shared_original_survives_and_parts_go_too(tmp_path):
    """An original another remaining document's version uses stays (with its page images); an e-mail-like
    family (a document and its attachment) goes together; erasing again reports them missing."""
    d = open_home(tmp_path)
    try:
        summary = d.ingest_paths([INVOICE, write_note(tmp_path / "in", canary())])
        invoice_id, note_id = (doc["id"] for doc in summary["documents"])
        png = d.documents.page_image(invoice_id, 1, ADMIN, width=200)
        assert png.startswith(b"\x89PNG")
        with d.sessions() as session:
            invoice = session.get(Document, invoice_id)
            note = session.get(Document, note_id)
            sha = invoice.current.sha256
            # A second document whose version is the same file (an original shared by two documents).
            twin = Document(title="twin", status="done")
            twin.versions.append(
                Version(number=1, sha256=sha, filename="twin.pdf", mime="application/pdf", size=1)
            )
            session.add(twin)
            note.parent_id, note.relation = invoice_id, "attachment"
            session.commit()
            twin_id = twin.id

        report = erase_documents(d.resources, [invoice_id])

        assert report.documents == (invoice_id, note_id)
        assert report.kept_blobs == (sha,) and d.blobs.exists(sha)
        assert [name for name, _ in d.blobs.cached()], "the shared original's page images stay"
        assert erase_documents(d.resources, [invoice_id]).missing == (invoice_id,)

        erase_documents(d.resources, [twin_id])
        assert not d.blobs.exists(sha) and list(d.blobs.cached()) == []
    finally:
        d.close()


def test_finished_exports_are_voided(tmp_path):
    """Export files finished before the erasure may hold the document: they are deleted, the jobs say why."""
    d = open_home(tmp_path)
    try:
        summary = d.ingest_paths([write_note(tmp_path / "in", canary())])
        folder = d.settings.home / "exports"
        folder.mkdir()
        (folder / "1-abc.csv").write_text("some text\n")
        (folder / "2-def.csv.part").write_text("half\n")
        with d.sessions() as session:
            session.add(ExportJob(username="admin", format="csv", status="done", path="exports/1-abc.csv"))
            session.commit()
        report = erase_documents(d.resources, [summary["documents"][0]["id"]])
        assert report.exports == 2 and list(folder.iterdir()) == []
        with d.sessions() as session:
            job = session.scalars(select(ExportJob)).one()
            assert job.status == "revoked" and job.path is None and "export" in (job.error or "")
    finally:
        d.close()


def test_interrupted_erasure_completes(tmp_path):
    """An erasure stopped after the records went (the blob is still there) completes when asked again."""
    d = open_home(tmp_path)
    try:
        word = canary()
        summary = d.ingest_paths([write_note(tmp_path / "in", word)])
        doc_id = summary["documents"][0]["id"]
        with d.sessions() as session:
            sha = session.get(Document, doc_id).current.sha256
        # The first run got as far as the records, then stopped: the original was left behind.
        erase_documents(d.resources, [doc_id])
        d.blobs.path(sha).parent.mkdir(parents=True, exist_ok=True)
        d.blobs.path(sha).write_bytes(b"left over " + word.encode())
        report = erase_documents(d.resources, [doc_id], digests=[sha])
        assert report.missing == (doc_id,) and report.blobs == (sha,)
        assert files_holding(d.settings.home, word) == []
    finally:
        d.close()


def test_legal_hold_reaches_parts_and_customers(dossier):
    """held() is True for a held document, a part of a held container, and a document of a held customer."""
    with dossier.sessions() as session:
        customer = Customer(name="保留测试有限公司")
        parent = Document(title="mail", status="done")
        child = Document(title="attachment", status="done")
        other = Document(title="other", status="done", customer=customer)
        session.add_all([customer, parent, other])
        session.flush()
        child.parent_id = parent.id
        session.add(child)
        session.flush()
        assert not held(session, child) and not held(session, other)
        parent.legal_hold = True
        customer.legal_hold = True
        assert held(session, child) and held(session, other)


@pytest.mark.opensearch
def test_erasure_on_postgresql_vacuums_the_touched_tables(postgres_url, tmp_path):
    """With PostgreSQL records (and OpenSearch), the erasure removes the rows and runs VACUUM on the tables it
    touched (dead rows freed; PostgreSQL promises nothing at the byte level, see the README)."""
    from sqlalchemy import text

    from tests import _opensearch

    url = _opensearch.cluster_url()
    alias = f"dossier-erasure-pg-{uuid.uuid4().hex[:8]}"
    d = open_home(
        tmp_path,
        {
            "DOSSIER_DATABASE_URL": postgres_url,
            "DOSSIER_OPENSEARCH_URL": url,
            "DOSSIER_OPENSEARCH_INDEX": alias,
        },
    )
    try:
        _erase_and_check(d, tmp_path)
        vacuumed = 0
        for _ in range(50):  # before PostgreSQL 15 the statistics arrive a moment later
            with d.engine.connect() as conn:
                vacuumed = conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'pages' AND last_vacuum IS NOT NULL"
                    )
                ).scalar_one()
            if vacuumed:
                break
            time.sleep(0.2)
        assert vacuumed == 1
    finally:
        d.close()
        _opensearch.drop(url, alias)
