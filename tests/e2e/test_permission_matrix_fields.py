"""The permission matrix of the steering fields (issue 16): stage, importance and customer-tag facets and filters,
and the customer list's figures, for every role on each backend.

One contract per confidentiality level and customer (A owned by ``sales1``, B by ``sales2``), each with
its amount; an activity and an open reminder per level and customer.  What each user may see is
computed here from the rules as the issues state them, independently of the code.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import TANTIVY, backend_home, login_client

# The reading rules as the issue states them, written once apart from the code under test.
from tests.e2e.test_permission_matrix import CUSTOMERS, OWNERS, USERS, allowed

LEVELS = ("public", "internal", "confidential", "finance")
PASSWORD = "fields-matrix-Passw0rd"
STEERING = {"A": ("商务谈判", "A", ["重点", "华东"]), "B": ("初步接触", "B", ["华东"])}
#: The contract amount of each level (customer B's are ten times these).
AMOUNTS = {"public": 1000, "internal": 2000, "confidential": 4000, "finance": 8000}
#: When each level's activity happened.
ACTIVITY_DAYS = {"public": 1, "internal": 2, "confidential": 3, "finance": 4}
#: A finance-level reminder of customer A given to sales2 behind the rules' back (the service refuses to): the
#: documents' matrix holds for owners too, so they do not count it.
OWN_REMINDER = ("finance", "A", "sales2")


def _build(home: Path, extra_env: dict[str, str]) -> dict:
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from pipeline.amounts import document_amount
    from records import (
        Activity,
        Customer,
        Document,
        DocumentCustomer,
        EntityRow,
        Page,
        Reminder,
        User,
        Version,
        hash_password,
    )

    env = {"DOSSIER_HOME": str(home), "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0", **extra_env}
    settings = load_settings(environ=env, dotenv=home / "none")
    Dossier.open(settings, require_init=False).init(admin_password=PASSWORD)
    d = Dossier.open(settings)
    with d.sessions() as session:
        users = {}
        for name, role in USERS.items():
            if name != "admin":
                users[name] = User(username=name, role=role, password_hash=hash_password(PASSWORD))
                session.add(users[name])
        customers = {}
        for key, name in CUSTOMERS.items():
            stage, importance, tags = STEERING[key]
            customers[key] = Customer(
                name=name,
                aliases=[],
                contacts=[],
                owner=users[OWNERS[key]],
                stage=stage,
                importance=importance,
                tags=tags,
            )
        session.add_all(customers.values())
        rows = []
        for key in CUSTOMERS:
            factor = 10 if key == "B" else 1
            for level in LEVELS:
                text = f"年度合同 {level} {key} 合同总价"
                data = text.encode()
                doc = Document(
                    title=f"年度合同_{level}_{key}",
                    doc_type="contract",
                    confidentiality=level,
                    confidentiality_source="manual",
                    status="indexed",
                    customer=customers[key],
                    versions=[
                        Version(
                            number=1,
                            sha256=d.blobs.put(data),
                            filename=f"c-{level}-{key}.txt",
                            mime="text/plain",
                            size=len(data),
                        )
                    ],
                    pages=[Page(number=1, text=text)],
                    entities=[
                        EntityRow(
                            kind="amount",
                            value=f"{AMOUNTS[level] * factor}.00",
                            text="x",
                            page=1,
                            start=0,
                            end=1,
                            role="合同总价",
                        ),
                        EntityRow(kind="amount", value="1.00", text="y", page=1, start=0, end=1, role="运费"),
                    ],
                )
                doc.amount = document_amount(doc.entities)  # as the extraction step stores it
                doc.customer_links = [
                    DocumentCustomer(customer=customers[key], method="given", position=0, score=1.0)
                ]
                session.add(doc)
                rows.append((doc, level, key))
        session.flush()  # activities and reminders need the customers' ids
        for customer in customers.values():
            for level in LEVELS:
                session.add(
                    Activity(
                        kind="call",
                        customer_id=customer.id,
                        author="manager1",
                        occurred_at=datetime(2030, 1, ACTIVITY_DAYS[level]),
                        confidentiality=level,
                    )
                )
                session.add(
                    Reminder(
                        title="回访",
                        customer_id=customer.id,
                        due_on=date(2030, 6, 1),
                        remind_on=date(2030, 6, 1),
                        confidentiality=level,
                        status="open",
                    )
                )
                session.add(
                    Reminder(
                        title="已办",
                        customer_id=customer.id,
                        due_on=date(2030, 6, 1),
                        remind_on=date(2030, 6, 1),
                        confidentiality=level,
                        status="done",
                    )
                )
        level, key, owner = OWN_REMINDER
        session.add(
            Reminder(
                title="我的",
                customer_id=customers[key].id,
                owner_id=users[owner].id,
                due_on=date(2030, 6, 1),
                remind_on=date(2030, 6, 1),
                confidentiality=level,
                status="open",
            )
        )
        session.commit()
        docs = {doc.id: (level, key) for doc, level, key in rows}
    d.reindex(list(docs))
    d.backend.settle()
    return {"settings": settings, "env": env, "dossier": d, "docs": docs}


@pytest.fixture(
    scope="module", params=["sqlite", *TANTIVY, pytest.param("opensearch", marks=pytest.mark.opensearch)]
)
def home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    with backend_home(request.param, "fields-matrix", tmp_path_factory, _build) as built:
        yield built


@pytest.fixture(scope="module")
def app(home):
    from webui import create_app

    return create_app(home["settings"], {"TESTING": True})


def _readable(username: str) -> list[tuple[str, str]]:
    return [(level, key) for key in CUSTOMERS for level in LEVELS if allowed(username, level, key)]


@pytest.mark.parametrize("username", list(USERS))
def test_stage_importance_and_tag_facets_count_only_readable_documents(home, app, username):
    client = login_client(app, username, PASSWORD)
    body = client.get("/api/search", query_string={"q": "年度合同", "limit": 100}).get_json()
    readable = _readable(username)
    assert body["total"] == len(readable)
    facets = {
        name: {f["value"]: f["count"] for f in body["facets"].get(name, [])}
        for name in ("stage", "importance", "ctag")
    }
    want_stage: dict[str, int] = {}
    want_importance: dict[str, int] = {}
    want_tags: dict[str, int] = {}
    for _level, key in readable:
        stage, importance, tags = STEERING[key]
        want_stage[stage] = want_stage.get(stage, 0) + 1
        want_importance[importance] = want_importance.get(importance, 0) + 1
        for tag in tags:
            want_tags[tag] = want_tags.get(tag, 0) + 1
    assert facets == {"stage": want_stage, "importance": want_importance, "ctag": want_tags}


@pytest.mark.parametrize("username", list(USERS))
def test_steering_filters_never_reach_past_the_permissions(home, app, username):
    client = login_client(app, username, PASSWORD)
    want_a = {i for i, (level, key) in home["docs"].items() if key == "A" and allowed(username, level, key)}
    for query, params in (
        ("stage:商务谈判", {}),
        ("重要性:a", {}),
        ("", {"ctag": "重点"}),
        ("", {"stage": "商务谈判", "importance": "A"}),
    ):
        body = client.get("/api/search", query_string={"q": query, "limit": 100, **params}).get_json()
        assert {h["id"] for h in body["hits"]} == want_a, (query, params)
    every = {i for i, (level, key) in home["docs"].items() if allowed(username, level, key)}
    body = client.get("/api/search", query_string={"q": "客户标签:华东", "limit": 100}).get_json()
    assert {h["id"] for h in body["hits"]} == every


@pytest.mark.parametrize("username", list(USERS))
def test_the_customer_list_counts_only_what_the_viewer_may_read(home, app, username):
    client = login_client(app, username, PASSWORD)
    rows = {r["name"]: r for r in client.get("/api/customers").get_json()["customers"]}
    for key, name in CUSTOMERS.items():
        levels = [level for level in LEVELS if allowed(username, level, key)]
        factor = 10 if key == "B" else 1
        amount = sum(AMOUNTS[level] * factor for level in levels)
        assert rows[name]["contract_amount"] == (f"{Decimal(amount):.2f}" if levels else None), (
            username,
            key,
        )
        own_level, own_key, _owner = OWN_REMINDER
        reminders = len(levels) + (1 if own_key == key and own_level in levels else 0)
        assert rows[name]["open_reminders"] == reminders, (username, key)
        assert rows[name]["documents"] == len(levels)
        if levels:
            last = max(ACTIVITY_DAYS[level] for level in levels)
            assert rows[name]["last_activity"].startswith(f"2030-01-0{last}"), (username, key)
        else:
            assert rows[name]["last_activity"] is None


@pytest.mark.parametrize("username", ["sales1", "viewer1", "finance1"])
def test_the_cli_search_and_customer_list_as_a_user(home, username):
    from dossier.cli import cli

    runner = CliRunner(env=home["env"])
    found = runner.invoke(cli, ["search", "年度合同", "--stage", "商务谈判", "--as", username, "--json"])
    assert found.exit_code == 0, found.output
    assert json.loads(found.output)["total"] == len([1 for level, key in _readable(username) if key == "A"])
    listed = runner.invoke(
        cli, ["customers", "list", "--as", username, "--sort", "contract_amount", "--json"]
    )
    rows = json.loads(listed.output)
    readable_amounts = {
        name: sum(
            AMOUNTS[level] * (10 if key == "B" else 1) for level in LEVELS if allowed(username, level, key)
        )
        for key, name in CUSTOMERS.items()
    }
    ordered = [
        name for name, _ in sorted(readable_amounts.items(), key=lambda kv: -kv[1]) if readable_amounts[name]
    ]
    assert [r["name"] for r in rows][: len(ordered)] == ordered
