"""Notifications (通知): in-app and e-mail, sent once, through a REAL local SMTP server (aiosmtpd).

The data: two sales reps with their customers, a finance document, reminders due today, tomorrow, overdue,
one of a disabled user and one of a user without an address.  "Today" is 2026-12-07 (server local time);
the digest hour is 8.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from dossier.app.notify import check_email
from dossier.app.notify._outbox import Outbox, backoff
from dossier.app.services import Dossier
from foundation.config import load_settings
from foundation.errors import DossierError, Forbidden
from foundation.messages import render_stored
from index import Principal
from records import Customer, Document, MailDelivery, Notification, Reminder, User, utcnow
from tests import _opensearch
from tests._smtp import hanging_server, smtp_server
from tests.conftest import audit_events

TODAY = date(2026, 12, 7)
BEFORE_DIGEST = datetime(2026, 12, 7, 7, 30)  # naive: server local time
AFTER_DIGEST = datetime(2026, 12, 7, 8, 5)
ADMIN = Principal("admin", "admin")


def make_home(home: Path, port: int | None, database_url: str = "", **extra: str) -> Dossier:
    """A Dossier on ``home`` whose SMTP server is 127.0.0.1:``port`` (None: no e-mail); records in
    ``database_url`` when given (PostgreSQL), else SQLite in the home."""
    environ = {
        "DOSSIER_DATABASE_URL": database_url,
        "DOSSIER_HOME": str(home),
        "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0",
        "DOSSIER_DIGEST_HOUR": "8",
        "DOSSIER_SMTP_HOST": "127.0.0.1" if port else "",
        "DOSSIER_SMTP_PORT": str(port or 25),
        "DOSSIER_SMTP_FROM": "dossier@example.com",
        "DOSSIER_SMTP_TIMEOUT": "5",
        **extra,
    }
    if database_url.startswith(
        "postgresql"
    ):  # the embedded index needs SQLite: PostgreSQL goes with OpenSearch
        environ["DOSSIER_OPENSEARCH_URL"] = _opensearch.cluster_url()
        environ["DOSSIER_OPENSEARCH_INDEX"] = (
            f"dossier-notify-{uuid.uuid5(uuid.NAMESPACE_URL, database_url).hex[:8]}"
        )
    settings = load_settings(environ=environ, dotenv=home.parent / "no.env")
    d = Dossier.open(settings, require_init=False)
    d.init(admin_password="通知-admin-pass")
    return d


def populate(d: Dossier, today: date = TODAY) -> dict[str, int]:
    """Users, customers, documents and reminders (module docstring) around ``today``; returns their ids by name."""
    ids: dict[str, int] = {}
    with d.sessions() as s:
        users = {
            "rep1": ("sales", "rep1@example.com", True),
            "rep2": ("sales", "rep2@example.com", True),
            "fin": ("finance", "fin@example.com", True),
            "quiet": ("viewer", "quiet@example.com", True),
            "gone": ("sales", "gone@example.com", False),
            "noaddr": ("sales", None, True),
        }
        for name, (role, address, active) in users.items():
            u = User(username=name, role=role, password_hash="x", active=active, email=address)
            s.add(u)
            s.flush()
            ids[name] = u.id
        a = Customer(name="甲方科技有限公司", owner_id=ids["rep1"])
        b = Customer(name="乙方贸易有限公司", owner_id=ids["rep2"])
        s.add_all([a, b])
        s.flush()
        ids["A"], ids["B"] = a.id, b.id
        fin_doc = Document(
            title="2025年回款明细",
            confidentiality="finance",
            access_level="finance",
            status="done",
            customer_id=a.id,
        )
        contract = Document(
            title="续签合同ABC",
            confidentiality="internal",
            access_level="internal",
            status="done",
            customer_id=a.id,
        )
        s.add_all([fin_doc, contract])
        s.flush()
        ids["fin_doc"], ids["contract"] = fin_doc.id, contract.id

        def reminder(key: str, owner: str, title: str, remind: int, due: int, **kw: Any) -> None:
            r = Reminder(
                title=title,
                owner_id=ids[owner],
                remind_on=today + timedelta(days=remind),
                due_on=today + timedelta(days=due),
                **kw,
            )
            s.add(r)
            s.flush()
            ids[key] = r.id

        reminder("r_due", "rep1", "回访甲方", 0, 3, customer_id=a.id, document_id=contract.id)
        reminder("r_fin", "rep1", "催收尾款", 1, 2, customer_id=a.id, document_id=fin_doc.id)
        reminder("r_conf_b", "rep1", "乙方机密续约", 1, 1, customer_id=b.id, confidentiality="confidential")
        reminder("r_b", "rep2", "乙方续约", 0, 5, customer_id=b.id, confidentiality="confidential")
        reminder("r_old", "rep1", "逾期报价", -5, -2, customer_id=a.id)
        reminder("r_gone", "gone", "离职者的提醒", 0, 1)
        reminder("r_noaddr", "noaddr", "无邮箱者的提醒", 0, 1)
        reminder("r_done", "rep1", "已完成的提醒", 0, 1, status="done")
        s.commit()
    return ids


def notifications_of(d: Dossier) -> list[tuple[str, int, str]]:
    with d.sessions() as s:
        return sorted((n.key, n.user_id, n.kind) for n in s.scalars(select(Notification)))


def mail_keys(d: Dossier) -> list[str]:
    with d.sessions() as s:
        return sorted(s.scalars(select(MailDelivery.key)))


def test_a_due_reminder_notifies_once_in_app_and_by_mail_even_after_a_restart(tmp_path, records_url):
    """Due today → one notification and one same-day mail; overdue → one notification; a second run, a new
    Dossier on the same home ("restart") and another send add and send nothing more.  Disabled users get
    nothing; a user without an address gets the in-app one only; done reminders are quiet.  SQLite and PostgreSQL."""
    with smtp_server() as box:
        d = make_home(tmp_path / "home", box.port, records_url)
        ids = populate(d)
        first = d.notifications.run(BEFORE_DIGEST)
        assert first == {"notifications": 4, "mails": 2, "digests": 0}
        expected = sorted(
            [
                (f"due:{ids['r_due']}:2026-12-07", ids["rep1"], "due"),
                (f"due:{ids['r_b']}:2026-12-07", ids["rep2"], "due"),
                (f"overdue:{ids['r_old']}:2026-12-05", ids["rep1"], "overdue"),
                (f"due:{ids['r_noaddr']}:2026-12-07", ids["noaddr"], "due"),
            ]
        )
        assert notifications_of(d) == expected
        assert mail_keys(d) == sorted([f"due:{ids['r_due']}:2026-12-07", f"due:{ids['r_b']}:2026-12-07"])
        assert d.notifications.run(BEFORE_DIGEST) == {"notifications": 0, "mails": 0, "digests": 0}
        assert d.notifications.send_pending()["sent"] == 2
        assert d.notifications.send_pending()["sent"] == 0

        again = make_home(
            tmp_path / "home", box.port, records_url
        )  # a restart: a new process on the same home
        assert again.notifications.run(BEFORE_DIGEST) == {"notifications": 0, "mails": 0, "digests": 0}
        assert again.notifications.send_pending()["sent"] == 0
        assert notifications_of(again) == expected
        mine = box.to("rep1@example.com")
        assert len(mine) == 1 and len(box.received) == 2
        assert "回访甲方" in mine[0]["Subject"] and "2026-12-10" in mine[0]["Subject"]
        body = mine[0].get_content()
        assert "回访甲方" in body and "甲方科技有限公司" in body and "续签合同ABC" in body
        assert not box.to("gone@example.com")
        assert d.notifications.mail_counts() == {"pending": 0, "failed": 0, "sent": 2}
        # the next day nothing of rep1's is new: tomorrow's two are a confidential one about rep2's customer
        # (assigned to rep1 behind the rules' back) and one on a finance document — neither may they see
        assert d.notifications.run(BEFORE_DIGEST + timedelta(days=1))["notifications"] == 0
        keys = [k for k, _u, _kind in notifications_of(d)]
        assert not [k for k in keys if f":{ids['r_conf_b']}:" in k or f":{ids['r_fin']}:" in k]
        # the day after, what was due on the 8th is overdue: once (r_noaddr)
        assert d.notifications.run(BEFORE_DIGEST + timedelta(days=2))["notifications"] == 1
        assert d.notifications.run(BEFORE_DIGEST + timedelta(days=3))["notifications"] == 0
        keys = [k for k, _u, _kind in notifications_of(d)]
        assert f"overdue:{ids['r_noaddr']}:2026-12-08" in keys
        assert not [k for k in keys if f":{ids['r_conf_b']}:" in k or f":{ids['r_fin']}:" in k]
        again.close()
        d.close()


def test_a_notification_is_shown_only_while_its_reminder_may_be_seen(tmp_path):
    """GIVEN rep1's notification of a reminder about a contract WHEN the contract goes to the trash THEN the
    notification leaves rep1's list and counter (its title names the document); restored, it comes back."""
    d = make_home(tmp_path / "home", None)
    ids = populate(d)
    d.notifications.run(BEFORE_DIGEST)
    rep1 = d.accounts.principal_for("rep1")

    def shown() -> set[int | None]:
        return {item["reminder_id"] for item in d.notifications.list(rep1)["items"]}

    assert ids["r_due"] in shown()
    unread = d.notifications.unread_count(rep1)
    d.trash.trash(ids["contract"], ADMIN)
    assert ids["r_due"] not in shown()
    assert d.notifications.unread_count(rep1) == unread - 1
    d.trash.restore(ids["contract"], ADMIN)
    assert ids["r_due"] in shown() and d.notifications.unread_count(rep1) == unread
    d.close()


