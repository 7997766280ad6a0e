"""Accounts: users and roles, the password policy, lock-out and the per-address limit, API tokens.

Real argon2 hashes and a real records database (SQLite; the counting and the tokens also on
PostgreSQL); the CLI through click's runner on a real data home.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text, update

import records
from dossier.app._accounts import LoginThrottled, SessionEnded, WeakPassword, check_password
from dossier.app.services import Dossier
from dossier.cli import cli
from dossier.cli.users import ROLES as CLI_ROLES
from foundation.config import load_settings
from foundation.errors import DossierError, NotFound
from records import ApiToken, AuditEvent, LoginFailure, User, UserSession, utcnow
from tests import _opensearch
from tests.conftest import audit_events

PASSWORD = "Konto-Passw0rd"


def _dossier(tmp_path: Path, database_url: str | None = None, **env: str) -> Dossier:
    environ = {"DOSSIER_HOME": str(tmp_path / "home"), "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0", **env}
    if database_url:
        environ["DOSSIER_DATABASE_URL"] = database_url
    settings = load_settings(environ=environ, dotenv=tmp_path / "no.env")
    first = Dossier.open(settings, require_init=False)
    first.init(admin_password=PASSWORD)
    first.close()
    return Dossier.open(settings)


@pytest.fixture(params=["sqlite", "postgresql"])
def accounts(request: pytest.FixtureRequest, tmp_path: Path):
    """An initialised Dossier (admin + sales rep lily) on SQLite, and on PostgreSQL records (whose
    profile needs the OpenSearch index: that variant runs where DOSSIER_OPENSEARCH_URL is set)."""
    env = {"DOSSIER_LOGIN_MAX_FAILURES": "3", "DOSSIER_LOGIN_IP_MAX_FAILURES": "5"}
    url = None
    if request.param == "postgresql":
        env["DOSSIER_OPENSEARCH_URL"] = _opensearch.cluster_url()
        env["DOSSIER_OPENSEARCH_INDEX"] = f"dossier-test-{uuid.uuid4().hex[:10]}"
        url = request.getfixturevalue("postgres_url")
    d = _dossier(tmp_path, url, **env)
    d.accounts.add_user("lily", "sales", PASSWORD)
    yield d
    d.close()


def test_cli_roles_are_the_records_roles():
    """``dossier users`` offers exactly the roles the records know (it does not import them for speed)."""
    assert CLI_ROLES == records.ROLES


def test_password_policy_and_user_names(accounts):
    """Short passwords, the user name as password, bad names, unknown roles and duplicates are refused with a reason."""
    d = accounts
    with pytest.raises(DossierError, match="8"):
        d.accounts.add_user("mia", "viewer", "short")
    with pytest.raises(DossierError, match="用户名"):
        d.accounts.add_user("mia.zhang", "viewer", "MIA.ZHANG")  # the name itself
    with pytest.raises(DossierError, match="用户名"):
        d.accounts.add_user("bad name!", "viewer", PASSWORD)
    with pytest.raises(DossierError, match="未知角色"):
        d.accounts.add_user("mia", "boss", PASSWORD)
    with pytest.raises(DossierError, match="已存在"):
        d.accounts.add_user("LILY", "viewer", PASSWORD)  # names are unique whatever their case
    d.accounts.add_user("王芳", "finance", PASSWORD)  # Chinese names are names
    assert d.accounts.authenticate("王芳", PASSWORD).role == "finance"
    with d.sessions() as session:
        stored = session.scalars(select(User.password_hash).where(User.username == "王芳")).one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


#: Passwords that pass the old length rule but anyone would guess: the top lists, keyboard rows, repeats,
#: leetspeak of "password", and a name with a year.
GUESSABLE = ("12345678", "password", "Passw0rd!", "qwertyuiop", "11111111", "iloveyou1", "Dossier2024!")


@pytest.mark.parametrize("weak", GUESSABLE)
def test_common_and_guessable_passwords_are_refused_with_the_reason(accounts, weak):
    """GIVEN a password from the guessable list WHEN it is given to a new user or as a new password THEN it is
    refused, saying in Chinese and English that it is too common, with zxcvbn's hint; nothing changes."""
    d = accounts
    with pytest.raises(WeakPassword) as caught:
        d.accounts.add_user("mia", "viewer", weak)
    assert (
        "密码太常见或太容易猜到" in caught.value.message
        and "too common or too easy to guess" in caught.value.message
    )
    assert caught.value.status == 400
    with pytest.raises(WeakPassword):
        d.accounts.set_password("lily", weak)
    assert "mia" not in {u["username"] for u in d.accounts.users()}
    assert d.accounts.authenticate("lily", PASSWORD) is not None  # her password is unchanged
    assert audit_events(d, "user_set_password") == []


