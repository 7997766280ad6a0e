"""The permission matrix for reminders (提醒) and customer care, on each backend.

Reminders sit on documents of every confidentiality level of two customers (A owned by
``sales1``, B by ``sales2``), without documents at every level, one nobody owns, one a viewer
owns and one whose document is in the trash.  What each user may see is computed here from the
rules of issue 16, independently of the code, and every path is checked: the web list, the start
page, the API (list and one reminder, and acting on it), and ``dossier reminders list --as``.
Titles of documents a user may not read never appear.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tests._reminders import CUSTOMERS, LEVELS, PASSWORD, USERS, build, doc_id
from tests.conftest import TANTIVY, backend_home, login_client

OWNERS = {key: owner for key, (_name, owner, _type) in CUSTOMERS.items()}
TODAY = date.today()


def allowed(username: str, level: str, key: str | None) -> bool:
    """The documents' reading rule as issue 7 states it."""
    role = USERS[username]
    if role in ("admin", "manager"):
        return True
    if role == "finance":
        return level in ("public", "internal", "finance")
    if role == "sales":
        return level in ("public", "internal") or (
            level == "confidential" and OWNERS.get(key or "") == username
        )
    return level == "public"


def sees(username: str, spec: dict[str, Any]) -> bool:
    """Issue 16: the documents' matrix, owners included; a trashed or unreadable document hides it."""
    if spec["trashed"]:
        return False
    if spec["doc_level"] and not allowed(username, spec["doc_level"], spec["key"]):
        return False
    return allowed(username, spec["level"], spec["key"])


def owner_for(level: str, key: str) -> str | None:
    """Who gets a reminder of ``level`` about customer ``key``: its rep when they may see it, else finance1, else none."""
    return next((u for u in (OWNERS[key], "finance1") if u and allowed(u, level, key)), None)


def _build(home: Path, extra_env: dict[str, str]) -> dict[str, Any]:
    from foundation.errors import DossierError as ReminderError
    from index import Principal
    from records import Customer, Document, Reminder, User

    built = build(home, extra_env)
    d = built["dossier"]
    system = Principal.system()
    specs: dict[int, dict[str, Any]] = {}
    day = (TODAY + timedelta(days=2)).isoformat()
    for key in CUSTOMERS:
        for level in LEVELS:
            owner = owner_for(level, key)
            item = d.reminders.add(
                system, f"提醒_doc_{level}_{key}", day, owner=owner, document=doc_id(built, level, key)
            )
            specs[item["id"]] = {
                "doc_level": level,
                "level": level,
                "key": key,
                "owner": owner,
                "trashed": False,
            }
            item = d.reminders.add(
                system,
                f"提醒_plain_{level}_{key}",
                day,
                owner=owner_for(level, key),
                customer=built["customers"][key],
                confidentiality=level,
            )
            specs[item["id"]] = {
                "doc_level": None,
                "level": level,
                "key": key,
                "owner": owner_for(level, key),
                "trashed": False,
            }
    item = d.reminders.add(system, "提醒_unassigned", day, customer="远航")
    specs[item["id"]] = {"doc_level": None, "level": "internal", "key": "C", "owner": None, "trashed": False}
    with pytest.raises(ReminderError):  # a reminder is never given to someone who could not see it
        d.reminders.add(system, "提醒_viewer_finance", day, owner="viewer1", confidentiality="finance")
    item = d.reminders.add(system, "提醒_viewer", day, owner="viewer1", confidentiality="public")
    specs[item["id"]] = {
        "doc_level": None,
        "level": "public",
        "key": None,
        "owner": "viewer1",
        "trashed": False,
    }
    with d.sessions() as session:
        sales1 = session.scalars(select(User).where(User.username == "sales1")).one()
        row = Reminder(
            title="提醒_trashed",
            document_id=built["trashed"],
            customer_id=built["customers"]["A"],
            owner_id=sales1.id,
            due_on=TODAY,
            remind_on=TODAY,
            confidentiality="internal",
            created_by="system",
        )
        session.add(row)
        long_ago = datetime.now() - timedelta(days=100)  # every customer has been silent for 100 days
        for customer in session.scalars(select(Customer)):
            customer.created_at = long_ago
        for doc in session.scalars(select(Document)):
            doc.created_at = long_ago
        session.commit()
        specs[row.id] = {
            "doc_level": "internal",
            "level": "internal",
            "key": "A",
            "owner": "sales1",
            "trashed": True,
        }
    built["specs"] = specs
    return built


@pytest.fixture(
    scope="module", params=["sqlite", *TANTIVY, pytest.param("opensearch", marks=pytest.mark.opensearch)]
)
def home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    with backend_home(request.param, "remmatrix", tmp_path_factory, _build) as built:
        yield built


@pytest.fixture(scope="module")
def app(home):
    from webui import create_app

    return create_app(home["settings"], {"TESTING": True})