def test_the_digest_goes_once_a_day_at_the_hour_and_lists_only_what_the_user_may_read(tmp_path):
    """Before the hour: none.  At it: rep1 and rep2 get one each (nobody with nothing to say, no disabled user);
    rep1's lists its reminders due within 7 days and the overdue one, never rep2's confidential customer's
    reminder nor the one on the finance document.  A rerun adds none; the next day, one more each."""
    with smtp_server() as box:
        d = make_home(tmp_path / "home", box.port)
        ids = populate(d)
        assert d.notifications.run(BEFORE_DIGEST)["digests"] == 0
        assert d.notifications.run(AFTER_DIGEST)["digests"] == 2
        assert d.notifications.run(AFTER_DIGEST + timedelta(hours=3))["digests"] == 0
        d.notifications.send_pending()
        digests = [m for m in box.messages() if "每日提醒" in m["Subject"]]
        assert sorted(m["To"] for m in digests) == ["rep1@example.com", "rep2@example.com"]
        rep1 = next(m for m in digests if m["To"] == "rep1@example.com")
        assert rep1["Subject"] == "Dossier 每日提醒 2026-12-07：2 项到期"
        body = rep1.get_content()
        for shown in ("回访甲方", "逾期报价", "甲方科技有限公司", "续签合同ABC", "已逾期"):
            assert shown in body, shown
        # a reminder on a document rep1 may not read is not listed at all (its title could tell of it)
        for hidden in ("催收尾款", "乙方机密续约", "乙方贸易有限公司", "2025年回款明细", "已完成的提醒"):
            assert hidden not in body, hidden
        rep2 = next(m for m in digests if m["To"] == "rep2@example.com")
        assert "乙方续约" in rep2.get_content() and "回访甲方" not in rep2.get_content()
        assert d.notifications.run(AFTER_DIGEST + timedelta(days=1))["digests"] == 2
        assert f"digest:{ids['rep1']}:2026-12-08" in mail_keys(d)
        d.close()


