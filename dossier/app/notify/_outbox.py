"""The e-mail outbox (``mail_deliveries``): queue once, claim, send, retry with backoff, fail visibly.

Every mail has a unique ``key`` (``digest:<user>:<date>``, ``due:<reminder>:<date>``), so queueing
it again — a rerun, a restart, two workers at once — adds nothing (:func:`insert_absent`).  A
sender *claims* a row with one conditional UPDATE (pending, its ``next_try_at`` come, unclaimed
or claimed longer than :data:`STALE_CLAIM` ago by a worker that died), so two workers never send
the same row; it marks the row ``sent`` right after the server took it.  A failure counts an
attempt, keeps the reason in ``last_error`` and waits 1, 2, 4 … minutes (at most an hour) before
the next try; after ``DOSSIER_SMTP_MAX_TRIES`` the row is ``failed`` and waits for an admin
(``dossier notifications retry``, the page ``/admin/mail``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from dossier.app.notify._smtp import MailError, SmtpConfig, send_mail
from records import MailDelivery, User, utcnow

__all__ = ["STALE_CLAIM", "Outbox", "backoff", "insert_absent", "insert_all_absent"]

log = logging.getLogger("dossier.notify")

#: A claim older than this belongs to a sender that died; another may take the row.
STALE_CLAIM = timedelta(minutes=5)
#: The longest wait between two tries of one mail.
MAX_BACKOFF = timedelta(hours=1)


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: 1, 2, 4 … minutes, at most an hour."""
    return min(timedelta(minutes=2 ** max(0, min(attempts - 1, 10))), MAX_BACKOFF)


def insert_absent(session: Session, row: Any) -> bool:
    """Add ``row`` unless its unique key is already there (also when another process adds it meanwhile)."""
    try:
        with session.begin_nested():
            session.add(row)
        return True
    except IntegrityError:
        return False


def insert_all_absent(session: Session, rows: Sequence[Any]) -> int:
    """Add ``rows`` (their keys checked absent just before) in one go; when another process added one of them
    meanwhile, one by one, skipping those already there.  Returns how many were added."""
    if not rows:
        return 0
    try:
        with session.begin_nested():
            session.add_all(rows)
        return len(rows)
    except IntegrityError:
        return sum(insert_absent(session, row) for row in rows)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def mail_row(row: MailDelivery) -> dict[str, Any]:
    """A mail as the CLI, the admin page and the JSON show it (no body)."""
    return {
        "id": row.id,
        "key": row.key,
        "user_id": row.user_id,
        "recipient": row.recipient,
        "subject": row.subject,
        "status": row.status,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "next_try_at": _iso(row.next_try_at) if row.status == "pending" else None,
        "created_at": _iso(row.created_at),
        "sent_at": _iso(row.sent_at),
    }