def test_passwords_built_on_the_persons_names_are_refused(accounts):
    """The login, its parts run together, and the display name count as words an attacker tries first."""
    d = accounts
    with pytest.raises(WeakPassword, match="用户名、姓名") as caught:
        d.accounts.add_user("wang.fang", "viewer", "wangfang2024")
    assert "the user's name" in caught.value.message
    with pytest.raises(WeakPassword, match="用户名、姓名"):
        d.accounts.set_password("lily", "lily2024!")
    with d.sessions() as session:
        session.execute(update(User).where(User.username == "lily").values(display_name="Zhang Wei"))
        session.commit()
    with pytest.raises(WeakPassword, match="用户名、姓名"):
        d.accounts.set_password("lily", "ZhangWei1988!")
    d.accounts.add_user("wang.fang", "viewer", "Kupfer-Regen-Tisch")  # a strong one is taken
    d.accounts.set_password("lily", "Gelber-Fluss-Laterne")
    assert d.accounts.authenticate("lily", "Gelber-Fluss-Laterne") is not None


def test_cli_refuses_guessable_passwords_in_add_set_password_and_init(tmp_path):
    """``users add``, ``users set-password`` and ``init`` with a chosen DOSSIER_ADMIN_PASSWORD refuse a guessable
    password with exit status 1 and the reason; ``init`` without one generates a strong password."""
    home = tmp_path / "home"
    weak_init = CliRunner().invoke(
        cli, ["--home", str(home), "init"], env={"DOSSIER_ADMIN_PASSWORD": "Passw0rd!"}
    )
    assert weak_init.exit_code == 1 and "DOSSIER_ADMIN_PASSWORD" in weak_init.output
    assert "太常见" in weak_init.output and "too common" in weak_init.output
    strong_init = CliRunner().invoke(cli, ["--home", str(home), "init"], env={"DOSSIER_ADMIN_PASSWORD": ""})
    assert strong_init.exit_code == 0, strong_init.output
    generated = strong_init.output.split("密码 / password: ")[1].split()[0]
    check_password("admin", generated)  # what init makes passes its own policy
    added = _run(home, "users", "add", "mia", "--role", "viewer", "--password-stdin", input="12345678\n")
    assert (
        added.exit_code == 1
        and "这是最常见的 10 个密码之一" in added.output
        and "top-10 common password" in added.output
    )
    changed = _run(home, "users", "set-password", "admin", "--password-stdin", input="password\n")
    assert changed.exit_code == 1 and "太常见" in changed.output
    d = Dossier.open(load_settings(environ={"DOSSIER_HOME": str(home)}, dotenv=tmp_path / "no.env"))
    assert d.accounts.authenticate("admin", generated) is not None and [
        u["username"] for u in d.accounts.users()
    ] == ["admin"]
    d.close()


