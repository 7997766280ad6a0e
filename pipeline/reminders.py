"""A document's due dates in the records, and the reminders that follow them.

The extraction step calls :func:`store_due_dates` with what :func:`ingest.extract_due_dates`
found: the document's :class:`records.DueDate` rows are replaced.  :func:`sync_reminders`
then keeps the document's automatic reminders (``source="document"``) in step, one per
due date, keyed ``doc:<document id>:<kind>:<date>``:

- a new date gets an open reminder, due on the date and shown ``lead`` days before it
  (``DOSSIER_REMINDER_LEAD_DAYS``, per kind), unless the date is more than
  :data:`PAST_DAYS` days gone by (its row is still stored);
- a date found again refreshes its reminder (title, customer, level, evidence; an owner only
  where it had none) and reopens it if it had been cancelled, but a reminder someone
  marked done stays done, and a snoozed ``remind_on`` or a reassigned owner stay;
- an open reminder whose date is no longer found is cancelled.

The owner is the primary customer's sales owner, else the account that uploaded the
current version, else nobody (managers see it in the team view); disabled accounts, and
accounts that may not read the document (a rep and a finance invoice), are passed over.
Its confidentiality is the document's access level, so it is seen by whom may read the
document.  Running it twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

import index
import ingest
from foundation.errors import ConfigError
from foundation.messages import msg
from pipeline import access
from records import Customer, Document, DueDate, Reminder, User

__all__ = [
    "DEFAULT_LEAD_DAYS",
    "PAST_DAYS",
    "parse_lead_days",
    "reminder_key",
    "store_due_dates",
    "sync_reminders",
]

#: Days before each kind of date that its reminder falls due (the setting's default).
DEFAULT_LEAD_DAYS: Mapping[str, int] = {
    "contract_end": 30,
    "renewal": 30,
    "quote_valid": 3,
    "payment_due": 3,
    "invoice_due": 3,
}
#: A date further in the past than this (at extraction) gets no reminder.
PAST_DAYS = 30
_MAX_LEAD = 3660


def parse_lead_days(raw: str) -> dict[str, int]:
    """``DOSSIER_REMINDER_LEAD_DAYS`` (``contract_end=30,renewal=30,…``) -> days per kind.

    A kind left out keeps its default; a bare number applies to every kind.  ConfigError for
    an unknown kind or a value that is not a whole number of days from 0 to 3660.
    """
    out = dict(DEFAULT_LEAD_DAYS)
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        kind, sep, value = (x.strip() for x in part.partition("="))
        if not sep:
            kind, value = "", kind
        if kind and kind not in ingest.DUE_DATE_KINDS:
            raise ConfigError(
                msg("pipeline.reminders.lead_days", raw=raw, kinds=", ".join(ingest.DUE_DATE_KINDS))
            )
        try:
            days = int(value)
        except ValueError:
            days = -1
        if not 0 <= days <= _MAX_LEAD:
            raise ConfigError(
                msg("pipeline.reminders.lead_days", raw=raw, kinds=", ".join(ingest.DUE_DATE_KINDS))
            )
        for k in [kind] if kind else ingest.DUE_DATE_KINDS:
            out[k] = days
    return out


def reminder_key(doc_id: int, kind: str, due_on: dt.date) -> str:
    """The ``source_key`` of a document's reminder for one due date."""
    return f"doc:{doc_id}:{kind}:{due_on.isoformat()}"


def store_due_dates(session: Session, doc: Document, found: Sequence[ingest.DueDateFound]) -> list[DueDate]:
    """Replace ``doc``'s due-date rows with ``found`` (in the caller's transaction); returns the new rows."""
    session.execute(delete(DueDate).where(DueDate.document_id == doc.id))
    rows = [
        DueDate(
            document_id=doc.id,
            kind=f.kind,
            due_on=f.due_on,
            sentence=f.sentence[:500],
            basis=f.basis,
            page=f.page,
            start=f.start,
            end=f.end,
        )
        for f in found
    ]
    session.add_all(rows)
    session.flush()
    return rows


