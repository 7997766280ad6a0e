"""The customer timeline (客户时间线): one time-ordered stream of what happened with a customer.

:func:`timeline` merges, newest first: the customer's documents the principal may read (not in
the trash; archived ones marked), its activities and comments the principal may read, the
changes of its steering fields (:class:`records.CustomerChange`: who, when, field, from → to)
and its reminders that were done (visible to their owner and to whoever may read their level).
Filterable by kind (``document``, ``activity``, ``comment``, ``change``, ``reminder``) and
paged.  The union, the permission filters, the order and the page are one SQL statement
(``UNION ALL … ORDER BY at DESC LIMIT … OFFSET …``) plus one count, so a page costs the
same with 50 items or 50,000; only the page's rows are loaded afterwards.

A document's time is when it was filed (its intake); its own date is shown with it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, or_, select, true, union, union_all
from sqlalchemy.orm import Session, selectinload

from dossier.app import _reminder_rules as reminder_rules
from dossier.app import folder
from dossier.app._activities import activity_readable_clause, activity_view
from dossier.app.resources import HomeResources
from foundation.errors import DossierError, NotFound
from foundation.messages import msg
from index import Principal
from records import Activity, Customer, CustomerChange, Document, DocumentCustomer, Reminder

__all__ = ["DEFAULT_PER_PAGE", "TIMELINE_KINDS", "Timeline", "TimelineError", "timeline"]

#: What the stream holds, in the order filters are offered.
TIMELINE_KINDS = ("document", "activity", "comment", "change", "reminder")
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
#: Roles that read everything.
READ_ALL = ("admin", "manager")


class TimelineError(DossierError):
    """A timeline filter that is not one of :data:`TIMELINE_KINDS`."""

    status = 400


class Timeline:
    """``Dossier.timeline(principal, customer_id, kinds=None, page=1, per_page=50)``: :func:`timeline` in a session of its own."""

    def __init__(self, home: HomeResources) -> None:
        self._sessions = home.sessions

    def __call__(
        self,
        principal: Principal,
        customer_id: int,
        kinds: Iterable[str] | str | None = None,
        page: int = 1,
        per_page: int = DEFAULT_PER_PAGE,
    ) -> dict[str, Any]:
        """One page of a customer's timeline, newest first (see :func:`timeline`)."""
        with self._sessions() as session:
            return timeline(session, principal, customer_id, kinds, page, per_page)


def _kinds(kinds: Iterable[str] | str | None) -> tuple[str, ...]:
    if kinds is None or kinds == "":
        return TIMELINE_KINDS
    values = [kinds] if isinstance(kinds, str) else list(kinds)
    wanted: list[str] = []
    for value in values:
        for part in str(value).split(","):
            part = part.strip().lower()
            if not part:
                continue
            part = {"documents": "document", "activities": "activity", "comments": "comment"}.get(part, part)
            part = {"changes": "change", "reminders": "reminder"}.get(part, part)
            if part not in TIMELINE_KINDS:
                raise TimelineError(
                    msg("app.timeline.bad_kind", kind=part[:40], kinds=", ".join(TIMELINE_KINDS))
                )
            wanted.append(part)
    return tuple(dict.fromkeys(wanted)) or TIMELINE_KINDS


def _selects(
    session: Session, principal: Principal, customer_id: int, kinds: tuple[str, ...]
) -> list[Select[Any]]:
    """One ``SELECT kind, id, at`` per kind asked for, each with its permission filter."""
    owned = folder.owned_customer_ids(session, principal)
    parts: list[Any] = []
    if "document" in kinds:
        linked = union(
            select(DocumentCustomer.document_id).where(DocumentCustomer.customer_id == customer_id),
            select(Document.id).where(Document.customer_id == customer_id),
        )
        parts.append(
            select(
                literal("document").label("kind"), Document.id.label("id"), Document.created_at.label("at")
            ).where(Document.id.in_(linked), folder.readable_clause(principal, owned))
        )
    wanted_activities = [k for k in ("activity", "comment") if k in kinds]
    if wanted_activities:
        trashed = select(Document.id).where(Document.trashed_at.is_not(None))
        kind_clause: ColumnElement[bool] = true()
        if wanted_activities == ["activity"]:
            kind_clause = Activity.kind != "comment"
        elif wanted_activities == ["comment"]:
            kind_clause = Activity.kind == "comment"
        parts.append(
            select(
                literal("activity").label("kind"), Activity.id.label("id"), Activity.occurred_at.label("at")
            ).where(
                Activity.customer_id == customer_id,
                kind_clause,
                activity_readable_clause(principal, owned),
                or_(Activity.document_id.is_(None), Activity.document_id.not_in(trashed)),
            )
        )
    if "change" in kinds:
        parts.append(
            select(
                literal("change").label("kind"), CustomerChange.id.label("id"), CustomerChange.at.label("at")
            ).where(CustomerChange.customer_id == customer_id)
        )
    if "reminder" in kinds:
        parts.append(
            select(literal("reminder").label("kind"), Reminder.id.label("id"), Reminder.done_at.label("at"))
            .select_from(Reminder)
            .outerjoin(Document, Document.id == Reminder.document_id)
            .where(
                Reminder.customer_id == customer_id,
                Reminder.status == "done",
                Reminder.done_at.is_not(None),
                reminder_rules.visible_clause(principal, frozenset(owned)),
            )
        )
    return parts


