"""``dossier reminders add|list|done|snooze|reassign|reopen|cancel|delete|care|run``."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from click.testing import CliRunner

from tests._reminders import CUSTOMERS, build, doc_id

TODAY = date.today()


def _day(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    built = build(tmp_path_factory.mktemp("reminders-cli"), {})
    yield built
    built["dossier"].close()


def _run(home, *args: str):  # type: ignore[no-untyped-def]
    from dossier.cli import cli

    return CliRunner(env=home["env"]).invoke(cli, ["reminders", *args], catch_exceptions=False)


def _json(home, *args: str):  # type: ignore[no-untyped-def]
    result = _run(home, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_add_list_done_as_a_rep(home):
    made = _json(
        home,
        "add",
        "打电话回访",
        "--due",
        _day(-2),
        "--customer",
        CUSTOMERS["A"][0],
        "--note",
        "问续约",
        "--as",
        "sales1",
    )
    assert made["owner"] == "sales1" and made["overdue"] and made["days_overdue"] == 2
    listed = _json(home, "list", "--as", "sales1")
    assert made["id"] in [i["id"] for i in listed]
    text = _run(home, "list", "--as", "sales1").output
    assert "打电话回访" in text and "逾期 2 天" in text and "2 days overdue" in text
    assert _json(home, "list", "--as", "sales2") == []
    done = _json(home, "done", str(made["id"]), "--as", "sales1")
    assert done["status"] == "done" and done["done_by"] == "sales1"
    assert made["id"] not in [i["id"] for i in _json(home, "list", "--as", "sales1")]
    assert made["id"] in [i["id"] for i in _json(home, "list", "--status", "done", "--as", "sales1")]
    assert _json(home, "reopen", str(made["id"]), "--as", "sales1")["status"] == "open"


def test_due_within_team_and_customer_filters(home):
    soon = _json(
        home, "add", "三天后", "--due", _day(3), "--owner", "sales2", "--customer", CUSTOMERS["B"][0]
    )
    later = _json(home, "add", "一月后", "--due", _day(30), "--owner", "sales2")
    assert soon["created_by"] == "system" and later["owner"] == "sales2"
    within = [i["id"] for i in _json(home, "list", "--due-within", "7", "--as", "sales2")]
    assert soon["id"] in within and later["id"] not in within
    team = _json(home, "list", "--team", "--as", "manager1")
    assert {soon["id"], later["id"]} <= {i["id"] for i in team}
    by_customer = _json(home, "list", "--team", "--customer", CUSTOMERS["B"][0], "--as", "manager1")
    assert [i["id"] for i in by_customer if i["id"] in (soon["id"], later["id"])] == [soon["id"]]
    operator = _json(home, "list")  # the operator without --as sees everything
    assert {soon["id"], later["id"]} <= {i["id"] for i in operator}


def test_snooze_and_reassign(home):
    item = _json(home, "add", "推迟我", "--due", _day(1), "--owner", "sales1", "--as", "manager1")
    assert _json(home, "snooze", str(item["id"]), "--days", "4", "--as", "sales1")["remind_on"] == _day(4)
    assert _json(home, "snooze", str(item["id"]), "--until", _day(10), "--as", "sales1")["remind_on"] == _day(
        10
    )
    past = _run(home, "snooze", str(item["id"]), "--until", "2020-01-01", "--as", "sales1")
    assert past.exit_code == 1 and "before today" in past.output
    refused = _run(home, "reassign", str(item["id"]), "sales2", "--as", "sales1")
    assert refused.exit_code == 1 and "managers" in refused.output
    assert _json(home, "reassign", str(item["id"]), "sales2", "--as", "manager1")["owner"] == "sales2"
    disabled = _run(home, "reassign", str(item["id"]), "gone", "--as", "manager1")
    assert disabled.exit_code == 1 and "该用户已停用" in disabled.output
    assert _json(home, "cancel", str(item["id"]), "--as", "manager1")["status"] == "cancelled"
    assert _json(home, "delete", str(item["id"]), "--as", "manager1") == {"deleted": item["id"]}
    assert _run(home, "done", str(item["id"]), "--as", "manager1").exit_code == 1


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["add", "坏日期", "--due", "2026-02-30"], "2026-02-30"),
        (["add", "坏日期", "--due", "2月30日"], "2月30日"),
        (["add", "无客户", "--due", "2030-01-01", "--customer", "不存在公司"], "不存在公司"),
        (["add", "停用", "--due", "2030-01-01", "--owner", "gone"], "该用户已停用"),
        (["add", "无人", "--due", "2030-01-01", "--owner", "ghost"], "ghost"),
        (["add", "  ", "--due", "2030-01-01"], "title"),
        (["add", "只读", "--due", "2030-01-01", "--as", "viewer1"], "Viewers"),
        (["list", "--status", "soon"], "soon"),
        (["list", "--customer", "不存在公司"], "不存在公司"),
        (["run", "--today", "2026-13-01"], "2026-13-01"),
    ],
)
def test_bad_input_exits_1_with_a_clear_message(home, args, needle):
    result = _run(home, *args)
    assert result.exit_code == 1 and needle in result.output, result.output


def test_a_document_the_rep_cannot_read_is_not_found_and_not_named(home):
    result = _run(
        home,
        "add",
        "偷看",
        "--due",
        _day(1),
        "--document",
        str(doc_id(home, "confidential", "B")),
        "--as",
        "sales1",
    )
    assert result.exit_code == 1 and "合同" not in result.output
    result = _run(
        home,
        "add",
        "泄露",
        "--due",
        _day(1),
        "--document",
        str(doc_id(home, "finance", "A")),
        "--owner",
        "sales1",
    )
    assert result.exit_code == 1 and "sales1" in result.output and "合同" not in result.output


def test_care_and_the_daily_run(home):
    assert _json(home, "care", "--as", "manager1") == []  # everything is new
    later = (TODAY + timedelta(days=40)).isoformat()
    first = _json(home, "run", "--today", later)
    assert first == {"date": later, "stale": 3, "created": 2, "closed": 0}  # C has no owner: no reminder
    assert _json(home, "run", "--today", later)["created"] == 0
    text = _run(home, "run", "--today", later).output
    assert "3" in text and later in text
    mine = [i for i in _json(home, "list", "--status", "all", "--as", "sales1") if i["source"] == "care"]
    assert len(mine) == 1 and mine[0]["customer"]["name"] == CUSTOMERS["A"][0]
    assert "No customers to contact" in _run(home, "care", "--as", "sales1").output  # today nobody is stale
