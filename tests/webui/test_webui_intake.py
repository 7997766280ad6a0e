"""Uploading files through the browser form: one batch per submission, queued, processed by a worker."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from dossier.app.services import Dossier
from foundation.config import load_settings
from foundation.messages import load_stored
from tests.conftest import DEV
from webui import create_app

CONTRACT = Path("/work/shared/corpus/dev/contracts/等保整改服务协议_金桥电气_FW-2024-192.txt")


@pytest.fixture()
def upload_settings(tmp_path, redis_url):
    """A fresh, empty data home on the test Redis (uploads do not touch the shared home)."""
    settings = load_settings(
        environ={"DOSSIER_HOME": str(tmp_path), "DOSSIER_WORKERS": "1", "DOSSIER_REDIS_URL": redis_url},
        dotenv=Path("/nonexistent"),
    )
    Dossier.open(settings, require_init=False).init(admin_password="upload-pw-123")
    return settings


@pytest.fixture()
def upload_client(upload_settings, login):
    """A logged-in admin client of an app over ``upload_settings``."""
    client = create_app(upload_settings, test_config={"TESTING": True}).test_client()
    assert login(client, password="upload-pw-123").status_code == 302
    return client


def _drain(settings) -> None:
    """Process everything queued with a real worker (returns when the queue is empty)."""
    from workers.runner import run_worker

    run_worker(settings, burst=True)


def _batch_of(response) -> int:
    """The batch id an upload redirected to."""
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    match = re.search(r"/jobs/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def _token(client) -> str:
    return re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/upload").get_data(as_text=True)
    ).group(1)


def test_upload_form(upload_client):
    """The upload page has a multi-file input inside a drop zone, customer, type and tags fields."""
    html = upload_client.get("/upload").get_data(as_text=True)
    assert 'type="file" multiple' in html and 'enctype="multipart/form-data"' in html
    assert '<option value="contract">合同</option>' in html
    assert "data-dropzone" in html and '<script src="/static/upload.js" defer></script>' in html
    assert "一次最多 100 个文件" in html


@pytest.mark.skipif(not CONTRACT.exists(), reason="dev corpus missing")
def test_upload_several_files_then_search(upload_client, upload_settings):
    """Two files upload in one POST as one batch; a repeat is reported as a duplicate; after the
    worker ran, the text is searchable with the customer, type and tags given in the form."""
    data = CONTRACT.read_bytes()
    r = upload_client.post(
        "/upload",
        data={
            "csrf_token": _token(upload_client),
            "customer": "金桥电气",
            "doc_type": "contract",
            "tags": "重点，2024",
            "files": [
                (io.BytesIO(data), CONTRACT.name),
                (io.BytesIO("琥珀计划：上传测试。".encode()), "备忘.txt"),
            ],
        },
        content_type="multipart/form-data",
    )
    batch_id = _batch_of(r)
    html = upload_client.get(r.headers["Location"]).get_data(as_text=True)
    assert "已接收 2 个文件：2 个排队处理，0 个重复，0 个失败" in html and CONTRACT.name in html
    r = upload_client.post(
        "/upload",
        data={"csrf_token": _token(upload_client), "files": [(io.BytesIO(data), "copy.txt")]},
        content_type="multipart/form-data",
    )
    second = _batch_of(r)
    assert second != batch_id
    assert "1 个重复" in upload_client.get(r.headers["Location"]).get_data(as_text=True)
    assert upload_client.get(f"/api/batches/{second}").get_json()["files"]["duplicate"] == 1

    _drain(upload_settings)
    assert upload_client.get(f"/api/batches/{batch_id}").get_json()["files"]["done"] == 2
    found = upload_client.get("/api/search?q=琥珀计划").get_json()
    assert found["total"] == 1
    hit = upload_client.get("/api/search?q=等保&customer=金桥电气&tag=重点").get_json()["hits"][0]
    assert hit["doc_type"] == "contract" and hit["customer"] == "金桥电气"
    doc = upload_client.get(f"/api/documents/{hit['id']}").get_json()
    assert doc["versions"][0]["uploaded_by"] == "admin"
    assert upload_client.get(f"/documents/{hit['id']}/download").data == data


def test_failed_upload_is_explained(upload_client, upload_settings):
    """A broken file is queued like any other and an empty one refused at once; both failures show with their reasons."""
    r = upload_client.post(
        "/upload",
        data={
            "csrf_token": _token(upload_client),
            "files": [(io.BytesIO(b"%PDF-1.7\n garbage"), "坏文件.pdf"), (io.BytesIO(b""), "空.txt")],
        },
        content_type="multipart/form-data",
    )
    batch_id = _batch_of(r)
    _drain(upload_settings)
    html = upload_client.get(f"/jobs/{batch_id}").get_data(as_text=True)
    assert html.count('class="item item-failed"') == 2 and "坏文件.pdf" in html and "空.txt" in html
    assert "PDF 文件已损坏或不完整" in html and "文件为空" in html


def test_empty_files_fail_as_empty_and_every_count_agrees(upload_client):
    """Each empty file fails at once as empty — never a duplicate of another empty file — and the banner,
    the batch page's counts and list, and the batch JSON all say the same."""
    for round_ in range(2):  # the second round offers empty files again: still empty, not duplicates
        r = upload_client.post(
            "/upload",
            data={
                "csrf_token": _token(upload_client),
                "files": [
                    (io.BytesIO(b""), f"空白_{round_}.txt"),
                    (io.BytesIO(b""), f"另一个空白_{round_}.docx"),
                    (io.BytesIO(f"第 {round_} 轮的正常文件".encode()), f"正常_{round_}.txt"),
                ],
            },
            content_type="multipart/form-data",
        )
        batch_id = _batch_of(r)
        html = upload_client.get(r.headers["Location"]).get_data(as_text=True)
        assert "已接收 3 个文件：1 个排队处理，0 个重复，2 个失败" in html
        assert html.count('class="item item-failed"') == 2 and html.count("文件为空") >= 2
        assert "empty file" not in html  # the reader's language only
        assert re.search(r'data-field="files.failed">2<', html) and re.search(
            r'data-field="files.duplicate">0<', html
        )
        batch = upload_client.get(f"/api/batches/{batch_id}").get_json()
        assert (batch["files"]["failed"], batch["files"]["duplicate"], batch["files"]["queued"]) == (2, 0, 1)
        assert [f["error"] for f in batch["failures"]] == ["文件为空"] * 2
        assert [i["status"] for i in batch["items"]] == ["failed", "failed", "queued"]


