"""Customer follow-up records: activities and comments, customer change history, due dates
found in documents, reminders, in-app notifications and the e-mails that carry them.

- An :class:`Activity` is a call, visit, meeting, e-mail or note logged against a customer
  (optionally a document), or a ``comment`` on a document.  Its ``confidentiality`` decides
  who reads it, exactly like a document's: the index and every listing apply the same rule.
- :class:`CustomerChange` keeps the history of the fields a team steers by (stage, customer
  type, importance, owner): who changed which, when, from what to what.
- :class:`DueDate` is one date a document's text sets (a contract's end, a quote's validity,
  a payment term) with the sentence it came from; re-extracting the document replaces them.
- :class:`Reminder` is a follow-up task with an owner and a due date; ``source`` says whether
  a person made it (``manual``), the documents did (``document``: kept in step with the
  document's :class:`DueDate` rows through ``source_key``) or the care rule did (``care``).
- :class:`Notification` is an in-app message to one user; :class:`MailDelivery` one e-mail
  to send.  Both carry a unique ``key`` so that a restarted worker never sends one twice.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from records._models import Base, Clipped, utcnow

#: What an activity records; ``comment`` is a remark on a document.
ACTIVITY_KINDS = ("call", "visit", "meeting", "email", "note", "comment")
#: What a reminder is about: a person's follow-up, or a date found in a document, or customer care.
REMINDER_KINDS = (
    "follow_up",
    "contract_end",
    "renewal",
    "quote_valid",
    "payment_due",
    "invoice_due",
    "care",
)
#: Where a reminder came from.
REMINDER_SOURCES = ("manual", "document", "care")
#: A reminder's states: ``open`` until done or cancelled (a document's date went away).
REMINDER_STATUSES = ("open", "done", "cancelled")
#: Kinds of date a document can set (the first five reminder kinds but ``follow_up``).
DUE_DATE_KINDS = ("contract_end", "renewal", "quote_valid", "payment_due", "invoice_due")
#: States of an e-mail: waiting (also between tries), sent, or given up after the last try.
MAIL_STATUSES = ("pending", "sent", "failed")


class Activity(Base):
    """A call, visit, meeting, e-mail, note or document comment, with who, when and what.

    ``customer_id`` is required except for a comment on a document without a customer;
    ``contacts`` are the names of the customer's people who took part; ``author`` is the
    login of who logged it (kept when the account goes).  ``confidentiality`` is one of the
    document levels; a comment is at least as restricted as its document.
    """

    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_customer_at", "customer_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="note")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    author: Mapped[str] = mapped_column(String(64))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    contacts: Mapped[list[str]] = mapped_column(default=list)
    subject: Mapped[str] = mapped_column(Clipped(255), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    next_step: Mapped[str | None] = mapped_column(Clipped(1000))
    confidentiality: Mapped[str] = mapped_column(String(16), default="internal")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CustomerChange(Base):
    """One change of a steering field of a customer: ``field`` went from ``before`` to ``after``."""

    __tablename__ = "customer_changes"
    __table_args__ = (Index("ix_customer_changes_customer_at", "customer_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    username: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(32))  # stage | customer_type | importance | owner_name
    before: Mapped[str | None] = mapped_column(Clipped(255))
    after: Mapped[str | None] = mapped_column(Clipped(255))


class DueDate(Base):
    """A date set by a document's text: ``kind`` (:data:`DUE_DATE_KINDS`), the date, and its sentence.

    ``basis`` says how it was reached (``explicit`` date, or counted ``from`` a signing or
    effective date or the document's own date); ``page`` and ``start``/``end`` locate the
    sentence in that page's text.
    """

    __tablename__ = "due_dates"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    due_on: Mapped[date] = mapped_column(Date)
    sentence: Mapped[str] = mapped_column(Clipped(500), default="")
    basis: Mapped[str] = mapped_column(String(16), default="explicit")
    page: Mapped[int] = mapped_column(Integer, default=1)
    start: Mapped[int] = mapped_column(Integer, default=0)
    end: Mapped[int] = mapped_column(Integer, default=0)


class Reminder(Base):
    """A follow-up task (提醒): an owner, a due date, a customer and optionally a document.

    ``remind_on`` is when it shows as due (the due date, or earlier for a document's date:
    a contract's end is announced ahead; a snooze moves it later).  ``source_key`` identifies
    a reminder made by the documents or the care rule (``doc:<id>:<kind>:<date>``,
    ``care:<customer id>``) so that a rerun updates it instead of adding another.
    ``confidentiality`` decides who sees it besides its owner, like a document's.
    """

    __tablename__ = "reminders"
    __table_args__ = (
        Index("ix_reminders_owner_status_remind", "owner_id", "status", "remind_on"),
        Index("ix_reminders_customer_status", "customer_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Clipped(255))
    note: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16), default="follow_up")
    source: Mapped[str] = mapped_column(String(16), default="manual")
    source_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    due_date_id: Mapped[int | None] = mapped_column(ForeignKey("due_dates.id", ondelete="SET NULL"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    due_on: Mapped[date] = mapped_column(Date)
    remind_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    confidentiality: Mapped[str] = mapped_column(String(16), default="internal")
    evidence: Mapped[str | None] = mapped_column(Clipped(500))
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    done_at: Mapped[datetime | None] = mapped_column()
    done_by: Mapped[str | None] = mapped_column(String(64))


class Notification(Base):
    """An in-app message to one user (the counter and list in the web UI).

    ``key`` makes it once-only (``due:<reminder id>:<date>``); ``link`` is a path in the web UI.
    """

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # due | overdue | assigned | care
    title: Mapped[str] = mapped_column(Clipped(255))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(Clipped(500))
    reminder_id: Mapped[int | None] = mapped_column(ForeignKey("reminders.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column()


class MailDelivery(Base):
    """One e-mail to send (a daily digest, or a same-day notice); sent once, retried until it goes.

    ``key`` is unique (``digest:<user id>:<date>``, ``due:<reminder id>:<date>``) so the daily
    run never queues the same mail twice; a worker claims a ``pending`` row whose
    ``next_try_at`` has come, and records ``sent`` or, after the last try, ``failed``.
    """

    __tablename__ = "mail_deliveries"
    __table_args__ = (Index("ix_mail_deliveries_status_next", "status", "next_try_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recipient: Mapped[str] = mapped_column(Clipped(320))
    subject: Mapped[str] = mapped_column(Clipped(255))
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Clipped(1000))
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[datetime | None] = mapped_column()
    next_try_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


#: The follow-up tables, in dependency order.
FOLLOWUP_TABLES = (
    "activities",
    "customer_changes",
    "due_dates",
    "reminders",
    "notifications",
    "mail_deliveries",
)
