"""A real, populated Dossier (SQLite records + embedded index) and a Flask app on top of it.

The data home is built once per test session from files of the dev corpus plus a few hostile
files written here; every test gets a fresh client of the same app.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dossier.app.services import Dossier
from foundation.config import load_settings
from tests.conftest import DEV
from webui import create_app

CORPUS = DEV  # the one corpus root of tests/conftest.py (DOSSIER_CORPUS may move it)
ADMIN_PASSWORD = "webui-test-Passw0rd"

#: Corpus files the web tests search for (relative to CORPUS).
CORPUS_FILES = (
    "contracts/产品购销合同_Pacific Rim_HT-2024-0315.pdf",
    "contracts/技术服务合同_Pacific Rim_FW-2023-196.pdf",
    "contracts/采购合同_卓越集团_HT-2023-1009.pdf",
    "contracts/销售合同_泰和设计_HT-2023-1129.pdf",
    "contracts/技术服务合同_恒达贸易_FW-2024-013_终稿.docx",
    "contracts/等保整改服务协议_金桥电气_FW-2024-192.txt",
    "contracts/产品购销合同_昌隆精密_HT-2023-1213.md",
    "quotes/报价单_海川物流_20240530.docx",
    "quotes/报价单_澄明集团_20240103.docx",
    "emails/合同草稿请审阅：HT-2024-0205.eml",
    "bad/产品介绍_蓝鲸.html",
    "bad/2024年度华东区重点客户拜访记录汇总及后续跟进计划（含报价、合同、回款情况说明）_最终版_v3_请勿外传_.txt",
    "bad/garbage.pdf",
    "scans/SCAN_20240115_0002.pdf",
)

#: A text file whose content and name are HTML/JS payloads: the UI must show them as text.
XSS_NAME = "<img src=x onerror=alert('XSSCANARY')>珊瑚.txt"
XSS_TEXT = (
    "珊瑚计划合同附件。<script>alert('XSSCANARY')</script>\n"
    "<img src=x onerror=\"alert('XSSCANARY')\"> <a href=\"javascript:alert('XSSCANARY')\">珊瑚链接</a>\n"
    "联系人 \"双引号\" & 'single' </textarea></title>\n"
)

LONG_NAME = CORPUS_FILES[11].split("/", 1)[1]


def _id_of(summary: dict, name: str) -> int:
    """The id of the ingested document whose file name ends with ``name``."""
    for doc in summary["documents"]:
        if str(doc["file"]).endswith(name):
            return int(doc["id"])
    raise KeyError(f"{name} was not ingested: {summary}")


DATES = ("2023-05-01", "2024-03-15", "2024-11-20", "2022-07-08", "2024-01-02", "2023-12-31")


def _give_dates(d: Dossier, ids: list[int]) -> None:
    from records import Document

    with d.sessions() as session:
        for doc_id, date in zip(ids, DATES, strict=False):
            session.get(Document, doc_id).doc_date = date
        session.commit()
    d.reindex(ids)


@pytest.fixture(scope="session")
def corpus_home(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Initialise a data home and ingest the corpus files; return settings, summary and paths."""
    if not CORPUS.is_dir():
        pytest.skip(f"test corpus not found at {CORPUS}")
    home = tmp_path_factory.mktemp("dossier-home")
    extra = tmp_path_factory.mktemp("extra-files")
    xss_file = extra / XSS_NAME
    xss_file.write_text(XSS_TEXT, encoding="utf-8")
    settings = load_settings(
        environ={
            "DOSSIER_HOME": str(home),
            "DOSSIER_WORKERS": "1",
            "DOSSIER_LANGUAGE": "zh",
            "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0",
        },
        dotenv=Path("/nonexistent"),
    )
    Dossier.open(settings, require_init=False).init(admin_password=ADMIN_PASSWORD)
    d = Dossier.open(settings)
    paths = [CORPUS / f for f in CORPUS_FILES] + [xss_file]
    # Customers and tags given at intake, as `dossier ingest --customer --tag` does, feed the facets.
    groups = {
        ("Pacific Rim", ("重点",)): [p for p in paths if "Pacific Rim" in p.name],
        ("海川物流", ()): [p for p in paths if "海川物流" in p.name],
        (None, ()): [p for p in paths if "Pacific Rim" not in p.name and "海川物流" not in p.name],
    }
    summary: dict = {"ingested": 0, "duplicates": 0, "failed": [], "documents": []}
    for (customer, tags), group in groups.items():
        part = d.ingest_paths([str(p) for p in group], customer=customer, tags=tags, ocr=False)
        for key in ("ingested", "duplicates"):
            summary[key] += part[key]
        summary["failed"] += part["failed"]
        summary["documents"] += part["documents"]
    # Document dates come from entity extraction (a later issue); until then give the first
    # few documents dates in the records and reindex them, as that step will.
    _give_dates(d, [doc["id"] for doc in summary["documents"][:6]])
    return {
        "settings": settings,
        "summary": summary,
        "paths": paths,
        "xss_file": xss_file,
        "dossier": d,
        "id_of": lambda name: _id_of(summary, name),
    }


