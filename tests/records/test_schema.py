"""Migrations, SQLite pragmas and the models — on SQLite and on PostgreSQL (``records_engine``)."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from records import Document, Page, Version, hash_password, is_migrated, make_engine, migrate, verify_password


@pytest.fixture
def engine(records_engine):
    """An empty records database of each kind."""
    return records_engine


@pytest.fixture
def sqlite_engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    yield engine
    engine.dispose()


def test_migrate_creates_every_table(engine):
    """`migrate` brings an empty database to the newest revision with all records tables."""
    assert not is_migrated(engine)
    migrate(engine)
    assert is_migrated(engine)
    tables = set(inspect(engine).get_table_names())
    assert {
        "users",
        "customers",
        "documents",
        "versions",
        "pages",
        "tags",
        "document_tags",
        "audit_events",
        "ingest_batches",
        "ingest_jobs",
    } <= tables


def test_sqlite_runs_in_wal_with_foreign_keys(sqlite_engine):
    """Every SQLite connection has WAL journaling and enforced foreign keys."""
    migrate(sqlite_engine)
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_foreign_keys_are_enforced(engine):
    """A page of a non-existent document is refused by the database."""
    migrate(engine)
    with Session(engine) as session:
        session.add(Page(document_id=999, number=1, text="x"))
        with pytest.raises(IntegrityError):
            session.commit()


def test_deleting_a_document_removes_its_pages_and_versions(engine):
    """Pages and versions belong to their document."""
    migrate(engine)
    with Session(engine) as session:
        doc = Document(title="合同")
        doc.versions.append(Version(sha256="a" * 64, filename="a.pdf", size=1))
        doc.pages.append(Page(number=1, text="甲方"))
        session.add(doc)
        session.commit()
        session.delete(doc)
        session.commit()
        assert session.query(Page).count() == 0
        assert session.query(Version).count() == 0


def test_passwords_are_argon2_and_verify():
    """Stored hashes are argon2id and only the right password verifies."""
    stored = hash_password("密码123")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "密码123")
    assert not verify_password(stored, "密码124")
    assert not verify_password("not-a-hash", "x")


def test_an_older_schema_upgrades_in_place_keeping_its_rows(engine):
    """A database at revision 0001 with documents migrates to the newest revision without losing them."""
    from alembic import command

    from records._db import _alembic_config

    command.upgrade(_alembic_config(engine), "0001")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO documents (title, doc_type, confidentiality, status, language, warnings,"
                " created_at, updated_at) VALUES ('旧合同', 'contract', 'internal', 'indexed', 'zh', '[]',"
                " '2024-01-01', '2024-01-01')"
            )
        )
    assert not is_migrated(engine)
    migrate(engine)
    assert is_migrated(engine)
    with Session(engine) as session:
        doc = session.query(Document).one()
        assert doc.title == "旧合同" and doc.doc_type_reason is None


def test_every_migration_downgrades_and_upgrades_again(engine):
    """Each revision's downgrade undoes it on this database: head → base leaves no table, and head comes back."""
    from alembic import command

    from records._db import _alembic_config

    migrate(engine)
    command.downgrade(_alembic_config(engine), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate(engine)
    assert is_migrated(engine)
