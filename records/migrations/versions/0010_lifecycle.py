"""lifecycle: versions' text, trash, archive, legal holds, retention rules, destructions, backups

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

- ``documents.trashed_at/trashed_by``: a deleted document waits in the trash (hidden from
  search) until it is restored or purged; ``archived_at/archived_by``: archived (read-only,
  hidden from default search); ``legal_hold``/``legal_hold_reason`` on documents and customers
  stop every retention rule.
- ``versions.restored_from`` and ``version_pages``: the text of superseded versions, kept so
  that ``version:all`` finds it.
- ``retention_rules``, ``destructions`` (the two-person destruction queue and, once destroyed,
  what the certificate names) and ``backup_runs``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trashed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("trashed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("archived_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("archived_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("legal_hold", sa.Boolean(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("legal_hold_reason", sa.String(length=500), nullable=True))
    op.create_index("ix_documents_trashed_at", "documents", ["trashed_at"])
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("legal_hold", sa.Boolean(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("legal_hold_reason", sa.String(length=500), nullable=True))
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("restored_from", sa.Integer(), nullable=True))
    op.create_table(
        "version_pages",
        sa.Column(
            "version_id", sa.Integer(), sa.ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("number", sa.Integer(), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("ocr", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "retention_rules",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("doc_type", sa.String(length=32), nullable=True),
        sa.Column("customer_type", sa.String(length=16), nullable=True),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("archive_after_days", sa.Integer(), nullable=True),
        sa.Column("destroy_after_days", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "destructions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column(
            "rule_id", sa.Integer(), sa.ForeignKey("retention_rules.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column("proposed_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("destroyed_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_destructions_document_id", "destructions", ["document_id"])
    op.create_index("ix_destructions_status", "destructions", ["status"])
    op.create_table(
        "backup_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("destination", sa.String(length=4096), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("scheduled", sa.Boolean(), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("new_blobs", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("backup_runs")
    op.drop_index("ix_destructions_status", table_name="destructions")
    op.drop_index("ix_destructions_document_id", table_name="destructions")
    op.drop_table("destructions")
    op.drop_table("retention_rules")
    op.drop_table("version_pages")
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.drop_column("restored_from")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("legal_hold_reason")
        batch_op.drop_column("legal_hold")
    op.drop_index("ix_documents_trashed_at", table_name="documents")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("legal_hold_reason")
        batch_op.drop_column("legal_hold")
        batch_op.drop_column("archived_by")
        batch_op.drop_column("archived_at")
        batch_op.drop_column("trashed_by")
        batch_op.drop_column("trashed_at")
