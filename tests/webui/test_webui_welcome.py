"""The start page of an empty home says how to begin: the registry import first, then the three ways in
(upload, ``dossier ingest``, the inbox folder) and the sample data, each with its link or command — in Chinese
and in English, each page wholly in its language; once the home holds a document the welcome makes way."""

from __future__ import annotations

from html import unescape
from pathlib import Path

import pytest

from dossier.app.services import Dossier
from foundation.config import load_settings
from pipeline.intake import IntakeOptions, Source
from tests.webui.conftest import _login
from tests.webui.test_webui_language_sweep import CJK, LATIN, ZH_ALLOWED, visible_texts
from webui import create_app

PASSWORD = "welcome-Passw0rd-1"
NO_REDIS = {"DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0"}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """An empty home (its admin and a viewer) and its web app."""
    root = tmp_path_factory.mktemp("welcome")
    settings = load_settings(environ={"DOSSIER_HOME": str(root), **NO_REDIS}, dotenv=Path("/nonexistent"))
    Dossier.open(settings, require_init=False).init(admin_password=PASSWORD)
    dossier = Dossier.open(settings)
    dossier.accounts.add_user("viewer1", "viewer", password=PASSWORD)
    app = create_app(settings, test_config={"TESTING": True})
    yield {"app": app, "dossier": dossier, "root": root}
    dossier.close()


def _page(app, user: str = "admin", lang: str = "zh") -> str:
    client = app.test_client()
    assert _login(client, user, PASSWORD).status_code == 302
    response = client.get(f"/?lang={lang}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _welcome(html: str) -> str:
    """The welcome panel's HTML (it ends with the sample-data line)."""
    start = html.find('<section class="panel welcome"')
    assert start >= 0, "no welcome panel"
    return html[start : html.index("</section>", html.index('class="welcome-demo"', start))]


def test_empty_home_explains_the_ways_in_in_chinese(home):
    html = _page(home["app"])
    welcome = _welcome(html)
    text = unescape(welcome)
    assert "开始使用" in text and "客户登记册" in text
    assert "dossier customers import 客户登记册.xlsx" in text  # the registry first
    assert 'href="/upload"' in welcome  # 1. upload
    assert "dossier ingest 文件夹 --wait" in text  # 2. the command line
    assert "dossier watch 收件箱文件夹" in text  # 3. the inbox folder
    assert 'href="/customers"' in welcome and 'href="/jobs"' in welcome
    assert "make demo" in text
    # The registry import comes before the three ways in.
    assert text.index("客户登记册.xlsx") < text.index("dossier ingest")
    latin = {w.lower() for t in visible_texts(welcome, "zh") for w in LATIN.findall(t)} - ZH_ALLOWED
    assert not latin, latin


def test_empty_home_explains_the_ways_in_in_english(home):
    welcome = _welcome(_page(home["app"], lang="en"))
    text = unescape(welcome)
    assert "Getting started" in text and "dossier customers import customers.xlsx" in text
    assert "dossier ingest FOLDER --wait" in text and "dossier watch INBOX-FOLDER" in text
    assert not [t for t in visible_texts(welcome, "en") if CJK.search(t)]


def test_a_viewer_gets_no_upload_link(home):
    welcome = _welcome(_page(home["app"], user="viewer1"))
    assert 'href="/upload"' not in welcome and "dossier ingest" in unescape(welcome)


def test_the_welcome_makes_way_once_a_document_is_there(home, tmp_path):
    dossier = home["dossier"]
    note = tmp_path / "拜访记录.txt"
    note.write_text("客户拜访记录：讨论了服务器维保续约。", encoding="utf-8")
    # The registry import is marked done once a customer is registered.
    registry = tmp_path / "customers.json"
    registry.write_text('[{"full_name": "上海明远科技有限公司", "short_name": "明远科技"}]', encoding="utf-8")
    dossier.customers.import_registry(registry)
    assert "客户登记册已导入" in unescape(_welcome(_page(home["app"])))
    dossier.ingest_sources([Source(label=str(note), filename=note.name, path=note)], workers=1)
    html = _page(home["app"])
    assert 'class="panel welcome"' not in html and "拜访记录" in html


def test_a_batch_not_under_way_yet_says_estimating(tmp_path):
    """The jobs pages and the API: a queued batch has no rate yet, so no ETA — "估算中…", not a made-up time."""
    from pipeline.batches import close_batch

    settings = load_settings(
        environ={"DOSSIER_HOME": str(tmp_path / "home"), **NO_REDIS}, dotenv=Path("/nonexistent")
    )
    Dossier.open(settings, require_init=False).init(admin_password=PASSWORD)
    dossier = Dossier.open(settings)
    try:
        intake = dossier.intake.make_intake(1)
        batch = intake.new_batch("cli", "admin", total=1)
        taken = intake.take(
            Source(label="a.txt", filename="a.txt", data="报价单".encode()), IntakeOptions(), batch
        )
        assert taken.status == "queued"
        close_batch(dossier.sessions, batch)
        app = create_app(settings, test_config={"TESTING": True})
        client = app.test_client()
        assert _login(client, "admin", PASSWORD).status_code == 302
        assert client.get(f"/api/batches/{batch}").get_json()["eta_s"] is None
        assert "估算中…" in client.get(f"/jobs/{batch}").get_data(as_text=True)
        assert "estimating…" in client.get("/jobs?lang=en").get_data(as_text=True)
    finally:
        dossier.close()