def timeline(
    session: Session,
    principal: Principal,
    customer_id: int,
    kinds: Iterable[str] | str | None = None,
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
) -> dict[str, Any]:
    """One page of a customer's timeline, newest first: ``{"items", "total", "page", "pages", "per_page", "kinds"}``.

    Each item has ``kind`` (``document``, ``activity``, ``comment``, ``change``, ``reminder``),
    ``id``, ``at`` (ISO) and the fields of its kind.  NotFound for an unknown customer (and a
    rejected one for anyone but admins and managers), like the customer page.
    """
    customer = session.get(Customer, customer_id)
    if customer is None or (customer.status == "rejected" and principal.role not in READ_ALL):
        raise NotFound(msg("app.customer.not_found", id=customer_id))
    wanted = _kinds(kinds)
    per_page = max(1, min(int(per_page), MAX_PER_PAGE))
    page = max(1, int(page))
    parts = _selects(session, principal, customer_id, wanted)
    stream = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    total = int(session.scalar(select(func.count()).select_from(stream)) or 0)
    rows = session.execute(
        select(stream.c.kind, stream.c.id, stream.c.at)
        .order_by(stream.c.at.desc(), stream.c.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    items = _load(session, principal, [(str(r[0]), int(r[1])) for r in rows])
    return {
        "customer": {"id": customer.id, "name": customer.name},
        "items": items,
        "total": total,
        "page": page,
        "pages": max(1, math.ceil(total / per_page)),
        "per_page": per_page,
        "kinds": list(wanted),
    }


def _load(session: Session, principal: Principal, keys: list[tuple[str, int]]) -> list[dict[str, Any]]:
    """The page's items, in the page's order, each loaded by one query per kind."""
    by_kind: dict[str, list[int]] = {}
    for kind, item_id in keys:
        by_kind.setdefault(kind, []).append(item_id)
    found: dict[tuple[str, int], dict[str, Any]] = {}
    if by_kind.get("document"):
        for doc in session.scalars(
            select(Document)
            .where(Document.id.in_(by_kind["document"]))
            .options(selectinload(Document.versions))
        ):
            version = doc.current
            found[("document", doc.id)] = {
                "kind": "document",
                "id": doc.id,
                "at": doc.created_at.isoformat(timespec="minutes") if doc.created_at else None,
                "title": doc.title,
                "filename": version.filename if version else "",
                "doc_type": doc.doc_type,
                "date": doc.doc_date,
                "archived": doc.lifecycle == "archived",
                "link": f"/documents/{doc.id}",
            }
    if by_kind.get("activity"):
        for row in session.scalars(select(Activity).where(Activity.id.in_(by_kind["activity"]))):
            view = activity_view(session, row, principal)
            view["kind"] = "comment" if row.kind == "comment" else "activity"
            view["activity_kind"] = row.kind
            view["at"] = view["occurred_at"]
            found[("activity", row.id)] = view
    if by_kind.get("change"):
        for change in session.scalars(select(CustomerChange).where(CustomerChange.id.in_(by_kind["change"]))):
            found[("change", change.id)] = {
                "kind": "change",
                "id": change.id,
                "at": change.at.isoformat(timespec="minutes") if change.at else None,
                "username": change.username,
                "field": change.field,
                "before": change.before,
                "after": change.after,
            }
    if by_kind.get("reminder"):
        for reminder in session.scalars(select(Reminder).where(Reminder.id.in_(by_kind["reminder"]))):
            found[("reminder", reminder.id)] = {
                "kind": "reminder",
                "id": reminder.id,
                "at": reminder.done_at.isoformat(timespec="minutes") if reminder.done_at else None,
                "title": reminder.title,
                "reminder_kind": reminder.kind,
                "done_by": reminder.done_by,
                "due_on": reminder.due_on.isoformat() if reminder.due_on else None,
                "document_id": reminder.document_id,
            }
    return [found[key] for key in keys if key in found]