def test_roles_change_and_the_last_admin_stays(accounts):
    """set-role takes effect on the next principal; the last active admin can be neither demoted nor disabled."""
    d = accounts
    d.accounts.set_role("lily", "manager")
    assert d.accounts.principal_for("lily").role == "manager"
    with pytest.raises(DossierError, match="最后一个管理员"):
        d.accounts.set_role("admin", "viewer")
    with pytest.raises(DossierError, match="最后一个管理员"):
        d.accounts.set_active("admin", False)
    d.accounts.set_role("lily", "admin")
    d.accounts.set_active("admin", False)  # another admin exists now
    with pytest.raises(NotFound):
        d.accounts.principal_for("admin")
    assert d.accounts.authenticate("admin", PASSWORD) is None
    assert [e.detail["to"] for e in audit_events(d, "user_set_role")] == ["manager", "admin"]


def test_wrong_passwords_lock_the_account_for_a_while(accounts):
    """GIVEN a limit of 3 WHEN 3 wrong passwords THEN the right one is refused too, until the lock runs out."""
    d = accounts
    for _ in range(2):
        assert d.accounts.authenticate("lily", "wrong-password", client_ip="10.0.0.1") is None
    assert (
        d.accounts.authenticate("lily", PASSWORD, client_ip="10.0.0.2").username == "lily"
    )  # success resets the count
    for _ in range(3):
        assert d.accounts.authenticate("lily", "wrong-password", client_ip="10.0.0.1") is None
    assert d.accounts.authenticate("lily", PASSWORD, client_ip="10.0.0.2") is None  # locked
    [row] = [u for u in d.accounts.users() if u["username"] == "lily"]
    assert row["locked_until"] is not None
    reasons = [e.detail["reason"] for e in audit_events(d, "login_failed")]
    assert reasons == ["bad_password"] * 5 + ["locked"]
    assert audit_events(d, "login_failed")[4].detail["locked_until"] == row["locked_until"]
    # The lock runs out (moved into the past here rather than waiting 15 minutes).
    with d.sessions() as session:
        session.execute(
            update(User).where(User.username == "lily").values(locked_until=utcnow() - timedelta(seconds=1))
        )
        session.commit()
    assert d.accounts.authenticate("lily", PASSWORD, client_ip="10.0.0.2").username == "lily"
    # An admin can lift a lock at once, by enabling or by a new password.
    for _ in range(3):
        d.accounts.authenticate("lily", "wrong-password")
    assert d.accounts.authenticate("lily", PASSWORD) is None
    d.accounts.set_active("lily", True)
    assert d.accounts.authenticate("lily", PASSWORD) is not None


def test_one_address_failing_often_must_wait_whatever_names_it_tries(accounts):
    """GIVEN a per-address limit of 5 WHEN one address fails 5 times over several names THEN it gets
    LoginThrottled (with the wait) even for a right password, while other addresses log in."""
    d = accounts
    for name in ("lily", "admin", "nobody", "ghost", "lily"):
        assert d.accounts.authenticate(name, "wrong-password", client_ip="192.0.2.7") is None
    with pytest.raises(LoginThrottled) as caught:
        d.accounts.authenticate("admin", PASSWORD, client_ip="192.0.2.7")
    assert 0 < caught.value.retry_after_s <= 15 * 60 + 1 and caught.value.status == 429
    assert "分钟后再试" in caught.value.message
    assert d.accounts.authenticate("admin", PASSWORD, client_ip="192.0.2.8").username == "admin"
    # The window slides: once the failures are older than it, the address may try again.
    with d.sessions() as session:
        session.execute(update(LoginFailure).values(at=utcnow() - timedelta(minutes=16)))
        session.commit()
    assert d.accounts.authenticate("admin", PASSWORD, client_ip="192.0.2.7").username == "admin"
    unknown = [e for e in audit_events(d, "login_failed") if e.detail["reason"] == "unknown_user"]
    assert {e.detail["username"] for e in unknown} == {"nobody", "ghost"}


