"""The container rule (trust issue, item 1): a container is at least as strict as every part it holds.

An e-mail is ``internal`` by its type, but its search text includes its attachments and its
original contains them; an archive's original contains its members; a split scan every part.
Real e-mails and a ZIP go through the real intake (inline, no Redis) on each backend:

- ``mail-contract.eml`` carries a confidential contract of 宏图集团 (owned by ``sales_ht``);
- ``mail-invoice.eml`` carries a finance invoice;
- ``mail-both.eml`` carries both again — files already stored, so they become *included*
  parts, not children — and is readable by admins and managers only (no other role may read
  both a confidential and a finance document);
- ``archive.zip`` holds another contract (Fabrikam, owned by nobody here).

For every user the test states what the rule allows (independently of the code) and checks
every way out: search hits, totals and facets (API, web page, CLI ``--as``), snippets, the
document page, its download, the document API, exports (JSON Lines and ZIP).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import DEV, TANTIVY, backend_home, login_client

CONTRACT = DEV / "contracts" / "产品购销合同_宏图集团_HT-2023-1004.pdf"
INVOICE = DEV / "invoices" / "发票_Contoso_00244890.pdf"
OTHER_CONTRACT = DEV / "contracts" / "产品购销合同_Fabrikam_XS2024080606.docx"
PASSWORD = "containers-Test-Passw0rd!"
USERS = {
    "admin": "admin",
    "manager1": "manager",
    "finance1": "finance",
    "sales_ht": "sales",
    "sales_x": "sales",
    "viewer1": "viewer",
}
#: Who may read each file, as the rule says (written here, not taken from the code under test).
READERS = {
    "contract": {"admin", "manager1", "sales_ht"},
    "invoice": {"admin", "manager1", "finance1"},
    "mail-contract.eml": {"admin", "manager1", "sales_ht"},
    "mail-invoice.eml": {"admin", "manager1", "finance1"},
    "mail-both.eml": {"admin", "manager1"},
    "archive.zip": {"admin", "manager1"},
    "fabrikam": {"admin", "manager1"},
}
#: A phrase only each e-mail's own body holds, and phrases only the attachments hold.
BODY = {
    "mail-contract.eml": "邮件暗号青松",
    "mail-invoice.eml": "邮件暗号翠竹",
    "mail-both.eml": "邮件暗号红梅",
}
CONTRACT_PHRASE, INVOICE_PHRASE = "HT-2023-1004", "00244890"


def _mail(subject: str, body: str, attachments: list[Path]) -> bytes:
    msg = EmailMessage()
    msg["From"] = "徐云诗 <yunshixu@yunfan-it.com>"
    msg["To"] = "李梅博 <limeibo@hongtu.com.cn>"
    msg["Subject"] = subject
    msg["Date"] = "Mon, 04 Mar 2024 10:00:00 +0800"
    msg.set_content(f"您好：\n{body}，请查收附件。\n此致")
    for path in attachments:
        maintype, subtype = (
            ("application", "pdf") if path.suffix == ".pdf" else ("application", "octet-stream")
        )
        msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return msg.as_bytes()


def _build(root: Path, extra_env: dict[str, str]) -> dict:
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from records import Customer, Document, User, hash_password

    home = root / "home"
    env = {"DOSSIER_HOME": str(home), "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0", **extra_env}
    settings = load_settings(environ=env, dotenv=home / "none")
    Dossier.open(settings, require_init=False).init(admin_password=PASSWORD)
    d = Dossier.open(settings)
    with d.sessions() as session:
        users = {
            name: User(username=name, role=role, password_hash=hash_password(PASSWORD))
            for name, role in USERS.items()
            if name != "admin"
        }
        session.add_all(users.values())
        session.add(
            Customer(name="上海宏图集团有限公司", aliases=["宏图集团"], contacts=[], owner=users["sales_ht"])
        )
        session.add(Customer(name="Contoso Pharma (Suzhou) Co., Ltd.", aliases=["Contoso"], contacts=[]))
        session.commit()
    files = root / "files"
    files.mkdir()
    (files / "mail-contract.eml").write_bytes(_mail("合同", BODY["mail-contract.eml"], [CONTRACT]))
    (files / "mail-invoice.eml").write_bytes(_mail("发票", BODY["mail-invoice.eml"], [INVOICE]))
    (files / "mail-both.eml").write_bytes(_mail("合同和发票", BODY["mail-both.eml"], [CONTRACT, INVOICE]))
    with zipfile.ZipFile(files / "archive.zip", "w") as archive:
        archive.write(OTHER_CONTRACT, OTHER_CONTRACT.name)
    for name in ("mail-contract.eml", "mail-invoice.eml", "mail-both.eml", "archive.zip"):  # in this order
        summary = d.ingest_paths([files / name])
        assert summary["ingested"] == 1 and not summary["failed"], summary
    d.backend.settle()
    ids: dict[str, int] = {}
    with d.sessions() as session:
        for doc in session.query(Document):
            name = doc.current.filename if doc.current else doc.title
            key = {CONTRACT.name: "contract", INVOICE.name: "invoice", OTHER_CONTRACT.name: "fabrikam"}.get(
                name, name
            )
            ids[key] = doc.id
    assert set(ids) == set(READERS), ids
    return {"settings": settings, "env": env, "dossier": d, "ids": ids}


@pytest.fixture(
    scope="module", params=["sqlite", *TANTIVY, pytest.param("opensearch", marks=pytest.mark.opensearch)]
)
def home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The data home with the e-mails and the archive, on each backend."""
    with backend_home(request.param, "containers", tmp_path_factory, _build) as built:
        yield built


