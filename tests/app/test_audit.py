"""The audit trail (issue 7): every act is written by its real entry point, the database keeps the
trail append-only, and only admins read it — filtered, paged and as CSV.

Real components throughout: a SQLite data home with files taken by the real intake (inline, no
Redis), the Flask app with its login form and CSRF tokens, the CLI through click's runner.  The
read side and the append-only triggers also run on PostgreSQL (``records_engine``); the whole
profile on PostgreSQL records runs where an OpenSearch node is configured.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from dossier.app.audit import (
    MAX_FILES_LISTED,
    MAX_PAGE_SIZE,
    AuditFilter,
    AuditQueryError,
    AuditService,
    parse_time,
    upload_detail,
)
from dossier.cli import cli
from foundation.errors import Forbidden
from index import Principal
from records import AuditEvent, User, hash_password, migrate
from tests import _opensearch
from tests.conftest import audit_events
from tests.webui.conftest import _csrf_from as _csrf
from tests.webui.conftest import _login as _form_login
from webui import create_app

PASSWORD = "Audit-test-Passw0rd"
ADMIN = Principal.system()
NO_REDIS = {"DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0"}
#: Files of the test home: name -> text.
FILES = {
    "报价单_明远科技_服务器.txt": "报价单\n客户：杭州明远科技有限公司\n服务器 两台，总价 ¥88,000.00\n",
    "会议纪要_澄明集团.txt": "会议纪要\n与上海澄明集团讨论服务器扩容方案。\n",
    "拜访记录_恒达贸易.txt": "拜访记录\n苏州恒达贸易有限公司，回款情况良好。\n",
}


# -- helpers ----------------------------------------------------------------------------------


def _login(client, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return _form_login(client, username, password)


def _main(html: str) -> str:
    """The page's <main> element (the header links differ by path)."""
    match = re.search(r"<main.*</main>", html, re.S)
    assert match, html[:300]
    return match.group(0)


