"""What a notification or an e-mail says, and only what its reader may read.

A reminder is shown to a user exactly when the reminders' pages would show it to them
(:func:`dossier.app._reminder_rules.visible`: its document, if it has one, must be readable — not
in the trash, a level the user reads — and so must the reminder's own level, owners included).  A document's title is shown only when the user may read that document; otherwise the
text says "a document" and nothing of it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dossier.app import _reminder_rules as reminder_rules
from dossier.app import folder
from foundation.messages import translate
from index import Principal
from records import Document, Reminder, User

__all__ = ["CareHook", "Reader", "ReminderLine", "digest_text", "due_text", "reader_of"]

#: The optional source of "customers to contact" (客户关怀) lines for a user's digest:
#: ``care(session, principal, today) -> [line, ...]`` (each line already readable by that principal).
CareHook = Callable[[Session, Principal, date], list[str]]

#: Days ahead the daily digest looks (reminders due within them, plus every overdue one).
DIGEST_DAYS = 7


@dataclass(frozen=True)
class Reader:
    """A user as a reader of notifications: their principal and the customers they own."""

    user: User
    principal: Principal
    owned: frozenset[int]

    def may_see(self, reminder: Reminder, doc: Document | None) -> bool:
        """Whether this user may read ``reminder`` (its document, if it has one, is ``doc``): the reminders' own rule."""
        return reminder_rules.visible(self.principal, reminder, doc, self.owned)


def reader_of(session: Session, user: User) -> Reader:
    """The :class:`Reader` of an account."""
    principal = Principal(username=user.username, role=user.role, user_id=user.id)
    owned = folder.owned_customer_ids(session, principal)
    return Reader(user, Principal(user.username, user.role, user.id, owned), owned)


@dataclass(frozen=True)
class ReminderLine:
    """One reminder as a reader sees it."""

    id: int
    title: str
    due_on: date
    remind_on: date
    overdue: bool
    customer: str | None
    document: str | None  # its title, only when the reader may read it
    link: str | None

    def text(self) -> str:
        """``2026-12-07  续签合同 — 客户 — 文件``: one line of a digest or a notification body."""
        parts = [self.title]
        if self.customer:
            parts.append(self.customer)
        if self.document:
            parts.append(f"《{self.document}》")
        mark = f"[{translate('notify.overdue', 'zh')} overdue] " if self.overdue else ""
        return f"{mark}{self.due_on.isoformat()}  " + " — ".join(parts)


def lines_for(
    session: Session, reader: Reader, reminders: Iterable[Reminder], today: date
) -> list[ReminderLine]:
    """The reminders ``reader`` may see, as lines (document titles only where they may read the document)."""
    reminders = list(reminders)
    doc_ids = sorted({r.document_id for r in reminders if r.document_id is not None})
    docs = (
        {d.id: d for d in session.scalars(select(Document).where(Document.id.in_(doc_ids)))}
        if doc_ids
        else {}
    )
    shown = [r for r in reminders if reader.may_see(r, docs.get(r.document_id) if r.document_id else None)]
    names = folder.customer_names(session, (r.customer_id for r in shown if r.customer_id is not None))
    lines = []
    for r in shown:
        doc = docs.get(r.document_id) if r.document_id is not None else None
        readable = doc is not None and folder.may_read(reader.principal, doc, reader.owned)
        link = (
            f"/documents/{doc.id}"
            if readable and doc is not None
            else f"/customers/{r.customer_id}"
            if r.customer_id is not None
            else None
        )
        lines.append(
            ReminderLine(
                id=r.id,
                title=r.title,
                due_on=r.due_on,
                remind_on=r.remind_on,
                overdue=r.due_on < today,
                customer=names.get(r.customer_id) if r.customer_id is not None else None,
                document=doc.title if readable and doc is not None else None,
                link=link,
            )
        )
    return lines


def digest_text(today: date, lines: list[ReminderLine], care: Collection[str]) -> tuple[str, str]:
    """The daily digest's subject and plain-text body (Chinese first, English labels beside)."""
    subject = translate("notify.digest.subject", "zh", date=today.isoformat(), n=len(lines))
    overdue = [line for line in lines if line.overdue]
    soon = [line for line in lines if not line.overdue]
    body: list[str] = [translate("notify.digest.intro", "zh", date=today.isoformat(), days=DIGEST_DAYS), ""]
    if overdue:
        body += (
            [_heading("notify.digest.overdue", len(overdue))] + [f"  - {x.text()}" for x in overdue] + [""]
        )
    if soon:
        body += [_heading("notify.digest.soon", len(soon))] + [f"  - {x.text()}" for x in soon] + [""]
    if care:
        body += [_heading("notify.digest.care", len(care))] + [f"  - {x}" for x in care] + [""]
    body.append(translate("notify.mail.footer", "zh"))
    return subject, "\n".join(body) + "\n"


def due_text(line: ReminderLine) -> tuple[str, str]:
    """The same-day mail of one reminder falling due: subject and body."""
    subject = translate("notify.due.subject", "zh", title=line.title, date=line.due_on.isoformat())
    body = [
        translate("notify.due.intro", "zh"),
        "",
        f"  {line.text()}",
        "",
        translate("notify.mail.footer", "zh"),
    ]
    return subject, "\n".join(body) + "\n"


def _heading(message_id: str, n: int) -> str:
    return f"{translate(message_id, 'zh', n=n)} / {translate(message_id, 'en', n=n)}"


def notification_fields(line: ReminderLine) -> dict[str, Any]:
    """The title (the reminder's), body and link of an in-app notification; its kind (due, overdue) is labelled when shown."""
    return {"title": line.title, "body": line.text(), "link": line.link}