@pytest.fixture(scope="module")
def app(home):
    from webui import create_app

    return create_app(home["settings"], {"TESTING": True})


def _client(app, username: str):  # type: ignore[no-untyped-def]
    return login_client(app, username, PASSWORD)


def _readable(home: dict, username: str) -> set[int]:
    return {home["ids"][key] for key, readers in READERS.items() if username in readers}


def _holding(home: dict, phrase: str) -> set[int]:
    """The documents whose search text holds ``phrase``: the attachment and the e-mails carrying it."""
    keys = {
        CONTRACT_PHRASE: ("contract", "mail-contract.eml", "mail-both.eml"),
        INVOICE_PHRASE: ("invoice", "mail-invoice.eml", "mail-both.eml"),
    }.get(phrase) or [k for k, body in BODY.items() if body == phrase]
    return {home["ids"][k] for k in keys}


def test_containers_get_the_strictest_level_of_what_they_hold(home):
    """The stored access: e-mails and the archive follow their parts; parts keep their own levels."""
    from pipeline import access
    from records import Document

    d, ids = home["dossier"], home["ids"]
    with d.sessions() as session:
        stored = {key: access.stored_access(session.get(Document, doc_id)) for key, doc_id in ids.items()}
        own = {key: session.get(Document, doc_id).confidentiality for key, doc_id in ids.items()}
    assert own["mail-contract.eml"] == own["mail-both.eml"] == own["archive.zip"] == "internal"
    assert {key: a.level for key, a in stored.items()} == {
        "contract": "confidential",
        "invoice": "finance",
        "mail-contract.eml": "confidential",
        "mail-invoice.eml": "finance",
        "mail-both.eml": "restricted",
        "archive.zip": "confidential",
        "fabrikam": "confidential",
    }
    assert stored["mail-contract.eml"].customers == stored["contract"].customers != frozenset()


PHRASES = [CONTRACT_PHRASE, INVOICE_PHRASE, *BODY.values()]


@pytest.mark.parametrize("username", list(USERS))
def test_search_api_and_page_show_no_hit_snippet_or_count_of_an_unreadable_container(home, app, username):
    """API and web search: hits, totals, facets and snippets only of what the user may read."""
    client = _client(app, username)
    readable = _readable(home, username)
    for phrase in PHRASES:
        want = _holding(home, phrase) & readable
        body = client.get("/api/search", query_string={"q": phrase, "limit": 50}).get_json()
        assert {h["id"] for h in body["hits"]} == want, phrase
        assert body["total"] == len(want), phrase
        assert sum(f["count"] for f in body["facets"].get("doc_type", [])) == len(want), phrase
        page = client.get("/", query_string={"q": phrase}).get_data(as_text=True)
        shown = {int(i) for i in re.findall(r'href="/documents/(\d+)[?"]', page)}
        assert shown <= readable and want <= shown, (phrase, shown)
    every = client.get("/api/search", query_string={"q": "", "limit": 50}).get_json()
    assert {h["id"] for h in every["hits"]} == readable and every["total"] == len(readable)


