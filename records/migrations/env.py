"""Alembic environment: migrates the engine handed over in ``config.attributes['engine']``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, create_engine, text

from records._models import Base

config = context.config
target_metadata = Base.metadata

#: Key of the PostgreSQL advisory lock migrations hold ("DOSSIERD" in ASCII): one process at a time.
MIGRATION_LOCK = 0x444F535349455244


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    if isinstance(engine, Engine):
        return engine
    return create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")


def run_migrations_online() -> None:
    """Run migrations on a live connection (SQLite gets batch mode for ALTERs).

    On PostgreSQL the whole upgrade runs in one transaction under an advisory lock taken
    before the current revision is read: when several workers open a new database at once,
    one migrates and the others wait, then find the schema current.  (A SQLite data home is
    upgraded under a lock file in the home, see ``Dossier._upgrade_schema``.)
    """
    engine = _engine()
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            # A batch ALTER rebuilds a table (copy, DROP, rename): with foreign keys on, the DROP
            # would cascade to every row that references it.  The pragma works outside a transaction.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        try:
            context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=sqlite)
            with context.begin_transaction():
                if connection.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
                context.run_migrations()
        finally:
            if sqlite:
                connection.commit()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")


run_migrations_online()
