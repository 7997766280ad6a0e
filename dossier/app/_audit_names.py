"""Names for the targets of audit events: a document's title, a user's name, a customer's name.

The audit page shows "采购合同_华东 (已删除)" and "用户 sally", not "文档 #156" and "用户 #1". One query per
kind of target for a whole page of events (never one per row). A document that is gone from the
records keeps the title an event recorded about it (a purge, a destruction, a view with ``title``
or an upload's ``filename`` in its detail); the page marks it deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import ApiToken, AuditEvent, Customer, Document, User

#: How many older events of gone documents are read to find their recorded titles (one query).
_RECORDED_LIMIT = 2000


def _ids(rows: Sequence[AuditEvent], kind: str) -> set[int]:
    return {r.target_id for r in rows if r.target_type == kind and r.target_id is not None}


def _recorded_title(detail: Any) -> str | None:
    if not isinstance(detail, dict):
        return None
    for key in ("title", "filename"):
        value = detail.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _recorded_titles(session: Session, rows: Sequence[AuditEvent], gone: set[int]) -> dict[int, str]:
    """The newest title an event recorded for each gone document (this page first, then older events)."""
    titles: dict[int, str] = {}
    for row in rows:
        if row.target_type == "document" and row.target_id in gone and row.target_id not in titles:
            title = _recorded_title(row.detail)
            if title:
                titles[row.target_id] = title
    missing = gone - set(titles)
    if missing:
        older = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.target_type == "document", AuditEvent.target_id.in_(missing))
            .order_by(AuditEvent.id.desc())
            .limit(_RECORDED_LIMIT)
        )
        for event in older:
            if event.target_id is not None and event.target_id not in titles:
                title = _recorded_title(event.detail)
                if title:
                    titles[event.target_id] = title
    return titles


def target_names(session: Session, rows: Iterable[AuditEvent]) -> dict[tuple[str, int], dict[str, Any]]:
    """``{(target_type, id): {"name": ..., "exists": bool}}`` for the events' documents, users, customers
    and API tokens. ``exists`` is False for a document gone from the records or in the trash (no page to
    link to); its name is then its title as the trash or an event recorded it (None when nothing did)."""
    rows = list(rows)
    names: dict[tuple[str, int], dict[str, Any]] = {}
    doc_ids = _ids(rows, "document")
    if doc_ids:
        found = {
            doc_id: (title, trashed is None)
            for doc_id, title, trashed in session.execute(
                select(Document.id, Document.title, Document.trashed_at).where(Document.id.in_(doc_ids))
            )
        }
        recorded = _recorded_titles(session, rows, doc_ids - set(found))
        for doc_id in doc_ids:
            title, live = found.get(doc_id, (recorded.get(doc_id), False))
            names[("document", doc_id)] = {"name": title, "exists": live}
    for kind, column, key in (
        ("user", User.username, User.id),
        ("customer", Customer.name, Customer.id),
        ("api_token", ApiToken.name, ApiToken.id),
    ):
        ids = _ids(rows, kind)
        if ids:
            found_names = {row[0]: row[1] for row in session.execute(select(key, column).where(key.in_(ids)))}
            for target_id in ids:
                name = found_names.get(target_id)
                names[(kind, target_id)] = {"name": name or None, "exists": name is not None}
    return names
