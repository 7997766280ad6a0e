"""`dossier notifications …` and users' e-mail addresses at the command line, against a real local SMTP server."""

from __future__ import annotations

import json

from click.testing import CliRunner

from tests._smtp import smtp_server
from tests.app.test_notifications import make_home, populate


def _runner(home, port: int):  # type: ignore[no-untyped-def]
    from dossier.cli import cli

    env = {
        "DOSSIER_HOME": str(home),
        "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0",
        "DOSSIER_DIGEST_HOUR": "8",
        "DOSSIER_SMTP_HOST": "127.0.0.1",
        "DOSSIER_SMTP_PORT": str(port),
        "DOSSIER_SMTP_TIMEOUT": "5",
        "DOSSIER_SMTP_MAX_TRIES": "1",
    }

    def run(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
        return CliRunner(env=env).invoke(cli, list(args), input=stdin)

    return run


def test_failed_mails_are_listed_counted_and_retried_by_admins(tmp_path):
    """A refused mail is failed (one try allowed), listed with the server's answer, counted in `dossier status`
    (text and JSON); `retry` needs ids or --all-failed and an admin; after a retry `send` delivers it."""
    with smtp_server() as box:
        home = tmp_path / "home"
        populate(make_home(home, box.port))
        run = _runner(home, box.port)
        box.refuse_rcpt = "550 5.1.1 no such user here"
        ran = run("notifications", "run", "--now", "2026-12-07T07:30", "--json")
        assert ran.exit_code == 0, ran.output
        result = json.loads(ran.output)
        assert result["added"] == {"notifications": 4, "mails": 2, "digests": 0}
        assert result["mail"]["failed"] == 2 and result["mail"]["sent"] == 0
        again = json.loads(run("notifications", "run", "--now", "2026-12-07T07:30", "--json").output)
        assert again["added"] == {"notifications": 0, "mails": 0, "digests": 0}

        listed = run("notifications", "mail", "--status", "failed")
        assert listed.exit_code == 0
        assert (
            "550" in listed.output
            and "no such user here" in listed.output
            and "rep1@example.com" in listed.output
        )
        rows = json.loads(run("notifications", "mail", "--json").output)
        assert sorted(r["status"] for r in rows) == ["failed", "failed"] and all(
            r["attempts"] == 1 for r in rows
        )

        status = run("status")
        assert "2 封提醒邮件" in status.output and "2 failed" in status.output
        assert json.loads(run("status", "--json").output)["mail"] == {"pending": 0, "failed": 2, "sent": 0}

        assert run("notifications", "retry").exit_code == 1
        refused = run("notifications", "retry", "--all-failed", "--as", "rep1")
        assert refused.exit_code == 1 and "only admins" in refused.output
        box.refuse_rcpt = None
        retried = run("notifications", "retry", str(rows[0]["id"]))
        assert retried.exit_code == 0 and "1" in retried.output
        sent = json.loads(run("notifications", "send", "--json").output)
        assert sent["sent"] == 1
        assert run("notifications", "retry", "--all-failed").exit_code == 0
        assert json.loads(run("notifications", "send", "--json").output)["sent"] == 1
        assert len(box.received) == 2
        assert "no e-mail waits" in run("notifications", "mail").output
        bad_now = run("notifications", "run", "--now", "tomorrow")
        assert bad_now.exit_code != 0 and "ISO" in bad_now.output


def test_users_get_checked_addresses_on_the_command_line(tmp_path):
    """`users add --email` refuses a bad address before creating anything; `set-email` sets and removes it;
    `users list` shows it."""
    with smtp_server() as box:
        home = tmp_path / "home"
        make_home(home, box.port).close()
        run = _runner(home, box.port)
        bad = run(
            "users",
            "add",
            "bob",
            "--role",
            "sales",
            "--email",
            "bob@",
            "--password-stdin",
            stdin="Yu3-gh8!kLmnop\n",
        )
        assert bad.exit_code == 1 and "not a valid e-mail address" in bad.output
        assert "bob" not in run("users", "list").output
        added = run(
            "users",
            "add",
            "bob",
            "--role",
            "sales",
            "--email",
            "bob@example.com",
            "--password-stdin",
            stdin="Yu3-gh8!kLmnop\n",
        )
        assert added.exit_code == 0, added.output
        assert "bob@example.com" in run("users", "list").output
        users = [json.loads(line) for line in run("users", "list", "--json").output.splitlines()]
        assert next(u for u in users if u["username"] == "bob")["email"] == "bob@example.com"
        assert run("users", "set-email", "bob", "not an address").exit_code == 1
        assert run("users", "set-email", "bob", "").exit_code == 0
        assert "bob@example.com" not in run("users", "list").output
        assert run("users", "set-email", "nobody", "x@example.com").exit_code == 1