def test_oversized_login_fields_are_cut_before_they_reach_the_records(accounts):
    """A megabyte user name or password fails like any wrong login; the trail keeps at most 65 characters
    of the name and 64 of the address, and a cut name never matches a real account."""
    d = accounts
    assert d.accounts.authenticate("x" * 1_000_000, "y" * 1_000_000, client_ip="a" * 10_000) is None
    assert d.accounts.authenticate("lily" + "x" * 100, PASSWORD) is None
    [huge, long_name] = audit_events(d, "login_failed")
    assert len(huge.detail["username"]) == 65 and len(huge.detail["ip"]) == 64 and len(huge.username) == 64
    assert huge.detail["reason"] == long_name.detail["reason"] == "unknown_user"
    assert (
        d.accounts.authenticate("lily", PASSWORD + "x" * 5000) is None
    )  # longer than any password that can be set


def _session_row(d: Dossier, key: str) -> UserSession:
    with d.sessions() as session:
        return session.get(UserSession, hashlib.sha256(key.encode()).hexdigest())


def test_sessions_live_on_the_server_and_end_there(accounts):
    """GIVEN open sessions of lily WHEN she logs out, her password changes, her role changes or she is disabled
    THEN the sessions concerned end on the server (with the reason) and their keys are refused from then on."""
    d = accounts
    lily = d.accounts.principal_for("lily").user_id
    key = d.accounts.start_session(lily, client_ip="10.0.0.9").key
    assert d.accounts.principal_for_session(key, user_id=lily).username == "lily"
    row = _session_row(d, key)
    assert row.ip == "10.0.0.9" and row.ended_at is None and key not in row.id  # only the sha256 is stored
    with pytest.raises(SessionEnded):
        d.accounts.principal_for_session(key, user_id=lily + 1)  # the cookie names another user
    with pytest.raises(SessionEnded):
        d.accounts.principal_for_session("made-up-key", user_id=lily)
    assert d.accounts.end_session(key, "user") == "lily"
    with pytest.raises(SessionEnded) as caught:
        d.accounts.principal_for_session(key, user_id=lily)
    assert caught.value.reason == "user" and _session_row(d, key).end_reason == "user"
    assert d.accounts.end_session(key, "user") is None  # already over

    for change, reason in (
        (lambda: d.accounts.set_password("lily", "Neues-Passw0rt"), "password"),
        (lambda: d.accounts.set_role("lily", "viewer"), "role"),
        (lambda: d.accounts.set_active("lily", False), "disabled"),
    ):
        d.accounts.set_active("lily", True)
        keys = [d.accounts.start_session(lily).key, d.accounts.start_session(lily).key]
        other = d.accounts.start_session(d.accounts.principal_for("admin").user_id).key
        assert d.accounts.open_sessions("lily") == 2
        change()
        for k in keys:
            with pytest.raises(SessionEnded):
                d.accounts.principal_for_session(k, user_id=lily)
            assert _session_row(d, k).end_reason == reason
        assert d.accounts.principal_for_session(other).username == "admin"  # other users' sessions go on
        assert d.accounts.open_sessions("lily") == 0
    assert d.accounts.authenticate("lily", "Neues-Passw0rt") is None
    assert audit_events(d, "login_failed")[-1].detail["reason"] == "disabled"
    assert audit_events(d, "user_set_password")[-1].detail["sessions_ended"] == 2
    assert audit_events(d, "user_set_role")[-1].detail["sessions_ended"] == 2
    assert audit_events(d, "user_disable")[-1].detail["sessions_ended"] == 2


def test_a_password_changed_behind_the_services_back_ends_the_session_too(accounts):
    """GIVEN lily's session and its password stamp WHEN her password hash changes without set_password (a restored
    backup, another tool) THEN the stamp no longer matches and the session ends (reason password)."""
    d = accounts
    lily = d.accounts.principal_for("lily").user_id
    opened = d.accounts.start_session(lily)
    assert d.accounts.principal_for_session(opened.key, user_id=lily, stamp=opened.stamp).username == "lily"
    with d.sessions() as session:
        session.execute(
            update(User)
            .where(User.id == lily)
            .values(password_hash=records.hash_password("Anderes-Passw0rt"))
        )
        session.commit()
    with pytest.raises(SessionEnded) as caught:
        d.accounts.principal_for_session(opened.key, user_id=lily, stamp=opened.stamp)
    assert caught.value.reason == "password" and _session_row(d, opened.key).end_reason == "password"
    with pytest.raises(NotFound):
        d.accounts.start_session(10_000)  # nobody


