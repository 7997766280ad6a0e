"""Versions on the web and in the API (issue 15): read, download, compare, find with the toggle, restore.

The real Flask app over a home with one internal document in two versions and a confidential one
(:mod:`tests._versions`), with its login form and CSRF tokens.  Who may not read a document gets
404 from every version path; who may read but not edit it gets 403 on restore.
"""

from __future__ import annotations

import re

import pytest

from tests._versions import ADMIN, PASSWORD, V1, V2, build_home, process
from tests.conftest import audit_events, backend_home, login_client


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory):
    """One home on the embedded index for the module: the reading tests first, the restores last (in file order)."""
    with backend_home("sqlite", "webversions", tmp_path_factory, build_home) as built:
        yield built


@pytest.fixture(scope="module")
def app(home):
    from webui import create_app

    return create_app(home["settings"], {"TESTING": True})


def _token(client, path: str) -> str:  # type: ignore[no-untyped-def]
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found, path
    return found.group(1)


def test_versions_are_read_downloaded_compared_and_found_on_the_web(home, app):
    """The document page lists both versions with links; version 1's page shows its text; its download is its
    bytes; the diff page shows the change escaped; the search toggle finds old text and says "第 1 版"."""
    d, doc_id = home["dossier"], home["doc"]
    sales = login_client(app, "sales1", PASSWORD)
    page = sales.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert f"/documents/{doc_id}/versions/1" in page and f"/documents/{doc_id}/diff" in page
    assert "restore-version" not in page  # sales may read this document, not change it
    v1 = sales.get(f"/documents/{doc_id}/versions/1")
    assert v1.status_code == 200 and "第一版原始条款" in v1.get_data(as_text=True)
    got = sales.get(f"/documents/{doc_id}/versions/1/download")
    assert got.status_code == 200 and got.data == V1 and "attachment" in got.headers["Content-Disposition"]
    assert sales.get(f"/documents/{doc_id}/versions/2/download").data == V2
    diff = sales.get(f"/documents/{doc_id}/diff?old=1&new=2").get_data(as_text=True)
    assert "diff-del" in diff and "第一版原始条款" in diff and "diff-add" in diff
    assert "&lt;b&gt;加粗&lt;/b&gt;" in diff and "<b>加粗</b>" not in diff
    found = sales.get("/?q=第一版原始条款&versions=all").get_data(as_text=True)
    assert "第 1 版" in found and f"/documents/{doc_id}/versions/1" in found
    assert f"/documents/{doc_id}" not in sales.get("/?q=第一版原始条款").get_data(as_text=True)
    views = [e.detail for e in audit_events(d, "view") if e.username == "sales1"]
    assert any(v.get("version") == 1 for v in views)
    downloads = [e.detail for e in audit_events(d, "download") if e.username == "sales1"]
    assert [v.get("version") for v in downloads] == [1, 2]


@pytest.mark.parametrize("username", ["viewer1", "sales1", "finance1"])
def test_who_may_not_read_gets_404_from_every_version_path(home, app, username):
    """A confidential document's versions do not exist for who may not read it: page, file, diff, API, search."""
    secret = home["secret"]
    client = login_client(app, username, PASSWORD)
    for path in (
        f"/documents/{secret}/versions/1",
        f"/documents/{secret}/versions/1/download",
        f"/documents/{secret}/diff?old=1&new=2",
        f"/api/documents/{secret}/versions",
        f"/api/documents/{secret}/versions/1",
        f"/api/documents/{secret}/versions/1/original",
    ):
        assert client.get(path).status_code == 404, path
    token = _token(client, "/")
    assert (
        client.post(f"/documents/{secret}/versions/1/restore", data={"csrf_token": token}).status_code == 404
    )
    answer = client.post(f"/api/documents/{secret}/versions/1/restore", headers={"X-CSRF-Token": token})
    assert answer.status_code == 404
    hits = client.get("/api/search?q=玳瑁湾&versions=all").get_json()
    assert hits["total"] == 0 and hits["hits"] == []


def test_the_versions_api(home, app):
    """List, text, original and restore through /api (the restore with the X-CSRF-Token header); search versions=all."""
    d, doc_id = home["dossier"], home["doc"]
    manager = login_client(app, "manager1", PASSWORD)
    listed = manager.get(f"/api/documents/{doc_id}/versions").get_json()
    assert [(v["n"], v["current"], v["restored_from"]) for v in listed["versions"]] == [
        (1, False, None),
        (2, True, None),
    ]
    assert {"filename", "size", "sha256", "uploaded_by", "uploaded_at"} <= set(listed["versions"][0])
    text = manager.get(f"/api/documents/{doc_id}/versions/1").get_json()
    assert text["n"] == 1 and "第一版原始条款" in text["text"] and text["text_kept"]
    assert manager.get(f"/api/documents/{doc_id}/versions/1/original").data == V1
    assert manager.get(f"/api/documents/{doc_id}/versions/7").status_code == 404
    hits = manager.get("/api/search?q=第一版原始条款&versions=all").get_json()["hits"]
    assert [(h["id"], h["version"]) for h in hits] == [(doc_id, 1)]
    token = _token(manager, "/")
    assert manager.post(f"/api/documents/{doc_id}/versions/1/restore").status_code == 400  # no CSRF token
    viewer = login_client(app, "viewer1", PASSWORD)
    assert (
        viewer.post(
            f"/api/documents/{doc_id}/versions/1/restore", headers={"X-CSRF-Token": _token(viewer, "/")}
        ).status_code
        == 404
    )
    answer = manager.post(f"/api/documents/{doc_id}/versions/1/restore", headers={"X-CSRF-Token": token})
    assert answer.status_code == 202
    assert answer.get_json() == {"id": doc_id, "version": 3, "restored_from": 1, "status": "queued"}
    process(d, doc_id)
    assert manager.get(f"/api/documents/{doc_id}/versions").get_json()["versions"][-1]["restored_from"] == 1


def test_restore_through_the_web_form(home, app):
    """A manager restores version 2 with the page's form (CSRF token required); sales who may not edit get 403.

    (After the API test made version 3 from version 1: version 4 is restored from version 2.)
    """
    d, doc_id = home["dossier"], home["doc"]
    sales = login_client(app, "sales1", PASSWORD)
    token = _token(sales, "/")
    assert (
        sales.post(f"/documents/{doc_id}/versions/2/restore", data={"csrf_token": token}).status_code == 403
    )
    manager = login_client(app, "manager1", PASSWORD)
    page = manager.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert f"/documents/{doc_id}/versions/2/restore" in page
    assert f"/documents/{doc_id}/versions/3/restore" not in page  # the current one
    assert manager.post(f"/documents/{doc_id}/versions/2/restore").status_code == 400  # no CSRF token
    token = _token(manager, f"/documents/{doc_id}")
    done = manager.post(f"/documents/{doc_id}/versions/2/restore", data={"csrf_token": token})
    assert done.status_code == 302
    assert "已恢复第 2 版" in manager.get(f"/documents/{doc_id}").get_data(as_text=True)
    again = manager.post(f"/documents/{doc_id}/versions/1/restore", data={"csrf_token": token})
    assert again.status_code == 302  # refused while processing, said in a flash
    assert "正在处理" in manager.get(f"/documents/{doc_id}").get_data(as_text=True)
    process(d, doc_id)
    shown = d.show(doc_id, ADMIN)
    assert [v["restored_from"] for v in shown["versions"]] == [None, None, 1, 2]
    assert "珊瑚港" in shown["text"]
    assert audit_events(d, "version_restore")[-1].username == "manager1"
