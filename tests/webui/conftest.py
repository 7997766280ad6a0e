"""A real, populated Dossier (SQLite records + embedded index) and a Flask app on top of it.

The data home is built once per test session from files of the dev corpus plus a few hostile
files written here; every test gets a fresh client of the same app.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dossier.config import load_settings
from dossier.services import Dossier
from webui import create_app

CORPUS = Path("/work/shared/corpus/dev")
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
        environ={"DOSSIER_HOME": str(home), "DOSSIER_WORKERS": "1", "DOSSIER_LANGUAGE": "zh"},
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
