"""Accounts: users and roles, the password policy, lock-out and the per-address limit, API tokens.

Real argon2 hashes and a real records database (SQLite; the counting and the tokens also on
PostgreSQL); the CLI through click's runner on a real data home.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text, update

import records
from dossier._accounts_service import LoginThrottled, WeakPassword, check_password
from dossier.cli import cli
from dossier.cli_users import ROLES as CLI_ROLES
from dossier.config import load_settings
from dossier.errors import DossierError, NotFound
from dossier.services import Dossier
from records import ApiToken, AuditEvent, LoginFailure, User, utcnow
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
    d.add_user("lily", "sales", PASSWORD)
    yield d
    d.close()



def test_cli_roles_are_the_records_roles():
    """``dossier users`` offers exactly the roles the records know (it does not import them for speed)."""
    assert CLI_ROLES == records.ROLES


def test_password_policy_and_user_names(accounts):
    """Short passwords, the user name as password, bad names, unknown roles and duplicates are refused with a reason."""
    d = accounts
    with pytest.raises(DossierError, match="8"):
        d.add_user("mia", "viewer", "short")
    with pytest.raises(DossierError, match="用户名"):
        d.add_user("mia.zhang", "viewer", "MIA.ZHANG")  # the name itself
    with pytest.raises(DossierError, match="用户名"):
        d.add_user("bad name!", "viewer", PASSWORD)
    with pytest.raises(DossierError, match="未知角色"):
        d.add_user("mia", "boss", PASSWORD)
    with pytest.raises(DossierError, match="已存在"):
        d.add_user("LILY", "viewer", PASSWORD)  # names are unique whatever their case
    d.add_user("王芳", "finance", PASSWORD)  # Chinese names are names
    assert d.authenticate("王芳", PASSWORD).role == "finance"
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
        d.add_user("mia", "viewer", weak)
    assert "密码太常见或太容易猜到" in caught.value.message and "too common or too easy to guess" in caught.value.message
    assert caught.value.status == 400
    with pytest.raises(WeakPassword):
        d.set_password("lily", weak)
    assert "mia" not in {u["username"] for u in d.users()}
    assert d.authenticate("lily", PASSWORD) is not None  # her password is unchanged
    assert audit_events(d, "user_set_password") == []


def test_passwords_built_on_the_persons_names_are_refused(accounts):
    """The login, its parts run together, and the display name count as words an attacker tries first."""
    d = accounts
    with pytest.raises(WeakPassword, match="用户名、姓名") as caught:
        d.add_user("wang.fang", "viewer", "wangfang2024")
    assert "the user's name" in caught.value.message
    with pytest.raises(WeakPassword, match="用户名、姓名"):
        d.set_password("lily", "lily2024!")
    with d.sessions() as session:
        session.execute(update(User).where(User.username == "lily").values(display_name="Zhang Wei"))
        session.commit()
    with pytest.raises(WeakPassword, match="用户名、姓名"):
        d.set_password("lily", "ZhangWei1988!")
    d.add_user("wang.fang", "viewer", "Kupfer-Regen-Tisch")  # a strong one is taken
    d.set_password("lily", "Gelber-Fluss-Laterne")
    assert d.authenticate("lily", "Gelber-Fluss-Laterne") is not None


def test_cli_refuses_guessable_passwords_in_add_set_password_and_init(tmp_path):
    """``users add``, ``users set-password`` and ``init`` with a chosen DOSSIER_ADMIN_PASSWORD refuse a guessable
    password with exit status 1 and the reason; ``init`` without one generates a strong password."""
    home = tmp_path / "home"
    weak_init = CliRunner().invoke(cli, ["--home", str(home), "init"], env={"DOSSIER_ADMIN_PASSWORD": "Passw0rd!"})
    assert weak_init.exit_code == 1 and "DOSSIER_ADMIN_PASSWORD" in weak_init.output
    assert "太常见" in weak_init.output and "too common" in weak_init.output
    strong_init = CliRunner().invoke(cli, ["--home", str(home), "init"], env={"DOSSIER_ADMIN_PASSWORD": ""})
    assert strong_init.exit_code == 0, strong_init.output
    generated = strong_init.output.split("密码 / password: ")[1].split()[0]
    check_password("admin", generated)  # what init makes passes its own policy
    added = _run(home, "users", "add", "mia", "--role", "viewer", "--password-stdin", input="12345678\n")
    assert added.exit_code == 1 and "这是最常见的 10 个密码之一" in added.output and "top-10 common password" in added.output
    changed = _run(home, "users", "set-password", "admin", "--password-stdin", input="password\n")
    assert changed.exit_code == 1 and "太常见" in changed.output
    d = Dossier.open(load_settings(environ={"DOSSIER_HOME": str(home)}, dotenv=tmp_path / "no.env"))
    assert d.authenticate("admin", generated) is not None and [u["username"] for u in d.users()] == ["admin"]
    d.close()


def test_roles_change_and_the_last_admin_stays(accounts):
    """set-role takes effect on the next principal; the last active admin can be neither demoted nor disabled."""
    d = accounts
    d.set_role("lily", "manager")
    assert d.principal_for("lily").role == "manager"
    with pytest.raises(DossierError, match="最后一个管理员"):
        d.set_role("admin", "viewer")
    with pytest.raises(DossierError, match="最后一个管理员"):
        d.set_active("admin", False)
    d.set_role("lily", "admin")
    d.set_active("admin", False)  # another admin exists now
    with pytest.raises(NotFound):
        d.principal_for("admin")
    assert d.authenticate("admin", PASSWORD) is None
    assert [e.detail["to"] for e in audit_events(d, "user_set_role")] == ["manager", "admin"]


def test_wrong_passwords_lock_the_account_for_a_while(accounts):
    """GIVEN a limit of 3 WHEN 3 wrong passwords THEN the right one is refused too, until the lock runs out."""
    d = accounts
    for _ in range(2):
        assert d.authenticate("lily", "wrong-password", client_ip="10.0.0.1") is None
    assert d.authenticate("lily", PASSWORD, client_ip="10.0.0.2").username == "lily"  # success resets the count
    for _ in range(3):
        assert d.authenticate("lily", "wrong-password", client_ip="10.0.0.1") is None
    assert d.authenticate("lily", PASSWORD, client_ip="10.0.0.2") is None  # locked
    [row] = [u for u in d.users() if u["username"] == "lily"]
    assert row["locked_until"] is not None
    reasons = [e.detail["reason"] for e in audit_events(d, "login_failed")]
    assert reasons == ["bad_password"] * 5 + ["locked"]
    assert audit_events(d, "login_failed")[4].detail["locked_until"] == row["locked_until"]
    # The lock runs out (moved into the past here rather than waiting 15 minutes).
    with d.sessions() as session:
        session.execute(update(User).where(User.username == "lily").values(locked_until=utcnow() - timedelta(seconds=1)))
        session.commit()
    assert d.authenticate("lily", PASSWORD, client_ip="10.0.0.2").username == "lily"
    # An admin can lift a lock at once, by enabling or by a new password.
    for _ in range(3):
        d.authenticate("lily", "wrong-password")
    assert d.authenticate("lily", PASSWORD) is None
    d.set_active("lily", True)
    assert d.authenticate("lily", PASSWORD) is not None


def test_one_address_failing_often_must_wait_whatever_names_it_tries(accounts):
    """GIVEN a per-address limit of 5 WHEN one address fails 5 times over several names THEN it gets
    LoginThrottled (with the wait) even for a right password, while other addresses log in."""
    d = accounts
    for name in ("lily", "admin", "nobody", "ghost", "lily"):
        assert d.authenticate(name, "wrong-password", client_ip="192.0.2.7") is None
    with pytest.raises(LoginThrottled) as caught:
        d.authenticate("admin", PASSWORD, client_ip="192.0.2.7")
    assert 0 < caught.value.retry_after_s <= 15 * 60 + 1 and caught.value.status == 429
    assert "分钟后再试" in caught.value.message
    assert d.authenticate("admin", PASSWORD, client_ip="192.0.2.8").username == "admin"
    # The window slides: once the failures are older than it, the address may try again.
    with d.sessions() as session:
        session.execute(update(LoginFailure).values(at=utcnow() - timedelta(minutes=16)))
        session.commit()
    assert d.authenticate("admin", PASSWORD, client_ip="192.0.2.7").username == "admin"
    unknown = [e for e in audit_events(d, "login_failed") if e.detail["reason"] == "unknown_user"]
    assert {e.detail["username"] for e in unknown} == {"nobody", "ghost"}


def test_oversized_login_fields_are_cut_before_they_reach_the_records(accounts):
    """A megabyte user name or password fails like any wrong login; the trail keeps at most 65 characters
    of the name and 64 of the address, and a cut name never matches a real account."""
    d = accounts
    assert d.authenticate("x" * 1_000_000, "y" * 1_000_000, client_ip="a" * 10_000) is None
    assert d.authenticate("lily" + "x" * 100, PASSWORD) is None
    [huge, long_name] = audit_events(d, "login_failed")
    assert len(huge.detail["username"]) == 65 and len(huge.detail["ip"]) == 64 and len(huge.username) == 64
    assert huge.detail["reason"] == long_name.detail["reason"] == "unknown_user"
    assert d.authenticate("lily", PASSWORD + "x" * 5000) is None  # longer than any password that can be set


def test_disabled_users_and_changed_passwords_end_sessions(accounts):
    """A session's stamp stops working when the password changes or the user is disabled."""
    d = accounts
    stamp = d.session_stamp("lily")
    assert d.session_principal("lily", stamp).username == "lily"
    with pytest.raises(NotFound):
        d.session_principal("lily", None)
    d.set_password("lily", "Neues-Passw0rt")
    with pytest.raises(NotFound):
        d.session_principal("lily", stamp)
    stamp = d.session_stamp("lily")
    d.set_active("lily", False)
    with pytest.raises(NotFound):
        d.session_principal("lily", stamp)
    assert d.authenticate("lily", "Neues-Passw0rt") is None
    assert audit_events(d, "login_failed")[-1].detail["reason"] == "disabled"