@pytest.fixture(scope="session")
def app(corpus_home: dict):
    """The web app over the populated data home."""
    return create_app(corpus_home["settings"], test_config={"TESTING": True})


@pytest.fixture()
def client(app):
    """A fresh, anonymous test client."""
    return app.test_client()


def _csrf_from(html: str) -> str:
    """The CSRF token of the first form in a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def _login(client, username: str = "admin", password: str = ADMIN_PASSWORD, **extra: str):
    """Log in through the real form (GET for the token, then POST); ``extra`` adds form fields."""
    token = _csrf_from(client.get("/auth/login").get_data(as_text=True))
    return client.post(
        "/auth/login",
        data={"username": username, "password": password, "csrf_token": token, **extra},
    )


@pytest.fixture()
def admin_password() -> str:
    """The admin password the data home was initialised with."""
    return ADMIN_PASSWORD


@pytest.fixture()
def csrf_from():
    """Function: the CSRF token in a page's HTML."""
    return _csrf_from


@pytest.fixture()
def login():
    """Function: log a test client in through the real form."""
    return _login


@pytest.fixture()
def admin(client):
    """A test client logged in as admin."""
    response = _login(client)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


# -- the customer folder: a registry, documents linked to it, and users of every role ------------

FOLDER_PASSWORD = "folder-test-Passw0rd"

#: Users of the folder data home: (username, role).
FOLDER_USERS = (("manager1", "manager"), ("sales1", "sales"), ("sales2", "sales"), ("viewer1", "viewer"))

#: Registry rows: key -> Customer fields (``owner`` names a user of FOLDER_USERS).
FOLDER_CUSTOMERS = {
    "mingyuan": dict(
        name="杭州明远科技有限公司",
        aliases=["明远科技", "明远"],
        credit_code="91330106MA2B3C4D5E",
        external_id="C-0001",
        customer_type="现有客户",
        stage="已签约",
        industry="制造业",
        region="浙江省",
        city="杭州市",
        address="浙江省杭州市西湖区文三路 90 号",
        importance="A",
        owner_name="张伟",
        owner="sales1",
        contacts=[
            {
                "name": "李明",
                "title": "采购经理",
                "mobile": "13812345678",
                "landline": "0571-88886666",
                "email": "liming@mingyuan.cn",
            }
        ],
    ),
    "chengming": dict(
        name="上海澄明集团股份有限公司",
        aliases=["澄明集团"],
        customer_type="潜在客户",
        stage="初步接触",
        industry="金融",
        region="上海市",
        city="上海市",
        importance="B",
        owner_name="王芳",
        owner="sales2",
    ),
    "hengda": dict(
        name="苏州恒达贸易有限公司",
        aliases=["恒达贸易"],
        customer_type="流失客户",
        industry="贸易",
        region="江苏省",
        city="苏州市",
        importance="C",
    ),
    "lanhai": dict(name="宁波蓝海电子有限公司", status="suggested", region="浙江省", city="宁波市"),
    "jinqiao": dict(name="温州金桥电气有限公司", status="suggested"),
    "old": dict(name="北京旧名称有限公司", status="rejected"),
    "self": dict(name="上海云启信息技术有限公司", status="self", region="上海市"),
    # Registry values are user-controlled: the pages must show them as text.
    "xss": dict(
        name="<img src=x onerror=alert('XSSCANARY')>珊瑚有限公司",
        aliases=["<script>alert('XSSCANARY')</script>"],
        customer_type="潜在客户",
        industry="<b>行业</b>",
        region="\"><script>alert('XSSCANARY')</script>",
        contacts=[{"name": "<i>张</i>", "email": "\"><script>alert('XSSCANARY')</script>@x.cn"}],
    ),
}