def _title(kind: str, title: str) -> str:
    """The reminder's title, in Chinese (it is stored as text)."""
    names = {
        "contract_end": msg("pipeline.reminders.contract_end", title=title),
        "renewal": msg("pipeline.reminders.renewal", title=title),
        "quote_valid": msg("pipeline.reminders.quote_valid", title=title),
        "payment_due": msg("pipeline.reminders.payment_due", title=title),
        "invoice_due": msg("pipeline.reminders.invoice_due", title=title),
    }
    return names[kind].render("zh")[:255]


def _reader(session: Session, user_id: int | None, level: str, customer_id: int | None) -> int | None:
    """``user_id`` when that account is active and may read a document of ``level`` (of ``customer_id``)."""
    user = session.get(User, user_id) if user_id is not None else None
    if user is None or not user.active:
        return None
    principal = index.Principal(username=user.username, role=user.role, user_id=user.id)
    if user.role in ("admin", "manager") or level in index.readable_levels(principal):
        return user.id
    customer = session.get(Customer, customer_id) if customer_id is not None else None
    owns = customer is not None and customer.owner_id == user.id
    return user.id if user.role == "sales" and level == "confidential" and owns else None


def _owner(session: Session, doc: Document, level: str) -> int | None:
    """The primary customer's owner, else the uploader of the current version — the first active account
    that may read the document (a finance invoice of a rep's customer goes to no rep: its reminder
    waits unassigned in the managers' team list, and finance users see it by its level)."""
    customer = doc.customer  # the relationship: current even before a flush
    customer_id = customer.id if customer is not None else None
    owner = _reader(session, customer.owner_id, level, customer_id) if customer is not None else None
    if owner is not None:
        return owner
    uploader = doc.current.uploaded_by if doc.current is not None else None
    if uploader:
        user = session.scalars(select(User).where(User.username == uploader)).first()
        return _reader(session, user.id if user is not None else None, level, customer_id)
    return None


def sync_reminders(
    session: Session,
    doc: Document,
    due_dates: Sequence[DueDate],
    *,
    lead_days: Mapping[str, int] = DEFAULT_LEAD_DAYS,
    today: dt.date | None = None,
) -> dict[str, int]:
    """Make ``doc``'s automatic reminders follow ``due_dates`` (see the module); returns counts.

    Counts: ``created``, ``updated`` (an existing reminder found again), ``cancelled``.
    """
    today = today or dt.date.today()
    existing: dict[str | None, Reminder] = {
        r.source_key: r
        for r in session.scalars(
            select(Reminder).where(Reminder.document_id == doc.id, Reminder.source == "document")
        )
    }
    counts = {"created": 0, "updated": 0, "cancelled": 0}
    wanted: set[str] = set()
    level = access.access_of(session, doc).level if due_dates else access.stored_access(doc).level
    owner = _owner(session, doc, level) if due_dates else None
    for row in due_dates:
        key = reminder_key(doc.id, row.kind, row.due_on)
        reminder = existing.get(key)
        if reminder is None and row.due_on < today - dt.timedelta(days=PAST_DAYS):
            continue  # long gone: the date is kept, nobody is reminded of it
        wanted.add(key)
        fields = {
            "title": _title(row.kind, doc.title or f"#{doc.id}"),
            "kind": row.kind,
            "customer_id": doc.customer.id if doc.customer is not None else None,
            "document_id": doc.id,
            "due_date_id": row.id,
            "confidentiality": level,
            "evidence": row.sentence[:500],
            "due_on": row.due_on,
        }
        if reminder is None:
            lead = lead_days.get(row.kind, DEFAULT_LEAD_DAYS.get(row.kind, 0))
            session.add(
                Reminder(
                    **fields,
                    source="document",
                    source_key=key,
                    owner_id=owner,
                    remind_on=row.due_on - dt.timedelta(days=lead),
                    status="open",
                    created_by="system",
                )
            )
            counts["created"] += 1
            continue
        for name, value in fields.items():  # a snoozed remind_on and a reassigned owner stay
            if getattr(reminder, name) != value:
                setattr(reminder, name, value)
        if reminder.status == "cancelled":
            reminder.status = "open"  # the date is back (done stays done)
        if reminder.owner_id is None and owner is not None and reminder.status == "open":
            reminder.owner_id = owner
        counts["updated"] += 1
    for stale_key, gone in existing.items():
        if stale_key not in wanted and gone.status == "open":
            gone.status = "cancelled"
            counts["cancelled"] += 1
    session.flush()
    return counts