def test_upload_needs_csrf_and_a_file(upload_client):
    """No token: 400; no file: a message."""
    r = upload_client.post(
        "/upload", data={"files": [(io.BytesIO(b"x"), "a.txt")]}, content_type="multipart/form-data"
    )
    assert r.status_code == 400
    r = upload_client.post(
        "/upload", data={"csrf_token": _token(upload_client)}, content_type="multipart/form-data"
    )
    assert r.status_code == 400 and "请选择至少一个文件" in r.get_data(as_text=True)


def test_an_unknown_type_is_refused_with_the_reason_the_api_gives(upload_client):
    """GIVEN a form post with a type the product does not have WHEN uploaded THEN 400 with the same reason
    POST /api/upload gives, and no batch is made."""
    before = len(upload_client.get("/api/batches").get_json()["batches"])
    r = upload_client.post(
        "/upload",
        data={
            "csrf_token": _token(upload_client),
            "doc_type": "no-such-type",
            "files": [(io.BytesIO(b"x"), "a.txt")],
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 400 and "no-such-type" in r.get_data(as_text=True)
    assert len(upload_client.get("/api/batches").get_json()["batches"]) == before


def test_too_large_upload_is_a_friendly_413(tmp_path, login):
    """A body over DOSSIER_MAX_FILE_MB is refused with a Chinese message."""
    settings = load_settings(
        environ={"DOSSIER_HOME": str(tmp_path), "DOSSIER_MAX_FILE_MB": "1"}, dotenv=Path("/nonexistent")
    )
    Dossier.open(settings, require_init=False).init(admin_password="upload-pw-123")
    client = create_app(settings, test_config={"TESTING": True}).test_client()
    login(client, password="upload-pw-123")
    r = client.post(
        "/upload",
        data={"csrf_token": _token(client), "files": [(io.BytesIO(b"x" * (2 * 1024 * 1024)), "big.txt")]},
        content_type="multipart/form-data",
    )
    assert r.status_code == 413
    assert "文件太大" in r.get_data(as_text=True)


# -- the customer field resolves to the registry (it never makes customers) ------------------------------------

REGISTRY = DEV / "customers.json"


@pytest.fixture()
def registry_upload(upload_settings, login):
    """The upload home with the corpus registry imported and a sales rep; returns (dossier, admin, sales)."""
    if not REGISTRY.exists():
        pytest.skip("dev corpus missing")
    d = Dossier.open(upload_settings)
    d.customers.import_registry(REGISTRY)
    d.accounts.add_user("zhouchenjie", "sales", "upload-pw-456", display_name="周晨杰")
    app = create_app(upload_settings, test_config={"TESTING": True})
    admin, sales = app.test_client(), app.test_client()
    assert login(admin, password="upload-pw-123").status_code == 302
    assert login(sales, "zhouchenjie", "upload-pw-456").status_code == 302
    yield d, admin, sales
    d.engine.dispose()


def _upload(client, customer: str, body: str):  # type: ignore[no-untyped-def]
    """Upload one text file with the customer field; returns the redirected page's HTML."""
    r = client.post(
        "/upload",
        data={
            "csrf_token": _token(client),
            "customer": customer,
            "files": [(io.BytesIO(body.encode("utf-8")), f"{abs(hash(body))}.txt")],
        },
        content_type="multipart/form-data",
    )
    _batch_of(r)
    return client.get(r.headers["Location"]).get_data(as_text=True)


def _filed_under(d, body: str) -> tuple[str | None, list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    """The primary customer and (name, status) of every customer link of the document uploaded with ``body``."""
    from records import Document, Version

    with d.sessions() as session:
        doc = session.query(Document).join(Version).filter(Version.filename == f"{abs(hash(body))}.txt").one()
        return (
            doc.customer.name if doc.customer else None,
            [(link.customer.name, link.customer.status) for link in doc.customer_links],
        )


def _statuses(d) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from records import Customer

    with d.sessions() as session:
        return {c.name: c.status for c in session.query(Customer)}


def test_the_customer_field_offers_the_registry_names(registry_upload):
    """The customer field offers every confirmed customer's full name and short names (a <datalist>, no script);
    suggestions are not offered."""
    d, admin, _ = registry_upload
    from records import Customer

    with d.sessions() as session:
        session.add(Customer(name="台州新星塑料有限公司", status="suggested"))
        session.commit()
    html = admin.get("/upload").get_data(as_text=True)
    assert 'list="customer-names"' in html and '<datalist id="customer-names">' in html
    assert '<option value="光华物流" label="光华物流（武汉）有限公司"></option>' in html
    assert '<option value="光华物流（武汉）有限公司"></option>' in html
    assert "台州新星塑料有限公司" not in html and "杭州云帆信息技术有限公司" not in html
    assert "可从登记册的名称中选择" in html


def test_a_registered_short_name_files_under_its_customer_and_makes_nothing(registry_upload):
    """GIVEN the registered short name 光华物流 of 光华物流（武汉）有限公司 WHEN a sales rep uploads with it THEN the
    file is filed under that customer, the page says so, and no customer named 光华物流 appears."""
    d, _, sales = registry_upload
    before = _statuses(d)
    html = _upload(sales, "光华物流", "拜访记录 光华物流 仓储系统需求。")
    assert "“光华物流”已归入登记客户“光华物流（武汉）有限公司”" in html
    assert _filed_under(d, "拜访记录 光华物流 仓储系统需求。") == (
        "光华物流（武汉）有限公司",
        [("光华物流（武汉）有限公司", "confirmed")],
    )
    _upload(sales, "武汉光华物流有限公司", "拜访记录 第二次。")
    assert _filed_under(d, "拜访记录 第二次。")[0] == "光华物流（武汉）有限公司"
    assert _statuses(d) == before


def test_an_unknown_name_is_only_a_suggestion_and_a_rejected_one_stays_rejected(registry_upload):
    """A typo becomes a pending suggestion (for a sales rep and for an admin alike: confirming is its own act);
    once rejected, uploads naming it are filed without a customer, with a message; our own company is never one."""
    d, admin, sales = registry_upload
    html = _upload(sales, "光华物留", "备忘录 一。")
    assert "不在客户登记册中" in html and "待确认的客户建议" in html
    assert _filed_under(d, "备忘录 一。")[1] == [("光华物留", "suggested")]
    _upload(admin, "光华物留", "备忘录 二。")
    assert _statuses(d)["光华物留"] == "suggested"
    confirmed = {c["name"] for c in admin.get("/api/customers").get_json()["customers"]}
    assert "光华物留" not in confirmed
    suggestion = next(
        c["id"]
        for c in admin.get("/api/customers?status=suggested").get_json()["customers"]
        if c["name"] == "光华物留"
    )
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', admin.get("/customers").get_data(as_text=True)
    ).group(1)
    assert admin.post(f"/customers/{suggestion}/reject", data={"csrf_token": token}).status_code == 303
    assert _filed_under(d, "备忘录 一。") == (None, [])  # rejecting it unlinks what was filed under it
    html = _upload(admin, "光华物留", "备忘录 三。")
    assert "“光华物留”已被拒绝为客户：文件未归入任何客户" in html
    assert _filed_under(d, "备忘录 三。") == (None, []) and _statuses(d)["光华物留"] == "rejected"
    html = _upload(sales, "云帆信息", "备忘录 四。")
    assert "“云帆信息”是本公司，不是客户" in html and _filed_under(d, "备忘录 四。") == (None, [])


# -- a duplicate tells the uploader only what they may know ------------------------------------------

ALREADY_STORED = "已存在，已由系统保存 / already stored"
#: What a reader of the web (Chinese) is told: the reason in their language only.
ALREADY_STORED_ZH = "已存在，已由系统保存"
SECRET_TEXT = "绝密定价策略：明年对华东区客户统一提价 12%，仅限财务与管理层。"
OWN_TEXT = "销售拜访记录：客户关心交付周期，下周再访。"


@pytest.fixture()
def oracle_home(tmp_path):
    """A home with a finance-only document (sales may not read it) and a document sales1 uploaded; a sales and
    an admin client of its app."""
    from records import Document

    settings = load_settings(
        environ={
            "DOSSIER_HOME": str(tmp_path / "home"),
            "DOSSIER_WORKERS": "1",
            "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0",
        },  # no queue: files are processed (or wait) here
        dotenv=Path("/nonexistent"),
    )
    d = Dossier.open(settings, require_init=False)
    d.init(admin_password="upload-pw-123")
    d.accounts.add_user("sales1", "sales", "sales-pw-12345")
    (tmp_path / "定价.txt").write_text(SECRET_TEXT, encoding="utf-8")
    (tmp_path / "拜访.txt").write_text(OWN_TEXT, encoding="utf-8")
    secret = d.ingest_paths([tmp_path / "定价.txt"])["documents"][0]["id"]
    own = d.ingest_paths([tmp_path / "拜访.txt"], uploaded_by="sales1")["documents"][0]["id"]
    with d.sessions() as session:
        session.get(Document, secret).confidentiality = "finance"
        session.commit()
    d.reindex([secret])
    app = create_app(settings, test_config={"TESTING": True})
    sales, admin = app.test_client(), app.test_client()
    from tests.webui.conftest import _login

    assert _login(sales, "sales1", "sales-pw-12345").status_code == 302
    assert _login(admin, "admin", "upload-pw-123").status_code == 302
    yield {"dossier": d, "secret": secret, "own": own, "sales": sales, "admin": admin, "tmp": tmp_path}
    d.close()


def test_a_duplicate_of_a_document_the_uploader_may_not_read_reveals_nothing(oracle_home):
    """GIVEN a finance-only document WHEN a sales user uploads its bytes (and those of one they may read)
    THEN both are "already stored" alike: no id, link or title on the batch page or in its JSON — the
    same answer either way, so it cannot tell a hidden document from a readable one; an admin sees which."""
    sales, secret, own = oracle_home["sales"], oracle_home["secret"], oracle_home["own"]
    r = sales.post(
        "/upload",
        data={
            "csrf_token": _token(sales),
            "files": [(io.BytesIO(SECRET_TEXT.encode()), "a.txt"), (io.BytesIO(OWN_TEXT.encode()), "b.txt")],
        },
        content_type="multipart/form-data",
    )
    batch_id = _batch_of(r)
    html = sales.get(r.headers["Location"]).get_data(as_text=True)
    assert "2 个重复" in html and html.count(ALREADY_STORED_ZH) == 2 and "already stored" not in html
    assert f"/documents/{secret}" not in html and f"/documents/{own}" not in html
    assert "定价" not in html and "绝密" not in html
    items = sales.get(f"/api/batches/{batch_id}").get_json()["items"]
    assert [{k: v for k, v in i.items() if k not in ("file", "name", "folder")} for i in items] == [
        {"document_id": None, "status": "duplicate", "error": ALREADY_STORED_ZH, "retryable": False}
    ] * 2
    seen_by_admin = oracle_home["admin"].get(f"/api/batches/{batch_id}").get_json()["items"]
    assert [i["document_id"] for i in seen_by_admin] == [secret, own]


def test_a_new_version_with_a_hidden_documents_bytes_reveals_nothing(oracle_home):
    """A new version whose bytes a hidden document holds: "stored already", no id — as for a readable one."""
    sales, secret, own = oracle_home["sales"], oracle_home["secret"], oracle_home["own"]
    pages = []
    for data in (SECRET_TEXT.encode(), OWN_TEXT.encode()):
        r = sales.post(
            f"/documents/{own}/version",
            data={"csrf_token": _token(sales), "file": (io.BytesIO(data), "v2.txt")},
            content_type="multipart/form-data",
        )
        assert r.status_code == 302
        pages.append(sales.get(r.headers["Location"]).get_data(as_text=True))
    for html in pages:
        assert "该文件已存在，已由系统保存，未添加新版本。" in html
        assert f"文档 {secret}" not in html and f"/documents/{secret}" not in html and "定价" not in html
    d = oracle_home["dossier"]
    from index import Principal

    outcome = d.ingest_upload("c.txt", SECRET_TEXT.encode(), principal=Principal("sales1", "sales"))
    assert (outcome["status"], outcome["id"], _said(outcome["message"])) == (
        "duplicate",
        None,
        ALREADY_STORED,
    )
    assert (
        d.ingest_upload("c.txt", SECRET_TEXT.encode(), principal=Principal("admin", "admin"))["id"] == secret
    )


def test_the_uploaders_batch_hides_documents_they_may_no_longer_read(oracle_home):
    """A file sales1 uploaded that a manager then made finance-only: their batch still lists the file, with no
    link or id; an admin's view of the batch keeps it."""
    from records import Document

    sales, d = oracle_home["sales"], oracle_home["dossier"]
    r = sales.post(
        "/upload",
        data={
            "csrf_token": _token(sales),
            "files": [(io.BytesIO("预算表：华东区明年预算。".encode()), "预算.txt")],
        },
        content_type="multipart/form-data",
    )
    batch_id = _batch_of(r)
    item = sales.get(f"/api/batches/{batch_id}").get_json()["items"][0]
    doc_id = item["document_id"]
    assert doc_id is not None and item["status"] == "queued"  # theirs, readable: named
    with d.sessions() as session:
        session.get(Document, doc_id).confidentiality = "finance"
        session.commit()
    item = sales.get(f"/api/batches/{batch_id}").get_json()["items"][0]
    assert (item["file"], item["document_id"]) == ("预算.txt", None)
    assert f"/documents/{doc_id}" not in sales.get(f"/jobs/{batch_id}").get_data(as_text=True)
    assert (
        oracle_home["admin"].get(f"/api/batches/{batch_id}").get_json()["items"][0]["document_id"] == doc_id
    )


def _said(text: str | None) -> str:
    """A stored reason as the CLI says it (both languages); plain text as written."""
    return str(load_stored(text) or text or "")
