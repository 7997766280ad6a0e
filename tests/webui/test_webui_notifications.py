"""Notifications on the web: the counter in the navigation bar, the list, mark read, the API, and /admin/mail."""

from __future__ import annotations

import re

import pytest

from foundation.messages import msg
from records import MailDelivery
from tests.app.test_notifications import BEFORE_DIGEST, make_home, populate
from tests.conftest import login_client
from webui import create_app

PASSWORD = "通知-web-Passw0rd!"


@pytest.fixture
def site(tmp_path):  # type: ignore[no-untyped-def]
    d = make_home(tmp_path / "home", None)
    ids = populate(d)
    for name in ("rep1", "rep2"):
        d.accounts.set_password(name, PASSWORD)
    d.accounts.set_password("admin", PASSWORD)
    d.notifications.run(BEFORE_DIGEST)
    app = create_app(d.settings, test_config={"TESTING": True})
    yield {"d": d, "app": app, "ids": ids}
    d.close()


def _csrf(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/notifications").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def test_the_counter_list_and_mark_read_for_the_signed_in_user(site):
    """rep1 sees 2 unread in the bar and their own two notifications (not rep2's); marking one read (with the
    CSRF token; without it: 400) leaves 1; "mark all" leaves none and the counter goes."""
    client = login_client(site["app"], "rep1", PASSWORD)
    page = client.get("/").get_data(as_text=True)
    assert re.search(r'class="nav-notifications"[^>]*>[^<]*<span class="badge unread-count">2</span>', page)
    listing = client.get("/notifications").get_data(as_text=True)
    assert "回访甲方" in listing and "逾期报价" in listing and "乙方续约" not in listing
    assert 'href="/documents/' in listing  # the readable contract's link
    first = re.search(r'name="id" value="(\d+)"', listing).group(1)  # type: ignore[union-attr]
    assert client.post("/notifications/read", data={"id": first}).status_code == 400  # no CSRF token
    done = client.post("/notifications/read", data={"id": first, "csrf_token": _csrf(client)})
    assert done.status_code == 302
    assert '<span class="badge unread-count">1</span>' in client.get("/").get_data(as_text=True)
    client.post("/notifications/read", data={"all": "1", "csrf_token": _csrf(client)})
    assert "unread-count" not in client.get("/").get_data(as_text=True)
    assert "unread-count" not in client.get("/notifications?lang=en").get_data(as_text=True)


def test_the_api_lists_and_marks_only_the_callers_notifications(site):
    """GET /api/notifications[?unread=1] → {"unread", "items"}; POST …/read with ids or all (CSRF header);
    someone else's id changes nothing; a bad body is a 400 JSON; anonymous callers get 401."""
    assert site["app"].test_client().get("/api/notifications").status_code == 401
    rep2 = login_client(site["app"], "rep2", PASSWORD)
    theirs = rep2.get("/api/notifications").get_json()["items"][0]["id"]
    client = login_client(site["app"], "rep1", PASSWORD)
    body = client.get("/api/notifications").get_json()
    assert body["unread"] == 2 and {i["title"] for i in body["items"]} == {"回访甲方", "逾期报价"}
    headers = {"X-CSRF-Token": _csrf(client)}
    assert client.post("/api/notifications/read", json={"ids": [theirs]}, headers=headers).get_json() == {
        "marked": 0,
        "unread": 2,
    }
    assert rep2.get("/api/notifications").get_json()["unread"] == 1
    mine = body["items"][0]["id"]
    assert (
        client.post("/api/notifications/read", json={"ids": [mine]}, headers=headers).get_json()["unread"]
        == 1
    )
    assert len(client.get("/api/notifications?unread=1").get_json()["items"]) == 1
    bad = client.post("/api/notifications/read", json={"ids": "all"}, headers=headers)
    assert bad.status_code == 400 and "error" in bad.get_json()
    assert client.post("/api/notifications/read", json={"all": True}).status_code == 400  # no CSRF header
    assert client.post("/api/notifications/read", json={"all": True}, headers=headers).get_json() == {
        "marked": 1,
        "unread": 0,
    }


def test_admins_see_failed_mails_with_their_error_and_retry_them(site):
    """/admin/mail lists the failed mail with attempts and the server's answer (404 for others); the health JSON
    says degraded with a reason while mails fail; the retry button (CSRF) makes it pending again."""
    d = site["d"]
    error = msg("notify.mail.refused", code=550, text="5.1.1 mailbox unavailable", server="mx:25").dumps()
    with d.sessions() as s:
        row = MailDelivery(
            key="due:1:2026-12-07",
            user_id=site["ids"]["rep1"],
            recipient="rep1@example.com",
            subject="Dossier 提醒：回访甲方",
            status="failed",
            attempts=8,
            last_error=error,
        )
        s.add(row)
        s.commit()
        mail_id = row.id
    rep = login_client(site["app"], "rep1", PASSWORD)
    assert rep.get("/admin/mail").status_code == 404
    assert 'class="nav-mail"' not in rep.get("/").get_data(as_text=True)
    health = site["app"].test_client().get("/healthz")
    assert health.status_code == 200
    state = health.get_json()
    assert state["status"] == "degraded" and state["mail"] == {"ok": False, "error": "MailFailed"}
    assert any("/admin/mail" in reason for reason in state["reasons"])

    admin = login_client(site["app"], "admin", PASSWORD)
    page = admin.get("/admin/mail?lang=en").get_data(as_text=True)
    assert "rep1@example.com" in page and "550 5.1.1 mailbox unavailable" in page and ">8<" in page
    assert admin.post("/admin/mail/retry", data={"id": str(mail_id)}).status_code == 400  # no CSRF token
    done = admin.post("/admin/mail/retry", data={"id": str(mail_id), "csrf_token": _csrf(admin)})
    assert done.status_code == 302
    assert d.notifications.mail_counts() == {"pending": 1, "failed": 0, "sent": 0}
    assert site["app"].test_client().get("/healthz").get_json()["mail"] == {"ok": True}
    assert rep.post("/admin/mail/retry", data={"all": "1", "csrf_token": _csrf(rep)}).status_code == 404
