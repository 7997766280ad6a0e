"""The audit trail's append-only triggers: found missing, altered or disabled, and created again (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from records import append_only_problems, migrate, restore_append_only

#: Each database's trigger names, as migration 0008 made them.
TRIGGERS = {
    "sqlite": ["audit_events_no_update", "audit_events_no_delete"],
    "postgresql": ["audit_events_no_change", "audit_events_no_truncate"],
}


def _refused(engine) -> bool:  # type: ignore[no-untyped-def]
    """True when the database refuses to delete an audit event (one is written first, in the same transaction)."""
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO audit_events (at, username, action, detail)"
                    " VALUES (CURRENT_TIMESTAMP, 'test', 'login', '{}')"
                )
            )
            conn.execute(text("DELETE FROM audit_events"))
    except Exception as exc:  # each driver has its own error type; the message is the migration's
        assert "append-only" in str(exc)
        return True
    return False


def test_a_migrated_database_has_every_trigger_as_the_migration_made_it(records_engine):
    """Right after migration nothing is missing: the statements the check compares with are the migration's."""
    migrate(records_engine)
    with records_engine.connect() as conn:
        assert append_only_problems(conn) == []


def test_a_dropped_trigger_is_found_and_created_again(records_engine):
    """GIVEN a trigger dropped, THEN it is reported by name; restored, deletes are refused again."""
    migrate(records_engine)
    dialect = records_engine.dialect.name
    dropped = TRIGGERS[dialect][-1]
    with records_engine.begin() as conn:
        on = " ON audit_events" if dialect == "postgresql" else ""
        conn.execute(text(f"DROP TRIGGER {dropped}{on}"))
    with records_engine.connect() as conn:
        assert append_only_problems(conn) == [dropped]
    if dialect == "sqlite":
        assert not _refused(records_engine)
    with records_engine.begin() as conn:
        assert restore_append_only(conn) == [dropped]
    with records_engine.connect() as conn:
        assert append_only_problems(conn) == []
    assert _refused(records_engine)


def test_a_disabled_postgresql_trigger_counts_as_missing(records_engine):
    """PostgreSQL can switch a trigger off without dropping it: that is reported too, and repair switches it on."""
    if records_engine.dialect.name != "postgresql":
        pytest.skip("SQLite triggers cannot be disabled")
    migrate(records_engine)
    with records_engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change"))
    with records_engine.connect() as conn:
        assert append_only_problems(conn) == ["audit_events_no_change"]
    assert not _refused(records_engine)
    with records_engine.begin() as conn:
        restore_append_only(conn)
    with records_engine.connect() as conn:
        assert append_only_problems(conn) == []
    assert _refused(records_engine)


def test_an_altered_sqlite_trigger_is_found(records_engine):
    """A trigger of the same name that no longer refuses anything is not the migration's: reported."""
    if records_engine.dialect.name != "sqlite":
        pytest.skip("compares SQLite's stored statements")
    migrate(records_engine)
    with records_engine.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_events_no_update"))
        conn.execute(
            text("CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events BEGIN SELECT 1; END")
        )
    with records_engine.connect() as conn:
        assert append_only_problems(conn) == ["audit_events_no_update"]