def _run(home: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner(env={**NO_REDIS, "DOSSIER_HOME": str(home)}).invoke(
        cli, list(args), catch_exceptions=False
    )


@pytest.fixture
def home(dossier, tmp_path):
    """The conftest Dossier (admin's password: conftest's) with FILES ingested and a user of each other role."""
    folder = tmp_path / "files"
    folder.mkdir()
    for name, body in FILES.items():
        (folder / name).write_text(body, encoding="utf-8")
    summary = dossier.ingest_paths([folder], customer="明远科技", tags=["重点"])
    assert summary["ingested"] == len(FILES), summary
    ids = {Path(doc["file"]).name: doc["id"] for doc in summary["documents"]}
    with dossier.sessions() as session:
        for name, role in (
            ("admin2", "admin"),
            ("manager1", "manager"),
            ("sales1", "sales"),
            ("viewer1", "viewer"),
        ):
            session.add(User(username=name, role=role, password_hash=hash_password(PASSWORD)))
        session.commit()
    return {"d": dossier, "ids": ids, "folder": folder, "summary": summary}


@pytest.fixture
def app(home):
    """The web app over the test home."""
    return create_app(home["d"].settings, test_config={"TESTING": True})


def _client(app, username: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert _login(client, username).status_code == 302
    return client


# -- each act, written by its entry point -------------------------------------------------------


def test_search_is_audited_from_the_web_page_the_api_and_the_cli(home, app):
    """GIVEN a logged-in user WHEN they search on the page, through the API and with `dossier search`
    THEN each search is one `search` event with the query, the filters, the hit total and the channel;
    the bare start page (no query) writes none."""
    d = home["d"]
    web = _client(app, "manager1")
    assert web.get("/").status_code == 200
    assert audit_events(d, "search") == []  # nothing searched yet

    page = web.get("/", query_string={"q": "服务器", "tag": "重点"})
    assert page.status_code == 200
    api = web.get("/api/search", query_string={"q": "服务器", "type": "meeting"}).get_json()
    cli_run = _run(d.settings.home, "search", "报价", "--json")
    assert cli_run.exit_code == 0, cli_run.output
    cli_result = json.loads(cli_run.output)

    web_event, api_event, cli_event = audit_events(d, "search")
    assert (web_event.username, web_event.target_type) == ("manager1", "search")
    assert web_event.detail["channel"] == "web" and web_event.detail["query"] == "服务器"
    assert web_event.detail["filters"] == {"tags": ["重点"]} and web_event.detail["total"] == 2
    assert f"共 {web_event.detail['total']} 条结果" in page.get_data(as_text=True)
    assert api_event.detail["channel"] == "api" and api_event.detail["filters"] == {"doc_types": ["meeting"]}
    assert api_event.detail["total"] == api["total"] == 1
    assert (cli_event.username, cli_event.detail["channel"], cli_event.detail["query"]) == (
        "system",
        "cli",
        "报价",
    )
    assert cli_event.detail["total"] == cli_result["total"] == 1


def test_a_cli_search_as_a_user_is_audited_under_that_user(home):
    """`dossier search --as sales1` writes the event as sales1, with the total sales1 saw."""
    run = _run(home["d"].settings.home, "search", "服务器", "--as", "sales1", "--json")
    assert run.exit_code == 0, run.output
    event = audit_events(home["d"], "search")[-1]
    assert (event.username, event.detail["total"]) == ("sales1", json.loads(run.output)["total"])


def test_every_intake_batch_is_one_upload_event(home, app, tmp_path):
    """GIVEN files brought in by `dossier ingest`, the web upload form and the inbox
    THEN each batch is exactly one `upload` event: who, the channel, the batch, the file names and count."""
    from workers.inbox import Inbox

    d = home["d"]
    (cli_event,) = audit_events(d, "upload")  # the fixture's ingest
    assert (cli_event.username, cli_event.target_type, cli_event.target_id) == (
        "system",
        "batch",
        home["summary"]["batch"],
    )
    assert cli_event.detail["channel"] == "cli" and cli_event.detail["count"] == len(FILES)
    assert sorted(Path(f).name for f in cli_event.detail["files"]) == sorted(FILES)
    assert (cli_event.detail["customer"], cli_event.detail["tags"]) == ("明远科技", ["重点"])

    web = _client(app, "sales1")
    token = _csrf(web.get("/upload").get_data(as_text=True))
    posted = web.post(
        "/upload",
        data={
            "csrf_token": token,
            "doc_type": "quote",
            "files": [
                (io.BytesIO("新报价：澄明集团 存储阵列。".encode()), "报价_澄明.txt"),
                (io.BytesIO(FILES["会议纪要_澄明集团.txt"].encode()), "纪要副本.txt"),  # a duplicate
            ],
        },
        content_type="multipart/form-data",
    )
    assert posted.status_code == 303
    web_event = audit_events(d, "upload")[-1]
    assert web_event.username == "sales1" and web_event.detail["channel"] == "web"
    assert web_event.detail["files"] == ["报价_澄明.txt", "纪要副本.txt"] and web_event.detail["count"] == 2
    assert web_event.detail["outcome"] == {"queued": 1, "duplicate": 1, "failed": 0}
    assert web_event.detail["doc_type"] == "quote"
    assert posted.headers["Location"].endswith(f"/jobs/{web_event.target_id}")

    inbox = tmp_path / "inbox"
    (inbox / "恒达贸易" / "合同").mkdir(parents=True)
    (inbox / "恒达贸易" / "合同" / "合同_恒达.txt").write_text(
        "采购合同 恒达贸易 ¥45,000.00", encoding="utf-8"
    )
    (inbox / "扫描.txt").write_text("扫描件：泰和设计 报价。", encoding="utf-8")
    report = Inbox(d, inbox, settle_s=0).run_once(timeout_s=120)
    assert report["taken"] == 2
    inbox_event = audit_events(d, "upload")[-1]
    assert (inbox_event.username, inbox_event.detail["channel"], inbox_event.target_id) == (
        "inbox",
        "inbox",
        report["batch"],
    )
    assert sorted(inbox_event.detail["files"]) == ["恒达贸易/合同/合同_恒达.txt", "扫描.txt"]
    assert inbox_event.detail["outcome"]["queued"] == 2 and inbox_event.detail["inbox"] == str(
        inbox.resolve()
    )
    assert len(audit_events(d, "upload")) == 3


def test_an_upload_event_names_at_most_fifty_files():
    """A batch of 120 files names the first 50 and says how many more there were."""
    detail = upload_detail("cli", 7, [f"scan_{n:03}.tif" for n in range(120)], tags=("扫描",))
    assert detail["count"] == 120 and len(detail["files"]) == MAX_FILES_LISTED == 50
    assert detail["files"][0] == "scan_000.tif" and detail["more"] == 70
    assert detail["tags"] == ["扫描"] and "customer" not in detail


def test_viewing_downloading_and_exporting_are_audited(home, app):
    """The document page writes `view` (title, the query it came from), the download `download`
    (file name, size), a CSV export `export` (format, query, hits, channel)."""
    d = home["d"]
    doc_id = home["ids"]["报价单_明远科技_服务器.txt"]
    web = _client(app, "manager1")
    assert web.get(f"/documents/{doc_id}", query_string={"q": "服务器"}).status_code == 200
    download = web.get(f"/documents/{doc_id}/download")
    assert download.status_code == 200
    exported = web.get("/api/export", query_string={"q": "服务器", "format": "csv"})
    assert exported.status_code == 200 and exported.data.startswith(b"\xef\xbb\xbf")

    (view,) = audit_events(d, "view")
    assert (view.username, view.target_type, view.target_id) == ("manager1", "document", doc_id)
    assert view.detail == {"title": d.show(doc_id, ADMIN)["title"], "q": "服务器"}
    (down,) = audit_events(d, "download")
    assert down.detail == {"filename": "报价单_明远科技_服务器.txt", "size": len(download.data)}
    (export,) = audit_events(d, "export")
    assert export.username == "manager1"
    assert (export.detail["format"], export.detail["query"], export.detail["via"]) == ("csv", "服务器", "api")
    assert export.detail["hits"] == export.detail["total"] == 2 and export.detail["complete"] is True


def test_changes_and_deletes_are_audited_and_outlive_the_document(home):
    """`dossier documents set` writes `metadata_change` (before/after) and `permission_change`;
    `dossier documents delete` moves it to the trash and writes `trash` (title, files); the document's
    earlier events stay, and the trail says the target is gone (no page to link to)."""
    d = home["d"]
    doc_id = home["ids"]["拜访记录_恒达贸易.txt"]
    root = d.settings.home
    changed = _run(
        root, "documents", "set", str(doc_id), "--title", "恒达拜访（已审）", "--confidentiality", "public"
    )
    assert changed.exit_code == 0, changed.output
    (meta,) = audit_events(d, "metadata_change")
    assert meta.username == "system" and meta.target_id == doc_id
    assert meta.detail["changed"]["title"][1] == "恒达拜访（已审）"
    (perm,) = audit_events(d, "permission_change")
    assert (perm.detail["before"], perm.detail["after"], perm.detail["source"]) == (
        "internal",
        "public",
        "manual",
    )

    refused = _run(root, "documents", "delete", str(doc_id), "--yes", "--as", "sales1")
    assert refused.exit_code == 1 and audit_events(d, "trash") == []
    deleted = _run(root, "documents", "delete", str(doc_id), "--yes", "--as", "manager1")
    assert deleted.exit_code == 0, deleted.output
    (gone,) = audit_events(d, "trash")
    assert (gone.username, gone.target_id, gone.detail["title"]) == ("manager1", doc_id, "恒达拜访（已审）")
    assert gone.detail["files"][0]["filename"] == "拜访记录_恒达贸易.txt" and gone.detail["documents"] == [
        doc_id
    ]

    trail = d.audit.events(ADMIN, AuditFilter(target_type="document", target_id=doc_id))
    assert [e["action"] for e in trail["events"]] == ["trash", "metadata_change", "permission_change"]
    assert {e["target_exists"] for e in trail["events"]} == {False}
    alive = home["ids"]["会议纪要_澄明集团.txt"]
    d.documents.update(alive, ADMIN, title="澄明纪要")
    assert d.audit.events(ADMIN, AuditFilter(target_id=alive))["events"][0]["target_exists"] is True


def test_logins_failed_logins_and_logouts_are_audited(home, app):
    """A login writes `login` (address), a wrong password or an unknown name `login_failed` (the name
    tried, the address, the reason), logging out `logout`."""
    d = home["d"]
    client = app.test_client()
    assert _login(client, "viewer1", "wrong-password").status_code == 401
    assert _login(client, "nobody", "whatever-password").status_code == 401
    assert _login(client, "viewer1").status_code == 302
    token = _csrf(client.get("/").get_data(as_text=True))
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 302

    bad, unknown = audit_events(d, "login_failed")
    assert (bad.username, bad.detail["reason"], bad.detail["ip"]) == ("viewer1", "bad_password", "127.0.0.1")
    assert bad.detail["failures"] == 1
    assert (unknown.username, unknown.detail["reason"]) == ("nobody", "unknown_user")
    (login,) = audit_events(d, "login")
    assert (login.username, login.target_type, login.detail["ip"]) == ("viewer1", "user", "127.0.0.1")
    (logout,) = audit_events(d, "logout")
    assert (logout.username, logout.detail["reason"]) == ("viewer1", "user")


# -- reading: filters, pages, the cursor (SQLite and PostgreSQL) --------------------------------


T0 = datetime(2024, 3, 14, 23, 30)


@pytest.fixture
def trail(records_engine):
    """A migrated database (SQLite, PostgreSQL) holding a known trail, oldest first."""
    migrate(records_engine)
    rows = [
        ("admin", "login", "user", 1, {"ip": "10.0.0.1"}, T0),
        (
            "sales1",
            "search",
            "search",
            None,
            {"query": "报价 服务器", "total": 3, "channel": "web"},
            T0 + timedelta(hours=1),
        ),
        (
            "sales1",
            "search",
            "search",
            None,
            {"query": "ThinkPad 100%", "total": 0, "channel": "api"},
            T0 + timedelta(hours=2),
        ),
        ("sales1", "view", "document", 12, {"title": "报价单_明远", "q": "报价"}, T0 + timedelta(days=1)),
        ("manager1", "delete", "document", 12, {"title": "报价单_明远", "files": []}, T0 + timedelta(days=2)),
        (
            "=cmd|' /C calc'!A0",
            "login_failed",
            "user",
            None,
            {"username": "=cmd|' /C calc'!A0", "reason": "unknown_user"},
            T0 + timedelta(days=2, hours=1),
        ),
    ]
    with Session(records_engine) as session:
        for username, action, target_type, target_id, detail, at in rows:
            session.add(
                AuditEvent(
                    username=username,
                    action=action,
                    target_type=target_type,
                    target_id=target_id,
                    detail=detail,
                    at=at,
                )
            )
        session.commit()
    return AuditService(
        sessionmaker(records_engine, expire_on_commit=False)
    )  # the service alone, on bare records


def _actions(page: dict) -> list[str]:
    return [e["action"] for e in page["events"]]


def test_filters_select_events_by_user_action_target_time_and_text(trail):
    """Each filter narrows the trail, newest first, with the total; dates are UTC days, both ends included;
    the text is found in the detail whatever its script or case, and % is a plain character."""
    everything = trail.events(ADMIN)
    assert (
        everything["total"] == 6
        and _actions(everything)[0] == "login_failed"
        and _actions(everything)[-1] == "login"
    )
    assert trail.events(ADMIN, AuditFilter(users=("sales1",)))["total"] == 3
    assert _actions(trail.events(ADMIN, AuditFilter(actions=("view", "delete")))) == ["delete", "view"]
    assert trail.events(ADMIN, AuditFilter(target_type="document", target_id=12))["total"] == 2
    assert trail.events(ADMIN, AuditFilter(target_id=1))["events"][0]["action"] == "login"

    day = AuditFilter(since=parse_time("2024-03-15"), until=parse_time("2024-03-15", end=True))
    assert _actions(trail.events(ADMIN, day)) == ["view", "search", "search"]
    assert trail.events(ADMIN, AuditFilter(until=parse_time("2024-03-14", end=True)))["total"] == 1
    assert trail.events(ADMIN, AuditFilter(since=parse_time("2024-03-15T08:00:00+08:00")))["total"] == 5

    def found(needle: str) -> list[int]:
        return [e["id"] for e in trail.events(ADMIN, AuditFilter(text=needle))["events"]]

    assert len(found("报价")) == 3  # a query, a title, a title
    assert len(found("服务器")) == 1 and len(found("thinkpad")) == 1  # Chinese; Latin in another case
    assert len(found("100%")) == 1 and found("%") == found("100%")  # a literal %, not a wildcard
    assert found("10.0.0.1") and not found("不存在的词")
    both = AuditFilter(users=("sales1",), actions=("search",), text="服务器")
    assert [e["detail"]["channel"] for e in trail.events(ADMIN, both)["events"]] == ["web"]


def test_pages_and_the_cursor_walk_the_whole_trail_once(records_engine):
    """120 events read 50 at a time — by page or by the `next_before` cursor — come newest first,
    each exactly once; a page never holds more than the maximum."""
    migrate(records_engine)
    with Session(records_engine) as session:
        for n in range(120):
            session.add(
                AuditEvent(
                    username=f"u{n % 3}", action="search", detail={"n": n}, at=T0 + timedelta(minutes=n)
                )
            )
        session.commit()
    t = AuditService(sessionmaker(records_engine, expire_on_commit=False))
    pages = [t.events(ADMIN, limit=50, offset=o) for o in (0, 50, 100)]
    by_page = [e["detail"]["n"] for p in pages for e in p["events"]]
    assert by_page == list(range(119, -1, -1)) and {p["total"] for p in pages} == {120}
    seen, cursor = [], None
    while True:
        page = t.events(ADMIN, AuditFilter(before=cursor), limit=50)
        seen += [e["detail"]["n"] for e in page["events"]]
        cursor = page["next_before"]
        if cursor is None:
            break
    assert seen == by_page
    assert len(t.events(ADMIN, limit=10_000)["events"]) == 120 and MAX_PAGE_SIZE == 500
    assert t.events(ADMIN, limit=100_000)["limit"] == MAX_PAGE_SIZE


def test_bad_times_are_a_clear_400():
    """A time that is neither a date nor an ISO date-time is refused with the expected format."""
    with pytest.raises(AuditQueryError) as caught:
        parse_time("15.03.2024")
    assert caught.value.status == 400 and "YYYY-MM-DD" in caught.value.message
    assert parse_time("2024-03-15T08:00:00Z") == datetime(2024, 3, 15, 8, 0)
    assert parse_time("2024-03-15", end=True) == datetime(2024, 3, 16)


# -- append-only ---------------------------------------------------------------------------------


def test_the_database_refuses_to_change_or_delete_audit_events(trail, records_engine):
    """GIVEN a migrated records database WHEN anything tries to UPDATE or DELETE an audit event
    (SQL or the ORM) — or TRUNCATE the table on PostgreSQL — THEN the database refuses and the
    trail is unchanged; new events may still be added."""
    before = trail.events(ADMIN)["events"]
    attempts = [
        text("UPDATE audit_events SET username = 'intruder'"),
        text("DELETE FROM audit_events WHERE action = 'delete'"),
        update(AuditEvent).where(AuditEvent.action == "login").values(detail={}),
        delete(AuditEvent),
    ]
    if records_engine.dialect.name == "postgresql":
        attempts.append(text("TRUNCATE audit_events"))
    for statement in attempts:
        with pytest.raises(DBAPIError) as caught, Session(records_engine) as session:
            session.execute(statement)
            session.commit()
        assert "append-only" in str(caught.value)
    with pytest.raises(DBAPIError), Session(records_engine) as session:  # the ORM's unit of work too
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "view")).one()
        event.username = "someone-else"
        session.commit()
    with pytest.raises(DBAPIError), Session(records_engine) as session:
        session.delete(session.scalars(select(AuditEvent).where(AuditEvent.action == "view")).one())
        session.commit()
    assert trail.events(ADMIN)["events"] == before
    trail.record("admin", "login", target_type="user", detail={"ip": "10.0.0.2"})
    assert trail.events(ADMIN)["total"] == len(before) + 1


