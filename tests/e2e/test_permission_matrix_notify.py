"""The permission matrix for notifications: every role × level × customer, in-app, by mail and on /admin/mail.

Each user owns, for every confidentiality level and both customers (A owned by ``sales1``, B by ``sales2``),
one reminder of that level about a document of that level (``R1``), and one ``internal`` reminder about a
document of that level (``R2``: a reminder about a document one may not read is not shown at all, exactly
as on the reminders' pages — its title could tell of the document).  What each user may
see is computed here from the issue's rules, independently of the code, and checked in the notification API,
the notification page, the same-day mails and the daily digest (a real local SMTP server), on each backend.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from tests._smtp import smtp_server
from tests.conftest import TANTIVY, backend_home, login_client
from tests.e2e.test_permission_matrix import CUSTOMERS, LEVELS, OWNERS, USERS, allowed

PASSWORD = "notify-matrix-Passw0rd"
TODAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 7, 9, 0)  # after the digest hour (8)


def _build(home: Path, extra_env: dict[str, str], port: int) -> dict:
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from records import Customer, Document, Reminder, User, hash_password

    env = {
        "DOSSIER_HOME": str(home),
        "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0",
        "DOSSIER_DIGEST_HOUR": "8",
        "DOSSIER_SMTP_HOST": "127.0.0.1",
        "DOSSIER_SMTP_PORT": str(port),
        **extra_env,
    }
    settings = load_settings(environ=env, dotenv=home / "none")
    Dossier.open(settings, require_init=False).init(admin_password=PASSWORD)
    d = Dossier.open(settings)
    with d.sessions() as s:
        users = {}
        for name, role in USERS.items():
            user = s.query(User).filter_by(username=name).first() if name == "admin" else None
            if user is None:
                user = User(username=name, role=role, password_hash=hash_password(PASSWORD))
                s.add(user)
            user.email = f"{name}@example.com"
            users[name] = user
        s.flush()
        customers = {key: Customer(name=name, owner=users[OWNERS[key]]) for key, name in CUSTOMERS.items()}
        s.add_all(customers.values())
        s.flush()
        for name, user in users.items():
            for level in LEVELS:
                for key, customer in customers.items():
                    for kind, reminder_level in (("R1", level), ("R2", "internal")):
                        doc = Document(
                            title=f"D-{kind}-{name}-{level}-{key}",
                            confidentiality=level,
                            access_level=level,
                            status="done",
                            customer_id=customer.id,
                            access_customers=[customer],
                        )
                        s.add(doc)
                        s.flush()
                        s.add(
                            Reminder(
                                title=f"{kind}-{name}-{level}-{key}",
                                owner_id=user.id,
                                customer_id=customer.id,
                                document_id=doc.id,
                                confidentiality=reminder_level,
                                remind_on=TODAY,
                                due_on=TODAY + timedelta(days=2),
                            )
                        )
        s.commit()
    d.notifications.run(NOW)
    d.notifications.send_pending()
    return {"dossier": d, "settings": settings}


def expected(username: str) -> tuple[set[str], set[str]]:
    """The reminder titles ``username`` may see, and the document titles."""
    reminders, documents = set(), set()
    for level in LEVELS:
        for key in CUSTOMERS:
            if allowed(username, level, key):
                reminders.add(f"R1-{username}-{level}-{key}")
                documents.add(f"D-R1-{username}-{level}-{key}")
            if allowed(username, "internal", key) and allowed(username, level, key):
                reminders.add(f"R2-{username}-{level}-{key}")
                documents.add(f"D-R2-{username}-{level}-{key}")
    return reminders, documents


def _all_titles(prefix: str, username: str) -> set[str]:
    return {
        f"{prefix}{k}-{username}-{level}-{key}" for k in ("R1", "R2") for level in LEVELS for key in CUSTOMERS
    }


@pytest.fixture(scope="module")
def mailbox():
    with smtp_server() as box:
        yield box


@pytest.fixture(
    scope="module", params=["sqlite", *TANTIVY, pytest.param("opensearch", marks=pytest.mark.opensearch)]
)
def home(request, tmp_path_factory, mailbox):  # type: ignore[no-untyped-def]
    mailbox.received.clear()
    with backend_home(
        request.param, "notify-matrix", tmp_path_factory, lambda root, env: _build(root, env, mailbox.port)
    ) as built:
        yield built


@pytest.fixture(scope="module")
def app(home):  # type: ignore[no-untyped-def]
    from webui import create_app

    return create_app(home["settings"], test_config={"TESTING": True})


@pytest.mark.parametrize("username", list(USERS))
def test_notifications_show_exactly_what_the_role_may_read(home, app, username):
    reminders, documents = expected(username)
    client = login_client(app, username, PASSWORD)
    items = []
    page = 1
    while True:
        body = client.get(f"/api/notifications?page={page}").get_json()
        items += body["items"]
        if page >= body["pages"]:
            break
        page += 1
    assert {i["title"] for i in items} == reminders
    shown_docs = {t for t in _all_titles("D-", username) if any(t in i["body"] for i in items)}
    assert shown_docs == documents
    html = client.get("/notifications").get_data(as_text=True)
    for title in _all_titles("D-", username) - documents:
        assert title not in html


@pytest.mark.parametrize("username", list(USERS))
def test_mails_hold_exactly_what_the_role_may_read(home, mailbox, username):
    reminders, documents = expected(username)
    mine = mailbox.to(f"{username}@example.com")
    same_day = [m for m in mine if "每日提醒" not in m["Subject"]]
    assert {
        next(t for t in reminders | _all_titles("", username) if t in m["Subject"]) for m in same_day
    } == reminders
    digests = [m for m in mine if "每日提醒" in m["Subject"]]
    everything = "\n".join(m.get_content() for m in mine)
    assert {t for t in _all_titles("D-", username) if t in everything} == documents
    if reminders:
        assert len(digests) == 1
        assert {t for t in _all_titles("", username) if t in digests[0].get_content()} == reminders
    else:
        assert not digests  # nothing to say: no digest


@pytest.mark.parametrize("username", list(USERS))
def test_the_outbox_is_for_admins_only(home, app, username):
    client = login_client(app, username, PASSWORD)
    assert client.get("/admin/mail").status_code == (200 if USERS[username] == "admin" else 404)
