"""Reminders (提醒, ``Dossier.reminders``): follow-up tasks with an owner, a due date, a customer, a document.

A person adds one (:meth:`ReminderService.add`) for themselves — admins and managers for
anyone active — and its owner, its creator, admins and managers snooze it (``remind_on``
moves, ``due_on`` stays; never before today), mark it done, reopen, cancel or delete it;
admins and managers hand it to someone else (:meth:`ReminderService.reassign`).  The
documents' dates (``source="document"``) and the care rule (``source="care"``,
:mod:`dossier.app._care`) make reminders of their own; they are listed like the others.

Who sees which is :mod:`dossier.app._reminder_rules` (the documents' matrix, plus one's own);
a reminder one may not see answers 404 like one that does not exist.  Every change is one
transaction with its audit event (``reminder_add``, ``reminder_snooze``, ``reminder_done``,
``reminder_reopen``, ``reminder_reassign``, ``reminder_cancel``, ``reminder_delete``).
"""

from __future__ import annotations

import builtins
import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import index
from dossier.app import _care as care
from dossier.app._reminder_rules import (
    MAX_NOTE,
    MAX_TITLE,
    ReminderError,
    level_visible,
    may_act,
    may_assign,
    may_create,
    parse_due,
    reminder_json,
    snooze_target,
    visible,
    visible_clause,
)
from dossier.app.dashboard import Dashboard
from dossier.app.folder import may_read, owned_customer_ids, readable_document
from dossier.app.resources import HomeResources
from foundation.errors import DossierError, Forbidden, NotFound
from foundation.messages import msg
from index import Principal
from records import Activity, Customer, Document, Reminder, User, record_event, utcnow

__all__ = ["STATUS_FILTERS", "ReminderService", "find_customer"]

#: What ``list(status=…)`` takes.
STATUS_FILTERS = ("open", "done", "cancelled", "all")
#: A list of reminders (or of stale customers) as the entry points return it.
Items = list[dict[str, Any]]
#: User names.
Names = list[str]
#: The most reminders one list returns.
LIST_LIMIT = 500
#: ``owner=`` values that ask for the reminders nobody owns.
UNASSIGNED = ("unassigned", "-", "none")


def _principal_of(session: Session, user: User) -> Principal:
    base = Principal(username=user.username, role=user.role, user_id=user.id)
    return Principal(
        username=user.username,
        role=user.role,
        user_id=user.id,
        owned_customer_ids=owned_customer_ids(session, base),
    )


def find_customer(session: Session, value: int | str) -> Customer:
    """A customer by id (``12``, ``#12``) or by its name or an alias; NotFound saying so otherwise."""
    text = str(value).strip().lstrip("#")
    found: Customer | None = None
    if text.isdigit():
        found = session.get(Customer, int(text))
    else:
        found = session.scalars(select(Customer).where(Customer.name == text)).first()
        if found is None and text:
            for row in session.scalars(select(Customer).where(Customer.status == "confirmed")):
                if text in (row.aliases or []):
                    found = row
                    break
    if found is None or found.status in ("rejected", "self"):
        raise NotFound(msg("app.reminder.customer_not_found", customer=str(value)[:80]))
    return found


#: How long the customer-care list of one principal is kept while its data is unchanged (seconds).
STALE_CACHE_SECONDS = 30.0


def _activities_mark(session: Session) -> tuple[Any, ...]:
    """What changes whenever an activity is logged, edited or deleted (count, last id, last change)."""
    return tuple(
        session.execute(
            select(func.count(Activity.id), func.max(Activity.id), func.max(Activity.updated_at))
        ).one()
    )


