"""The trash page, the API's trash and archive routes and `dossier trash|archive` — with the permission matrix."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import records
from dossier.app.services import Dossier
from foundation.config import load_settings
from tests.conftest import login_client
from webui import create_app

PASSWORD = "lifecycle-web-Passw0rd"
NO_REDIS = {"DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0"}


@pytest.fixture()
def web(tmp_path: Path):  # type: ignore[no-untyped-def]
    """GIVEN a home with two public notes and a user of each role."""
    env = {**NO_REDIS, "DOSSIER_HOME": str(tmp_path / "home"), "DOSSIER_WORKERS": "1"}
    settings = load_settings(environ=env, dotenv=Path("/nonexistent"))
    Dossier.open(settings, require_init=False).init(admin_password=PASSWORD)
    d = Dossier.open(settings)
    ids = []
    for name, text in (
        ("纪要_青松.txt", "会议纪要：青松项目启动。"),
        ("纪要_红梅.txt", "会议纪要：红梅项目验收。"),
    ):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        ids.append(d.ingest_paths([str(path)])["documents"][0]["id"])
    with d.sessions() as session:
        for doc_id in ids:
            session.get(records.Document, doc_id).confidentiality = "public"
        for role in ("manager", "sales", "finance", "viewer"):
            session.add(records.User(username=role, role=role, password_hash=records.hash_password(PASSWORD)))
        session.commit()
    d.reindex()
    app = create_app(settings, test_config={"TESTING": True})
    return {"app": app, "d": d, "ids": ids, "env": env}


def _token(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def _hits(client, q: str, **args) -> set[int]:  # type: ignore[no-untyped-def]
    return {h["id"] for h in client.get("/api/search", query_string={"q": q, **args}).get_json()["hits"]}


def test_web_trash_restore_and_purge_confirmation(web):  # type: ignore[no-untyped-def]
    """The delete button moves to the trash; the trash page lists it; restore brings it back; purge wants its box."""
    app, (note, other) = web["app"], web["ids"]
    manager = login_client(app, "manager", PASSWORD)
    token = _token(manager)
    assert "移到回收站" in manager.get(f"/documents/{note}").get_data(as_text=True)
    assert manager.post(f"/documents/{note}/delete", data={"csrf_token": token}).status_code == 302
    for role in ("admin", "manager", "sales", "finance", "viewer"):
        client = login_client(app, role, PASSWORD)
        assert client.get(f"/documents/{note}").status_code == 404, role
        assert client.get(f"/documents/{note}/download").status_code == 404, role
        assert client.get(f"/api/documents/{note}").status_code == 404, role
        assert note not in _hits(client, "青松", archived="include"), role
    page = manager.get("/trash").get_data(as_text=True)
    assert f'data-id="{note}"' in page and "manager" in page
    sales = login_client(app, "sales", PASSWORD)
    refused = sales.post(f"/api/trash/{note}/restore", headers={"X-CSRF-Token": _token(sales)})
    assert refused.status_code == 403
    unconfirmed = manager.post("/api/trash/purge", json={"ids": [note]}, headers={"X-CSRF-Token": token})
    assert unconfirmed.status_code == 400
    assert [e["id"] for e in manager.get("/api/trash").get_json()["documents"]] == [note]
    assert manager.post(f"/trash/{note}/restore", data={"csrf_token": token}).status_code == 302
    assert _hits(manager, "青松") == {note}
    assert other in _hits(manager, "红梅")


def test_api_archive_is_archived_and_the_facet(web):  # type: ignore[no-untyped-def]
    """Managers archive through the API; default search hides it, archived=only and is:archived find it."""
    app, (note, other) = web["app"], web["ids"]
    viewer = login_client(app, "viewer", PASSWORD)
    assert (
        viewer.post(f"/api/documents/{note}/archive", headers={"X-CSRF-Token": _token(viewer)}).status_code
        == 403
    )
    manager = login_client(app, "manager", PASSWORD)
    token = _token(manager)
    done = manager.post(f"/api/documents/{note}/archive", headers={"X-CSRF-Token": token})
    assert done.status_code == 200 and done.get_json()["archived"] == [note]
    assert _hits(viewer, "会议纪要") == {other}
    assert _hits(viewer, "会议纪要 is:archived") == {note}
    assert _hits(viewer, "会议纪要", archived="only") == {note}
    facets = viewer.get("/api/search", query_string={"q": "会议纪要"}).get_json()["facets"]
    assert {f["value"]: f["count"] for f in facets["lifecycle"]} == {"active": 1, "archived": 1}
    search_page = viewer.get("/", query_string={"q": "会议纪要"}).get_data(as_text=True)
    facet = search_page.split('class="facet facet-archived"')[1].split("</fieldset>")[0]
    assert re.findall(r'<span class="count">(\d+)</span>', facet) == ["1", "2", "1"]
    page = manager.get(f"/documents/{note}").get_data(as_text=True)
    assert "取消归档" in page and "移到回收站" not in page.split("doc-actions")[1].split("</div>")[0]
    refused = manager.post(f"/documents/{note}/delete", data={"csrf_token": token})
    assert refused.status_code in (403, 409)
    assert manager.post("/api/unarchive?q=is:archived", headers={"X-CSRF-Token": token}).get_json() == {
        "unarchived": [note]
    }
    assert _hits(viewer, "会议纪要") == {note, other}


def test_the_search_page_archives_every_hit_for_managers_only(web):  # type: ignore[no-untyped-def]
    """A manager's search page offers 全部归档 (with its box); the form archives every hit of that search and
    goes back to it; unticked it archives nothing; a viewer gets no bar and 403 when posting anyway."""
    app, (note, other) = web["app"], web["ids"]
    viewer = login_client(app, "viewer", PASSWORD)
    assert 'id="archive-form"' not in viewer.get("/", query_string={"q": "青松"}).get_data(as_text=True)
    refused = viewer.post(
        "/archive-search",
        data={"csrf_token": _token(viewer), "q": "青松", "confirm": "1", "action": "archive"},
    )
    assert refused.status_code == 403
    manager = login_client(app, "manager", PASSWORD)
    page = manager.get("/", query_string={"q": "青松"}).get_data(as_text=True)
    assert 'id="archive-form"' in page and 'form="archive-form"' in page
    token = _token(manager)
    unticked = manager.post("/archive-search", data={"csrf_token": token, "q": "青松", "action": "archive"})
    assert unticked.status_code == 302 and _hits(manager, "会议纪要") == {note, other}
    done = manager.post(
        "/archive-search", data={"csrf_token": token, "q": "青松", "confirm": "1", "action": "archive"}
    )
    assert done.status_code == 302 and "q=" in done.headers["Location"]
    assert _hits(manager, "会议纪要") == {other} and _hits(manager, "会议纪要", archived="only") == {note}
    manager.post(
        "/archive-search",
        data={
            "csrf_token": token,
            "q": "会议纪要",
            "archived": "only",
            "confirm": "1",
            "action": "unarchive",
        },
    )
    assert _hits(manager, "会议纪要") == {note, other}


def test_cli_trash_and_archive_with_as(web):  # type: ignore[no-untyped-def]
    """`dossier trash list|restore|purge` and `dossier archive` act with the --as user's rights."""
    from dossier.cli import cli

    env, (note, _other) = web["env"], web["ids"]
    web["d"].documents.delete(note, records_principal("manager"))
    run = CliRunner(env=env).invoke
    listed = run(cli, ["trash", "list", "--json"], catch_exceptions=False)
    assert [e["id"] for e in json.loads(listed.output)["documents"]] == [note]
    assert run(cli, ["trash", "restore", str(note), "--as", "sales"], catch_exceptions=False).exit_code == 1
    assert run(cli, ["trash", "purge", "--yes", "--as", "viewer"], catch_exceptions=False).exit_code == 1
    restored = run(cli, ["trash", "restore", str(note), "--as", "manager"], catch_exceptions=False)
    assert restored.exit_code == 0 and str(note) in restored.output
    assert run(cli, ["archive", str(note), "--as", "sales"], catch_exceptions=False).exit_code == 1
    assert run(cli, ["archive", "--query", "青松"], catch_exceptions=False).exit_code == 0
    found = json.loads(run(cli, ["search", "青松", "--json"], catch_exceptions=False).output)
    assert found["hits"] == []
    only = json.loads(
        run(cli, ["search", "青松", "--archived", "only", "--json"], catch_exceptions=False).output
    )
    assert [h["id"] for h in only["hits"]] == [note]


def records_principal(role: str):  # type: ignore[no-untyped-def]
    from index import Principal

    return Principal(role, role)
