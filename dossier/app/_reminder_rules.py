"""The rules of reminders (提醒) that every entry point shares: dates, who sees which, who may act, JSON.

Visibility follows the documents' matrix (:mod:`dossier.app.folder`): admins and managers see
all, others by the reminder's ``confidentiality`` (:func:`index.readable_levels`) and a sales
rep the ``confidential`` ones of the customers they own — owners included: a reminder is never
made for or reassigned to someone who could not see it.  A reminder whose document is in the
trash, or that the viewer may not read, is hidden from everyone — its owner included — exactly
like the document (404).  Notifications, e-mails, the timeline and the customer list use these
rules too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, false, or_

import index
from dossier.app.folder import READ_ALL_ROLES, may_read, readable_clause
from dossier.app.permissions import MANAGE_ROLES
from foundation.errors import DossierError
from foundation.messages import msg
from index import Principal
from records import Customer, Document, Reminder

__all__ = [
    "MAX_NOTE",
    "MAX_SNOOZE_DAYS",
    "MAX_TITLE",
    "ReminderError",
    "may_act",
    "may_assign",
    "may_create",
    "overdue_days",
    "parse_due",
    "reminder_json",
    "snooze_target",
    "visible",
    "visible_clause",
]

#: The longest title (characters) a reminder takes.
MAX_TITLE = 200
#: The longest note.
MAX_NOTE = 2000
#: The longest a snooze may push a reminder (days).
MAX_SNOOZE_DAYS = 3650


class ReminderError(DossierError):
    """A reminder asked for with input that cannot be used (a date that is none, an empty title …)."""

    status = 400


_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_CJK = re.compile(r"^(?:(\d{4})\s*年)?\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]$")


def parse_due(value: date | str | None, *, today: date, what: str = "due") -> date:
    """A due date from ``2026-03-01``, ``2026/3/1``, ``2026年3月1日`` or ``3月1日`` (this year); full-width digits work.

    ReminderError naming the value when it is missing or cannot be a date (``2026-02-30``, ``2月30日``).
    """
    if isinstance(value, date):
        return value
    text = unicodedata.normalize("NFKC", value or "").strip()
    if not text:
        raise ReminderError(msg("app.reminder.date_missing"))
    match = _ISO.match(text) or _CJK.match(text)
    if match is None:
        raise ReminderError(msg("app.reminder.bad_date", value=text[:40]))
    year = int(match.group(1)) if match.group(1) else today.year
    try:
        return date(year, int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise ReminderError(msg("app.reminder.bad_date", value=text[:40])) from None


def overdue_days(reminder: Reminder, today: date) -> int:
    """Days an open reminder is past its due date (0: not overdue)."""
    if reminder.status != "open" or reminder.due_on >= today:
        return 0
    return (today - reminder.due_on).days


# -- who sees, who acts -----------------------------------------------------------------------


def level_visible(principal: Principal, level: str, customer_id: int | None, owned: Collection[int]) -> bool:
    """Whether ``principal`` reads a reminder of ``level`` about ``customer_id``: the documents' matrix."""
    if principal.role in READ_ALL_ROLES or level in index.readable_levels(principal):
        return True
    return (
        principal.role == "sales"
        and level == "confidential"
        and customer_id is not None
        and customer_id in owned
    )


def _level_visible(principal: Principal, reminder: Reminder, owned: Collection[int]) -> bool:
    return level_visible(principal, reminder.confidentiality, reminder.customer_id, owned)


def visible(principal: Principal, reminder: Reminder, doc: Document | None, owned: Collection[int]) -> bool:
    """Whether ``principal`` sees ``reminder`` (its document, when it has one, is ``doc``)."""
    if reminder.document_id is not None and (doc is None or not may_read(principal, doc, owned)):
        return False
    return _level_visible(principal, reminder, owned)


def visible_clause(principal: Principal, owned: Collection[int]) -> ColumnElement[bool]:
    """:func:`visible` as SQL over ``Reminder`` outer-joined to its ``Document``."""
    doc_ok = or_(Reminder.document_id.is_(None), readable_clause(principal, owned))
    if principal.role in READ_ALL_ROLES:
        return doc_ok
    levels = sorted(index.readable_levels(principal))
    level: ColumnElement[bool] = Reminder.confidentiality.in_(levels) if levels else false()
    theirs: ColumnElement[bool] = false()
    if principal.role == "sales" and owned:
        theirs = (Reminder.confidentiality == "confidential") & Reminder.customer_id.in_(sorted(owned))
    return doc_ok & or_(level, theirs)


def may_create(principal: Principal) -> bool:
    """Every role but viewer makes reminders (for themselves)."""
    return principal.role != "viewer"


def may_assign(principal: Principal) -> bool:
    """Giving a reminder to someone else (at creation or later): admins and managers."""
    return principal.role in MANAGE_ROLES


def may_act(principal: Principal, reminder: Reminder) -> bool:
    """Snooze, done, reopen, cancel, delete: its owner, its creator, admins and managers."""
    if principal.role in MANAGE_ROLES:
        return True
    if principal.user_id is not None and reminder.owner_id == principal.user_id:
        return True
    return principal.role != "viewer" and reminder.created_by == principal.username


# -- the JSON shape -----------------------------------------------------------------------------


def reminder_json(
    reminder: Reminder,
    *,
    today: date,
    owner: str | None,
    customer: Customer | None,
    doc: Document | None,
) -> dict[str, Any]:
    """One reminder as every entry point returns it (the document only when the caller reads it)."""
    days = overdue_days(reminder, today)
    return {
        "id": reminder.id,
        "title": reminder.title,
        "note": reminder.note or "",
        "kind": reminder.kind,
        "source": reminder.source,
        "due_on": reminder.due_on.isoformat(),
        "remind_on": reminder.remind_on.isoformat(),
        "overdue": days > 0,
        "days_overdue": days,
        "due_in": (reminder.remind_on - today).days,
        "owner": owner,
        "customer": {"id": customer.id, "name": customer.name} if customer is not None else None,
        "document": {"id": doc.id, "title": doc.title} if doc is not None else None,
        "evidence": reminder.evidence,
        "status": reminder.status,
        "confidentiality": reminder.confidentiality,
        "created_by": reminder.created_by,
        "done_at": reminder.done_at.isoformat(timespec="seconds") if reminder.done_at else None,
        "done_by": reminder.done_by,
    }


def snooze_target(*, today: date, days: int | None, until: date | None) -> date:
    """The new ``remind_on`` of a snooze: ``until`` or ``days`` from today; never before today."""
    if (days is None) == (until is None):
        raise ReminderError(msg("app.reminder.snooze_how"))
    if days is not None:
        if not 1 <= days <= MAX_SNOOZE_DAYS:
            raise ReminderError(msg("app.reminder.snooze_days", days=days, most=MAX_SNOOZE_DAYS))
        return today + timedelta(days=days)
    assert until is not None
    if until < today:
        raise ReminderError(msg("app.reminder.snooze_past", date=until.isoformat(), today=today.isoformat()))
    if (until - today).days > MAX_SNOOZE_DAYS:
        raise ReminderError(msg("app.reminder.snooze_days", days=(until - today).days, most=MAX_SNOOZE_DAYS))
    return until
