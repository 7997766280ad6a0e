"""`dossier audit`: the trail on the command line — table, JSON lines, CSV — for the operator and admins."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from records import AuditEvent, User, hash_password, utcnow

NO_REDIS = {"DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0"}


def _run(home, *args: str):  # type: ignore[no-untyped-def]
    from dossier.cli import cli

    return CliRunner(env={**NO_REDIS, "DOSSIER_HOME": str(home)}).invoke(
        cli, list(args), catch_exceptions=False
    )


@pytest.fixture
def home(tmp_path):
    """An initialised home with two events from a year ago, a manager, then a note ingested and searched twice."""
    from dossier.app.services import Dossier
    from foundation.config import load_settings

    root = tmp_path / "home"
    assert _run(root, "init").exit_code == 0
    d = Dossier.open(load_settings(environ={**NO_REDIS, "DOSSIER_HOME": str(root)}, dotenv=tmp_path / "none"))
    with d.sessions() as session:
        session.add(
            User(username="manager1", role="manager", password_hash=hash_password("cli-audit-Passw0rd"))
        )
        session.add(User(username="admin2", role="admin", password_hash=hash_password("cli-audit-Passw0rd")))
        long_ago = utcnow() - timedelta(days=400)
        session.add(
            AuditEvent(
                username="manager1",
                action="login",
                target_type="user",
                detail={"ip": "10.1.1.1"},
                at=long_ago,
            )
        )
        session.add(
            AuditEvent(
                username="-2+3",
                action="login_failed",
                target_type="user",
                detail={"username": "-2+3", "reason": "unknown_user"},
                at=long_ago,
            )
        )
        session.commit()
    d.close()
    note = tmp_path / "纪要_琥珀.txt"
    note.write_text("琥珀计划 会议纪要：服务器选型。", encoding="utf-8")
    ingested = json.loads(_run(root, "ingest", str(note), "--wait", "--json").output)
    assert ingested["ingested"] == 1
    assert _run(root, "search", "琥珀计划").exit_code == 0
    assert _run(root, "search", "服务器", "--type", "meeting").exit_code == 0
    return {
        "root": root,
        "doc_id": ingested["documents"][0]["id"],
        "batch": ingested["batch"],
        "old": long_ago.date().isoformat(),
    }


def test_the_table_lists_the_newest_events_first(home):
    """Plain `dossier audit` prints one line per event (id, UTC time, user, action, its Chinese name,
    target, summary), newest first, and the count on stderr."""
    run = _run(home["root"], "audit")
    assert run.exit_code == 0, run.output
    lines = [line for line in run.stdout.splitlines() if line.strip()]
    assert (
        "search" in lines[0] and "搜索" in lines[0] and "“服务器” → 1" in lines[0] and "doc_types" in lines[0]
    )
    assert "“琥珀计划” → 1" in lines[1] and "system" in lines[1]
    assert "upload" in lines[2] and f"batch:{home['batch']}" in lines[2] and "纪要_琥珀.txt" in lines[2]
    assert "共 5 条，显示 5 条" in run.stderr


def test_filters_as_options(home):
    """--user, --action, --since/--until (UTC days), --target and --query narrow the trail; --limit and
    --before page through it."""
    root = home["root"]

    def ids(*args: str) -> list[int]:
        run = _run(root, "audit", "--json", *args)
        assert run.exit_code == 0, run.output
        return [json.loads(line)["id"] for line in run.stdout.splitlines()]

    everything = ids()
    assert len(everything) == 5 and everything == sorted(everything, reverse=True)
    assert len(ids("--user", "manager1")) == 1 and len(ids("--user", "system", "--action", "search")) == 2
    assert len(ids("--action", "login", "--action", "login_failed")) == 2
    assert len(ids("--until", home["old"])) == 2 and len(ids("--since", home["old"])) == 5
    assert len(ids("--since", (utcnow() + timedelta(days=1)).date().isoformat())) == 0
    assert ids("--target", f"batch:{home['batch']}") == ids("--action", "upload")
    assert len(ids("--target", "user")) == 2
    assert len(ids("--query", "琥珀")) == 2  # the search and the upload's file name
    assert len(ids("--query", "10.1.1.1")) == 1
    first = ids("--limit", "2")
    assert first == everything[:2]
    assert ids("--limit", "2", "--before", str(first[-1])) == everything[2:4]
    table = _run(root, "audit", "--limit", "2")
    assert f"--before {first[-1]}" in table.stderr


def test_json_lines_are_the_api_shape(home):
    """--json prints one object per line with the detail as stored."""
    run = _run(home["root"], "audit", "--json", "--action", "search")
    events = [json.loads(line) for line in run.stdout.splitlines()]
    assert [e["detail"]["query"] for e in events] == ["服务器", "琥珀计划"]
    assert (
        events[0]["detail"]["filters"] == {"doc_types": ["meeting"]}
        and events[0]["detail"]["channel"] == "cli"
    )
    assert events[0]["at"].endswith("Z") and events[0]["username"] == "system"


def test_csv_file_holds_every_match_neutralised(home, tmp_path):
    """--csv FILE writes every matching event (not only --limit) as the web CSV does: BOM, header,
    formula-like cells neutralised; '-' writes to standard output."""
    out = tmp_path / "trail.csv"
    run = _run(home["root"], "audit", "--csv", str(out), "--limit", "1")
    assert run.exit_code == 0, run.output
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data[3:].decode("utf-8"))))
    assert rows[0][0] == "编号 id" and len(rows) == 1 + 5
    failed = next(r for r in rows if r[3] == "login_failed")
    assert failed[2] == "'-2+3" and failed[4] == "登录失败"
    stdout = _run(home["root"], "audit", "--csv", "-", "--user", "manager1")
    assert stdout.stdout_bytes.startswith(b"\xef\xbb\xbf") and stdout.stdout_bytes.count(b"\r\n") == 2
    exports = [
        json.loads(x)
        for x in _run(home["root"], "audit", "--json", "--action", "audit_export").stdout.splitlines()
    ]
    assert [e["detail"]["rows"] for e in exports] == [1, 5]
    assert exports[0]["detail"]["filters"] == {"users": ["manager1"]}


def test_as_a_non_admin_is_refused_and_as_an_admin_works(home):
    """--as manager1 is refused (exit 1, the reason); --as admin2 reads the trail; bad values are explained."""
    root = home["root"]
    refused = _run(root, "audit", "--as", "manager1")
    assert refused.exit_code == 1 and "只有管理员可以查看审计日志" in refused.output
    refused_csv = _run(root, "audit", "--as", "manager1", "--csv", "-")
    assert refused_csv.exit_code == 1 and b"\xef\xbb\xbf" not in refused_csv.stdout_bytes
    assert _run(root, "audit", "--as", "admin2").exit_code == 0
    bad = _run(root, "audit", "--since", "yesterday")
    assert bad.exit_code == 1 and "YYYY-MM-DD" in bad.output
    assert _run(root, "audit", "--target", "document:x").exit_code == 1
