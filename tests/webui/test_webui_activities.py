"""Activities and comments on the web (issue 16): the customer page's form and timeline, the document's comments,
the search page's activity hits, and the JSON API (POST/GET/PATCH/DELETE /api/activities, the timeline)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import audit_events, login_client

PASSWORD = "web-act-Passw0rd"


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from records import Customer, Document, DocumentCustomer, Page, User, Version, hash_password

    root: Path = tmp_path_factory.mktemp("web-activities")
    settings = load_settings(
        environ={"DOSSIER_HOME": str(root), "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0"},
        dotenv=root / "none",
    )
    Dossier.open(settings, require_init=False).init(admin_password=PASSWORD)
    d = Dossier.open(settings)
    with d.sessions() as session:
        users = {
            name: User(username=name, role=role, password_hash=hash_password(PASSWORD))
            for name, role in (("sales1", "sales"), ("sales2", "sales"), ("viewer1", "viewer"))
        }
        session.add_all(users.values())
        customer = Customer(
            name="杭州明远科技有限公司",
            aliases=["明远科技"],
            contacts=[{"name": "张三"}, {"name": "李四"}],
            owner=users["sales1"],
        )
        session.add(customer)
        data = b"quote"
        doc = Document(
            title="明远报价单",
            doc_type="quote",
            confidentiality="internal",
            confidentiality_source="manual",
            status="indexed",
            customer=customer,
            versions=[
                Version(number=1, sha256=d.blobs.put(data), filename="q.txt", mime="text/plain", size=5)
            ],
            pages=[Page(number=1, text="明远科技 报价单")],
        )
        doc.customer_links = [DocumentCustomer(customer=customer, method="given", position=0, score=1.0)]
        session.add(doc)
        session.commit()
        ids = {"customer": customer.id, "doc": doc.id}
    d.reindex([ids["doc"]])
    from webui import create_app

    app = create_app(settings, {"TESTING": True})
    yield {"d": d, "app": app, "ids": ids}
    d.close()


def test_customer_page_form_logs_an_activity_with_csrf(home) -> None:  # type: ignore[no-untyped-def]
    client = login_client(home["app"], "sales1", PASSWORD)
    cid = home["ids"]["customer"]
    page = client.get(f"/customers/{cid}").get_data(as_text=True)
    assert 'id="timeline"' in page and "客户时间线" in page
    assert (
        'name="contacts" value="张三"' in page and 'name="contacts" value="李四"' in page
    )  # the customer's contacts
    form = {
        "kind": "visit",
        "occurred_at": "2026-11-30 15:00",
        "contacts": ["张三"],
        "contacts_other": "王五",
        "subject": "上门拜访",
        "body": "客户确认采购意向",
        "next_step": "下周发正式报价",
        "confidentiality": "",
    }
    refused = client.post(f"/customers/{cid}/activities", data=form)
    assert refused.status_code == 400  # no CSRF token
    form["csrf_token"] = _token(page)
    done = client.post(f"/customers/{cid}/activities", data=form)
    assert done.status_code == 303 and "#activity-" in done.headers["Location"]
    page = client.get(f"/customers/{cid}").get_data(as_text=True)
    assert "客户确认采购意向" in page and "下周发正式报价" in page and "张三、王五" in page
    items = home["d"].activities.list(home["d"].accounts.principal_for("sales1"), customer=cid)["items"]
    # typed in DOSSIER_TIMEZONE (Asia/Shanghai, UTC+8), kept in UTC, shown in the zone again
    assert items[0]["contacts"] == ["张三", "王五"] and items[0]["occurred_at"] == "2026-11-30T07:00"
    assert ">2026-11-30 15:00</time>" in page
    # Edited from the timeline (CSRF again), by its author.
    activity_id = items[0]["id"]
    edited = client.post(
        f"/activities/{activity_id}/edit",
        data={"csrf_token": _token(page), "body": "客户确认采购意向，预算已批"},
    )
    assert edited.status_code == 303 and f"#activity-{activity_id}" in edited.headers["Location"]
    assert "预算已批" in client.get(f"/customers/{cid}").get_data(as_text=True)
    # A date that cannot be a date: a clear message, nothing written.
    bad = dict(form, occurred_at="2026-02-30", body="不该保存")
    answer = client.post(f"/customers/{cid}/activities", data=bad, follow_redirects=True)
    text = answer.get_data(as_text=True)
    assert "2026-02-30" in text and "不该保存" not in text
    # The timeline on a page of its own, filtered.
    own = client.get(f"/customers/{cid}/timeline?tl_kind=activity")
    assert own.status_code == 200 and "客户确认采购意向" in own.get_data(as_text=True)
    assert "明远报价单" not in own.get_data(as_text=True).split('id="timeline"')[1]


def test_viewer_gets_no_form_and_cannot_post(home) -> None:  # type: ignore[no-untyped-def]
    client = login_client(home["app"], "viewer1", PASSWORD)
    cid = home["ids"]["customer"]
    page = client.get(f"/customers/{cid}").get_data(as_text=True)
    assert "activity-form" not in page
    answer = client.post(
        f"/customers/{cid}/activities",
        data={"csrf_token": _token(page), "kind": "call", "body": "x"},
        follow_redirects=True,
    )
    assert "只读用户不能记录沟通或评论" in answer.get_data(as_text=True)


def test_document_comments_form_and_delete(home) -> None:  # type: ignore[no-untyped-def]
    client = login_client(
        home["app"], "sales2", PASSWORD
    )  # not the owner: may still comment on what they read
    doc_id = home["ids"]["doc"]
    page = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert 'id="comments"' in page
    done = client.post(
        f"/documents/{doc_id}/comments", data={"csrf_token": _token(page), "body": "价格需要复核"}
    )
    assert done.status_code == 303 and "#comment-" in done.headers["Location"]
    page = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert "价格需要复核" in page
    comment_id = int(re.search(r'id="comment-(\d+)"', page).group(1))  # type: ignore[union-attr]
    found = client.get("/", query_string={"q": "复核"}).get_data(as_text=True)
    assert f"/documents/{doc_id}#comment-{comment_id}" in found and "评论" in found
    english = client.get("/", query_string={"q": "复核", "lang": "en"}).get_data(as_text=True)
    assert "Comment" in english
    gone = client.post(f"/activities/{comment_id}/delete", data={"csrf_token": _token(page)})
    assert gone.status_code == 303
    assert "价格需要复核" not in client.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert [e.action for e in audit_events(home["d"]) if e.action.startswith("activity_")][-2:] == [
        "activity_add",
        "activity_delete",
    ]


def test_api_round_trip_and_errors(home) -> None:  # type: ignore[no-untyped-def]
    client = login_client(home["app"], "sales1", PASSWORD)
    cid = home["ids"]["customer"]
    headers = {"X-CSRF-Token": _token(client.get(f"/customers/{cid}").get_data(as_text=True))}
    made = client.post(
        "/api/activities",
        json={
            "kind": "meeting",
            "customer": "明远科技",
            "occurred_at": "2026-12-02 09:30",
            "contacts": ["李四"],
            "subject": "季度会议",
            "body": "讨论续约条款",
            "next_step": "法务审核",
        },
        headers=headers,
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    body = made.get_json()
    assert body["customer"]["id"] == cid and body["confidentiality"] == "internal" and body["may_edit"]
    # The search page and the API show it as an activity hit linking to the customer timeline.
    hits = client.get("/api/search", query_string={"q": "续约条款"}).get_json()["hits"]
    assert [(h["activity"], h["kind"], h["link"]) for h in hits] == [
        (body["id"], "meeting", f"/customers/{cid}#activity-{body['id']}")
    ]
    page = client.get("/", query_string={"q": "续约条款"}).get_data(as_text=True)
    assert f"/customers/{cid}#activity-{body['id']}" in page and "沟通记录" in page
    # The doc_type facet's link (type=activity) and the activities filter work on the page and the API.
    assert client.get("/", query_string={"q": "续约条款", "type": "activity"}).status_code == 200
    assert (
        client.get("/api/search", query_string={"q": "续约条款", "type": "comment"}).get_json()["total"] == 0
    )
    assert (
        client.get("/api/search", query_string={"q": "续约条款", "type": "沟通记录"}).get_json()["total"] == 1
    )
    assert (
        client.get("/api/search", query_string={"q": "续约条款", "activities": "exclude"}).get_json()["total"]
        == 0
    )
    changed = client.patch(f"/api/activities/{body['id']}", json={"body": "续约条款已谈妥"}, headers=headers)
    assert changed.status_code == 200 and changed.get_json()["body"] == "续约条款已谈妥"
    listed = client.get("/api/activities", query_string={"customer": cid, "kind": "meeting"}).get_json()
    assert [a["id"] for a in listed["items"]] == [body["id"]]
    timeline = client.get(f"/api/customers/{cid}/timeline", query_string={"kind": "activity"}).get_json()
    assert body["id"] in [i["id"] for i in timeline["items"]]
    # Errors: clear messages, JSON, the right status.
    bad = client.post(
        "/api/activities",
        json={"kind": "call", "customer": cid, "body": "x", "occurred_at": "2月30日"},
        headers=headers,
    )
    assert bad.status_code == 400 and "2月30日" in bad.get_json()["error"]
    missing = client.post(
        "/api/activities", json={"kind": "call", "customer": "没有这家公司", "body": "x"}, headers=headers
    )
    assert missing.status_code == 404 and "没有这家公司" in missing.get_json()["error"]
    long = client.post(
        "/api/activities", json={"kind": "call", "customer": cid, "subject": "长" * 300}, headers=headers
    )
    assert long.status_code == 400 and "255" in long.get_json()["error"]
    assert (
        client.post("/api/activities", json={"kind": "call", "customer": cid, "body": "x"}).status_code == 400
    )  # CSRF
    other = login_client(home["app"], "sales2", PASSWORD)
    other_headers = {"X-CSRF-Token": _token(other.get(f"/customers/{cid}").get_data(as_text=True))}
    assert (
        other.patch(f"/api/activities/{body['id']}", json={"body": "x"}, headers=other_headers).status_code
        == 403
    )
    assert other.delete(f"/api/activities/{body['id']}", headers=other_headers).status_code == 403
    assert client.delete(f"/api/activities/{body['id']}", headers=headers).get_json() == {
        "id": body["id"],
        "deleted": True,
    }
    assert client.get(f"/api/activities/{body['id']}").status_code == 404