class Outbox:
    """Sends the waiting mails of one data home (module docstring)."""

    def __init__(self, sessions: sessionmaker[Session], config: SmtpConfig | None) -> None:
        self._sessions = sessions
        self.config = config

    def _claim(self, session: Session, me: str, now: datetime) -> MailDelivery | None:
        """Take the next due row for ``me`` (None when none is due)."""
        stale = now - STALE_CLAIM
        free = or_(MailDelivery.claimed_by.is_(None), MailDelivery.claimed_at < stale)
        ids = session.scalars(
            select(MailDelivery.id)
            .where(MailDelivery.status == "pending", MailDelivery.next_try_at <= now, free)
            .order_by(MailDelivery.next_try_at, MailDelivery.id)
            .limit(10)
        ).all()
        for mail_id in ids:
            taken = session.execute(
                update(MailDelivery)
                .where(MailDelivery.id == mail_id, MailDelivery.status == "pending", free)
                .values(claimed_by=me, claimed_at=now)
                .execution_options(synchronize_session=False)
            )
            session.commit()
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                return session.get(MailDelivery, mail_id, populate_existing=True)
        return None

    def send_pending(
        self, me: str, *, now: datetime | None = None, limit: int = 100, budget_s: float = 60.0
    ) -> dict[str, Any]:
        """Send the due mails (at most ``limit``, for about ``budget_s`` seconds); stop at a server out of reach.

        Returns ``{"sent": n, "retrying": n, "failed": n, "dropped": n, "errors": [messages]}``.
        A mail whose user was disabled or lost their address meanwhile is dropped (deleted, unsent).
        """
        done: dict[str, Any] = {"sent": 0, "retrying": 0, "failed": 0, "dropped": 0, "errors": []}
        config = self.config
        if config is None or not config.enabled:
            return done
        deadline = time.monotonic() + budget_s
        with self._sessions() as session:
            while done["sent"] + done["retrying"] + done["failed"] < limit and time.monotonic() < deadline:
                at = now or utcnow()
                row = self._claim(session, me, at)
                if row is None:
                    break
                user = session.get(User, row.user_id) if row.user_id is not None else None
                if user is not None and (not user.active or not user.email):
                    session.delete(row)
                    session.commit()
                    done["dropped"] += 1
                    continue
                try:
                    send_mail(config, row.recipient, row.subject, row.body)
                except MailError as exc:
                    state = self._failed(session, row, me, exc, now or utcnow(), config.max_tries)
                    done[state] += 1
                    done["errors"].append(exc.message)
                    log.warning(
                        "邮件未发出 / mail not sent (#%s to %s): %s", row.id, row.recipient, exc.message
                    )
                    if exc.connection:  # the others would wait for the same dead server: next round
                        break
                else:
                    self._sent(session, row, me, now or utcnow())
                    done["sent"] += 1
        return done

    @staticmethod
    def _sent(session: Session, row: MailDelivery, me: str, at: datetime) -> None:
        session.execute(
            update(MailDelivery)
            .where(MailDelivery.id == row.id, MailDelivery.claimed_by == me)
            .values(
                status="sent",
                sent_at=at,
                attempts=MailDelivery.attempts + 1,
                last_error=None,
                claimed_by=None,
                claimed_at=None,
            )
            .execution_options(synchronize_session=False)
        )
        session.commit()

    @staticmethod
    def _failed(
        session: Session, row: MailDelivery, me: str, exc: MailError, at: datetime, max_tries: int
    ) -> str:
        attempts = row.attempts + 1
        final = attempts >= max_tries
        session.execute(
            update(MailDelivery)
            .where(MailDelivery.id == row.id, MailDelivery.claimed_by == me)
            .values(
                status="failed" if final else "pending",
                attempts=attempts,
                last_error=exc.msg.dumps() if exc.msg is not None else exc.message[:1000],
                next_try_at=at + backoff(attempts),
                claimed_by=None,
                claimed_at=None,
            )
            .execution_options(synchronize_session=False)
        )
        session.commit()
        return "failed" if final else "retrying"

    # -- what admins see and do --------------------------------------------------------------

    def mails(self, status: str | None = None, *, limit: int = 200) -> list[dict[str, Any]]:
        """Mails newest first (``status``: pending, failed or sent; None: pending and failed)."""
        wanted = (status,) if status else ("pending", "failed")
        with self._sessions() as session:
            rows = session.scalars(
                select(MailDelivery)
                .where(MailDelivery.status.in_(wanted))
                .order_by(MailDelivery.id.desc())
                .limit(limit)
            )
            return [mail_row(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """How many mails are pending, failed and sent."""
        with self._sessions() as session:
            found = dict(
                session.execute(select(MailDelivery.status, func.count()).group_by(MailDelivery.status)).all()
            )
        return {status: int(found.get(status, 0)) for status in ("pending", "failed", "sent")}

    def requeue(self, session: Session, ids: Sequence[int] | None) -> list[int]:
        """Make failed mails (``ids``; None: every failed one) pending again, due now; returns their ids."""
        query = select(MailDelivery.id).where(MailDelivery.status == "failed")
        if ids is not None:
            query = query.where(MailDelivery.id.in_(list(ids)))
        found = list(session.scalars(query.order_by(MailDelivery.id)))
        if found:
            session.execute(
                update(MailDelivery)
                .where(MailDelivery.id.in_(found), MailDelivery.status == "failed")
                .values(status="pending", next_try_at=utcnow(), claimed_by=None, claimed_at=None)
                .execution_options(synchronize_session=False)
            )
        return found
