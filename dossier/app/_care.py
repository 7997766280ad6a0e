"""Customer care (客户关怀): customers silent for ``DOSSIER_STALE_DAYS`` appear as "to contact".

A customer's last activity is the latest of its activities' ``occurred_at``, its documents'
``created_at`` (documents in the trash do not count) and, when there is nothing else, the
customer's own ``created_at``: one grouped query over the whole home, however many documents.
``DOSSIER_STALE_DAYS`` is one number for every customer or one per customer type
(``潜在=30,现有=60,流失=180``; full, short and English type names); a type left out, and 0,
mean never.

The daily run (:func:`daily`) makes one open ``care`` reminder for the owner of each stale
customer, keyed ``care:<customer id>:<last activity date>`` so that one silence gets one
reminder however often the run repeats; once the customer is active again (its key changes)
the open care reminders of that customer are closed as done by ``system``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, true, union_all
from sqlalchemy.orm import Session

from dossier.app.folder import READ_ALL_ROLES
from foundation.errors import ConfigError
from foundation.messages import msg
from foundation.vocabulary import customer_type_name
from index import Principal
from records import Activity, Customer, Document, DocumentCustomer, Reminder, User, record_event, utcnow

__all__ = ["ALL_TYPES", "SETTING", "daily", "days_for", "parse_stale_days", "stale_customers"]

#: The setting this module reads.
SETTING = "DOSSIER_STALE_DAYS"
#: The key of a limit that holds for every customer (``DOSSIER_STALE_DAYS=45``).
ALL_TYPES = "*"
#: Keys looked up per query (the database's parameter limits stay far away).
CHUNK = 500


def parse_stale_days(raw: str) -> dict[str, int]:
    """``{"*": days}`` for one number, ``{"潜在客户": 30, …}`` per type; ConfigError naming the setting otherwise."""
    text = (raw or "").strip()
    if not text:
        return {}

    def number(value: str) -> int:
        value = value.strip()
        if not value.isdigit():
            raise ConfigError(msg("app.care.bad_setting", name=SETTING, raw=raw[:200], part=value[:40]))
        return int(value)

    if "=" not in text:
        return {ALL_TYPES: number(text)}
    out: dict[str, int] = {}
    for part in text.replace("，", ",").split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        kind = customer_type_name(name) if sep else None
        if kind is None:
            raise ConfigError(
                msg("app.care.bad_setting", name=SETTING, raw=raw[:200], part=part.strip()[:40])
            )
        out[kind] = number(value)
    return out


def days_for(limits: dict[str, int], customer_type: str | None) -> int:
    """The silence (days) after which a customer of this type is stale; 0: never."""
    if ALL_TYPES in limits:
        return limits[ALL_TYPES]
    kind = customer_type_name(customer_type or "")
    return limits.get(kind, 0) if kind else 0


def _last_activity_query(only: list[int] | None = None) -> Any:
    """(customer id, latest activity or new document) for every customer that has either.

    Each source is grouped on its own (the indexes on the customer columns serve them), then
    the three maxima per customer are joined: far less to sort than every row of the union.
    ``only``: just these customers (a rep's), which the indexes find without reading the rest.
    """
    at = func.max(Activity.occurred_at).label("at")
    linked = func.max(Document.created_at).label("at")
    # Not through the trashed_at index (nearly every row is not in the trash): the customer columns' serve.
    live = func.coalesce(Document.trashed_at, Document.trashed_at).is_(None)
    acts = Activity.customer_id.is_not(None) if only is None else Activity.customer_id.in_(only)
    links = true() if only is None else DocumentCustomer.customer_id.in_(only)
    docs = Document.customer_id.is_not(None) if only is None else Document.customer_id.in_(only)
    events = union_all(
        select(Activity.customer_id.label("cid"), at).where(acts).group_by(Activity.customer_id),
        select(DocumentCustomer.customer_id.label("cid"), linked)
        .join(Document, Document.id == DocumentCustomer.document_id)
        .where(links, live)
        .group_by(DocumentCustomer.customer_id),
        select(Document.customer_id.label("cid"), func.max(Document.created_at).label("at"))
        .where(docs, live)
        .group_by(Document.customer_id),
    ).subquery()
    return select(events.c.cid, func.max(events.c.at).label("last")).group_by(events.c.cid).subquery()


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def stale_customers(
    session: Session, principal: Principal, today: date, limits: dict[str, int]
) -> list[dict[str, Any]]:
    """The stale customers ``principal`` looks after (a rep: their own; managers and admins: all), longest silent first."""
    if not limits or not any(limits.values()):
        return []
    only: list[int] | None = None
    if principal.role not in READ_ALL_ROLES:
        mine: list[ColumnElement[bool]] = []
        if principal.owned_customer_ids:
            mine.append(Customer.id.in_(sorted(principal.owned_customer_ids)))
        if principal.user_id is not None:
            mine.append(Customer.owner_id == principal.user_id)
        if not mine:
            return []
        only = list(session.scalars(select(Customer.id).where(or_(*mine))))
        if not only:
            return []
    last = _last_activity_query(only)
    stmt = (
        select(
            Customer.id,
            Customer.name,
            Customer.customer_type,
            Customer.owner_id,
            User.username,
            Customer.created_at,
            last.c.last,
        )
        .outerjoin(last, last.c.cid == Customer.id)
        .outerjoin(User, User.id == Customer.owner_id)
        .where(Customer.status == "confirmed")
    )
    if only is not None:
        stmt = stmt.where(Customer.id.in_(only))
    out = []
    for cid, name, ctype, owner_id, owner, created, latest in session.execute(stmt):
        limit = days_for(limits, ctype)
        if limit <= 0:
            continue
        last_day = _as_date(latest if latest is not None else created)
        silent = (today - last_day).days
        if silent < limit:
            continue
        out.append(
            {
                "customer": {"id": cid, "name": name},
                "customer_type": ctype,
                "owner": owner,
                "owner_id": owner_id,
                "last_activity": last_day.isoformat(),
                "days_silent": silent,
                "stale_days": limit,
            }
        )
    out.sort(key=lambda item: (-item["days_silent"], item["customer"]["name"]))
    return out


def care_key(customer_id: int, last_activity: str) -> str:
    """The ``source_key`` of the care reminder of one silence."""
    return f"care:{customer_id}:{last_activity}"


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def daily(session: Session, today: date, limits: dict[str, int], *, lang: str = "zh") -> dict[str, Any]:
    """Make the care reminders of today's stale customers and close those of customers active again.

    Returns ``{"date", "stale", "created", "closed"}``; the caller commits.
    """
    stale = stale_customers(session, Principal.system(), today, limits)
    wanted = {
        care_key(item["customer"]["id"], item["last_activity"]): item for item in stale if item["owner_id"]
    }
    keys = list(wanted)
    existing: set[str] = set()
    for chunk in _chunks(keys):
        existing.update(
            k for k in session.scalars(select(Reminder.source_key).where(Reminder.source_key.in_(chunk))) if k
        )
    created = 0
    for key in keys:
        if key in existing:
            continue
        item = wanted[key]
        name = item["customer"]["name"]
        session.add(
            Reminder(
                title=msg("app.care.title", name=name).render(lang)[:255],
                note=msg("app.care.note", days=item["days_silent"], last=item["last_activity"]).render(lang),
                kind="care",
                source="care",
                source_key=key,
                customer_id=item["customer"]["id"],
                owner_id=item["owner_id"],
                due_on=today,
                remind_on=today,
                status="open",
                confidentiality="confidential",
                created_by="system",
            )
        )
        created += 1
    closed = 0
    now = utcnow()
    for reminder in session.scalars(
        select(Reminder).where(Reminder.source == "care", Reminder.status == "open")
    ):
        current = wanted.get(reminder.source_key or "")
        if current is None:
            reminder.status, reminder.done_at, reminder.done_by = "done", now, "system"
            closed += 1
        elif reminder.owner_id != current["owner_id"]:  # the customer changed hands: so does its care
            reminder.owner_id = current["owner_id"]
    result = {"date": today.isoformat(), "stale": len(stale), "created": created, "closed": closed}
    if created or closed:
        session.flush()
        record_event(session, "system", "reminder_care", target_type="reminder", detail=result)
    return result
