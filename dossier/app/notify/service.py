"""Notifications (通知): in-app messages, the daily e-mail digest and same-day mails of reminders.

:meth:`NotificationService.run` (the workers call it every few minutes; ``dossier notifications
run`` too) looks at the open reminders and, for each owner who is an active user and may read the
reminder (:mod:`dossier.app.notify._content`):

- adds an in-app notification when a reminder falls due (``remind_on`` has come; key
  ``due:<reminder id>:<remind_on>``) and once more when it is overdue (``overdue:<id>:<due_on>``);
- with an SMTP server set (``DOSSIER_SMTP_HOST``) and an address on the account, queues a mail the
  day a reminder falls due (``due:<id>:<remind_on>``) and, at or after ``DOSSIER_DIGEST_HOUR``
  (server local time), one digest a day (``digest:<user id>:<date>``) listing the open reminders
  due within 7 days and the overdue ones (none when there is nothing to say).

Keys are unique in the records, so reruns, restarts and two workers at once add nothing twice.
Reminders whose day passed while no worker ran are caught up for :data:`CATCH_UP_DAYS`.

Hooks: ``before(now)`` runs first in every :meth:`run` (the lead chains the reminders' daily care run
there, so the notifications see what it made); ``care(session, principal, today)`` returns extra
"customers to contact" (客户关怀) lines for a digest.  Both default to None and may be set after
construction.  Sending is :meth:`send_pending` (:mod:`dossier.app.notify._outbox`).
"""

from __future__ import annotations

import builtins
import logging
import os
import re
import socket
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from dossier.app import _reminder_rules as reminder_rules
from dossier.app import folder
from dossier.app.notify._content import (
    DIGEST_DAYS,
    CareHook,
    Reader,
    ReminderLine,
    digest_text,
    due_text,
    lines_for,
    notification_fields,
    reader_of,
)
from dossier.app.notify._outbox import Outbox, insert_all_absent
from dossier.app.notify._smtp import SmtpConfig
from dossier.app.resources import HomeResources
from foundation.errors import ConfigError, DossierError, Forbidden, NotFound
from foundation.messages import msg
from index import Principal
from records import Document, MailDelivery, Notification, Reminder, User, record_event, utcnow

__all__ = ["CATCH_UP_DAYS", "PAGE_SIZE", "NotificationService", "check_email"]

log = logging.getLogger("dossier.notify")

#: Days back a reminder that fell due (or went overdue) while nothing ran still gets its notification.
CATCH_UP_DAYS = 14
#: Notifications per page of the list.
PAGE_SIZE = 20
#: Keys looked up per query.
_CHUNK = 500
_EMAIL = re.compile(r"^[^@\s,;<>\"']+@[^@\s,;<>\"']+\.[^@\s,;<>\"'.][^@\s,;<>\"']*$")


def check_email(value: str | None) -> str | None:
    """A cleaned e-mail address (``""``/None: none); a clear error for one that cannot be an address."""
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > 254 or not _EMAIL.match(text) or ".." in text:
        raise InvalidEmail(msg("notify.email.invalid", value=text[:80]))
    return text


class InvalidEmail(DossierError):
    """An e-mail address that cannot be one."""

    status = 400


def _local(now: datetime | None) -> datetime:
    """``now`` in the server's local time (a naive time is taken as local already)."""
    if now is None:
        return datetime.now().astimezone()
    return now.astimezone() if now.tzinfo is not None else now


def _utc(now: datetime | None) -> datetime:
    """``now`` as the records keep times: naive UTC."""
    return utcnow() if now is None else now.astimezone(UTC).replace(tzinfo=None)


