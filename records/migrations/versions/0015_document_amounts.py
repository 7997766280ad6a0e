"""document amounts: ``documents.amount``, each document's total, stored; indexes for the start page

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07

- ``documents.amount`` (``Numeric(20, 2)``, NULL without one): the document's total as
  :mod:`pipeline.amounts` takes it (an ``amount`` entity whose role names a total — 总, 合计, total —
  else its largest), written by the extraction step with the entities.  The start page's amount
  charts summed it from the entities with a subquery per document (0.5–0.7 s on 100,000 documents).
  Existing documents are back-filled here in SQL by the same rule; values that are no plain number
  (or too large for the column) are left out, as the Python rule leaves them out.
- ``ix_documents_type_amount``: (doc_type, trashed_at, archived_at, status, customer_id, amount,
  confidentiality, access_level) — the contracts and quotes the amount charts count, with their primary
  customer, amount and level, read from the index alone.
- ``ix_documents_live_date``: (trashed_at, archived_at, doc_date, doc_type, status, confidentiality,
  access_level) — documents per type per month of the last 12 months: a range of the index.
- ``ix_documents_updated_at``: the charts' fingerprint (the last change) without reading every document.
- ``ix_document_customers_document_method``: (document_id, method, customer_id) — a document's links and
  whether each is given or chosen, from the index alone.
- ``ix_pages_needs_ocr``: (needs_ocr, document_id) — the backlog's pages awaiting OCR, without reading
  every page.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

INDEXES = (
    (
        "ix_documents_type_amount",
        "documents",
        ["doc_type", "trashed_at", "archived_at", "status", "customer_id", "amount", "confidentiality", "access_level"],
    ),
    (
        "ix_documents_live_date",
        "documents",
        ["trashed_at", "archived_at", "doc_date", "doc_type", "status", "confidentiality", "access_level"],
    ),
    ("ix_documents_updated_at", "documents", ["updated_at"]),
    ("ix_document_customers_document_method", "document_customers", ["document_id", "method", "customer_id"]),
    ("ix_pages_needs_ocr", "pages", ["needs_ocr", "document_id"]),
)

_TOTAL = (
    "lower(coalesce(e.role, '')) LIKE '%总%' OR lower(coalesce(e.role, '')) LIKE '%合计%'"
    " OR lower(coalesce(e.role, '')) LIKE '%total%'"
)


def _backfill() -> None:
    """Each document's amount from its ``amount`` entities: its largest total, else its largest.

    Extraction writes amounts as plain numbers (``-?digits.digits``); anything else is no amount here.
    """
    if op.get_bind().dialect.name == "postgresql":
        number = r"e.value ~ '^-?[0-9]{1,18}(\.[0-9]+)?$'"
        value = "CAST(e.value AS NUMERIC(20, 2))"
    else:  # SQLite: digits with at most one point and a leading minus at most, below 10^18
        number = (
            "ltrim(e.value, '-') NOT GLOB '*[^0-9.]*' AND e.value NOT GLOB '*.*.*'"
            " AND e.value GLOB '*[0-9]*' AND substr(e.value, 2) NOT GLOB '*-*'"
            " AND abs(CAST(e.value AS REAL)) < 1e18"
        )
        value = "ROUND(CAST(e.value AS REAL), 2)"
    op.execute(
        "UPDATE documents SET amount = ("
        f"SELECT coalesce(max(CASE WHEN {_TOTAL} THEN {value} END), max({value})) FROM entities e"
        f" WHERE e.document_id = documents.id AND e.kind = 'amount' AND {number})"
        " WHERE id IN (SELECT document_id FROM entities WHERE kind = 'amount')"
    )


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch_op:
        batch_op.add_column(sa.Column("amount", sa.Numeric(20, 2), nullable=True))
    _backfill()
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("documents", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_column("amount")
