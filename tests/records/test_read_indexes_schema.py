"""Migration 0014 (read indexes) on SQLite and PostgreSQL: the indexes come with it and go with its downgrade."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from records import is_migrated, migrate
from records._db import _alembic_config

#: table -> the indexes 0014 adds to it, with their columns.
ADDED = {
    "document_tags": {"ix_document_tags_tag_id": ["tag_id"]},
    "document_customers": {"ix_document_customers_customer_document": ["customer_id", "document_id"]},
    "documents": {
        "ix_documents_customer_created": ["customer_id", "created_at", "trashed_at"],
        "ix_documents_id_created": ["id", "created_at", "trashed_at"],
    },
}


def _indexes(engine, table: str) -> dict[str, list[str]]:
    return {ix["name"]: list(ix["column_names"]) for ix in inspect(engine).get_indexes(table)}


def test_0014_adds_the_read_indexes_and_its_downgrade_removes_them(records_engine):
    migrate(records_engine)
    for table, wanted in ADDED.items():
        found = _indexes(records_engine, table)
        assert {name: found.get(name) for name in wanted} == wanted, table
    command.downgrade(_alembic_config(records_engine), "0013")
    for table, wanted in ADDED.items():
        assert not set(wanted) & set(_indexes(records_engine, table)), table
    assert "saved_views" in inspect(records_engine).get_table_names()  # 0013 stays
    migrate(records_engine)
    assert is_migrated(records_engine)
    assert set(ADDED["documents"]) <= set(_indexes(records_engine, "documents"))