class ReminderService:
    """Add, read, list, snooze, complete, reopen, reassign, cancel and delete reminders; customer care."""

    def __init__(self, home: HomeResources, *, today: Callable[[], date] = date.today) -> None:
        self._home = home
        #: Today's date (tests set another clock).
        self.today = today
        self._stale_lock = threading.Lock()
        self._stale: dict[tuple[Any, ...], tuple[float, tuple[Any, ...], Items]] = {}

    # -- helpers --------------------------------------------------------------------------------

    def _owner(self, session: Session, username: str) -> User:
        user = session.scalars(select(User).where(User.username == username.strip())).first()
        if user is None:
            raise NotFound(msg("app.reminder.owner_not_found", name=username[:64]))
        if not user.active:
            raise ReminderError(msg("app.reminder.owner_disabled", name=user.username))
        return user

    def _load(self, session: Session, reminder_id: int, principal: Principal) -> Reminder:
        reminder = session.get(Reminder, reminder_id)
        owned = owned_customer_ids(session, principal) | principal.owned_customer_ids
        doc = session.get(Document, reminder.document_id) if reminder and reminder.document_id else None
        if reminder is None or not visible(principal, reminder, doc, owned):
            raise NotFound(msg("app.reminder.not_found", id=reminder_id))
        return reminder

    def _json(self, session: Session, reminder: Reminder) -> dict[str, Any]:
        owner = session.get(User, reminder.owner_id) if reminder.owner_id else None
        customer = session.get(Customer, reminder.customer_id) if reminder.customer_id else None
        doc = session.get(Document, reminder.document_id) if reminder.document_id else None
        return reminder_json(
            reminder,
            today=self.today(),
            owner=owner.username if owner else None,
            customer=customer,
            doc=doc,
        )

    @staticmethod
    def _event(session: Session, principal: Principal, action: str, reminder: Reminder, **extra: Any) -> None:
        detail = {"title": reminder.title, "due_on": reminder.due_on.isoformat(), **extra}
        record_event(
            session, principal.username, action, target_type="reminder", target_id=reminder.id, detail=detail
        )

    # -- adding ---------------------------------------------------------------------------------

    def add(
        self,
        principal: Principal,
        title: str,
        due: date | str | None,
        *,
        customer: int | str | None = None,
        document: int | str | None = None,
        owner: str | None = None,
        note: str | None = None,
        confidentiality: str | None = None,
    ) -> dict[str, Any]:
        """Add a follow-up reminder (``remind_on`` = ``due_on``); owner defaults to the caller."""
        if not may_create(principal):
            raise Forbidden(msg("app.reminder.create_forbidden"))
        title = " ".join((title or "").split())
        if not title:
            raise ReminderError(msg("app.reminder.title_empty"))
        if len(title) > MAX_TITLE:
            raise ReminderError(msg("app.reminder.title_long", n=len(title), most=MAX_TITLE))
        note = (note or "").strip() or None
        if note is not None and len(note) > MAX_NOTE:
            raise ReminderError(msg("app.reminder.note_long", n=len(note), most=MAX_NOTE))
        due_on = parse_due(due, today=self.today())
        if confidentiality is not None and confidentiality not in index.ACCESS_LEVELS:
            raise ReminderError(
                msg(
                    "app.reminder.bad_level",
                    value=confidentiality[:20],
                    levels=", ".join(index.ACCESS_LEVELS),
                )
            )
        with self._home.sessions() as session:
            found = find_customer(session, customer) if customer not in (None, "") else None
            owner_user: User | None = None
            if owner not in (None, "") and owner != principal.username:
                if not may_assign(principal):
                    raise Forbidden(msg("app.reminder.assign_forbidden"))
                owner_user = self._owner(session, str(owner))
            elif principal.user_id is not None or owner:
                owner_user = self._owner(session, principal.username)
            doc: Document | None = None
            if document not in (None, ""):
                text = str(document).strip().lstrip("#")
                if not text.isdigit():
                    raise NotFound(msg("app.document.not_found", id=text[:20]))
                doc = readable_document(session, int(text), principal)
                if owner_user is not None:
                    reader = _principal_of(session, owner_user)
                    if not may_read(reader, doc, reader.owned_customer_ids):
                        raise ReminderError(
                            msg("app.reminder.owner_cannot_read", name=owner_user.username, id=doc.id)
                        )
                if found is None and doc.customer_id is not None:
                    found = session.get(Customer, doc.customer_id)
            level = (
                confidentiality or (doc.access_level or doc.confidentiality if doc else None) or "internal"
            )
            if owner_user is not None:
                reader = _principal_of(session, owner_user)
                if not level_visible(reader, level, found.id if found else None, reader.owned_customer_ids):
                    raise ReminderError(
                        msg("app.reminder.owner_cannot_see", name=owner_user.username, level=level)
                    )
            reminder = Reminder(
                title=title,
                note=note,
                kind="follow_up",
                source="manual",
                customer_id=found.id if found else None,
                document_id=doc.id if doc else None,
                owner_id=owner_user.id if owner_user else None,
                due_on=due_on,
                remind_on=due_on,
                status="open",
                confidentiality=level,
                created_by=principal.username,
            )
            session.add(reminder)
            session.flush()
            self._event(
                session,
                principal,
                "reminder_add",
                reminder,
                owner=owner_user.username if owner_user else None,
                customer=found.name if found else None,
                document_id=reminder.document_id,
            )
            session.commit()
            return self._json(session, reminder)

    # -- reading --------------------------------------------------------------------------------

    def get(self, reminder_id: int, principal: Principal) -> dict[str, Any]:
        """One reminder; NotFound when it does not exist or ``principal`` may not see it."""
        with self._home.sessions() as session:
            return self._json(session, self._load(session, reminder_id, principal))

    def list(
        self,
        principal: Principal,
        *,
        due_within: int | None = None,
        owner: str | None = None,
        team: bool = False,
        status: str = "open",
        customer: int | str | None = None,
        include_overdue: bool = True,
        limit: int = LIST_LIMIT,
    ) -> Items:
        """The reminders ``principal`` sees, soonest first.

        Without ``team`` or ``owner``: the caller's own (an operator without an account: all).
        ``team``: every reminder the caller sees (a manager's team view).  ``owner``: that user's
        (``unassigned``: nobody's).  ``due_within``: those to be reminded of within that many
        days (overdue ones too unless ``include_overdue`` is False).
        """
        if status not in STATUS_FILTERS:
            raise ReminderError(
                msg("app.reminder.bad_status", value=str(status)[:20], allowed=", ".join(STATUS_FILTERS))
            )
        if due_within is not None and not 0 <= due_within <= 3650:
            raise ReminderError(msg("app.reminder.bad_days", value=due_within))
        today = self.today()
        with self._home.sessions() as session:
            owned = owned_customer_ids(session, principal) | principal.owned_customer_ids
            stmt = (
                select(Reminder, Document, Customer, User.username)
                .outerjoin(Document, Document.id == Reminder.document_id)
                .outerjoin(Customer, Customer.id == Reminder.customer_id)
                .outerjoin(User, User.id == Reminder.owner_id)
                .where(visible_clause(principal, owned))
            )
            if owner not in (None, ""):
                if str(owner).strip().lower() in UNASSIGNED:
                    stmt = stmt.where(Reminder.owner_id.is_(None))
                else:
                    who = session.scalars(select(User).where(User.username == str(owner).strip())).first()
                    if who is None:
                        raise NotFound(msg("app.reminder.owner_not_found", name=str(owner)[:64]))
                    stmt = stmt.where(Reminder.owner_id == who.id)
            elif not team and principal.user_id is not None:
                stmt = stmt.where(Reminder.owner_id == principal.user_id)
            if status != "all":
                stmt = stmt.where(Reminder.status == status)
            if isinstance(customer, int):  # a customer page's own id (whatever its registry state)
                stmt = stmt.where(Reminder.customer_id == customer)
            elif customer not in (None, ""):
                stmt = stmt.where(Reminder.customer_id == find_customer(session, customer).id)
            if due_within is not None:
                stmt = stmt.where(Reminder.remind_on <= date.fromordinal(today.toordinal() + due_within))
            if not include_overdue:
                stmt = stmt.where(Reminder.remind_on >= today, Reminder.due_on >= today)
            stmt = stmt.order_by(Reminder.remind_on, Reminder.due_on, Reminder.id).limit(max(1, limit))
            return [
                reminder_json(r, today=today, owner=username, customer=c, doc=doc)
                for r, doc, c, username in session.execute(stmt)
            ]

    # -- changing -------------------------------------------------------------------------------

    def _change(
        self,
        reminder_id: int,
        principal: Principal,
        change: Callable[[Session, Reminder], dict[str, Any] | None],
    ) -> dict[str, Any]:
        with self._home.sessions() as session:
            reminder = self._load(session, reminder_id, principal)
            if not may_act(principal, reminder):
                raise Forbidden(msg("app.reminder.act_forbidden"))
            change(session, reminder)
            session.commit()
            return self._json(session, reminder)

    def snooze(
        self,
        reminder_id: int,
        principal: Principal,
        *,
        days: int | None = None,
        until: date | str | None = None,
    ) -> dict[str, Any]:
        """Remind again ``days`` from today or on ``until``: ``remind_on`` moves, ``due_on`` stays."""
        today = self.today()
        target = parse_due(until, today=today) if until not in (None, "") else None

        def change(session: Session, reminder: Reminder) -> None:
            if reminder.status != "open":
                raise ReminderError(msg("app.reminder.not_open", id=reminder.id))
            before = reminder.remind_on
            reminder.remind_on = snooze_target(today=today, days=days, until=target)
            self._event(
                session,
                principal,
                "reminder_snooze",
                reminder,
                before=before.isoformat(),
                after=reminder.remind_on.isoformat(),
            )

        return self._change(reminder_id, principal, change)

    def done(self, reminder_id: int, principal: Principal) -> dict[str, Any]:
        """Mark it done (``done_at``, ``done_by``)."""

        def change(session: Session, reminder: Reminder) -> None:
            if reminder.status != "open":
                raise ReminderError(msg("app.reminder.not_open", id=reminder.id))
            reminder.status, reminder.done_at, reminder.done_by = "done", utcnow(), principal.username
            self._event(session, principal, "reminder_done", reminder)

        return self._change(reminder_id, principal, change)

    def reopen(self, reminder_id: int, principal: Principal) -> dict[str, Any]:
        """Open a done or cancelled reminder again."""

        def change(session: Session, reminder: Reminder) -> None:
            if reminder.status == "open":
                raise ReminderError(msg("app.reminder.already_open", id=reminder.id))
            before = reminder.status
            reminder.status, reminder.done_at, reminder.done_by = "open", None, None
            self._event(session, principal, "reminder_reopen", reminder, before=before)

        return self._change(reminder_id, principal, change)

    def cancel(self, reminder_id: int, principal: Principal) -> dict[str, Any]:
        """Cancel it (kept, shown with ``status=cancelled``)."""

        def change(session: Session, reminder: Reminder) -> None:
            if reminder.status != "open":
                raise ReminderError(msg("app.reminder.not_open", id=reminder.id))
            reminder.status, reminder.done_at, reminder.done_by = "cancelled", utcnow(), principal.username
            self._event(session, principal, "reminder_cancel", reminder)

        return self._change(reminder_id, principal, change)

    def delete(self, reminder_id: int, principal: Principal) -> dict[str, Any]:
        """Delete it for good; ``{"deleted": id}``."""
        with self._home.sessions() as session:
            reminder = self._load(session, reminder_id, principal)
            if not may_act(principal, reminder):
                raise Forbidden(msg("app.reminder.act_forbidden"))
            self._event(session, principal, "reminder_delete", reminder, source=reminder.source)
            session.delete(reminder)
            session.commit()
        return {"deleted": reminder_id}

    def reassign(self, reminder_id: int, principal: Principal, username: str) -> dict[str, Any]:
        """Give it to another active user (admins and managers), who must be able to read its document."""
        if not may_assign(principal):
            with self._home.sessions() as session:
                self._load(session, reminder_id, principal)  # 404 first for one who cannot see it
            raise Forbidden(msg("app.reminder.assign_forbidden"))

        def change(session: Session, reminder: Reminder) -> None:
            user = self._owner(session, username or "")
            if reminder.document_id is not None:
                reader = _principal_of(session, user)
                doc = session.get(Document, reminder.document_id)
                if doc is None or not may_read(reader, doc, reader.owned_customer_ids):
                    raise ReminderError(
                        msg("app.reminder.owner_cannot_read", name=user.username, id=reminder.document_id)
                    )
            reader = _principal_of(session, user)
            if not level_visible(
                reader, reminder.confidentiality, reminder.customer_id, reader.owned_customer_ids
            ):
                raise ReminderError(
                    msg("app.reminder.owner_cannot_see", name=user.username, level=reminder.confidentiality)
                )
            before = session.get(User, reminder.owner_id) if reminder.owner_id else None
            reminder.owner_id = user.id
            self._event(
                session,
                principal,
                "reminder_reassign",
                reminder,
                before=before.username if before else None,
                after=user.username,
            )

        return self._change(reminder_id, principal, change)

    def assignable_users(self, principal: Principal) -> Names:
        """The active users a reminder can be given to (admins and managers; empty for others)."""
        if not may_assign(principal):
            return []
        with self._home.sessions() as session:
            return list(
                session.scalars(select(User.username).where(User.active.is_(True)).order_by(User.username))
            )

    # -- customer care --------------------------------------------------------------------------

    def stale_days(self) -> dict[str, int]:
        """``DOSSIER_STALE_DAYS`` parsed (:func:`dossier.app._care.parse_stale_days`)."""
        return care.parse_stale_days(self._home.settings.get("DOSSIER_STALE_DAYS"))

    def stale_customers(self, principal: Principal, today: date | None = None) -> Items:
        """The customers ``principal`` looks after that have been silent too long (客户关怀), longest first.

        The answer is kept :data:`STALE_CACHE_SECONDS` per principal, day and setting, and only while the documents,
        their links, the customers and the activities are as they were (one look at each; any write shows).
        """
        limits = self.stale_days()
        with self._home.sessions() as session:
            if principal.role == "sales":
                principal = Principal(
                    username=principal.username,
                    role=principal.role,
                    user_id=principal.user_id,
                    owned_customer_ids=owned_customer_ids(session, principal) | principal.owned_customer_ids,
                )
            # Kept for STALE_CACHE_SECONDS while nothing it depends on was written: reading every document's
            # link to find each customer's last sign of life costs ~100 ms at 100,000 documents.
            day = today or self.today()
            key = (
                principal.username,
                principal.role,
                principal.user_id,
                tuple(sorted(principal.owned_customer_ids)),
                day,
                tuple(sorted(limits.items())),
            )
            mark = (*Dashboard.fingerprint(session), *_activities_mark(session))
            now = time.monotonic()
            with self._stale_lock:
                kept = self._stale.get(key)
            if kept is not None and kept[1] == mark and now - kept[0] < STALE_CACHE_SECONDS:
                return [dict(item) for item in kept[2]]
            found = care.stale_customers(session, principal, day, limits)
            with self._stale_lock:
                if len(self._stale) >= 256:
                    self._stale.clear()
                self._stale[key] = (now, mark, found)
            return [dict(item) for item in found]

    def care_lines(self, session: Session, principal: Principal, today: date) -> builtins.list[str]:
        """The digest's "to contact" lines for ``principal`` (the notifications' ``care`` hook), in Chinese.

        A bad DOSSIER_STALE_DAYS leaves them out (the digest still goes; the web and CLI say why).
        """
        try:
            limits = self.stale_days()
        except DossierError:
            return []
        return [
            f"{c['customer']['name']}：{msg('care.silent', n=c['days_silent'], last=c['last_activity'])}"
            for c in care.stale_customers(session, principal, today, limits)
        ]

    def daily(self, today: date | str | None = None) -> dict[str, Any]:
        """The daily run's reminder part: one care reminder per silence, closed when activity resumes.

        ``{"date", "stale", "created", "closed"}``; rerunning it the same day (or after a restart) adds nothing.
        """
        day = parse_due(today, today=self.today()) if today not in (None, "") else self.today()
        lang = self._home.settings.get("DOSSIER_LANGUAGE")
        limits = self.stale_days()
        with self._home.sessions() as session:
            result = care.daily(session, day, limits, lang=lang)
            session.commit()
        return result