def test_an_idle_session_ends_on_the_server_and_touches_are_rare(accounts):
    """A session unused for DOSSIER_SESSION_IDLE_MINUTES (60) is ended at its next use (a logout event, reason
    idle); last_seen_at is written at most once a minute, and not at all for a page's own poll."""
    d = accounts
    lily = d.accounts.principal_for("lily").user_id
    key = d.accounts.start_session(lily).key
    digest = hashlib.sha256(key.encode()).hexdigest()

    def seen_ago(minutes: float) -> None:
        with d.sessions() as session:
            session.execute(
                update(UserSession)
                .where(UserSession.id == digest)
                .values(last_seen_at=utcnow() - timedelta(minutes=minutes))
            )
            session.commit()

    seen_ago(0.5)
    before = _session_row(d, key).last_seen_at
    d.accounts.principal_for_session(key, user_id=lily)
    assert _session_row(d, key).last_seen_at == before  # seen within the minute: not written again
    seen_ago(59)
    before = _session_row(d, key).last_seen_at
    d.accounts.principal_for_session(key, user_id=lily, touch=False)  # a poll keeps nothing alive
    assert _session_row(d, key).last_seen_at == before
    d.accounts.principal_for_session(key, user_id=lily)
    assert _session_row(d, key).last_seen_at > before
    seen_ago(61)
    with pytest.raises(SessionEnded) as caught:
        d.accounts.principal_for_session(key, user_id=lily)
    assert caught.value.reason == "idle" and _session_row(d, key).end_reason == "idle"
    [event] = audit_events(d, "logout")
    assert event.username == "lily" and event.detail["reason"] == "idle"
    d.accounts.end_sessions("lily")  # an admin logs someone out everywhere: nothing open is left
    assert d.accounts.open_sessions("lily") == 0


def test_api_tokens_are_kept_as_hashes_and_can_be_revoked(accounts):
    """A token acts as its user; only its sha256 is stored; revoking it or disabling the user refuses it."""
    d = accounts
    token_id, token = d.accounts.create_token("lily", "报表脚本")
    assert token.startswith("dsk_") and len(token) > 40
    assert d.accounts.principal_for_token(token).username == "lily"
    with d.sessions() as session:
        row = session.get(ApiToken, token_id)
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and row.last_used_at is not None
        dump = "\n".join(str(v) for v in session.execute(text("SELECT * FROM api_tokens")).one())
    assert token not in dump
    [listed] = d.accounts.tokens("lily")
    assert listed["name"] == "报表脚本" and listed["revoked_at"] is None and "token" not in listed
    for bad in ("dsk_" + "x" * 43, token[:-1], "not-a-token", ""):
        with pytest.raises(NotFound):
            d.accounts.principal_for_token(bad)
    assert d.accounts.revoke_token(token_id) == "lily"
    with pytest.raises(NotFound):
        d.accounts.principal_for_token(token)
    assert (
        d.accounts.tokens("lily")[0]["revoked_at"] is not None
        and d.accounts.tokens("lily")[0]["state"] == "revoked"
    )
    assert [e.action for e in audit_events(d, "token_create") + audit_events(d, "token_revoke")] == [
        "token_create",
        "token_revoke",
    ]


