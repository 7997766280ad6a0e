"""document ids are never reused: ``documents`` gets AUTOINCREMENT on SQLite

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

SQLite gives a new row the highest id plus one, so after the document with the highest id was
destroyed (or purged from the trash) the next document would get its id, and the destruction
certificate, the audit trail and the destruction queue would name the wrong document.  The
table is rebuilt with AUTOINCREMENT and its counter starts above every id the audit trail and
the destruction queue name.  PostgreSQL ids come from a sequence and were never reused.
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # migrations/env.py turns foreign keys off on SQLite while migrating, so the rebuild's
    # DROP TABLE does not cascade to pages, versions and links.
    with op.batch_alter_table(
        "documents", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.alter_column("id", autoincrement=True)
    op.execute("DELETE FROM sqlite_sequence WHERE name = 'documents'")
    op.execute(
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'documents', max(coalesce(m, 0)) FROM ("
        " SELECT max(id) AS m FROM documents"
        " UNION ALL SELECT max(document_id) FROM destructions"
        " UNION ALL SELECT max(target_id) FROM audit_events WHERE target_type = 'document')"
    )


def downgrade() -> None:
    """Nothing to undo: an AUTOINCREMENT table holds the same rows."""
