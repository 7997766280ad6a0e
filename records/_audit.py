"""Writing the audit trail: one row per act, in the caller's transaction (append-only; see migration 0008).

The database itself refuses to change or remove audit events: triggers that migration 0008
created.  :func:`append_only_problems` says which of them are missing (or, on PostgreSQL,
disabled) and :func:`restore_append_only` creates them again with the migration's own
statements (``dossier check`` and its ``--repair``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from records._models import AuditEvent

__all__ = ["append_only_problems", "record_event", "restore_append_only"]


def record_event(
    session: Session,
    username: str,
    action: str,
    *,
    target_type: str | None = None,
    target_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Add one event to ``session`` (the caller commits, so the event joins its transaction).

    ``detail`` is stored as JSON: values JSON cannot hold (dates, decimals, tuples) are
    written as their text or lists.
    """
    clean = json.loads(json.dumps(dict(detail or {}), ensure_ascii=False, default=str))
    event = AuditEvent(
        username=username[:64], action=action[:32], target_type=target_type, target_id=target_id, detail=clean
    )
    session.add(event)
    return event


#: What the triggers answer an UPDATE, DELETE (or, on PostgreSQL, TRUNCATE) of audit_events with (as in migration 0008).
REFUSAL = "审计日志只能追加，不能修改或删除 / audit events are append-only"

#: SQLite: trigger name -> its statement, exactly as migration 0008 ran it.
_SQLITE_TRIGGERS = {
    f"audit_events_no_{event.lower()}": (
        f"CREATE TRIGGER audit_events_no_{event.lower()} BEFORE {event} ON audit_events"
        f" BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
    )
    for event in ("UPDATE", "DELETE")
}
_PG_FUNCTION = (
    "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "BEGIN\n"
    f"  RAISE EXCEPTION '{REFUSAL} (%)', TG_OP USING ERRCODE = 'insufficient_privilege';\n"
    "END\n"
    "$$"
)
#: PostgreSQL: trigger name -> its statement, as migration 0008 ran it.
_PG_TRIGGERS = {
    "audit_events_no_change": (
        "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events"
        " FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
    ),
    "audit_events_no_truncate": (
        "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events"
        " FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
    ),
}


def _normal(sql: str) -> str:
    return " ".join(sql.split()).rstrip(";").lower()


def append_only_problems(connection: Connection) -> list[str]:
    """The append-only triggers of audit_events that are missing, altered or disabled (their names); empty when whole."""
    if connection.dialect.name == "postgresql":
        rows = connection.execute(
            text(
                "SELECT t.tgname, t.tgenabled, p.proname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid"
                " WHERE t.tgrelid = to_regclass('audit_events') AND NOT t.tgisinternal"
            )
        ).all()
        whole = {
            name for name, enabled, func in rows if enabled != "D" and func == "audit_events_append_only"
        }
        return [name for name in _PG_TRIGGERS if name not in whole]
    found: dict[str, str] = dict(
        connection.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'")
        ).all()
    )
    return [name for name, sql in _SQLITE_TRIGGERS.items() if _normal(found.get(name) or "") != _normal(sql)]


def restore_append_only(connection: Connection) -> list[str]:
    """Create the append-only triggers :func:`append_only_problems` finds missing (altered ones are replaced,
    disabled ones enabled), in the caller's transaction; returns their names."""
    problems = append_only_problems(connection)
    if not problems:
        return []
    if connection.dialect.name == "postgresql":
        connection.execute(text(_PG_FUNCTION))
        for name in problems:
            connection.execute(text(f"DROP TRIGGER IF EXISTS {name} ON audit_events"))
            connection.execute(text(_PG_TRIGGERS[name]))
        return problems
    for name in problems:
        connection.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
        connection.execute(text(_SQLITE_TRIGGERS[name]))
    return problems
