"""The permission matrix of saved views and bulk edit: every role, on each backend.

The rules are written here from the issue, not imported from the code: a shared view is only a
query (whoever opens it gets what they may read); viewers cannot bulk-edit; everyone else
changes only what they may edit (admin and manager everything, finance the finance documents,
sales the documents of the customers they own and those they uploaded); level changes take a
manager or admin; a document one may not read is skipped as "not found", never named.
"""

from __future__ import annotations

import re

import pytest

from tests._bulk_home import OWNERS, PASSWORD, USERS, build
from tests.conftest import TANTIVY, backend_home, login_client


def readable(username: str, level: str, key: str | None) -> bool:
    role = USERS[username]
    if role in ("admin", "manager"):
        return True
    if role == "finance":
        return level in ("public", "internal", "finance")
    if role == "sales":
        return level in ("public", "internal") or (
            level == "confidential" and key is not None and OWNERS[key] == username
        )
    return level == "public"


def editable(username: str, level: str, key: str | None, uploader: str) -> bool:
    role = USERS[username]
    if role in ("admin", "manager"):
        return True
    if role == "finance":
        return level == "finance"
    if role == "sales":
        return (key is not None and OWNERS[key] == username) or uploader == username
    return False


@pytest.fixture(
    scope="module", params=["sqlite", *TANTIVY, pytest.param("opensearch", marks=pytest.mark.opensearch)]
)
def home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    with backend_home(request.param, "viewsmatrix", tmp_path_factory, build) as built:
        yield built


@pytest.fixture(scope="module")
def app(home):
    from webui import create_app

    return create_app(home["settings"], {"TESTING": True})


@pytest.fixture(scope="module")
def clients(app):
    return {name: login_client(app, name, PASSWORD) for name in USERS}


def _headers(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    html = client.get("/views").get_data(as_text=True)
    return {"X-CSRF-Token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)}  # type: ignore[union-attr]


def _readable(home: dict, username: str) -> set[int]:
    return {i for i, (lv, key, _up) in home["docs"].items() if readable(username, lv, key)}


def _editable(home: dict, username: str) -> set[int]:
    return {
        i
        for i, (lv, key, up) in home["docs"].items()
        if readable(username, lv, key) and editable(username, lv, key, up)
    }


@pytest.fixture(scope="module")
def shared_view(clients):
    client = clients["manager1"]
    created = client.post(
        "/api/views",
        json={"name": "全部季度报告", "params": "q=季度报告", "shared": True},
        headers=_headers(client),
    )
    assert created.status_code == 201
    return created.get_json()


@pytest.mark.parametrize("username", list(USERS))
def test_a_shared_view_shows_each_user_only_what_they_may_read(home, clients, shared_view, username):
    """Every user lists the manager's shared view; opening it searches with their own rights."""
    client = clients[username]
    listed = {v["id"]: v for v in client.get("/api/views").get_json()["views"]}
    assert shared_view["id"] in listed and listed[shared_view["id"]]["may_change"] == (
        username in ("admin", "manager1")
    )
    target = client.get(f"/views/{shared_view['id']}").headers["Location"]
    query = target.split("?", 1)[1]
    found = client.get(f"/api/search?{query}&limit=100").get_json()
    assert {h["id"] for h in found["hits"]} == _readable(home, username)
    assert found["total"] == len(_readable(home, username))


@pytest.mark.parametrize("username", list(USERS))
def test_bulk_plan_over_a_search_counts_only_what_the_role_may_change(home, clients, username):
    """All hits of a search (dry run): viewers 403; others change exactly their editable documents, the rest of what
    they read is skipped as no edit right, and nothing they may not read is counted at all."""
    client = clients[username]
    body = {"search": "q=季度报告", "changes": {"doc_type": "quote"}, "dry_run": True}
    response = client.post("/api/bulk", json=body, headers=_headers(client))
    if USERS[username] == "viewer":
        assert response.status_code == 403
        return
    plan = response.get_json()
    assert plan["total"] == len(_readable(home, username))
    assert set(plan["change"]) == _editable(home, username)
    assert {s["id"] for s in plan["skipped"]} == _readable(home, username) - _editable(home, username)
    assert {s["reason"] for s in plan["skipped"]} <= {"no_edit_right"}


@pytest.mark.parametrize("username", list(USERS))
def test_bulk_plan_over_chosen_ids_never_names_what_the_role_may_not_read(home, clients, username):
    """Every id chosen: the unreadable ones are skipped as not found, without a title."""
    client = clients[username]
    body = {"ids": list(home["docs"]), "changes": {"add_tags": "矩阵"}, "dry_run": True}
    response = client.post("/api/bulk", json=body, headers=_headers(client))
    if USERS[username] == "viewer":
        assert response.status_code == 403
        return
    plan = response.get_json()
    hidden = [s for s in plan["skipped"] if s["reason"] == "not_found"]
    assert {s["id"] for s in hidden} == set(home["docs"]) - _readable(home, username)
    assert all(s["title"] == "" for s in hidden)
    assert set(plan["change"]) == _editable(home, username)


@pytest.mark.parametrize("username", list(USERS))
def test_level_changes_take_a_manager(home, clients, username):
    """Only admins and managers may bulk-change the confidentiality level."""
    client = clients[username]
    body = {"search": "q=季度报告", "changes": {"confidentiality": "finance"}, "dry_run": True}
    response = client.post("/api/bulk", json=body, headers=_headers(client))
    assert response.status_code == (200 if USERS[username] in ("admin", "manager") else 403)


@pytest.mark.parametrize("username", [u for u in USERS if USERS[u] != "viewer"])
def test_applying_changes_exactly_the_editable_documents_and_the_index_follows(home, clients, username):
    """A real bulk edit per role (a tag of its own): the changed documents are the editable ones and a tag search
    (as admin, on this backend) finds exactly them."""
    client = clients[username]
    tag = f"矩阵-{username}"
    body = {"search": "q=季度报告", "changes": {"add_tags": [tag]}}
    done = client.post("/api/bulk", json=body, headers=_headers(client)).get_json()
    assert set(done["changed"]) == _editable(home, username)
    found = clients["admin"].get(f"/api/search?q=季度报告&tag={tag}&limit=100").get_json()
    assert {h["id"] for h in found["hits"]} == _editable(home, username)
