"""The audit trail: one append-only :class:`records.AuditEvent` per act worth answering for.

An event says who (``username``), when (``at``, UTC), what (``action``, one of
:data:`ACTION_LABELS`), on what (``target_type``/``target_id``, optional) and the particulars
(``detail``, a JSON object).  The database refuses to change or delete an event (triggers of
migration 0008), so the trail is only ever appended to.

Writing: :func:`record_event` joins the caller's transaction (a change and its event commit
together); :meth:`AuditService.record` writes one on its own; :meth:`AuditService.record_search`
and :func:`upload_detail` give the entry points one shape for searches and intake batches.

Reading is for admins only (:meth:`AuditService.events`, :meth:`AuditService.csv`):
filters (:class:`AuditFilter`) by user, action, target, time range and text in the detail,
newest first, by page or by an id cursor, with the total.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, cast, func, or_, select

from dossier.app._audit_names import target_names
from foundation.errors import DossierError, Forbidden
from foundation.messages import msg, translate
from records import AuditEvent, record_event

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker
    from sqlalchemy.sql import Select

    from index import Principal, SearchRequest

__all__ = [
    "ACTIONS",
    "ACTION_LABELS",
    "AUDIT_ROLES",
    "CSV_COLUMNS",
    "DEFAULT_PAGE_SIZE",
    "MAX_FILES_LISTED",
    "MAX_PAGE_SIZE",
    "AuditFilter",
    "AuditQueryError",
    "AuditService",
    "event_json",
    "parse_time",
    "summarise",
    "upload_detail",
]

#: Every action the code writes; its names are the catalogs' ``audit.action.<code>`` messages.
ACTIONS: tuple[str, ...] = (
    "login",
    "login_failed",
    "logout",
    "search",
    "view",
    "download",
    "export",
    "upload",
    "version_upload",
    "version_restore",
    "metadata_change",
    "permission_change",
    "delete",
    "trash",
    "trash_restore",
    "trash_purge",
    "archive",
    "unarchive",
    "user_add",
    "user_set_password",
    "user_set_role",
    "user_enable",
    "user_disable",
    "user_set_display_name",
    "user_rename",
    "user_set_email",
    "mail_retry",
    "customer_import",
    "customer_edit",
    "customer_confirm",
    "customer_reject",
    "customer_merge",
    "token_create",
    "token_revoke",
    "audit_export",
    "legal_hold",
    "legal_hold_release",
    "retention_rule_add",
    "retention_rule_remove",
    "retention_archive",
    "destruction_propose",
    "destruction_approve",
    "destruction_reject",
    "destruction",
    "integrity_repair",
    "backup",
    "restore",
    "reminder_add",
    "reminder_snooze",
    "reminder_done",
    "reminder_reopen",
    "reminder_reassign",
    "reminder_cancel",
    "reminder_delete",
    "reminder_care",
    "activity_add",
    "activity_edit",
    "activity_delete",
)

#: Every action with its (中文, English) name, from the catalogs.
ACTION_LABELS: dict[str, tuple[str, str]] = {
    code: (translate(f"audit.action.{code}", "zh"), translate(f"audit.action.{code}", "en"))
    for code in ACTIONS
}

#: Roles that may read the trail.
AUDIT_ROLES = ("admin",)
DEFAULT_PAGE_SIZE = 50
#: The most events one page (web, API, CLI) holds; the CSV streams every match.
MAX_PAGE_SIZE = 500
#: An upload event names at most this many files (and says how many more there were).
MAX_FILES_LISTED = 50
#: Events read per query while the CSV streams.
CSV_BATCH = 1000
#: The CSV's columns: (key, 中文, English).
CSV_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("id", "编号", "id"),
    ("at", "时间（UTC）", "time (UTC)"),
    ("username", "用户", "user"),
    ("action", "操作", "action"),
    ("action_label", "操作名称", "action name"),
    ("target_type", "对象类型", "target type"),
    ("target_id", "对象编号", "target id"),
    ("summary", "摘要", "summary"),
    ("detail", "详情（JSON）", "detail (JSON)"),
)


class AuditQueryError(DossierError):
    """A filter of the audit trail cannot be understood (a bad date, a bad id)."""

    status = 400


# -- writing ----------------------------------------------------------------------------------


def upload_detail(
    channel: str,
    batch_id: int,
    filenames: Sequence[str],
    *,
    customer: str | None = None,
    doc_type: str | None = None,
    tags: Sequence[str] = (),
    outcome: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The detail of an ``upload`` event: one per batch, naming at most :data:`MAX_FILES_LISTED` files."""
    detail: dict[str, Any] = {
        "channel": channel,
        "batch": batch_id,
        "count": len(filenames),
        "files": [name[:255] for name in filenames[:MAX_FILES_LISTED]],
        "more": max(0, len(filenames) - MAX_FILES_LISTED),
    }
    extras = {"customer": customer, "doc_type": doc_type, "tags": list(tags)}
    detail.update({k: v for k, v in extras.items() if v})
    if outcome is not None:
        detail["outcome"] = dict(outcome)
    return detail