def test_disabling_revokes_every_token_and_enabling_brings_none_back(accounts):
    """GIVEN lily's tokens WHEN she is disabled THEN each is revoked (an event each, reason user_disabled) and stays
    refused after she is enabled again; a disabled user gets no new token."""
    d = accounts
    tokens = [d.accounts.create_token("lily", name)[1] for name in ("a", "b")]
    d.accounts.set_active("lily", False)
    with pytest.raises(DossierError, match="已停用"):
        d.accounts.create_token("lily", "c")
    d.accounts.set_active("lily", True)
    for token in tokens:
        with pytest.raises(NotFound, match="已撤销"):
            d.accounts.principal_for_token(token)
    assert [t["state"] for t in d.accounts.tokens("lily")] == ["revoked", "revoked"]
    assert [e.detail["reason"] for e in audit_events(d, "token_revoke")] == ["user_disabled"] * 2
    assert audit_events(d, "user_disable")[-1].detail["tokens_revoked"] == 2


def test_tokens_can_expire(accounts):
    """A token with an expiry works until then and is refused after it, saying it expired; the list shows both
    times and the state; an expiry in the past is refused when the token is made."""
    d = accounts
    soon = utcnow() + timedelta(days=2)
    token_id, token = d.accounts.create_token("lily", "限时", expires_at=soon)
    assert d.accounts.principal_for_token(token).username == "lily"
    [listed] = d.accounts.tokens("lily")
    assert listed["expires_at"] == soon.isoformat(timespec="seconds") and listed["state"] == "active"
    with d.sessions() as session:
        session.get(ApiToken, token_id).expires_at = utcnow() - timedelta(seconds=1)
        session.commit()
    with pytest.raises(NotFound, match="过期") as caught:
        d.accounts.principal_for_token(token)
    assert "expired" in caught.value.message
    assert d.accounts.tokens("lily")[0]["state"] == "expired"
    with pytest.raises(DossierError, match="将来"):
        d.accounts.create_token("lily", "过去", expires_at=utcnow() - timedelta(minutes=1))
    assert audit_events(d, "token_create")[0].detail["expires_at"] == soon.isoformat(timespec="seconds")


# -- the CLI -------------------------------------------------------------------------------------


def _run(home: Path, *args: str, input: str | None = None):
    return CliRunner().invoke(cli, ["--home", str(home), *args], input=input, catch_exceptions=False)