class NotificationService:
    """In-app notifications, the e-mail outbox and who gets mail (module docstring)."""

    def __init__(
        self,
        home: HomeResources,
        *,
        before: Callable[[datetime], object] | None = None,
        care: CareHook | None = None,
    ) -> None:
        self._home = home
        self._sessions = home.sessions
        self.before = before
        self.care = care
        self._config: SmtpConfig | None = None

    @property
    def smtp(self) -> SmtpConfig:
        """The SMTP settings (read and checked on first use)."""
        if self._config is None:
            self._config = SmtpConfig.from_settings(self._home.settings)
        return self._config

    @property
    def outbox(self) -> Outbox:
        """The e-mail outbox."""
        return Outbox(self._sessions, self.smtp)

    def digest_hour(self) -> int:
        """DOSSIER_DIGEST_HOUR, checked (0-23)."""
        raw = self._home.settings.get("DOSSIER_DIGEST_HOUR").strip()
        if not raw.isdigit() or not 0 <= int(raw) <= 23:
            raise ConfigError(msg("notify.bad_digest_hour", value=raw))
        return int(raw)

    # -- the run -----------------------------------------------------------------------------

    def run(self, now: datetime | None = None) -> dict[str, int]:
        """Add what has come due by ``now`` (default: this moment); safe to repeat.

        Returns ``{"notifications": added, "mails": same-day mails queued, "digests": digests queued}``.
        """
        if self.before is not None:
            try:
                self.before(now or datetime.now().astimezone())
            except DossierError as exc:  # the hook's trouble must not keep the notifications back
                log.warning("通知前的步骤失败 / the step before notifications failed: %s", exc.message)
        local = _local(now)
        today = local.date()
        # The mails queued now may be tried at once: at the run's moment or the wall clock's, whichever is earlier
        # (a run for a past moment must not queue mails its own send would find not yet due, nor one for a later
        # moment mails the next real send skips).
        at = min(_utc(now), utcnow())
        mail = self.smtp.enabled
        digest = mail and local.hour >= self.digest_hour()
        done = {"notifications": 0, "mails": 0, "digests": 0}
        with self._sessions() as session:
            readers: dict[int, Reader] = {}
            notes: builtins.list[Notification] = []
            mails: builtins.list[MailDelivery] = []
            due = self._due_reminders(session, today)
            # What earlier runs made already (one query per few hundred keys, not one per reminder).
            made = _existing(
                session, Notification.key, [_note_key(r, today) for rs in due.values() for r in rs]
            )
            mailed = (
                _existing(session, MailDelivery.key, [_mail_key(r) for rs in due.values() for r in rs])
                if mail
                else set()
            )
            for user, reminders in due.items():
                wants_mail = mail and bool(user.email)
                todo = [
                    r
                    for r in reminders
                    if _note_key(r, today) not in made
                    or (
                        wants_mail
                        and r.remind_on == today
                        and r.due_on >= today
                        and _mail_key(r) not in mailed
                    )
                ]
                if not todo:
                    continue
                reader = readers.setdefault(user.id, reader_of(session, user))
                for line in lines_for(session, reader, todo, today):
                    key = _note_key(line, today)
                    if key not in made:
                        notes.append(_notification(user, line, key))
                    if (
                        wants_mail
                        and line.remind_on == today
                        and not line.overdue
                        and _mail_key(line) not in mailed
                    ):
                        subject, body = due_text(line)
                        mails.append(_mail(_mail_key(line), user, subject, body, at))
            done["notifications"] = insert_all_absent(session, notes)
            done["mails"] = insert_all_absent(session, mails)
            session.commit()
            if digest:
                done["digests"] = self._digests(session, today, readers, at)
            session.commit()
        return done

    def _due_reminders(self, session: Session, today: date) -> dict[User, builtins.list[Reminder]]:
        """Open reminders of active owners that fell due or went overdue in the last CATCH_UP_DAYS."""
        since = today - timedelta(days=CATCH_UP_DAYS)
        rows = session.execute(
            select(Reminder, User)
            .join(User, Reminder.owner_id == User.id)
            .where(
                Reminder.status == "open",
                User.active.is_(True),
                Reminder.remind_on <= today,
                or_(Reminder.remind_on >= since, Reminder.due_on >= since),
            )
            .order_by(Reminder.due_on, Reminder.id)
        ).all()
        grouped: dict[User, builtins.list[Reminder]] = defaultdict(list)
        for reminder, user in rows:
            grouped[user].append(reminder)
        return grouped

    def _digests(self, session: Session, today: date, readers: dict[int, Reader], at: datetime) -> int:
        users = session.scalars(
            select(User).where(User.active.is_(True), User.email.is_not(None), User.email != "")
        ).all()
        keys = {u.id: f"digest:{u.id}:{today.isoformat()}" for u in users}
        sent = set(session.scalars(select(MailDelivery.key).where(MailDelivery.key.in_(list(keys.values())))))
        queued = 0
        for user in users:
            if keys[user.id] in sent:
                continue
            reader = readers.get(user.id) or reader_of(session, user)
            reminders = session.scalars(
                select(Reminder)
                .where(
                    Reminder.owner_id == user.id,
                    Reminder.status == "open",
                    Reminder.due_on <= today + timedelta(days=DIGEST_DAYS),
                )
                .order_by(Reminder.due_on, Reminder.id)
                .limit(500)
            ).all()
            lines = lines_for(session, reader, reminders, today)
            care = self.care(session, reader.principal, today) if self.care is not None else []
            if not lines and not care:
                continue  # nothing to say: no digest today (a later run may still find something)
            subject, body = digest_text(today, lines, care)
            queued += insert_all_absent(session, [_mail(keys[user.id], user, subject, body, at)])
        return queued

    # -- sending -----------------------------------------------------------------------------

    def send_pending(
        self, *, now: datetime | None = None, worker: str | None = None, budget_s: float = 60.0
    ) -> dict[str, Any]:
        """Send the mails whose time has come (see :class:`~dossier.app.notify._outbox.Outbox`)."""
        me = worker or f"{socket.gethostname()}.{os.getpid()}"
        return self.outbox.send_pending(me, now=_utc(now) if now is not None else None, budget_s=budget_s)

    def mails(
        self, principal: Principal, status: str | None = None, *, limit: int = 200
    ) -> builtins.list[dict[str, Any]]:
        """The mails waiting or failed (or of ``status``) for admins."""
        _admin(principal)
        if status is not None and status not in ("pending", "failed", "sent"):
            raise InvalidEmail(msg("notify.mail.bad_status", value=status))
        return Outbox(self._sessions, None).mails(status, limit=limit)

    def mail_counts(self) -> dict[str, int]:
        """How many mails are pending, failed and sent (``dossier status``, the health page)."""
        return Outbox(self._sessions, None).counts()

    def retry(self, principal: Principal, ids: Sequence[int] | None = None) -> builtins.list[int]:
        """Admins: try failed mails again now (``ids``; None: every failed one); audited. Returns their ids."""
        _admin(principal)
        with self._sessions() as session:
            found = Outbox(self._sessions, None).requeue(session, ids)
            if ids is not None and not found:
                raise NotFound(msg("notify.mail.not_failed", ids=", ".join(str(i) for i in ids)))
            for mail_id in found:
                record_event(session, principal.username, "mail_retry", target_type="mail", target_id=mail_id)
            session.commit()
        return found

    # -- in-app ------------------------------------------------------------------------------

    def unread_count(self, principal: Principal) -> int:
        """The user's unread notifications (one indexed count) that they may still see."""
        if principal.user_id is None:
            return 0
        with self._sessions() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(Notification)
                    .where(
                        Notification.user_id == principal.user_id,
                        Notification.read_at.is_(None),
                        _still_visible(session, principal),
                    )
                )
                or 0
            )

    def list(self, principal: Principal, *, unread_only: bool = False, page: int = 1) -> dict[str, Any]:
        """One page of the user's notifications, newest first: ``{"unread", "total", "page", "pages", "items"}``.

        Rights are checked as the list is read: a notification whose reminder the user may no longer
        see (its document went to the trash or up a level) is left out, and comes back with it.
        """
        page = max(1, page)
        if principal.user_id is None:
            return {"unread": 0, "total": 0, "page": 1, "pages": 1, "items": []}
        where = [Notification.user_id == principal.user_id]
        if unread_only:
            where.append(Notification.read_at.is_(None))
        with self._sessions() as session:
            where.append(_still_visible(session, principal))
            total = int(session.scalar(select(func.count()).select_from(Notification).where(*where)) or 0)
            rows = session.scalars(
                select(Notification)
                .where(*where)
                .order_by(Notification.created_at.desc(), Notification.id.desc())
                .limit(PAGE_SIZE)
                .offset((page - 1) * PAGE_SIZE)
            ).all()
            items = [
                {
                    "id": n.id,
                    "kind": n.kind,
                    "title": n.title,
                    "body": n.body,
                    "link": n.link,
                    "reminder_id": n.reminder_id,
                    "created_at": n.created_at.isoformat(timespec="seconds"),
                    "read": n.read_at is not None,
                }
                for n in rows
            ]
        return {
            "unread": self.unread_count(principal),
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "items": items,
        }

    def mark_read(self, principal: Principal, ids: Sequence[int] | None = None) -> int:
        """Mark the user's notifications ``ids`` (None: all) read; others' ids are ignored. Returns how many."""
        if principal.user_id is None:
            return 0
        query = update(Notification).where(
            Notification.user_id == principal.user_id, Notification.read_at.is_(None)
        )
        if ids is not None:
            query = query.where(Notification.id.in_([int(i) for i in ids]))
        with self._sessions() as session:
            result = session.execute(
                query.values(read_at=utcnow()).execution_options(synchronize_session=False)
            )
            session.commit()
        return int(result.rowcount)  # type: ignore[attr-defined]

    # -- addresses ---------------------------------------------------------------------------

    def set_email(self, username: str, email: str | None, *, actor: str = "system") -> str | None:
        """Give a user an e-mail address (empty: none, in-app only); validated and audited."""
        address = check_email(email)
        with self._sessions() as session:
            user = session.scalars(select(User).where(User.username == username)).first()
            if user is None:
                raise NotFound(msg("app.user.not_found", name=username))
            before, user.email = user.email, address
            record_event(
                session,
                actor,
                "user_set_email",
                target_type="user",
                target_id=user.id,
                detail={"username": user.username, "from": before, "to": address},
            )
            session.commit()
        return address