# -- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    """Which events to read; every field given must hold (values of one field are alternatives).

    ``since`` is inclusive, ``until`` exclusive (naive UTC; :func:`parse_time` makes a date's
    ``until`` the next midnight, so the day itself counts).  ``text`` is found in the detail
    (a query, a file name, an address), whatever its case.
    """

    users: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    target_type: str | None = None
    target_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str = ""
    #: Only events older than this id (the cursor of ``next_before``).
    before: int | None = None

    def as_json(self) -> dict[str, Any]:
        """The filters that are set, as JSON values (for the ``audit_export`` event and the API)."""
        out: dict[str, Any] = {
            "users": list(self.users),
            "actions": list(self.actions),
            "target_type": self.target_type,
            "target_id": self.target_id,
            "since": _iso(self.since),
            "until": _iso(self.until),
            "text": self.text,
        }
        return {k: v for k, v in out.items() if v not in (None, "", [])}


def parse_time(value: str | None, *, end: bool = False) -> datetime | None:
    """``YYYY-MM-DD`` or an ISO date-time (with an offset, else UTC) as naive UTC; None for nothing.

    With ``end`` a bare date means the end of that day (the next midnight, exclusive).
    """
    raw = (value or "").strip()
    if not raw:
        return None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            start = datetime(day.year, day.month, day.day)
            return start + timedelta(days=1) if end else start
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise AuditQueryError(msg("app.audit.bad_time", value=raw[:40])) from None
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat(timespec="seconds") + "Z"


def _json_needles(text: str) -> set[str]:
    """``text`` as it appears inside the stored JSON: with non-ASCII escaped (``\\uXXXX``) and as it is."""
    return {
        json.dumps(text, ensure_ascii=True)[1:-1].lower(),
        json.dumps(text, ensure_ascii=False)[1:-1].lower(),
    }


def _filtered(stmt: Select[Any], f: AuditFilter) -> Select[Any]:
    """``stmt`` with the filter's conditions (all bound parameters)."""
    if f.users:
        stmt = stmt.where(AuditEvent.username.in_(f.users))
    if f.actions:
        stmt = stmt.where(AuditEvent.action.in_(f.actions))
    if f.target_type:
        stmt = stmt.where(AuditEvent.target_type == f.target_type)
    if f.target_id is not None:
        stmt = stmt.where(AuditEvent.target_id == f.target_id)
    if f.since is not None:
        stmt = stmt.where(AuditEvent.at >= f.since)
    if f.until is not None:
        stmt = stmt.where(AuditEvent.at < f.until)
    if f.text.strip():
        stored = func.lower(cast(AuditEvent.detail, String))
        stmt = stmt.where(or_(*(stored.contains(n, autoescape=True) for n in _json_needles(f.text.strip()))))
    if f.before is not None:
        stmt = stmt.where(AuditEvent.id < f.before)
    return stmt


def event_json(event: AuditEvent) -> dict[str, Any]:
    """One event as the API, ``dossier audit --json`` and the pages see it."""
    return {
        "id": event.id,
        "at": _iso(event.at),
        "username": event.username,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "detail": dict(event.detail or {}),
        "summary": summarise(event.action, event.detail or {}),
    }