def test_cli_manages_users_and_tokens(tmp_path):
    """GIVEN an initialised home WHEN users are added, listed, re-roled, disabled and given tokens by the CLI
    THEN the records say so, passwords never come from arguments, and each change is audited by ``system``."""
    home = tmp_path / "home"
    assert _run(home, "init").exit_code == 0
    added = _run(home, "users", "add", "lily", "--role", "sales", "--password-stdin", input=f"{PASSWORD}\n")
    assert added.exit_code == 0 and "lily" in added.output
    prompted = _run(home, "users", "add", "mia", "--role", "viewer", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output
    assert PASSWORD not in prompted.output  # hidden prompt
    short = _run(home, "users", "add", "max", "--role", "viewer", "--password-stdin", input="short\n")
    assert short.exit_code == 1 and "8" in short.output
    bad_role = _run(home, "users", "add", "max", "--role", "boss", "--password-stdin", input=f"{PASSWORD}\n")
    assert bad_role.exit_code == 2
    assert _run(home, "users", "add", "--help").output.count("--password ") == 0  # no password argument

    assert _run(home, "users", "set-role", "mia", "finance").exit_code == 0
    assert _run(home, "users", "disable", "lily").exit_code == 0
    rows = {
        r["username"]: r for r in map(json.loads, _run(home, "users", "list", "--json").output.splitlines())
    }
    assert (
        rows["mia"]["role"] == "finance"
        and rows["lily"]["active"] is False
        and rows["admin"]["role"] == "admin"
    )
    table = _run(home, "users", "list").output
    assert "停用 disabled" in table and "启用 active" in table
    last_admin = _run(home, "users", "disable", "admin")
    assert last_admin.exit_code == 1 and "最后一个管理员" in last_admin.output
    assert _run(home, "users", "enable", "lily").exit_code == 0

    created = CliRunner().invoke(
        cli, ["--home", str(home), "users", "token", "create", "lily", "--name", "cron"]
    )
    token = created.stdout.strip()
    assert created.exit_code == 0 and token.startswith("dsk_") and "只显示这一次" in created.stderr
    listed = [
        json.loads(x) for x in _run(home, "users", "token", "list", "lily", "--json").output.splitlines()
    ]
    assert [t["name"] for t in listed] == ["cron"] and token not in json.dumps(listed)
    assert _run(home, "users", "token", "revoke", str(listed[0]["id"])).exit_code == 0
    missing = _run(home, "users", "token", "revoke", "999")
    assert missing.exit_code == 1 and "999" in missing.output

    d = Dossier.open(load_settings(environ={"DOSSIER_HOME": str(home)}, dotenv=tmp_path / "no.env"))
    with pytest.raises(NotFound):
        d.accounts.principal_for_token(token)
    with d.sessions() as session:
        actions = [
            (e.username, e.action) for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]
    assert [a for u, a in actions if u == "system"] == [
        "user_add",
        "user_add",
        "user_set_role",
        "user_disable",
        "user_enable",
        "token_create",
        "token_revoke",
    ]
    d.close()


def test_cli_token_expiry_and_logout(tmp_path):
    """``token create --expires-days N`` / ``--expires YYYY-MM-DD`` make tokens that end then (shown by ``token list``,
    refused once past); bad expiries are usage errors; ``users logout`` ends every open session of a user."""
    home = tmp_path / "home"
    assert _run(home, "init").exit_code == 0
    assert (
        _run(
            home, "users", "add", "lily", "--role", "sales", "--password-stdin", input=f"{PASSWORD}\n"
        ).exit_code
        == 0
    )
    in_days = CliRunner().invoke(
        cli, ["--home", str(home), "users", "token", "create", "lily", "--expires-days", "30"]
    )
    assert in_days.exit_code == 0 and "UTC 到期" in in_days.stderr
    until = (utcnow() + timedelta(days=10)).date()
    on_date = CliRunner().invoke(
        cli, ["--home", str(home), "users", "token", "create", "lily", "--expires", str(until)]
    )
    assert on_date.exit_code == 0
    both = _run(home, "users", "token", "create", "lily", "--expires-days", "3", "--expires", str(until))
    assert both.exit_code == 2
    past = _run(home, "users", "token", "create", "lily", "--expires", "2020-01-01")
    assert past.exit_code == 2 and "日期已过" in past.output
    assert _run(home, "users", "token", "create", "lily", "--expires-days", "0").exit_code == 2
    listed = [
        json.loads(x) for x in _run(home, "users", "token", "list", "lily", "--json").output.splitlines()
    ]
    first, second = listed
    expected_first = utcnow() + timedelta(days=30)
    assert abs((datetime.fromisoformat(first["expires_at"]) - expected_first).total_seconds()) < 120
    assert second["expires_at"] == f"{until + timedelta(days=1)}T00:00:00"  # through that whole day (UTC)
    assert first["state"] == second["state"] == "active"
    table = _run(home, "users", "token", "list", "lily").output
    assert "到期 expires" in table and "有效 active" in table

    d = Dossier.open(load_settings(environ={"DOSSIER_HOME": str(home)}, dotenv=tmp_path / "no.env"))
    with d.sessions() as session:
        session.get(ApiToken, first["id"]).expires_at = utcnow() - timedelta(seconds=1)
        session.commit()
    with pytest.raises(NotFound, match="过期"):
        d.accounts.principal_for_token(in_days.stdout.strip())
    assert d.accounts.principal_for_token(on_date.stdout.strip()).username == "lily"
    assert "已过期 expired" in _run(home, "users", "token", "list", "lily").output
    lily = d.accounts.principal_for("lily").user_id
    keys = [d.accounts.start_session(lily).key, d.accounts.start_session(lily).key]
    out = _run(home, "users", "logout", "lily")
    assert out.exit_code == 0 and "2" in out.output
    for key in keys:
        with pytest.raises(SessionEnded):
            d.accounts.principal_for_session(key, user_id=lily)
    d.close()
