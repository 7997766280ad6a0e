"""Engine creation and schema migration.

Records live in SQLite (the embedded profile: a file in the data home) or PostgreSQL (the
scale-out profile: ``DOSSIER_DATABASE_URL=postgresql://user:password@host:5432/db``).  The
same Alembic migrations build both.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc, inspect
from sqlalchemy.engine import URL, make_url

from foundation.errors import ConfigError
from foundation.messages import msg
from records._errors import DatabaseUnavailable

MIGRATIONS = Path(__file__).parent / "migrations"

#: URL schemes that mean PostgreSQL through psycopg 3 (the driver requirements.txt installs).
_POSTGRES_SCHEMES = ("postgresql", "postgres")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web UI read while an ingest writes; NORMAL sync is safe with WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def database_url(url: str | URL) -> URL:
    """``url`` as SQLAlchemy should open it: plain ``postgresql://`` and ``postgres://`` get the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError as error:
        raise ConfigError(msg("records.database.bad_url", error=error)) from None
    if parsed.drivername in _POSTGRES_SCHEMES:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def redacted(url: str | URL) -> str:
    """``url`` without its password, for messages and logs."""
    try:
        return database_url(url).render_as_string(hide_password=True)
    except ConfigError:
        return "<invalid database URL>"


def _remember_pid(_dbapi_connection: Any, record: Any) -> None:
    record.info["pid"] = os.getpid()


def _refuse_inherited(_dbapi_connection: Any, record: Any, proxy: Any) -> None:
    # A parser child forked from a worker inherits the worker's pooled sockets; talking to the
    # server over them would interleave two processes' protocol streams.  Such a connection is
    # dropped (without closing the parent's socket) and the pool opens a fresh one.
    if record.info.get("pid") != os.getpid():
        record.dbapi_connection = proxy.dbapi_connection = None
        raise exc.DisconnectionError("connection was opened by another process (fork)")


def make_engine(url: str | URL) -> Engine:
    """Create the records engine.

    SQLite gets WAL, foreign keys and a busy timeout on every connection.  PostgreSQL
    (``postgresql://``, ``postgres://`` or ``postgresql+psycopg://``) uses psycopg 3 with a
    checked (pre-ping) pool of 5 + 10 connections recycled after 30 minutes, a 10 s connect
    timeout unless the URL sets one, and never reuses a connection in a forked child.
    """
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if path and path != ":memory:" and not path.startswith("file:"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args = {
            key: value
            for key, value in (("connect_timeout", 10), ("application_name", "dossier"))
            if key not in parsed.query
        }
    try:
        engine = create_engine(
            parsed,
            pool_pre_ping=True,
            pool_size=5,
            max_overflow=10,
            pool_recycle=1800,
            pool_timeout=30,
            connect_args=connect_args,
        )
    except (exc.NoSuchModuleError, ImportError) as error:
        raise ConfigError(
            msg("records.database.unsupported_url", url=redacted(parsed), error=error)
        ) from None
    event.listen(engine, "connect", _remember_pid)
    event.listen(engine, "checkout", _refuse_inherited)
    return engine


def check_reachable(engine: Engine) -> None:
    """Open one connection; :class:`DatabaseUnavailable` (with the URL, never its password) if that fails."""
    try:
        with engine.connect():
            pass
    except exc.DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig is not None else type(error).__name__
        raise DatabaseUnavailable(redacted(engine.url), reason) from error


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision.

    Safe to run from several processes at once on PostgreSQL: they take turns (an advisory
    lock, see ``migrations/env.py``) and the later ones find nothing left to do.
    """
    from alembic import command

    command.upgrade(_alembic_config(engine), "head")


def has_schema(engine: Engine) -> bool:
    """True when the records schema was created (at any revision)."""
    return inspect(engine).has_table("alembic_version")


def is_migrated(engine: Engine) -> bool:
    """True when the records schema exists and is at the newest revision."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    if not inspect(engine).has_table("alembic_version"):
        return False
    head = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == head


def known_revisions() -> list[str]:
    """Every schema revision this code knows (and can migrate from), oldest first."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return [r.revision for r in reversed(list(ScriptDirectory.from_config(cfg).walk_revisions()))]