def test_a_refusing_server_is_retried_with_backoff_then_failed_visibly_and_a_retry_sends_it(tmp_path):
    """550 on RCPT: each try is an attempt with the server's code and text kept; the next waits 1, then 2
    minutes; after DOSSIER_SMTP_MAX_TRIES it is failed, counted in the status (a warning) and listed for
    admins; an admin's retry sends it once the server accepts; non-admins may not list or retry."""
    with smtp_server() as box:
        d = make_home(tmp_path / "home", box.port, DOSSIER_SMTP_MAX_TRIES="3")
        ids = populate(d)
        d.notifications.run(BEFORE_DIGEST)
        box.refuse_rcpt = "550 5.1.1 mailbox unavailable"
        t0 = datetime.now(UTC)  # send_pending takes an aware time (a naive one is server local time)
        first = d.notifications.send_pending(now=t0)
        assert first["sent"] == 0 and first["retrying"] == 2
        rows = d.notifications.mails(ADMIN, "pending")
        assert [r["attempts"] for r in rows] == [1, 1]
        error = render_stored(rows[0]["last_error"], "en")
        assert "550" in error and "mailbox unavailable" in error and "refused" in error
        assert "拒收" in render_stored(rows[0]["last_error"], "zh")
        assert d.notifications.send_pending(now=t0 + timedelta(seconds=30))["retrying"] == 0  # not yet
        assert d.notifications.send_pending(now=t0 + timedelta(seconds=61))["retrying"] == 2
        assert [r["attempts"] for r in d.notifications.mails(ADMIN, "pending")] == [2, 2]
        assert (
            d.notifications.send_pending(now=t0 + timedelta(seconds=61 + 60))["retrying"] == 0
        )  # waits 2 min
        last = d.notifications.send_pending(now=t0 + timedelta(seconds=61 + 121))
        assert last["failed"] == 2 and not box.received
        failed = d.notifications.mails(ADMIN, "failed")
        assert [r["attempts"] for r in failed] == [3, 3] and all(r["last_error"] for r in failed)
        status = d.status()
        assert status["mail"]["failed"] == 2
        assert any("2 封提醒邮件" in w and "retry --all-failed" in w for w in status["warnings"])
        with pytest.raises(Forbidden):
            d.notifications.mails(Principal("rep1", "sales", ids["rep1"]))
        with pytest.raises(Forbidden):
            d.notifications.retry(Principal("rep1", "sales", ids["rep1"]))

        box.refuse_rcpt = None
        one = failed[0]["id"]
        assert d.notifications.retry(ADMIN, [one]) == [one]
        assert d.notifications.send_pending()["sent"] == 1
        assert d.notifications.retry(ADMIN) == [failed[1]["id"]]
        assert d.notifications.send_pending()["sent"] == 1
        assert len(box.received) == 2 and d.notifications.mail_counts()["failed"] == 0
        assert len(audit_events(d, "mail_retry")) == 2
        with pytest.raises(DossierError):  # nothing failed any more
            d.notifications.retry(ADMIN, [one])
        d.close()