@pytest.mark.parametrize("username", list(USERS))
def test_document_page_download_and_api_of_containers_follow_the_rule(home, app, username):
    """Each document and container: page, download and API are 200 when readable, else 404 (no title leaks)."""
    client = _client(app, username)
    readable = _readable(home, username)
    for key, doc_id in home["ids"].items():
        expected = 200 if doc_id in readable else 404
        page = client.get(f"/documents/{doc_id}")
        download = client.get(f"/documents/{doc_id}/download")
        api = client.get(f"/api/documents/{doc_id}")
        assert (page.status_code, download.status_code, api.status_code) == (expected,) * 3, key
        if expected == 404:
            text = page.get_data(as_text=True)
            assert CONTRACT_PHRASE not in text and INVOICE_PHRASE not in text


@pytest.mark.parametrize("username", list(USERS))
def test_exports_of_every_format_leave_out_unreadable_containers(home, app, username):
    """JSON Lines rows and the ZIP's originals: only readable documents; no e-mail carries a hidden attachment."""
    client = _client(app, username)
    for phrase in (CONTRACT_PHRASE, INVOICE_PHRASE):
        want = _holding(home, phrase) & _readable(home, username)
        lines = client.get("/api/export", query_string={"q": phrase, "format": "jsonl"})
        assert lines.status_code == 200
        rows = [json.loads(line) for line in lines.data.decode("utf-8").splitlines() if line.strip()]
        assert {row["id"] for row in rows} == want, phrase
        packed = client.get("/api/export", query_string={"q": phrase, "format": "zip"})
        assert packed.status_code == 200
        with zipfile.ZipFile(io.BytesIO(packed.data)) as archive:
            names = [n for n in archive.namelist() if not n.startswith("manifest")]
            originals = b"".join(archive.read(n) for n in names)
        assert len(names) == len(want), (phrase, names)
        if username not in READERS["contract"]:
            assert CONTRACT.read_bytes()[:2000] not in originals  # not inside any e-mail either
        if username not in READERS["invoice"]:
            assert INVOICE.read_bytes()[:2000] not in originals


@pytest.mark.parametrize("username", [u for u in USERS if u != "admin"])
def test_the_cli_as_a_user_follows_the_container_rule(home, username):
    """`dossier search --as` and `dossier show --as` answer as the web does."""
    from dossier.cli import cli

    runner = CliRunner(env=home["env"])
    readable = _readable(home, username)
    for phrase in (CONTRACT_PHRASE, BODY["mail-both.eml"]):
        found = runner.invoke(cli, ["search", phrase, "--as", username, "--json"], catch_exceptions=False)
        body = json.loads(found.output)
        assert {h["id"] for h in body["hits"]} == _holding(home, phrase) & readable and body["total"] == len(
            _holding(home, phrase) & readable
        )
    for key, doc_id in home["ids"].items():
        shown = runner.invoke(cli, ["show", str(doc_id), "--as", username, "--json"], catch_exceptions=False)
        assert (shown.exit_code == 0) == (doc_id in readable), (key, shown.output[:200])


def test_deleting_a_part_leaves_its_level_on_the_containers_that_still_hold_it(dossier, tmp_path):
    """GIVEN a contract stored on its own and again inside an e-mail (an included part), and an e-mail with a
    contract child, WHEN a manager deletes each contract THEN both e-mails stay confidential: their originals
    still hold the contract's bytes (admins and managers only, since no sales owner is known any more)."""
    from foundation.errors import NotFound
    from index import Principal, SearchRequest

    contract = dossier.ingest_paths([CONTRACT])["documents"][0]["id"]
    (tmp_path / "a.eml").write_bytes(_mail("合同", "邮件暗号白桦", [CONTRACT]))
    (tmp_path / "b.eml").write_bytes(_mail("附件合同", "邮件暗号苍松", [OTHER_CONTRACT]))
    holder = dossier.ingest_paths([tmp_path / "a.eml"])["documents"][0]["id"]
    parent = dossier.ingest_paths([tmp_path / "b.eml"])["documents"][0]["id"]
    admin, manager, sales = Principal("admin", "admin"), Principal("m", "manager"), Principal("s", "sales")
    child = dossier.show(parent, admin)["children"][0]["id"]
    for doc_id in (holder, parent):
        with pytest.raises(NotFound):
            dossier.open_original(doc_id, sales)
    dossier.documents.delete(contract, manager)
    dossier.documents.delete(child, manager)
    for doc_id, phrase in ((holder, "邮件暗号白桦"), (parent, "邮件暗号苍松")):
        with pytest.raises(NotFound):
            dossier.open_original(doc_id, sales)
        assert dossier.search(SearchRequest(phrase), sales)["total"] == 0
        assert [h["id"] for h in dossier.search(SearchRequest(phrase), admin)["hits"]] == [doc_id]
    dossier.reindex()  # a full rebuild from the records keeps it so
    assert dossier.search(SearchRequest("邮件暗号白桦"), sales)["total"] == 0