#: The contract of 明远 whose entities the document page shows (page 1, page 2).
FOLDER_CONTRACT_PAGES = (
    "产品购销合同（服务器）\n合同编号：HT-2024-0315\n甲方：杭州明远科技有限公司\n"
    "统一社会信用代码：91330106MA2B3C4D5E\n联系人：李明  电话：138-1234-5678\n邮箱：LiMing@mingyuan.cn\n"
    "合同总价：人民币壹拾贰万元整（¥120,000.00）\n签订日期：2024年3月15日\n",
    "付款方式：签约后预付 ¥5,000.00。\n乙方：上海云启信息技术有限公司\n统一社会信用代码：91310000MA1FL1234X\n"
    "乙方联系人：赵强 邮箱 zhaoqiang@yunqi.com\n",
)

#: Entities of that contract: (kind, value, surface text, page, valid, role).
FOLDER_CONTRACT_ENTITIES = (
    ("contract_no", "HT-2024-0315", "HT-2024-0315", 1, True, "合同编号"),
    ("company", "杭州明远科技有限公司", "杭州明远科技有限公司", 1, True, "甲方"),
    ("uscc", "91330106MA2B3C4D5E", "91330106MA2B3C4D5E", 1, True, "统一社会信用代码"),
    ("person", "李明", "李明", 1, True, "联系人"),
    ("phone", "13812345678", "138-1234-5678", 1, True, "电话"),
    ("email", "liming@mingyuan.cn", "LiMing@mingyuan.cn", 1, True, "邮箱"),
    ("amount", "120000.00", "人民币壹拾贰万元整", 1, True, "合同总价"),
    ("amount", "120000.00", "¥120,000.00", 1, True, "合同总价"),
    ("date", "2024-03-15", "2024年3月15日", 1, True, "签订日期"),
    ("amount", "5000.00", "¥5,000.00", 2, True, "预付"),
    ("company", "上海云启信息技术有限公司", "上海云启信息技术有限公司", 2, True, "乙方"),
    ("uscc", "91310000MA1FL1234X", "91310000MA1FL1234X", 2, False, "统一社会信用代码"),
    ("person", "赵强", "赵强", 2, True, "乙方联系人"),
    ("email", "zhaoqiang@yunqi.com", "zhaoqiang@yunqi.com", 2, True, ""),
)

#: Documents: key -> (title, doc_type, date, confidentiality, [(customer key, method, evidence)], amounts).
#: The first link is the primary customer.  Every text mentions 服务器, so scoped searches have work.
FOLDER_DOCS = {
    "d1": (
        "产品购销合同_明远_HT-2024-0315",
        "contract",
        "2024-03-15",
        "internal",
        [
            ("mingyuan", "credit_code", "统一社会信用代码 91330106MA2B3C4D5E"),
            ("hengda", "name", "正文提到 苏州恒达贸易有限公司"),
        ],
        (),
    ),
    "d2": (
        "报价单_明远_服务器",
        "quote",
        "2023-11-02",
        "public",
        [("mingyuan", "alias", "简称 明远科技")],
        (("88000.00", "报价总额"), ("1200.00", "单价")),
    ),
    "d3": (
        "框架合同_明远_保密",
        "contract",
        "2023-05-20",
        "confidential",
        [("mingyuan", "name", None)],
        (("300000.00", "合同金额"),),
    ),
    "d4": ("会议纪要_明远_需求沟通", "meeting", None, "public", [("mingyuan", "given", None)], ()),
    "d5": (
        "增值税发票_明远",
        "invoice",
        "2024-06-01",
        "finance",
        [("mingyuan", "credit_code", None)],
        (("120000.00", "价税合计"), ("106194.69", "金额")),
    ),
    "d6": (
        "报价单_澄明_保密",
        "quote",
        "2024-01-03",
        "confidential",
        [("chengming", "name", None)],
        (("560000.00", "报价总额"),),
    ),
    "d7": ("拜访记录_澄明", "visit", "2024-02-02", "internal", [("chengming", "alias", "简称 澄明集团")], ()),
    "d8": (
        "销售合同_恒达",
        "contract",
        "2022-07-08",
        "internal",
        [("hengda", "name", None)],
        (("45000.00", "合同总价"),),
    ),
    "d9": ("邮件_蓝海电子", "email", "2024-04-04", "internal", [("lanhai", "fuzzy", "与“蓝海电子”相近")], ()),
    "d10": ("合同_金桥电气", "contract", "2024-05-05", "internal", [("jinqiao", "name", None)], ()),
}