def test_a_data_refusal_and_a_closed_port_say_what_happened(tmp_path):
    """554 after DATA keeps the code and text; a port nobody listens on is "connection refused"."""
    with smtp_server() as box:
        d = make_home(tmp_path / "home", box.port)
        populate(d)
        d.notifications.run(BEFORE_DIGEST)
        box.refuse_data = "554 5.7.1 message rejected as spam"
        done = d.notifications.send_pending()
        assert done["retrying"] == 2 and "554" in done["errors"][0] and "spam" in done["errors"][0]
        d.close()
    with smtp_server() as closed:
        port = closed.port
    d = make_home(tmp_path / "home2", port)
    populate(d)
    d.notifications.run(BEFORE_DIGEST)
    done = d.notifications.send_pending()
    assert done["retrying"] == 1  # the server is out of reach: the round stops after the first mail
    assert "connection refused" in done["errors"][0]
    d.close()


def test_a_hanging_server_times_out_with_a_clear_error(tmp_path):
    """A server that takes the connection and never answers: DOSSIER_SMTP_TIMEOUT=1 ends the try with a
    timeout recorded (and the round stops there instead of waiting once per mail)."""
    with hanging_server() as port:
        d = make_home(tmp_path / "home", port, DOSSIER_SMTP_TIMEOUT="1")
        populate(d)
        d.notifications.run(BEFORE_DIGEST)
        started = time.monotonic()
        done = d.notifications.send_pending()
        assert done == {"sent": 0, "retrying": 1, "failed": 0, "dropped": 0, "errors": done["errors"]}
        assert "did not answer within 1 seconds" in done["errors"][0]
        assert time.monotonic() - started < 60  # one timeout, not one per mail
        rows = d.notifications.mails(ADMIN, "pending")
        assert sorted(r["attempts"] for r in rows) == [0, 1]
        d.close()


