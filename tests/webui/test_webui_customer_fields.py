"""The steering fields on the web: rep edits of their own customers, the customer list's figures, search facets.

A data home of its own (the folder home's registry and documents), since these tests change customers.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from records import AuditEvent, Customer, CustomerChange
from tests.webui.conftest import FOLDER_PASSWORD, _build_folder_home, _csrf_from, _login
from webui import create_app


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return _build_folder_home(tmp_path_factory.mktemp("fields-home"))


@pytest.fixture(scope="module")
def app(home):
    return create_app(home["settings"], test_config={"TESTING": True})


@pytest.fixture()
def login(app):
    def log_in(username: str):
        client = app.test_client()
        assert _login(client, username, FOLDER_PASSWORD).status_code == 302
        return client

    return log_in


def _customer(home, key):
    with home["dossier"].sessions() as session:
        c = session.get(Customer, home["customers"][key])
        return {
            "stage": c.stage,
            "tags": list(c.tags or []),
            "notes": c.notes,
            "contacts": c.contacts,
            "name": c.name,
            "importance": c.importance,
        }


def _token(client, path):
    return _csrf_from(client.get(path).get_data(as_text=True))


def test_a_rep_sees_only_the_fields_they_edit_and_saves_them(home, login):
    client = login("sales2")  # owns 澄明
    cid = home["customers"]["chengming"]
    html = client.get(f"/customers/{cid}").get_data(as_text=True)
    assert f"/customers/{cid}/edit" in html
    page = client.get(f"/customers/{cid}/edit")
    form = page.get_data(as_text=True)
    assert page.status_code == 200
    names = set(re.findall(r'name="([a-z_0-9-]+)"', form))
    assert {"stage", "tags", "notes", "contacts-0-name"} <= names
    assert not names & {
        "name",
        "aliases",
        "credit_code",
        "customer_type",
        "importance",
        "owner_name",
        "industry",
    }
    assert "作为负责销售" in form
    r = client.post(
        f"/customers/{cid}/edit",
        data={
            "csrf_token": _csrf_from(form),
            "stage": "方案报价",
            "tags": "重点、华东",
            "notes": "下周拜访",
            "contacts-0-name": "陈静",
            "contacts-0-mobile": "13900001111",
        },
    )
    assert r.status_code == 303, r.get_data(as_text=True)[:500]
    saved = _customer(home, "chengming")
    assert (saved["stage"], saved["tags"], saved["notes"]) == ("方案报价", ["重点", "华东"], "下周拜访")
    assert saved["contacts"][0]["name"] == "陈静" and saved["importance"] == "B"
    with home["dossier"].sessions() as session:
        change = session.scalars(select(CustomerChange).where(CustomerChange.customer_id == cid)).one()
        assert (change.username, change.field, change.before, change.after) == (
            "sales2",
            "stage",
            "初步接触",
            "方案报价",
        )
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "customer_edit", AuditEvent.target_id == cid)
        ).one()
        assert event.username == "sales2"
        assert event.detail["changed"]["tags"] == [[], ["重点", "华东"]]
        assert event.detail["changed"]["stage"] == ["初步接触", "方案报价"]
    shown = client.get(f"/customers/{cid}").get_data(as_text=True)
    assert "重点" in shown and "方案报价" in shown
    # search follows: the rep's own customer's documents carry the new stage and tags
    found = client.get("/?q=&all=1&stage=方案报价").get_data(as_text=True)
    assert "报价单_澄明_保密" in found and "拜访记录_澄明" in found


def test_a_rep_posting_another_field_is_refused_with_the_reason(home, login):
    client = login("sales2")
    cid = home["customers"]["chengming"]
    token = _token(client, f"/customers/{cid}/edit")
    r = client.post(f"/customers/{cid}/edit", data={"csrf_token": token, "stage": "x", "importance": "A"})
    assert r.status_code == 403
    assert "销售只能修改联系人、销售阶段、客户标签和备注" in r.get_data(as_text=True)
    assert _customer(home, "chengming")["importance"] == "B"


def test_a_bad_tag_shows_the_form_again_with_the_reason(home, login):
    client = login("sales2")
    cid = home["customers"]["chengming"]
    token = _token(client, f"/customers/{cid}/edit")
    r = client.post(f"/customers/{cid}/edit", data={"csrf_token": token, "stage": "y", "tags": "x" * 40})
    assert r.status_code == 400 and "最多 32 个字符" in r.get_data(as_text=True)
    assert _customer(home, "chengming")["stage"] != "y"


def test_a_rep_may_not_open_another_reps_customer_for_editing(home, login):
    client = login("sales1")
    cid = home["customers"]["chengming"]
    assert client.get(f"/customers/{cid}/edit").status_code == 403


def test_the_api_patch(home, login):
    cid = home["customers"]["mingyuan"]
    rep = login("sales1")
    token = _token(rep, "/customers")
    r = rep.patch(
        f"/api/customers/{cid}", json={"tags": ["续约"], "notes": "API"}, headers={"X-CSRF-Token": token}
    )
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json()["changed"] == ["notes", "tags"]
    r = rep.patch(f"/api/customers/{cid}", json={"importance": "C"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 403 and "importance" in r.get_json()["error"]
    r = rep.patch(
        f"/api/customers/{home['customers']['chengming']}",
        json={"notes": "x"},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 403 and "不由您负责" in r.get_json()["error"]
    assert rep.patch(f"/api/customers/{cid}", json={"notes": "x"}).status_code == 400  # no CSRF token
    assert rep.patch(f"/api/customers/{cid}", json={}, headers={"X-CSRF-Token": token}).status_code == 400
    viewer = login("viewer1")
    r = viewer.patch(
        f"/api/customers/{cid}", json={"notes": "x"}, headers={"X-CSRF-Token": _token(viewer, "/customers")}
    )
    assert r.status_code == 403
    manager = login("manager1")
    r = manager.patch(
        f"/api/customers/{cid}",
        json={"importance": "ｂ", "stage": "续约谈判"},
        headers={"X-CSRF-Token": _token(manager, "/customers")},
    )
    assert r.status_code == 200 and _customer(home, "mingyuan")["importance"] == "B"
    assert (
        manager.patch(
            "/api/customers/999999",
            json={"notes": "x"},
            headers={"X-CSRF-Token": _token(manager, "/customers")},
        ).status_code
        == 404
    )


def test_the_customer_list_shows_sorts_and_filters_the_steering_figures(home, login):
    client = login("manager1")
    html = client.get("/customers?sort=contract_amount").get_data(as_text=True)
    for label in ("客户标签", "最近活动", "待办提醒", "合同金额"):
        assert label in html
    rows = re.findall(r'<tr class="customer" data-customer-id="(\d+)"', html)
    assert rows[0] == str(home["customers"]["mingyuan"])  # 120,000 + 300,000 of contracts
    assert "420,000.00" in html
    viewer = login("viewer1").get("/customers?sort=contract_amount").get_data(as_text=True)
    assert "420,000.00" not in viewer and "300,000.00" not in viewer  # a viewer reads no contract
    filtered = client.get("/customers?importance=c").get_data(as_text=True)
    assert re.findall(r'<tr class="customer" data-customer-id="(\d+)"', filtered) == [
        str(home["customers"]["hengda"])
    ]
    english = client.get("/customers?lang=en").get_data(as_text=True)
    assert "Contract amount" in english and "Open reminders" in english and "Customer tags" in english


def test_the_api_list_is_sorted_and_paged(home, login):
    client = login("manager1")
    body = client.get("/api/customers?sort=contract_amount&limit=1").get_json()
    assert body["limit"] == 1 and body["total"] >= 3 and body["sort"] == "contract_amount"
    (first,) = body["customers"]
    assert first["id"] == home["customers"]["mingyuan"] and first["contract_amount"] == "420000.00"
    assert {"stage", "importance", "tags", "last_activity", "open_reminders"} <= set(first)
    assert client.get("/api/customers?stage=已签约").get_json()["total"] >= 0


def test_search_page_facets_and_filter_links(home, login):
    client = login("manager1")
    html = client.get("/?q=服务器").get_data(as_text=True)
    for label in ("销售阶段", "重要性"):
        assert label in html
    assert "facet-stage" in html and "facet-importance" in html
    one = client.get("/?q=服务器&importance=c").get_data(as_text=True)
    assert "销售合同_恒达" in one and "报价单_明远_服务器" not in one
    bad = client.get("/?q=服务器&importance=Z")
    assert bad.status_code == 400 and "A、B 或 C" in bad.get_data(as_text=True)
    assert "Sales stage" in client.get("/?q=服务器&lang=en").get_data(as_text=True)