def test_api_tokens_are_kept_as_hashes_and_can_be_revoked(accounts):
    """A token acts as its user; only its sha256 is stored; revoking it or disabling the user refuses it."""
    d = accounts
    token_id, token = d.create_token("lily", "报表脚本")
    assert token.startswith("dsk_") and len(token) > 40
    assert d.principal_for_token(token).username == "lily"
    with d.sessions() as session:
        row = session.get(ApiToken, token_id)
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and row.last_used_at is not None
        dump = "\n".join(str(v) for v in session.execute(text("SELECT * FROM api_tokens")).one())
    assert token not in dump
    [listed] = d.tokens("lily")
    assert listed["name"] == "报表脚本" and listed["revoked_at"] is None and "token" not in listed
    for bad in ("dsk_" + "x" * 43, token[:-1], "not-a-token", ""):
        with pytest.raises(NotFound):
            d.principal_for_token(bad)
    d.set_active("lily", False)
    with pytest.raises(NotFound):
        d.principal_for_token(token)
    d.set_active("lily", True)
    assert d.principal_for_token(token).username == "lily"
    assert d.revoke_token(token_id) == "lily"
    with pytest.raises(NotFound):
        d.principal_for_token(token)
    assert d.tokens("lily")[0]["revoked_at"] is not None
    assert [e.action for e in audit_events(d, "token_create") + audit_events(d, "token_revoke")] == ["token_create", "token_revoke"]


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
    rows = {r["username"]: r for r in map(json.loads, _run(home, "users", "list", "--json").output.splitlines())}
    assert rows["mia"]["role"] == "finance" and rows["lily"]["active"] is False and rows["admin"]["role"] == "admin"
    table = _run(home, "users", "list").output
    assert "停用 disabled" in table and "启用 active" in table
    last_admin = _run(home, "users", "disable", "admin")
    assert last_admin.exit_code == 1 and "最后一个管理员" in last_admin.output
    assert _run(home, "users", "enable", "lily").exit_code == 0

    created = CliRunner().invoke(cli, ["--home", str(home), "users", "token", "create", "lily", "--name", "cron"])
    token = created.stdout.strip()
    assert created.exit_code == 0 and token.startswith("dsk_") and "只显示这一次" in created.stderr
    listed = [json.loads(x) for x in _run(home, "users", "token", "list", "lily", "--json").output.splitlines()]
    assert [t["name"] for t in listed] == ["cron"] and token not in json.dumps(listed)
    assert _run(home, "users", "token", "revoke", str(listed[0]["id"])).exit_code == 0
    missing = _run(home, "users", "token", "revoke", "999")
    assert missing.exit_code == 1 and "999" in missing.output

    d = Dossier.open(load_settings(environ={"DOSSIER_HOME": str(home)}, dotenv=tmp_path / "no.env"))
    with pytest.raises(NotFound):
        d.principal_for_token(token)
    with d.sessions() as session:
        actions = [(e.username, e.action) for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert [a for u, a in actions if u == "system"] == [
        "user_add", "user_add", "user_set_role", "user_disable", "user_enable", "token_create", "token_revoke"
    ]
    d.close()
