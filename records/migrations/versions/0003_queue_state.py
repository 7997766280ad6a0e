"""queue state: document claims, page OCR errors, inbox origins

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=128), nullable=True))
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ocr_error", sa.Text(), nullable=True))
    with op.batch_alter_table("ingest_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("origin", sa.String(length=4096), nullable=True))
        batch_op.add_column(sa.Column("settled", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.create_index("ix_ingest_jobs_document_id", ["document_id"])
        batch_op.create_index("ix_ingest_jobs_settled", ["settled"])
    with op.batch_alter_table("ingest_batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(length=4096), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ingest_batches", schema=None) as batch_op:
        batch_op.drop_column("origin")
    with op.batch_alter_table("ingest_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_ingest_jobs_settled")
        batch_op.drop_index("ix_ingest_jobs_document_id")
        batch_op.drop_column("settled")
        batch_op.drop_column("origin")
        batch_op.drop_column("sha256")
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_column("ocr_error")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("claimed_by")
