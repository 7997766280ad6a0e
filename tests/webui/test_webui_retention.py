"""The retention page and API (保留与销毁): the queue for managers, the two-person rule, holds, the permission matrix."""

from __future__ import annotations

import re

import pytest

from records import User, hash_password
from tests.app.test_erasure import canary, write_note
from tests.conftest import ADMIN_PASSWORD
from tests.webui.conftest import _csrf_from, _login
from webui import create_app

PASSWORD = "retention-web-Passw0rd"
ROLES = (
    ("boss", "manager"),
    ("chief", "manager"),
    ("sales1", "sales"),
    ("viewer1", "viewer"),
    ("finance1", "finance"),
)


@pytest.fixture
def web(dossier, settings, tmp_path):
    """A fresh home with three notes and a user of each role, and its web app."""
    paths = [write_note(tmp_path / f"in{i}", canary(), name=f"w{i}.txt") for i in range(3)]
    ids = [doc["id"] for doc in dossier.ingest_paths(paths)["documents"]]
    with dossier.sessions() as session:
        for name, role in ROLES:
            session.add(User(username=name, role=role, password_hash=hash_password(PASSWORD)))
        session.commit()
    app = create_app(settings, test_config={"TESTING": True})
    return app, dossier, ids


def client_for(app, username: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    response = _login(client, username, ADMIN_PASSWORD if username == "admin" else PASSWORD)
    assert response.status_code == 302
    return client


def page_token(client) -> str:  # type: ignore[no-untyped-def]
    return _csrf_from(client.get("/retention").get_data(as_text=True))


def test_the_page_proposes_and_a_second_manager_approves(web):
    """Boss proposes on the page; boss's approval is refused (two people) and so is one without the confirmation
    box; chief approves; the queue shows it destroyed; the document page is gone."""
    app, d, (doc_id, _, _) = web
    boss, chief = client_for(app, "boss"), client_for(app, "chief")
    token = page_token(boss)
    r = boss.post("/retention/propose", data={"document": str(doc_id), "reason": "到期", "csrf_token": token})
    assert r.status_code == 302
    [row] = d.retention.queue()
    page = boss.get("/retention").get_data(as_text=True)
    assert f'data-id="{row["id"]}"' in page and "到期" in page
    boss.post(f"/retention/{row['id']}/approve", data={"confirm": "1", "csrf_token": token})
    assert d.retention.queue()[0]["status"] == "proposed"
    assert "two-person" in boss.get("/retention?lang=en").get_data(as_text=True)
    chief_token = page_token(chief)
    chief.post(f"/retention/{row['id']}/approve", data={"csrf_token": chief_token})
    assert d.retention.queue()[0]["status"] == "proposed"  # no confirmation ticked
    assert (
        chief.post(
            f"/retention/{row['id']}/approve", data={"csrf_token": "wrong", "confirm": "1"}
        ).status_code
        == 400
    )
    chief.post(f"/retention/{row['id']}/approve", data={"confirm": "1", "csrf_token": chief_token})
    assert d.retention.queue()[0]["status"] == "destroyed"
    assert chief.get(f"/documents/{doc_id}").status_code == 404


@pytest.mark.parametrize("username", ["sales1", "viewer1", "finance1"])
def test_only_managers_and_admins_reach_retention(web, username):
    """The page and the API answer 404 to sales, viewers and finance; their POSTs are refused (403/404)."""
    app, d, (doc_id, _, _) = web
    row = d.retention.propose(doc_id, d.accounts.principal_for("boss"))
    client = client_for(app, username)
    assert client.get("/retention").status_code == 404
    assert client.get("/api/retention").status_code == 404
    assert "nav-retention" not in client.get("/").get_data(as_text=True)
    token = _csrf_from(client.get("/").get_data(as_text=True))
    assert (
        client.post(f"/retention/{row['id']}/approve", data={"confirm": "1", "csrf_token": token}).status_code
        == 403
    )
    headers = {"X-CSRF-Token": token}
    assert client.post(f"/api/retention/{row['id']}/approve", headers=headers).status_code == 404
    assert (
        client.post("/api/retention/hold", json={"document_id": doc_id}, headers=headers).status_code == 404
    )
    assert d.retention.queue()[0]["status"] == "proposed" and not d.retention.is_held(doc_id)


def test_the_api_two_person_rule_holds_and_rules(web):
    """Through the API: a proposal, the proposer's approval refused (403), a hold blocks (403), released, another
    manager approves; rules are added (checked: 400 with the reason) and removed."""
    app, _d, (doc_id, _other, _) = web
    boss, chief = client_for(app, "boss"), client_for(app, "chief")
    bh = {"X-CSRF-Token": page_token(boss)}
    ch = {"X-CSRF-Token": page_token(chief)}
    r = boss.post("/api/retention/propose", json={"document_id": doc_id}, headers=bh)
    assert r.status_code == 201, r.get_data(as_text=True)
    destruction = r.get_json()["id"]
    r = boss.post(f"/api/retention/{destruction}/approve", headers=bh)
    assert (
        r.status_code == 403
        and "two-person"
        in boss.post(f"/api/retention/{destruction}/approve?lang=en", headers=bh).get_json()["error"]
    )
    assert (
        chief.post(
            "/api/retention/hold", json={"document_id": doc_id, "reason": "审计"}, headers=ch
        ).status_code
        == 200
    )
    assert chief.post(f"/api/retention/{destruction}/approve", headers=ch).status_code == 403
    page = chief.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert re.search(r"badge-legal-hold", page)
    assert (
        chief.post(
            "/api/retention/hold", json={"document_id": doc_id, "release": True}, headers=ch
        ).status_code
        == 200
    )
    done = chief.post(f"/api/retention/{destruction}/approve", headers=ch)
    assert done.status_code == 200 and done.get_json()["status"] == "destroyed"

    bad = boss.post("/api/retention/rules?lang=en", json={"name": "x", "destroy_after": "soon"}, headers=bh)
    assert bad.status_code == 400 and "30y" in bad.get_json()["error"]
    added = boss.post(
        "/api/retention/rules", json={"name": "报价", "doc_type": "quote", "archive_after": "2y"}, headers=bh
    )
    assert added.status_code == 201
    listed = boss.get("/api/retention").get_json()
    assert [rule["name"] for rule in listed["rules"]] == ["报价"] and listed["queue"][0][
        "status"
    ] == "destroyed"
    assert boss.delete(f"/api/retention/rules/{added.get_json()['id']}", headers=bh).status_code == 200
    assert boss.get("/api/retention").get_json()["rules"] == []