def test_downgrading_drops_the_triggers(records_engine):
    """Below revision 0008 the table is an ordinary one again (the downgrade undoes exactly the triggers)."""
    from alembic import command

    from records._db import _alembic_config

    migrate(records_engine)
    with Session(records_engine) as session:
        session.add(AuditEvent(username="admin", action="login", detail={}))
        session.commit()
    command.downgrade(_alembic_config(records_engine), "0007")
    with Session(records_engine) as session:
        session.execute(delete(AuditEvent))
        session.commit()
        assert session.scalars(select(AuditEvent)).first() is None
    migrate(records_engine)
    with Session(records_engine) as session:
        session.add(AuditEvent(username="admin", action="login", detail={}))
        session.commit()
        with pytest.raises(DBAPIError):
            session.execute(delete(AuditEvent))


def test_nothing_in_the_code_base_updates_or_deletes_audit_events():
    """No module writes UPDATE or DELETE against audit_events (the triggers would refuse it at run time)."""
    root = Path(__file__).resolve().parents[2]
    pattern = re.compile(r"(update|delete)\(\s*AuditEvent|(UPDATE|DELETE FROM)\s+audit_events", re.IGNORECASE)
    offenders = [
        str(p.relative_to(root))
        for package in ("dossier", "records", "webui", "workers", "index", "ingest")
        for p in (root / package).rglob("*.py")
        if "migrations" not in p.parts and pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


# -- only admins read the trail -----------------------------------------------------------------


def test_only_admins_read_the_trail_in_the_service_the_web_the_api_and_the_cli(home, app):
    """Managers, sales reps and viewers are refused everywhere: the service says Forbidden (also for
    the CSV, before its first byte), the page, its CSV and the API answer 404 as for a page that does
    not exist, `dossier audit --as` exits 1; admins (and the operator) read it."""
    d = home["d"]
    for name, role in (("manager1", "manager"), ("sales1", "sales"), ("viewer1", "viewer")):
        with pytest.raises(Forbidden):
            d.audit.events(Principal(name, role))
        with pytest.raises(Forbidden):
            d.audit.csv(Principal(name, role))
        client = _client(app, name)
        unknown = client.get("/admin/no-such-page")
        for url in ("/admin/audit", "/admin/audit.csv", "/admin/audit?action=login"):
            response = client.get(url)
            assert response.status_code == 404
            assert _main(response.get_data(as_text=True)) == _main(unknown.get_data(as_text=True))
        api = client.get("/api/audit")
        assert api.status_code == 404 and api.get_json() == client.get("/api/no-such-route").get_json()
        refused = _run(d.settings.home, "audit", "--as", name)
        assert refused.exit_code == 1 and "只有管理员" in refused.output
    assert not [e for e in audit_events(d) if e.action == "audit_export"]  # nothing was exported

    anonymous = app.test_client()
    assert anonymous.get("/admin/audit").status_code == 302
    assert anonymous.get("/api/audit").status_code == 401
    assert _client(app, "admin2").get("/admin/audit").status_code == 200
    assert _client(app, "admin2").get("/api/audit").get_json()["total"] >= 1
    assert _run(d.settings.home, "audit", "--as", "admin2").exit_code == 0
    assert d.audit.events(Principal("admin2", "admin"))["total"] >= 1


# -- the scale-out profile ----------------------------------------------------------------------


@pytest.mark.opensearch
def test_the_trail_on_postgresql_records(postgres_url, tmp_path):
    """On PostgreSQL records (with the OpenSearch index): searches and intake are audited, the trail
    filters by text in the detail, and the database refuses to delete an event."""
    from dossier.app.services import Dossier
    from foundation.config import load_settings

    url, alias = _opensearch.cluster_url(), f"dossier-test-{uuid.uuid4().hex[:10]}"
    env = {
        **NO_REDIS,
        "DOSSIER_HOME": str(tmp_path / "home"),
        "DOSSIER_DATABASE_URL": postgres_url,
        "DOSSIER_OPENSEARCH_URL": url,
        "DOSSIER_OPENSEARCH_INDEX": alias,
    }
    settings = load_settings(environ=env, dotenv=tmp_path / "no.env")
    first = Dossier.open(settings, require_init=False)
    first.init(admin_password=PASSWORD)
    first.close()
    d = Dossier.open(settings)
    try:
        note = tmp_path / "纪要_琥珀.txt"
        note.write_text("琥珀计划 会议纪要", encoding="utf-8")
        assert d.ingest_paths([note])["ingested"] == 1
        from index import SearchRequest

        request = SearchRequest("琥珀计划")
        d.audit.record_search("system", request, d.search(request, ADMIN)["total"], "cli")
        page = d.audit.events(ADMIN, AuditFilter(text="琥珀"))
        assert _actions(page) == ["search", "upload"] and page["events"][0]["detail"]["total"] == 1
        with pytest.raises(DBAPIError), d.sessions() as session:
            session.execute(delete(AuditEvent))
            session.commit()
        assert d.audit.events(ADMIN)["total"] == 2
    finally:
        d.close()
        _opensearch.drop(url, alias)


def test_an_events_summary_speaks_the_readers_language_and_keeps_the_values():
    """GIVEN an upload and an incomplete export WHEN summarised for a Chinese and an English reader THEN the
    few words are in that language (批次/网页, batch/web) and the recorded values stay as recorded."""
    from dossier.app.audit import summarise

    upload = {"count": 1, "files": ["../in/报价单.pdf"], "batch": 3, "channel": "web"}
    assert summarise("upload", upload, "zh") == "1: ../in/报价单.pdf · 批次 3 · 网页"
    assert summarise("upload", upload, "en") == "1: ../in/报价单.pdf · batch 3 · web"
    export = {"format": "csv", "hits": 2, "total": 5, "complete": False, "error": "磁盘已满"}
    assert summarise("export", export, "zh") == "csv 2/5 · 未完成: 磁盘已满"
    assert summarise("export", export) == "csv 2/5 · incomplete: 磁盘已满"