def _notification(user: User, line: ReminderLine, key: str) -> Notification:
    kind = "overdue" if line.overdue else "due"
    return Notification(user_id=user.id, key=key, kind=kind, reminder_id=line.id, **notification_fields(line))


def _mail(key: str, user: User, subject: str, body: str, at: datetime) -> MailDelivery:
    """A mail to queue, first tried at ``at`` (naive UTC)."""
    return MailDelivery(
        key=key, user_id=user.id, recipient=user.email or "", subject=subject, body=body, next_try_at=at
    )


def _note_key(reminder: Reminder | ReminderLine, today: date) -> str:
    """The in-app notification key of a reminder on ``today``: overdue once its due date passed, else due."""
    if reminder.due_on < today:
        return f"overdue:{reminder.id}:{reminder.due_on.isoformat()}"
    return f"due:{reminder.id}:{reminder.remind_on.isoformat()}"


def _mail_key(reminder: Reminder | ReminderLine) -> str:
    return f"due:{reminder.id}:{reminder.remind_on.isoformat()}"


def _existing(session: Session, column: Any, keys: builtins.list[str]) -> set[str]:
    """Which of ``keys`` the ``column`` (a unique key) already holds."""
    found: set[str] = set()
    for start in range(0, len(keys), _CHUNK):
        found.update(session.scalars(select(column).where(column.in_(keys[start : start + _CHUNK]))))
    return found


def _admin(principal: Principal) -> None:
    if principal.role != "admin":
        raise Forbidden(msg("notify.mail.admins_only"))


def _still_visible(session: Session, principal: Principal) -> ColumnElement[bool]:
    """Notifications without a reminder, or whose reminder ``principal`` may see now (the reminders' rule)."""
    owned = folder.owned_customer_ids(session, principal) | principal.owned_customer_ids
    seen = (
        select(Reminder.id)
        .outerjoin(Document, Document.id == Reminder.document_id)
        .where(reminder_rules.visible_clause(principal, owned))
    )
    return or_(Notification.reminder_id.is_(None), Notification.reminder_id.in_(seen))