def _short(value: Any, width: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def _tail(text: str, width: int = 60) -> str:
    """A path cut from the left, so its file name stays."""
    return text if len(text) <= width else "…" + text[-(width - 1) :]


#: The few words of a summary, per language (the rest are values as recorded).
_SUMMARY_WORDS = {
    "zh": {
        "batch": "批次",
        "incomplete": "未完成",
        "merged": "已合并",
        "errors": "错误",
        "web": "网页",
        "cli": "命令行",
        "api": "API",
        "worker": "后台任务",
    },
    "en": {
        "batch": "batch",
        "incomplete": "incomplete",
        "merged": "merged",
        "errors": "errors",
        "web": "web",
        "cli": "CLI",
        "api": "API",
        "worker": "worker",
    },
}


def summarise(action: str, detail: Mapping[str, Any], lang: str = "en") -> str:
    """One line of what an event's detail says (values, few words in ``lang``; the full detail stays in ``detail``)."""
    d = dict(detail)
    parts: list[str] = []
    words = _SUMMARY_WORDS.get(lang, _SUMMARY_WORDS["en"])

    def word(key: Any) -> str:
        return words.get(str(key), str(key))

    if action == "search":
        parts.append(f"“{_short(d.get('query', ''))}” → {d.get('total', '?')}")
        parts += [f"{k}={_short(v, 40)}" for k, v in (d.get("filters") or {}).items()]
        parts.append(word(d.get("channel", "")))
    elif action == "upload":
        files = ", ".join(_tail(str(n)) for n in (d.get("files") or [])[:5])
        more = int(d.get("count") or 0) - min(5, len(d.get("files") or []))
        parts.append(f"{d.get('count', 0)}: {files}" + (f" (+{more})" if more > 0 else ""))
        parts.append(f"{word('batch')} {d.get('batch')}")
        parts.append(word(d.get("channel", "")))
    elif action == "export":
        parts.append(f"{d.get('format')} {d.get('hits')}/{d.get('total')}")
        if d.get("query"):
            parts.append(f"“{_short(d['query'])}”")
        if d.get("complete") is False:
            parts.append(f"{word('incomplete')}: {_short(d.get('error') or '')}")
    elif action == "metadata_change":
        for name, change in (d.get("changed") or {}).items():
            before, after = [*change, None, None][:2] if isinstance(change, list) else (None, change)
            parts.append(f"{name}: {_short(before, 40)} → {_short(after, 40)}")
    elif action == "permission_change":
        parts.append(f"{d.get('before')} → {d.get('after')}")
    elif action in ("user_set_role", "user_set_display_name", "user_set_email"):
        parts.append(f"{d.get('username')}: {d.get('from')} → {d.get('to')}")
    elif action == "user_rename":
        parts.append(f"{d.get('from')} → {d.get('to')}")
    elif action == "customer_import":
        parts.append(
            f"{d.get('file') or ''} +{d.get('created', 0)} ~{d.get('updated', 0)} ={d.get('unchanged', 0)}"
        )
        merged = (d.get("suggestions_merged") or {}).get("items") or []
        more = (d.get("suggestions_merged") or {}).get("more") or 0
        if merged or more:
            parts.append(f"{word('merged')} {len(merged) + int(more)}")
        if d.get("errors"):
            parts.append(f"{word('errors')} {d['errors']}")
    elif action in ("customer_edit", "customer_confirm", "customer_reject", "customer_merge"):
        parts.append(_short(d.get("name") or "", 60))
        if d.get("into"):
            parts.append(f"→ {_short(d['into'], 60)}")
        for name, change in (d.get("changed") or {}).items():
            before, after = [*change, None, None][:2] if isinstance(change, list) else (None, change)
            parts.append(f"{name}: {_short(before, 40)} → {_short(after, 40)}")
    elif action in ("trash_restore", "archive", "unarchive"):
        parts.append(_short(d.get("title") or ""))
        if len(d.get("documents") or []) > 1:
            parts.append(f"+{len(d['documents']) - 1}")
        if d.get("query"):
            parts.append(f"“{_short(d['query'])}”")
    elif action == "trash_purge":
        docs = [x for x in (d.get("documents") or []) if isinstance(x, dict)]
        parts.append(str(len(docs)))
        parts += [_short(str(x.get("title") or ""), 40) for x in docs[:3]]
    elif action in ("delete", "trash"):
        parts.append(_short(d.get("title") or ""))
        parts += [_tail(str(f.get("filename", ""))) for f in (d.get("files") or []) if isinstance(f, dict)][
            :3
        ]
    else:
        keys = (
            "title",
            "q",
            "filename",
            "username",
            "role",
            "name",
            "reason",
            "ip",
            "format",
            "rows",
            "version",
            "restored_from",
        )
        parts += [f"{k}={_short(d[k], 60)}" for k in keys if d.get(k) not in (None, "", [])]
    return " · ".join(p for p in parts if p)


class AuditService:
    """The audit trail of one data home: writing events (:meth:`record`) and reading them (admins)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def record(
        self,
        username: str,
        action: str,
        *,
        target_type: str | None = None,
        target_id: int | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> int:
        """Write one audit event in its own transaction and return its id."""
        with self._sessions() as session:
            event = record_event(
                session, username, action, target_type=target_type, target_id=target_id, detail=detail
            )
            session.commit()
            return int(event.id)

    def record_search(self, username: str, request: SearchRequest, total: int, channel: str) -> int:
        """The ``search`` event of one search someone ran (web page, API or CLI): query, filters, hits."""
        from dossier.app.export import filters_of  # the export package builds on the services

        return self.record(
            username,
            "search",
            target_type="search",
            detail={
                "query": request.query,
                "filters": filters_of(request),
                "sort": request.sort,
                "total": total,
                "offset": request.offset,
                "limit": request.limit,
                "channel": channel,
            },
        )

    # -- reading (admins) --------------------------------------------------------------------

    @staticmethod
    def _check_auditor(principal: Principal) -> None:
        if principal.role not in AUDIT_ROLES:
            raise Forbidden(msg("app.audit.forbidden"))

    def events(
        self,
        principal: Principal,
        filters: AuditFilter | None = None,
        *,
        limit: int = DEFAULT_PAGE_SIZE,
        offset: int = 0,
    ) -> dict[str, Any]:
        """A page of matching events, newest first: ``{"total", "limit", "offset", "events", "next_before"}``.

        ``total`` counts every match (without the cursor); ``next_before`` is the cursor for the
        next (older) page, None after the last.  Each event also names its target (``target_name``: a
        document's title — as recorded when it is gone —, a user's or customer's name) and says whether its
        document still exists (``target_exists``).  Admins only (Forbidden otherwise).
        """
        self._check_auditor(principal)
        f = filters or AuditFilter()
        limit = max(1, min(MAX_PAGE_SIZE, int(limit)))
        offset = max(0, int(offset))
        with self._sessions() as session:
            total = int(
                session.scalar(_filtered(select(func.count(AuditEvent.id)), replace(f, before=None))) or 0
            )
            rows = list(
                session.scalars(
                    _filtered(select(AuditEvent), f)
                    .order_by(AuditEvent.id.desc())
                    .offset(offset)
                    .limit(limit + 1)
                )
            )
            more = len(rows) > limit
            rows = rows[:limit]
            names = target_names(session, rows)  # one query per kind of target, not one per row
            events = []
            for row in rows:
                item = event_json(row)
                named = names.get((row.target_type or "", row.target_id or 0))
                item["target_name"] = named["name"] if named else None
                item["target_exists"] = named["exists"] if row.target_type == "document" and named else None
                events.append(item)
        return {
            "total": total,
            "limit": limit,
            "offset": offset,
            "events": events,
            "next_before": rows[-1].id if more and rows else None,
        }

    def csv(self, principal: Principal, filters: AuditFilter | None = None) -> Iterator[bytes]:
        """Every matching event as CSV (UTF-8 with BOM, CRLF), newest first, streamed in batches.

        Cells are neutralised against spreadsheet formulas as in the search export.  The
        permission check happens at once (before the first byte); the ``audit_export`` event
        is written when the stream ends.  Admins only (Forbidden otherwise).
        """
        self._check_auditor(principal)
        return self._csv_chunks(principal.username, filters or AuditFilter())

    def _csv_chunks(self, username: str, f: AuditFilter) -> Iterator[bytes]:
        from dossier.app.export import BOM, neutralise

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        rows, complete = 0, False
        try:
            writer.writerow([f"{zh} {en}" for _key, zh, en in CSV_COLUMNS])
            yield BOM + _take(buffer)
            cursor = f
            while True:
                with self._sessions() as session:
                    batch = list(
                        session.scalars(
                            _filtered(select(AuditEvent), cursor)
                            .order_by(AuditEvent.id.desc())
                            .limit(CSV_BATCH)
                        )
                    )
                if not batch:
                    break
                for event in batch:
                    item = event_json(event)
                    writer.writerow(
                        [
                            item["id"],
                            item["at"],
                            neutralise(item["username"]),
                            neutralise(item["action"]),
                            ACTION_LABELS.get(event.action, (event.action, ""))[0],
                            neutralise(item["target_type"] or ""),
                            "" if item["target_id"] is None else item["target_id"],
                            neutralise(item["summary"]),
                            neutralise(json.dumps(item["detail"], ensure_ascii=False, sort_keys=True)),
                        ]
                    )
                rows += len(batch)
                yield _take(buffer)
                cursor = replace(f, before=batch[-1].id)
            complete = True
        finally:
            self.record(
                username,
                "audit_export",
                target_type="audit",
                detail={"format": "csv", "filters": f.as_json(), "rows": rows, "complete": complete},
            )


def _take(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode("utf-8", "replace")
    buffer.seek(0)
    buffer.truncate()
    return data
