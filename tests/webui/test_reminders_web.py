"""Reminders on the web: the start page's panels, the reminders page and its forms, the customer page, the API."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from records import Customer, Document, Reminder
from tests._reminders import CUSTOMERS, PASSWORD, UNOWNED, build, doc_id, principal
from tests.conftest import login_client

TODAY = date.today()


def _day(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    built = build(tmp_path_factory.mktemp("reminders-web"), {})
    d = built["dossier"]
    manager = principal(built, "manager1")
    built["late"] = d.reminders.add(manager, "逾期回访", _day(-3), owner="sales1", customer=CUSTOMERS["A"][0])
    built["soon"] = d.reminders.add(
        manager, "发送报价", _day(2), owner="sales1", document=doc_id(built, "internal", "A")
    )
    built["theirs"] = d.reminders.add(
        manager, "催收货款", _day(1), owner="sales2", customer=CUSTOMERS["B"][0]
    )
    built["nobody"] = d.reminders.add(manager, "无人负责的提醒", _day(1), owner="manager1")
    with d.sessions() as session:  # customer A and the unowned C have been silent for 100 days
        long_ago = datetime.now() - timedelta(days=100)
        for key in ("A", "C"):
            session.get(Customer, built["customers"][key]).created_at = long_ago
        for doc in session.scalars(select(Document).where(Document.customer_id == built["customers"]["A"])):
            doc.created_at = long_ago
        session.commit()
    yield built
    d.close()


@pytest.fixture(scope="module")
def app(home):
    from webui import create_app

    return create_app(home["settings"], {"TESTING": True})


def _client(app, username: str):  # type: ignore[no-untyped-def]
    return login_client(app, username, PASSWORD)


def _token(client, path: str = "/reminders") -> str:  # type: ignore[no-untyped-def]
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def _section(html: str, css_class: str) -> str:
    match = re.search(rf'<section class="panel {css_class}".*?</section>', html, re.S)
    return match.group(0) if match else ""


def _no_nested_forms(html: str) -> None:
    """Forms do not nest (a browser drops the inner one, and its button would submit the outer form)."""
    depth = 0
    for tag in re.findall(r"<(/?)form\b", html):
        depth += -1 if tag else 1
        assert depth in (0, 1), "a form inside a form"


def _count(home) -> int:  # type: ignore[no-untyped-def]
    with home["dossier"].sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Reminder)) or 0)


def test_a_reps_start_page_shows_my_reminders_with_the_overdue_one_in_red_and_customers_to_contact(home, app):
    html = _client(app, "sales1").get("/").get_data(as_text=True)
    _no_nested_forms(html)
    mine = _section(html, "reminders-mine")
    assert "我的提醒" in mine and "逾期回访" in mine and "发送报价" in mine
    assert "催收货款" not in html  # sales2's
    assert "团队提醒" not in html
    late = re.search(
        rf'<li class="reminder overdue[^"]*" data-reminder-id="{home["late"]["id"]}">.*?</li>', mine, re.S
    )
    assert late and "逾期 3 天" in late.group(0)
    assert f'class="reminder reminder-open" data-reminder-id="{home["soon"]["id"]}"' in mine  # not overdue
    care = _section(html, "care")
    assert "客户关怀" in care and CUSTOMERS["A"][0] in care and UNOWNED not in care
    assert "100 天没有往来" in care


def test_a_managers_start_page_has_the_team_panel_with_owners(home, app):
    html = _client(app, "manager1").get("/").get_data(as_text=True)
    _no_nested_forms(html)
    team = _section(html, "reminders-team")
    assert "团队提醒" in team
    for title in ("逾期回访", "发送报价", "催收货款"):
        assert title in team
    assert "负责人: sales1" in team and "负责人: sales2" in team
    assert "逾期 3 天" in team
    care = _section(html, "care")
    assert CUSTOMERS["A"][0] in care and UNOWNED in care
    english = _client(app, "manager1").get("/?lang=en").get_data(as_text=True)
    assert "My reminders" in english and "My team&#39;s" in english and "3 days overdue" in english
    assert "To contact" in english


def test_the_reminders_page_opens_on_the_team_list_for_a_manager_and_filters_to_their_own(home, app):
    client = _client(app, "manager1")
    team = client.get("/reminders").get_data(as_text=True)
    assert "催收货款" in team and "逾期回访" in team
    own = client.get("/reminders", query_string={"status": "open"}).get_data(as_text=True)
    assert "无人负责的提醒" in own and "催收货款" not in own
    rep = _client(app, "sales1").get("/reminders").get_data(as_text=True)
    assert "逾期回访" in rep and "催收货款" not in rep


def test_a_viewers_start_page_has_no_reminder_panels(home, app):
    html = _client(app, "viewer1").get("/").get_data(as_text=True)
    assert "我的提醒" not in html and "团队提醒" not in html


def test_the_add_form_needs_the_csrf_token_and_adds(home, app):
    client = _client(app, "sales2")
    before = _count(home)
    refused = client.post("/reminders", data={"title": "没有令牌", "due": _day(3)})
    assert refused.status_code == 400 and _count(home) == before
    title = f"网页新建-{uuid.uuid4().hex[:6]}"
    response = client.post(
        "/reminders",
        data={"title": title, "due": _day(3), "customer": CUSTOMERS["B"][0], "csrf_token": _token(client)},
    )
    assert response.status_code == 303
    page = client.get("/reminders").get_data(as_text=True)
    assert title in page and "已添加提醒" in page
    assert _count(home) == before + 1


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"due": "2026-02-30"}, "不是有效日期"),
        ({"due": "2月30日"}, "不是有效日期"),
        ({"customer": "不存在的公司"}, "不存在"),
        ({"title": ""}, "请填写提醒标题"),
        ({"document": str(10**6)}, "不存在"),
    ],
)
def test_bad_form_input_says_what_is_wrong_and_writes_nothing(home, app, form, message):
    client = _client(app, "sales1")
    before = _count(home)
    data = {"title": "坏输入", "due": _day(1), "csrf_token": _token(client), **form}
    response = client.post("/reminders", data=data, follow_redirects=True)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _count(home) == before


def test_a_managers_form_assigns_to_a_disabled_user_is_refused(home, app):
    client = _client(app, "manager1")
    before = _count(home)
    data = {"title": "给停用的人", "due": _day(1), "owner": "gone", "csrf_token": _token(client)}
    response = client.post("/reminders", data=data, follow_redirects=True)
    assert "该用户已停用" in response.get_data(as_text=True) and _count(home) == before


def test_done_snooze_and_reassign_buttons(home, app):
    d = home["dossier"]
    item = d.reminders.add(principal(home, "manager1"), "按钮测试", _day(1), owner="sales1")
    manager = _client(app, "manager1")
    page = manager.get("/reminders?team=1").get_data(as_text=True)
    assert f'action="/reminders/{item["id"]}/reassign"' in page
    token = _token(manager)
    assert (
        manager.post(f"/reminders/{item['id']}/snooze", data={"days": "7", "csrf_token": token}).status_code
        == 303
    )
    assert d.reminders.get(item["id"], principal(home, "manager1"))["remind_on"] == _day(7)
    manager.post(f"/reminders/{item['id']}/reassign", data={"owner": "sales2", "csrf_token": token})
    assert d.reminders.get(item["id"], principal(home, "manager1"))["owner"] == "sales2"
    rep = _client(app, "sales2")
    assert f'action="/reminders/{item["id"]}/reassign"' not in rep.get("/reminders").get_data(as_text=True)
    assert rep.post(f"/reminders/{item['id']}/done", data={}).status_code == 400  # no token
    response = rep.post(
        f"/reminders/{item['id']}/done", data={"csrf_token": _token(rep), "next": "/"}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/")
    assert d.reminders.get(item["id"], principal(home, "sales2"))["status"] == "done"
    evil = rep.post(
        f"/reminders/{item['id']}/reopen", data={"csrf_token": _token(rep), "next": "//evil.example"}
    )
    assert evil.headers["Location"].endswith("/reminders")


def test_the_customer_page_lists_its_open_reminders_and_adds_one(home, app):
    client = _client(app, "sales1")
    cid = home["customers"]["A"]
    html = client.get(f"/customers/{cid}").get_data(as_text=True)
    _no_nested_forms(html)
    _no_nested_forms(client.get("/reminders").get_data(as_text=True))
    assert "逾期回访" in html and "发送报价" in html and "催收货款" not in html
    assert 'class="reminder-add"' in html
    title = f"客户页新建-{uuid.uuid4().hex[:6]}"
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/reminders",
        data={
            "title": title,
            "due": _day(5),
            "customer": str(cid),
            "next": f"/customers/{cid}",
            "csrf_token": token,
        },
    )
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/customers/{cid}")
    assert title in client.get(f"/customers/{cid}").get_data(as_text=True)
    viewer = _client(app, "viewer1").get(f"/customers/{cid}").get_data(as_text=True)
    assert 'class="reminder-add"' not in viewer


def test_the_api(home, app):
    client = _client(app, "sales1")
    token = _token(client)
    body = client.get("/api/reminders").get_json()
    assert body["today"] == TODAY.isoformat()
    titles = {i["title"]: i for i in body["items"]}
    assert "逾期回访" in titles and "催收货款" not in titles
    late = titles["逾期回访"]
    assert (
        late["overdue"] is True
        and late["days_overdue"] == 3
        and late["customer"]["name"] == CUSTOMERS["A"][0]
    )
    assert set(late) >= {
        "id",
        "title",
        "kind",
        "source",
        "due_on",
        "remind_on",
        "owner",
        "customer",
        "document",
        "evidence",
        "status",
    }
    soon = client.get("/api/reminders", query_string={"due_within": 0}).get_json()["items"]
    assert "发送报价" not in [i["title"] for i in soon] and "逾期回访" in [i["title"] for i in soon]
    assert client.get("/api/reminders", query_string={"due_within": "soon"}).status_code == 400
    assert client.get("/api/reminders", query_string={"status": "later"}).status_code == 400
    assert client.get("/api/reminders", query_string={"customer": "没有"}).status_code == 404

    assert client.post("/api/reminders", json={"title": "无令牌", "due": _day(1)}).status_code == 400
    headers = {"X-CSRF-Token": token}
    made = client.post("/api/reminders", json={"title": "接口新建", "due": _day(1)}, headers=headers)
    assert made.status_code == 201 and made.get_json()["owner"] == "sales1"
    rid = made.get_json()["id"]
    bad = client.post("/api/reminders", json={"title": "坏日期", "due": "2026-02-30"}, headers=headers)
    assert bad.status_code == 400 and "2026-02-30" in bad.get_json()["error"]
    gone = client.post(
        "/api/reminders", json={"title": "x", "due": _day(1), "owner": "sales2"}, headers=headers
    )
    assert gone.status_code == 403
    snoozed = client.post(f"/api/reminders/{rid}/snooze", json={"days": 3}, headers=headers).get_json()
    assert snoozed["remind_on"] == _day(3) and snoozed["due_on"] == _day(1)
    past = client.post(f"/api/reminders/{rid}/snooze", json={"until": "2020-01-01"}, headers=headers)
    assert past.status_code == 400
    assert client.post(f"/api/reminders/{rid}/done", headers=headers).get_json()["status"] == "done"
    assert client.post(f"/api/reminders/{rid}/reopen", headers=headers).get_json()["status"] == "open"
    assert (
        client.post(f"/api/reminders/{rid}/reassign", json={"owner": "sales2"}, headers=headers).status_code
        == 403
    )
    assert client.post(f"/api/reminders/{rid}/fly", headers=headers).status_code == 404
    assert client.delete(f"/api/reminders/{rid}").status_code == 400  # no token
    assert client.delete(f"/api/reminders/{rid}", headers=headers).get_json() == {"deleted": rid}
    assert client.get(f"/api/reminders/{rid}").status_code == 404

    manager = _client(app, "manager1")
    mtoken = {"X-CSRF-Token": _token(manager)}
    team = manager.get("/api/reminders", query_string={"team": 1}).get_json()["items"]
    assert {"sales1", "sales2"} <= {i["owner"] for i in team}
    moved = manager.post(
        f"/api/reminders/{home['theirs']['id']}/reassign", json={"owner": "gone"}, headers=mtoken
    )
    assert moved.status_code == 400 and "该用户已停用" in moved.get_json()["error"]
    care = manager.get("/api/reminders/care").get_json()
    assert {c["customer"]["name"] for c in care["customers"]} == {CUSTOMERS["A"][0], UNOWNED}
    assert [c["customer"]["name"] for c in client.get("/api/reminders/care").get_json()["customers"]] == [
        CUSTOMERS["A"][0]
    ]
    assert _client(app, "sales2").get("/api/reminders/care").get_json()["customers"] == []


def test_a_bad_stale_days_setting_is_named_on_the_start_page_and_refused_by_the_api(tmp_path):
    from webui import create_app

    built = build(tmp_path, {}, stale_days="潜在=三十")
    try:
        app = create_app(built["settings"], {"TESTING": True})
        client = _client(app, "manager1")
        start = client.get("/")
        assert start.status_code == 200  # search still works
        assert "DOSSIER_STALE_DAYS" in _section(start.get_data(as_text=True), "care")
        page = client.get("/reminders")
        assert page.status_code == 200 and "DOSSIER_STALE_DAYS" in page.get_data(as_text=True)
        care = client.get("/api/reminders/care")
        assert care.status_code == 500 and "DOSSIER_STALE_DAYS" in care.get_json()["error"]
    finally:
        built["dossier"].close()