def test_a_home_from_before_the_rule_gets_it_when_first_opened(dossier, settings, tmp_path):
    """GIVEN a data home written before the container rule (records at revision 0008, an index without the
    access table) holding an e-mail with a confidential contract, WHEN it is opened THEN the e-mail is as
    strict as its contract in the records and in search — no reindex by hand."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from dossier.app.services import Dossier
    from index import Principal, SearchRequest
    from records._db import _alembic_config

    (tmp_path / "a.eml").write_bytes(_mail("合同", "邮件暗号银杏", [CONTRACT]))
    mail = dossier.ingest_paths([tmp_path / "a.eml"])["documents"][0]["id"]
    sales = Principal("s", "sales")
    assert dossier.search(SearchRequest("邮件暗号银杏"), sales)["total"] == 0
    dossier.close()
    # Without the foreign-key pragma: SQLite's batch mode rebuilds tables, whose drop would cascade.
    engine = create_engine(dossier.engine.url)
    command.downgrade(_alembic_config(engine), "0008")
    with engine.begin() as conn:  # the index as the version before wrote it
        conn.exec_driver_sql("DROP TABLE search_doc_access")
        conn.exec_driver_sql("UPDATE search_meta SET value = '2' WHERE key = 'schema'")
        conn.execute(text("UPDATE search_doc SET confidentiality = 'internal' WHERE id = :id"), {"id": mail})
    engine.dispose()
    again = Dossier.open(settings)
    try:
        assert again.search(SearchRequest("邮件暗号银杏"), sales)["total"] == 0
        assert again.search(SearchRequest("邮件暗号银杏"), Principal("admin", "admin"))["total"] == 1
        assert again.show(mail, Principal("admin", "admin"))["confidentiality"] == "internal"  # its own level
    finally:
        again.close()


@pytest.mark.opensearch
def test_an_opensearch_home_from_before_the_rule_is_rebuilt_not_failed(tmp_path_factory):
    """GIVEN an OpenSearch home written before the rule (records at 0008, an index whose strict mapping lacks the
    access field) WHEN it is opened THEN it is rebuilt into a new index that carries the rule, and no document
    failed (the old index would refuse an entry with the new field)."""
    import requests
    from alembic import command
    from sqlalchemy import create_engine

    from dossier.app.services import Dossier
    from index import Principal, SearchRequest
    from index._opensearch import mappings
    from records._db import _alembic_config

    def build(root: Path, extra: dict[str, str]) -> dict:
        from foundation.config import load_settings

        env = {"DOSSIER_HOME": str(root / "home"), "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0", **extra}
        settings = load_settings(environ=env, dotenv=root / "none")
        Dossier.open(settings, require_init=False).init(admin_password=PASSWORD)
        d = Dossier.open(settings)
        (root / "a.eml").write_bytes(_mail("合同", "邮件暗号梧桐", [CONTRACT]))
        d.ingest_paths([root / "a.eml"])
        d.backend.settle()
        return {"dossier": d, "settings": settings, "env": env}

    with backend_home("opensearch", "upgrade", tmp_path_factory, build) as built:
        d, settings, env = built["dossier"], built["settings"], built["env"]
        url, alias = env["DOSSIER_OPENSEARCH_URL"], env["DOSSIER_OPENSEARCH_INDEX"]
        d.close()
        command.downgrade(_alembic_config(create_engine(d.engine.url)), "0008")
        old = mappings()
        old["properties"].pop("access_customer_ids")
        old["_meta"]["schema"] = "1"
        current = list(requests.get(f"{url}/_alias/{alias}", timeout=10).json())
        assert requests.put(f"{url}/{alias}-v1-old", json={"mappings": old}, timeout=30).ok
        actions = [{"add": {"index": f"{alias}-v1-old", "alias": alias}}] + [
            {"remove_index": {"index": name}} for name in current
        ]
        assert requests.post(f"{url}/_aliases", json={"actions": actions}, timeout=30).ok
        again = Dossier.open(settings)
        built["dossier"] = again
        again.backend.settle()
        assert again.status()["by_status"].get("failed", 0) == 0
        assert again.search(SearchRequest("邮件暗号梧桐"), Principal("s", "sales"))["total"] == 0
        assert again.search(SearchRequest("邮件暗号梧桐"), Principal("admin", "admin"))["total"] == 1
