"""indexes for the pages' reads: tag look-ups, customer care and the customer page

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07

- ``ix_document_tags_tag_id``: the documents of one tag (autocomplete asks whether a readable document
  carries a tag; the primary key starts with ``document_id`` and does not serve that).
- ``ix_documents_customer_created``: (customer_id, created_at, trashed_at) — each customer's newest live
  document (customer care's last activity) read from the index alone, and the customer page's documents.
- ``ix_documents_id_created``: (id, created_at, trashed_at) — the same for documents reached through
  ``document_customers`` links, without reading each document's row.
- ``ix_document_customers_customer_document``: (customer_id, document_id) — a customer's linked documents
  (customer care, the customer page) from the index alone.
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_document_tags_tag_id", "document_tags", ["tag_id"]),
    ("ix_documents_customer_created", "documents", ["customer_id", "created_at", "trashed_at"]),
    ("ix_documents_id_created", "documents", ["id", "created_at", "trashed_at"]),
    ("ix_document_customers_customer_document", "document_customers", ["customer_id", "document_id"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
