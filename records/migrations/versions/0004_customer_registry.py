"""customer registry: customer attributes, document-customer links, entities

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_id", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="confirmed")
        )
        batch_op.add_column(sa.Column("stage", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("importance", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("city", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("address", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("owner_name", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("contacts", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_customers_external_id", ["external_id"])
        batch_op.create_index("ix_customers_status", ["status"])
    op.create_table(
        "document_customers",
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("evidence", sa.String(length=500), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_index("ix_document_customers_customer_id", "document_customers", ["customer_id"])
    op.create_table(
        "entities",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=True),
    )
    op.create_index("ix_entities_document_id", "entities", ["document_id"])
    op.create_index("ix_entities_kind_value", "entities", ["kind", "value"])
    # Existing primary customers become links, so nothing linked before is lost.
    op.execute(
        "INSERT INTO document_customers (document_id, customer_id, method, score, evidence, position) "
        "SELECT id, customer_id, 'given', 1.0, NULL, 0 FROM documents WHERE customer_id IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_entities_kind_value", table_name="entities")
    op.drop_index("ix_entities_document_id", table_name="entities")
    op.drop_table("entities")
    op.drop_index("ix_document_customers_customer_id", table_name="document_customers")
    op.drop_table("document_customers")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_status")
        batch_op.drop_index("ix_customers_external_id")
        for column in ("updated_at", "notes", "contacts", "owner_name", "address", "city", "importance",
                       "stage", "status", "external_id"):
            batch_op.drop_column(column)