def _expected(home: dict[str, Any], username: str) -> set[int]:
    return {rid for rid, spec in home["specs"].items() if sees(username, spec)}


def _hidden_titles(home: dict[str, Any], username: str) -> list[str]:
    titles = [
        f"合同_{level}_{key}" for (level, key) in home["docs"].values() if not allowed(username, level, key)
    ]
    return [*titles, "废弃合同_A"]


def _ids_in(html: str) -> set[int]:
    return {int(x) for x in re.findall(r'data-reminder-id="(\d+)"', html)}


def _no_leak(home: dict[str, Any], username: str, text: str) -> None:
    for title in _hidden_titles(home, username):
        assert title not in text, (username, title)


@pytest.mark.parametrize("username", list(USERS))
def test_api_list_and_each_reminder(home, app, username):
    client = login_client(app, username, PASSWORD)
    want = _expected(home, username)
    response = client.get("/api/reminders", query_string={"team": 1, "status": "all"})
    assert {i["id"] for i in response.get_json()["items"]} == want
    _no_leak(home, username, response.get_data(as_text=True))
    mine = client.get("/api/reminders", query_string={"status": "all"}).get_json()["items"]
    assert {i["id"] for i in mine} == {r for r in want if home["specs"][r]["owner"] == username}
    for rid in home["specs"]:
        one = client.get(f"/api/reminders/{rid}")
        assert one.status_code == (200 if rid in want else 404), rid
        _no_leak(home, username, one.get_data(as_text=True))


@pytest.mark.parametrize("username", list(USERS))
def test_acting_on_a_reminder_one_cannot_see_is_404(home, app, username):
    client = login_client(app, username, PASSWORD)
    page = client.get("/reminders").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    for rid in set(home["specs"]) - _expected(home, username):
        for action in ("done", "snooze", "reassign"):
            answer = client.post(
                f"/api/reminders/{rid}/{action}",
                json={"days": 1, "owner": username},
                headers={"X-CSRF-Token": token},
            )
            assert answer.status_code == 404, (rid, action)
        assert client.delete(f"/api/reminders/{rid}", headers={"X-CSRF-Token": token}).status_code == 404


@pytest.mark.parametrize("username", list(USERS))
def test_web_list_and_start_page(home, app, username):
    client = login_client(app, username, PASSWORD)
    want = _expected(home, username)
    page = client.get("/reminders", query_string={"team": 1, "status": "all"}).get_data(as_text=True)
    assert _ids_in(page) == want
    _no_leak(home, username, page)
    start = client.get("/").get_data(as_text=True)
    _no_leak(home, username, start)
    shown = _ids_in(start)
    assert shown <= want
    owned = {r for r in want if home["specs"][r]["owner"] == username}
    if USERS[username] in ("admin", "manager"):
        assert "团队提醒" in start and len(shown) == min(len(want), 10 + len(owned))
    else:
        assert "团队提醒" not in start and shown == owned


@pytest.mark.parametrize("username", list(USERS))
def test_customer_pages(home, app, username):
    client = login_client(app, username, PASSWORD)
    want = _expected(home, username)
    for key, cid in home["customers"].items():
        html = client.get(f"/customers/{cid}").get_data(as_text=True)
        _no_leak(home, username, html)
        expected = {r for r in want if home["specs"][r]["key"] == key}
        assert _ids_in(html) == expected, key


@pytest.mark.parametrize("username", list(USERS))
def test_cli_as_a_user(home, username):
    from dossier.cli import cli

    runner = CliRunner(env=home["env"])
    result = runner.invoke(
        cli,
        ["reminders", "list", "--team", "--status", "all", "--json", "--as", username],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert {i["id"] for i in json.loads(result.output)} == _expected(home, username)
    _no_leak(home, username, result.output)
    text = runner.invoke(
        cli, ["reminders", "list", "--team", "--status", "all", "--as", username], catch_exceptions=False
    )
    _no_leak(home, username, text.output)


CARE = {
    "admin": {"A", "B", "C"},
    "manager1": {"A", "B", "C"},
    "sales1": {"A"},
    "sales2": {"B"},
    "finance1": set(),
    "viewer1": set(),
}


@pytest.mark.parametrize("username", list(USERS))
def test_customers_to_contact(home, app, username):
    from dossier.cli import cli

    names = {key: name for key, (name, _o, _t) in CUSTOMERS.items()}
    names["C"] = "苏州远航贸易有限公司"
    want = {names[k] for k in CARE[username]}
    client = login_client(app, username, PASSWORD)
    got = {c["customer"]["name"] for c in client.get("/api/reminders/care").get_json()["customers"]}
    assert got == want
    result = CliRunner(env=home["env"]).invoke(
        cli, ["reminders", "care", "--json", "--as", username], catch_exceptions=False
    )
    assert {c["customer"]["name"] for c in json.loads(result.output)} == want