def test_a_claimed_mail_is_sent_by_one_worker_only_and_a_stale_claim_is_retaken(tmp_path, records_url):
    """A row claimed by w1 is not sent by w2; once the claim is older than the stale limit, w2 takes it."""
    with smtp_server() as box:
        d = make_home(tmp_path / "home", box.port, records_url)
        populate(d)
        d.notifications.run(BEFORE_DIGEST)
        outbox = Outbox(d.sessions, d.notifications.smtp)
        with d.sessions() as s:
            assert outbox._claim(s, "w1", utcnow()) is not None
            assert outbox._claim(s, "w1b", utcnow()) is not None  # the other mail
        assert d.notifications.send_pending(worker="w2")["sent"] == 0
        later = datetime.now(UTC) + timedelta(minutes=6)
        assert d.notifications.send_pending(worker="w2", now=later)["sent"] == 2
        assert len(box.received) == 2
        assert d.notifications.send_pending(worker="w1", now=later)["sent"] == 0
        d.close()


def test_disabled_users_lose_their_waiting_mail_and_no_host_means_in_app_only(tmp_path):
    """A mail queued before its user was disabled is dropped, not sent; with no SMTP host nothing is queued."""
    with smtp_server() as box:
        d = make_home(tmp_path / "home", box.port)
        ids = populate(d)
        d.notifications.run(BEFORE_DIGEST)
        d.accounts.set_active("rep2", False)
        done = d.notifications.send_pending()
        assert done["sent"] == 1 and done["dropped"] == 1
        assert [m["To"] for m in box.messages()] == ["rep1@example.com"]
        assert ids
        d.close()
    d = make_home(tmp_path / "plain", None)
    populate(d)
    assert d.notifications.run(AFTER_DIGEST) == {"notifications": 4, "mails": 0, "digests": 0}
    assert d.notifications.send_pending()["sent"] == 0
    d.close()


def test_the_in_app_list_counter_and_mark_read_are_per_user(tmp_path):
    """Each user sees and marks only their own notifications; ids of others' are ignored."""
    d = make_home(tmp_path / "home", None)
    ids = populate(d)
    d.notifications.run(BEFORE_DIGEST)
    rep1 = Principal("rep1", "sales", ids["rep1"])
    rep2 = Principal("rep2", "sales", ids["rep2"])
    assert d.notifications.unread_count(rep1) == 2 and d.notifications.unread_count(rep2) == 1
    listed = d.notifications.list(rep1)
    assert listed["unread"] == 2 and listed["total"] == 2
    assert {i["title"] for i in listed["items"]} == {"回访甲方", "逾期报价"}
    assert {i["kind"] for i in listed["items"]} == {"due", "overdue"}
    theirs = d.notifications.list(rep2)["items"][0]["id"]
    assert d.notifications.mark_read(rep1, [theirs]) == 0
    first = listed["items"][0]["id"]
    assert d.notifications.mark_read(rep1, [first]) == 1
    assert d.notifications.list(rep1, unread_only=True)["total"] == 1
    assert d.notifications.mark_read(rep1) == 1
    assert d.notifications.unread_count(rep1) == 0 and d.notifications.unread_count(rep2) == 1
    d.close()


