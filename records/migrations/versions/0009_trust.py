"""trust: effective access of containers, parts, content claims, server-side sessions, token expiry

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

- ``documents.access_level`` and ``document_access``: who may read a document once its
  containers and parts are taken into account (the container rule, pipeline.access); filled
  here from each document's own level and customers, then recomputed by the services for
  containers when the home is first opened.  ``documents.access_floor``: the level a container
  keeps after a part inside its original was deleted (the bytes are still in it).
- ``document_parts``: a container (an e-mail, an archive) holds a file that was already
  stored as a document of its own; such a part is not a child, but it is inside the original.
- ``content_claims``: one row per stored file (sha256), so two intakes of the same new file at
  once make one document (the second insert fails on the primary key).
- ``user_sessions``: sessions live on the server; logging out, a password change, disabling
  the account or a new role ends them.  ``users.display_name``: the name a registry may use.
- ``api_tokens.expires_at``: tokens may expire.
- ``export_jobs.rights``: the rights a background export was filtered with (its file is handed
  out only while its owner still has them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("access_level", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("access_floor", sa.String(length=16), nullable=True))
    op.execute("UPDATE documents SET access_level = confidentiality")
    op.create_table(
        "document_access",
        sa.Column(
            "document_id", sa.Integer(), sa.ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "customer_id", sa.Integer(), sa.ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
        ),
    )
    op.create_index("ix_document_access_customer_id", "document_access", ["customer_id"])
    op.execute(
        "INSERT INTO document_access (document_id, customer_id)"
        " SELECT document_id, customer_id FROM document_customers"
        " UNION SELECT id, customer_id FROM documents WHERE customer_id IS NOT NULL"
    )
    op.create_table(
        "document_parts",
        sa.Column(
            "container_id", sa.Integer(), sa.ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("part_id", sa.Integer(), sa.ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("relation", sa.String(length=16), nullable=False),
    )
    op.create_index("ix_document_parts_part_id", "document_parts", ["part_id"])
    op.create_table(
        "content_claims",
        sa.Column("sha256", sa.String(length=64), primary_key=True),
        sa.Column(
            "document_id", sa.Integer(), sa.ForeignKey("documents.id", ondelete="CASCADE"), nullable=False,
            index=True,
        ),
    )
    op.execute(
        "INSERT INTO content_claims (sha256, document_id)"
        " SELECT sha256, MIN(document_id) FROM versions GROUP BY sha256"
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("display_name", sa.String(length=128), nullable=True))
    op.create_table(
        "user_sessions",
        # sha256 hex of the random session key the cookie carries (the key itself is never stored)
        sa.Column("id", sa.String(length=64), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
    # The rights (role, owned customers) a background export's file was filtered with: the file is
    # handed out only while its owner still has exactly those (NULL: older jobs, never handed out).
    with op.batch_alter_table("export_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rights", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("export_jobs", schema=None) as batch_op:
        batch_op.drop_column("rights")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
    op.drop_table("user_sessions")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("display_name")
    op.drop_table("content_claims")
    op.drop_index("ix_document_parts_part_id", table_name="document_parts")
    op.drop_table("document_parts")
    op.drop_index("ix_document_access_customer_id", table_name="document_access")
    op.drop_table("document_access")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("access_floor")
        batch_op.drop_column("access_level")
