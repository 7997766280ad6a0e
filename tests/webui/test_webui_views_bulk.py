"""Saved views and bulk edit on the web: the 视图 menu, the save form, /views, /bulk, their APIs, both languages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from records import AuditEvent, Document
from tests._bulk_home import PASSWORD, build, find
from tests.conftest import login_client


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    built = build(tmp_path_factory.mktemp("web-views"), {})
    yield built
    built["dossier"].close()


@pytest.fixture(scope="module")
def app(home):
    from webui import create_app

    return create_app(home["settings"], {"TESTING": True})


def _client(app, username):  # type: ignore[no-untyped-def]
    return login_client(app, username, PASSWORD)


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def _page(client, url):  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def test_the_search_page_offers_save_view_and_bulk_edit_in_each_language(app, home):
    """zh and en: the save-view form, the bulk bar and one checkbox per document hit (none for viewers)."""
    sales = _client(app, "sales1")
    zh = _page(sales, "/?q=季度报告")
    assert "保存为视图" in zh and "批量编辑" in zh and ">视图<" in zh
    assert zh.count('class="bulk-pick"') == len(re.findall(r'<li class="hit(?: hit-doc)?">', zh)) > 0
    assert 'form="bulk-form"' in zh and 'id="bulk-form"' in zh and 'id="view-form"' in zh
    en = _page(sales, "/?q=季度报告&lang=en")
    assert "Save view" in en and "Bulk edit" in en and ">Views<" in en
    assert "保存为视图" not in en and "批量编辑" not in en
    viewer = _page(_client(app, "viewer1"), "/?q=季度报告")
    assert "保存为视图" in viewer and 'class="bulk-pick"' not in viewer and 'id="bulk-form"' not in viewer


def test_saving_a_view_lists_it_in_the_menu_and_opening_it_runs_the_search(app, home):
    """POST /views from the search page: back to the search with a notice; the menu lists it; /views/<id> opens it."""
    sales = _client(app, "sales1")
    html = _page(sales, "/?q=季度报告&sort=date_desc")
    response = sales.post(
        "/views",
        data={
            "csrf_token": _token(html),
            "name": "我的季度报告",
            "q": "季度报告",
            "sort": "date_desc",
            "page": "2",
        },
    )
    assert response.status_code == 302 and "sort=date_desc" in response.headers["Location"]
    page = _page(sales, response.headers["Location"])
    assert "已保存视图“我的季度报告”" in page
    view_id = int(re.search(r'href="/views/(\d+)">我的季度报告<', page).group(1))  # type: ignore[union-attr]
    opened = sales.get(f"/views/{view_id}")
    assert opened.status_code == 302 and "q=%E5%AD%A3" in opened.headers["Location"]
    assert "page=" not in opened.headers["Location"]
    again = sales.post(
        "/views?lang=en",
        data={"csrf_token": _token(page), "name": "我的季度报告", "q": "x"},
        follow_redirects=True,
    )
    assert "You already have a view named" in again.get_data(as_text=True)
    # Not shared: another user neither lists nor opens it.
    other = _client(app, "sales2")
    assert "我的季度报告" not in _page(other, "/views")
    assert other.get(f"/views/{view_id}").status_code == 404


def test_the_views_page_renames_shares_and_deletes_and_guards_others_views(app, home):
    """/views in both languages; the owner renames and shares; a colleague sees it shared but cannot change it."""
    owner = _client(app, "manager1")
    token = _token(_page(owner, "/views"))
    view = owner.post(
        "/api/views", json={"name": "团队视图", "params": "q=季度报告"}, headers={"X-CSRF-Token": token}
    ).get_json()
    owner.post(f"/views/{view['id']}/rename", data={"csrf_token": token, "name": "团队视图2"})
    owner.post(f"/views/{view['id']}/share", data={"csrf_token": token, "shared": "1"})
    zh = _page(owner, "/views")
    assert "保存的视图" in zh and "团队视图2" in zh and "已共享" in zh and "取消共享" in zh
    en = _page(owner, "/views?lang=en")
    assert "Saved views" in en and "Stop sharing" in en and "已共享" not in en
    colleague = _client(app, "viewer1")
    page = _page(colleague, "/views")
    assert "团队视图2" in page and f'action="/views/{view["id"]}/delete"' not in page
    ctoken = _token(page)
    assert colleague.post(f"/views/{view['id']}/delete", data={"csrf_token": ctoken}).status_code == 403
    assert (
        colleague.post(f"/views/{view['id']}/rename", data={"csrf_token": ctoken, "name": "x"}).status_code
        == 403
    )
    assert owner.post(f"/views/{view['id']}/delete", data={"csrf_token": token}).status_code == 302
    assert "团队视图2" not in _page(colleague, "/views")


def test_views_api(app, home):
    """GET/POST /api/views, PATCH/DELETE /api/views/<id>: JSON, errors as {"error"} with 400/403/404/409."""
    client = _client(app, "finance1")
    headers = {"X-CSRF-Token": _token(_page(client, "/views"))}
    created = client.post(
        "/api/views", json={"name": "财务", "params": {"q": "季度报告", "type": ["合同"]}}, headers=headers
    )
    assert created.status_code == 201
    view = created.get_json()
    assert view["params"] == "q=%E5%AD%A3%E5%BA%A6%E6%8A%A5%E5%91%8A&type=%E5%90%88%E5%90%8C"
    assert view["id"] in [v["id"] for v in client.get("/api/views").get_json()["views"]]
    assert (
        client.post("/api/views", json={"name": "财务", "params": "q=x"}, headers=headers).status_code == 409
    )
    bad = client.post("/api/views?lang=en", json={"name": "坏", "params": "type=nosuch"}, headers=headers)
    assert bad.status_code == 400 and "nosuch" in bad.get_json()["error"]
    patched = client.patch(
        f"/api/views/{view['id']}", json={"shared": True, "name": "财务共享"}, headers=headers
    )
    assert (
        patched.status_code == 200
        and patched.get_json()["shared"]
        and patched.get_json()["name"] == "财务共享"
    )
    other = _client(app, "sales2")
    oheaders = {"X-CSRF-Token": _token(_page(other, "/views"))}
    assert other.patch(f"/api/views/{view['id']}", json={"name": "x"}, headers=oheaders).status_code == 403
    assert other.delete(f"/api/views/{view['id']}", headers=oheaders).status_code == 403
    assert client.delete(f"/api/views/{view['id']}", headers=headers).get_json() == {"deleted": view["id"]}
    assert client.get(f"/api/views/{view['id']}").status_code == 404
    assert client.post("/api/views", json={"name": "无令牌", "params": "q=x"}).status_code == 400  # CSRF


def _audited(home, doc_id):  # type: ignore[no-untyped-def]
    with home["dossier"].sessions() as session:
        return session.scalars(
            select(AuditEvent).where(AuditEvent.target_id == doc_id, AuditEvent.action == "metadata_change")
        ).all()


def test_bulk_edit_selected_hits_with_a_confirmation_in_each_language(app, home):
    """GET /bulk (the form) → POST /bulk/preview (how many change, how many skipped and why) → POST /bulk/apply."""
    sales = _client(app, "sales1")
    own, foreign = find(home, "internal", "A"), find(home, "internal", "B")
    form = _page(sales, f"/bulk?scope=selected&ids={own}&ids={foreign}&q=季度报告")
    assert "已选择 2 篇文档" in form and "文档类型" in form and 'name="confidentiality"' not in form
    token = _token(form)
    data = {
        "csrf_token": token,
        "scope": "selected",
        "ids": [str(own), str(foreign)],
        "q": "季度报告",
        "doc_type": "quote",
    }
    preview = sales.post("/bulk/preview", data=data).get_data(as_text=True)
    assert "将修改 1 篇文档（共选择 2 篇）" in preview and "跳过 1 篇" in preview and "您无权编辑" in preview
    assert "文档类型改为：报价单" in preview
    en = sales.post("/bulk/preview?lang=en", data=data).get_data(as_text=True)
    assert (
        "1 documents will change (of 2 selected)" in en and "you may not edit it" in en and "将修改" not in en
    )
    with home["dossier"].sessions() as session:
        assert session.get(Document, own).doc_type == "other"  # nothing changed before the confirmation
    done = sales.post("/bulk/apply?lang=zh", data=data).get_data(as_text=True)
    assert "已修改 1 篇文档（共选择 2 篇）" in done
    with home["dossier"].sessions() as session:
        assert session.get(Document, own).doc_type == "quote"
        assert session.get(Document, foreign).doc_type == "other"
    assert [e.detail.get("bulk") for e in _audited(home, own)] == [True]
    assert _audited(home, foreign) == []


def test_bulk_edit_refusals_on_the_web(app, home):
    """Viewers get 403; nothing ticked goes back to the search saying so; nothing to change re-shows the form (400)."""
    assert _client(app, "viewer1").get("/bulk?scope=all&q=季度报告").status_code == 403
    sales = _client(app, "sales1")
    empty = sales.get("/bulk?scope=selected&q=季度报告", follow_redirects=True).get_data(as_text=True)
    assert "没有选中任何文档" in empty
    token = _token(_page(sales, "/views"))
    data = {"csrf_token": token, "scope": "all", "q": "季度报告"}
    response = sales.post("/bulk/preview?lang=en", data=data)
    assert response.status_code == 400 and "Nothing to change" in response.get_data(as_text=True)
    level = sales.post("/bulk/preview", data={**data, "confidentiality": "public"})
    assert level.status_code == 403


def test_bulk_api_dry_run_then_apply_over_a_search(app, home):
    """POST /api/bulk with a search: dry_run plans (nothing changes), then the change; per-role rules hold."""
    manager = _client(app, "manager1")
    headers = {"X-CSRF-Token": _token(_page(manager, "/views"))}
    body = {
        "search": f"q=季度报告&customer_id={home['customers']['A']}",
        "changes": {"add_tags": ["接口批量"]},
    }
    plan = manager.post("/api/bulk", json={**body, "dry_run": True}, headers=headers).get_json()
    assert plan["dry_run"] and len(plan["change"]) == 4 and plan["skipped"] == []
    with home["dossier"].sessions() as session:
        assert not any("接口批量" in [t.name for t in d.tags] for d in session.scalars(select(Document)))
    done = manager.post("/api/bulk", json=body, headers=headers).get_json()
    assert len(done["changed"]) == 4 and done["change_asked"]["add_tags"] == ["接口批量"]
    viewer = _client(app, "viewer1")
    vheaders = {"X-CSRF-Token": _token(_page(viewer, "/views"))}
    assert viewer.post("/api/bulk", json=body, headers=vheaders).status_code == 403
    sales = _client(app, "sales2")
    sheaders = {"X-CSRF-Token": _token(_page(sales, "/views"))}
    refused = sales.post(
        "/api/bulk?lang=en", json={**body, "changes": {"confidentiality": "public"}}, headers=sheaders
    )
    assert refused.status_code == 403
    skipped = sales.post("/api/bulk?lang=en", json={**body, "dry_run": True}, headers=sheaders).get_json()
    assert skipped["change"] == [] and {s["reason"] for s in skipped["skipped"]} == {"no_edit_right"}
    assert skipped["skipped"][0]["why"].startswith("you may not edit it")
    assert manager.post("/api/bulk", data="x", headers=headers).status_code == 400