def test_email_addresses_are_checked_and_changes_audited(dossier):
    """A bad address is refused with an example; a good one is kept, shown in the users list and audited."""
    with pytest.raises(DossierError) as refused:
        check_email("zhang.wei@")
    assert (
        "not a valid e-mail address" in refused.value.message
        and "zhang.wei@example.com" in refused.value.message
    )
    for bad in ("no-at-sign", "a@b", "a b@example.com", "a@example..com", "x@y.com, z@w.com"):
        with pytest.raises(DossierError):
            check_email(bad)
    dossier.accounts.add_user("zhangwei", "sales", "Yu3-gh8!kLmnop")
    assert dossier.notifications.set_email("zhangwei", " zhang.wei@example.com ") == "zhang.wei@example.com"
    row = next(u for u in dossier.accounts.users() if u["username"] == "zhangwei")
    assert row["email"] == "zhang.wei@example.com"
    assert dossier.notifications.set_email("zhangwei", "") is None
    events = audit_events(dossier, "user_set_email")
    assert [(e.detail["from"], e.detail["to"]) for e in events] == [
        (None, "zhang.wei@example.com"),
        ("zhang.wei@example.com", None),
    ]
    with dossier.sessions() as s:
        assert s.scalar(select(func.count()).select_from(User).where(User.email.is_not(None))) == 0


def test_backoff_doubles_up_to_an_hour():
    assert [backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4, 7, 8, 20)] == [1, 2, 4, 8, 60, 60, 60]


def test_the_before_hook_runs_first(tmp_path):
    """``before(now)`` runs at the start of every run (the reminders' care run is chained there)."""
    d = make_home(tmp_path / "home", None)
    seen: list[datetime] = []
    d.notifications.before = seen.append
    d.notifications.run(BEFORE_DIGEST)
    assert seen == [BEFORE_DIGEST]
    d.close()


def test_rows_another_process_added_meanwhile_are_skipped_not_doubled(tmp_path):
    """insert_all_absent: one key of the batch already there (a concurrent worker) → the others go in, once."""
    from dossier.app.notify._outbox import insert_all_absent

    d = make_home(tmp_path / "home", None)
    ids = populate(d)
    with d.sessions() as s:
        s.add(Notification(user_id=ids["rep1"], key="due:1:x", kind="due", title="t"))
        s.commit()
    with d.sessions() as s:
        rows = [
            Notification(user_id=ids["rep1"], key=k, kind="due", title="t") for k in ("due:1:x", "a", "b")
        ]
        assert insert_all_absent(s, rows) == 2
        s.commit()
    assert [k for k, _u, _kind in notifications_of(d)] == ["a", "b", "due:1:x"]
    d.close()


def test_the_smtp_login_is_used_and_a_refused_one_says_so(tmp_path):
    """DOSSIER_SMTP_USER/PASSWORD log in before sending; a wrong password is "login refused" with the code."""
    with smtp_server(logins={"dossier": "mail-secret"}) as box:
        d = make_home(tmp_path / "home", box.port, DOSSIER_SMTP_USER="dossier", DOSSIER_SMTP_PASSWORD="wrong")
        populate(d)
        d.notifications.run(BEFORE_DIGEST)
        done = d.notifications.send_pending()
        assert (
            done["retrying"] == 1 and "535" in done["errors"][0] and "refused the login" in done["errors"][0]
        )
        d.close()
        d = make_home(
            tmp_path / "home", box.port, DOSSIER_SMTP_USER="dossier", DOSSIER_SMTP_PASSWORD="mail-secret"
        )
        assert d.notifications.send_pending(now=datetime.now(UTC) + timedelta(minutes=2))["sent"] == 2
        assert len(box.received) == 2
        d.close()


def test_bad_smtp_settings_are_named(tmp_path):
    d = make_home(tmp_path / "home", 2525, DOSSIER_SMTP_SECURITY="tls13")
    with pytest.raises(DossierError) as bad:
        d.notifications.run(BEFORE_DIGEST)
    assert "DOSSIER_SMTP_SECURITY" in bad.value.message
    d.close()