def _build_folder_home(home: Path) -> dict:
    """A data home with FOLDER_USERS, FOLDER_CUSTOMERS and FOLDER_DOCS written through the records models."""
    from pipeline.amounts import document_amount
    from records import Customer, Document, DocumentCustomer, EntityRow, Page, User, Version, hash_password

    settings = load_settings(
        environ={
            "DOSSIER_HOME": str(home),
            "DOSSIER_WORKERS": "1",
            "DOSSIER_LANGUAGE": "zh",
            "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0",
        },
        dotenv=Path("/nonexistent"),
    )
    Dossier.open(settings, require_init=False).init(admin_password=FOLDER_PASSWORD)
    d = Dossier.open(settings)
    with d.sessions() as session:
        users = {}
        for username, role in FOLDER_USERS:
            users[username] = User(username=username, role=role, password_hash=hash_password(FOLDER_PASSWORD))
            session.add(users[username])
        customers = {}
        for key, fields in FOLDER_CUSTOMERS.items():
            fields = dict(fields)
            owner = fields.pop("owner", None)
            customers[key] = Customer(**fields, owner=users[owner] if owner else None)
            session.add(customers[key])
        docs = {}
        for key, (title, doc_type, date, level, links, amounts) in FOLDER_DOCS.items():
            pages = FOLDER_CONTRACT_PAGES if key == "d1" else (f"{title}\n关于服务器采购的{title}正文。\n",)
            data = "\n".join(pages).encode("utf-8")
            version = Version(
                number=1,
                sha256=d.blobs.put(data),
                filename=f"{title}.txt",
                mime="text/plain",
                size=len(data),
            )
            doc = Document(
                title=title,
                doc_type=doc_type,
                doc_date=date,
                confidentiality=level,
                status="indexed",
                language="zh",
                customer=customers[links[0][0]],
                versions=[version],
                doc_type_reason=f"标题含“{title[:2]}” / the title says so",
                pages=[Page(number=n, text=t) for n, t in enumerate(pages, 1)],
            )
            doc.customer_links = [
                DocumentCustomer(customer=customers[c], method=m, evidence=e, position=i, score=1.0)
                for i, (c, m, e) in enumerate(links)
            ]
            entities = []
            if key == "d1":
                for kind, value, text, page, valid, role in FOLDER_CONTRACT_ENTITIES:
                    start = pages[page - 1].index(text)
                    entities.append(
                        EntityRow(
                            kind=kind,
                            value=value,
                            text=text,
                            page=page,
                            start=start,
                            end=start + len(text),
                            valid=valid,
                            role=role,
                        )
                    )
            for value, role in amounts:
                entities.append(
                    EntityRow(kind="amount", value=value, text=value, page=1, start=0, end=0, role=role)
                )
            doc.entities = entities
            doc.amount = document_amount(entities)  # as the extraction step stores it
            session.add(doc)
            docs[key] = doc
        session.commit()
        ids = {
            "customers": {k: c.id for k, c in customers.items()},
            "docs": {k: doc.id for k, doc in docs.items()},
            "users": {k: u.id for k, u in users.items()},
        }
    d.reindex(ids["docs"].values())
    return {"settings": settings, "dossier": d, **ids}


@pytest.fixture(scope="session")
def folder_home(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A data home holding the customer registry, documents linked to it and users of every role."""
    return _build_folder_home(tmp_path_factory.mktemp("folder-home"))


@pytest.fixture(scope="session")
def folder_app(folder_home: dict):
    """The web app over the folder data home."""
    return create_app(folder_home["settings"], test_config={"TESTING": True})


@pytest.fixture()
def folder_client(folder_app):
    """A fresh, anonymous test client of the folder app."""
    return folder_app.test_client()


@pytest.fixture()
def folder_login(folder_app):
    """Function: a new client of the folder app logged in as ``username`` (every user has FOLDER_PASSWORD)."""

    def log_in(username: str):
        client = folder_app.test_client()
        response = _login(client, username, FOLDER_PASSWORD)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return log_in


# -- the browser: one headless Chromium for the whole test session (tests/webui/_browser.py) ----------


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory):
    """One headless Chromium for the session (skips without Debian's chromium + chromium-driver).

    Tests take :func:`browser`, which resets it first; a module that logs in once and visits many pages
    may take this one directly and keep its session between tests (``_browser.as_user``).
    """
    from tests.webui import _browser

    if not _browser.HAVE_CHROMIUM:
        pytest.skip(_browser.SKIP_REASON)
    root = tmp_path_factory.mktemp("chromium")
    driver = _browser.new_driver(root / "profile", root / "downloads-0")
    driver.dossier_downloads_root = root
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture()
def browser(chromium, tmp_path):
    """The session's Chromium, reset for this test: blank page, no cookies, downloads into a new folder
    (``browser.downloads``), the console log drained."""
    from tests.webui import _browser

    _browser.reset(chromium, tmp_path / "downloads")
    return chromium
